//! Provider error responses and rate-limit headers.

use crate::error::ProviderError;
use crate::provider::ProviderKind;

pub(crate) fn parse_error(
    _kind: ProviderKind,
    _status: u16,
    _headers: &[(String, String)],
    _body: &[u8],
    _now_unix_ms: Option<u64>,
) -> ProviderError {
    todo!("error body parsing")
}
