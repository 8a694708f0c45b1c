//! TODO: module doc with API reference link.

use crate::error::StreamError;
use crate::event::ChatResponse;
use crate::http::HttpRequest;
use crate::provider::{BuildError, ChatRequest, ProviderConfig};

pub(crate) fn build_request(_config: &ProviderConfig, _request: &ChatRequest) -> Result<HttpRequest, BuildError> {
    todo!()
}

pub(crate) fn decode_response(_body: &[u8]) -> Result<ChatResponse, StreamError> {
    todo!()
}
