//! Providers: provider-neutral requests in, provider HTTP requests out; provider bytes in, [`StreamEvent`](crate::StreamEvent)s out.
//!
//! One folder per wire format. Adding a provider touches its folder and one arm of each `match` below.
//! - [`openai_chat`]: OpenAI Chat Completions, also every OpenAI-compatible server (Ollama, vLLM, llama.cpp, Groq,
//!   OpenRouter, Together) by base URL ([`ProviderKind::OpenAiCompatible`]).
//! - [`openai_responses`]: OpenAI Responses API.
//! - [`anthropic`]: Anthropic Messages.
//!
//! Calling order for a streamed response: [`build_request`] → send it → if the status is not 2xx,
//! [`parse_error`] → else [`StreamDecoder::new`], then [`StreamDecoder::feed`] each body chunk and drain
//! [`StreamDecoder::next_event`] until it returns `None`; at end of body call [`StreamDecoder::finish`] and drain
//! again. A stream without its terminal event yields `Err(StreamError::Truncated)` after `finish`.
// `StreamError` is the crate's shared public error type; it carries a whole `ProviderError` (message, code,
// rate-limit state) by design, so results holding it are large everywhere in this module.
#![allow(clippy::result_large_err)]

use serde::{Deserialize, Serialize};

use crate::conversation::Message;
use crate::error::{ProviderError, StreamError};
use crate::event::ChatResponse;
use crate::http::HttpRequest;
use crate::structured::ResponseFormat;

pub mod anthropic;
pub mod openai_chat;
pub mod openai_responses;

pub use crate::kind::ProviderKind;

/// Where and how to reach one provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderConfig {
    /// Wire format.
    pub kind: ProviderKind,
    /// Base URL including the version segment, without a trailing slash (e.g. `https://api.openai.com/v1`,
    /// `http://127.0.0.1:11434/v1`).
    pub base_url: String,
    /// API key; `None` for compatible servers that need none.
    pub api_key: Option<String>,
    /// Extra headers sent with every request (e.g. OpenRouter's `HTTP-Referer`).
    #[serde(default)]
    pub extra_headers: Vec<(String, String)>,
}

/// A tool the model may call. [`ToolSpec::check`] / [`check_tools`] say whether every provider accepts it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    /// Function name.
    pub name: String,
    /// What the tool does, for the model.
    #[serde(default)]
    pub description: String,
    /// JSON Schema of the arguments object.
    pub parameters: serde_json::Value,
}

/// A provider-neutral chat request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// Provider model id (`gpt-4o-mini`, `claude-sonnet-4-5`).
    pub model: String,
    /// System prompt: a `system` message for OpenAI, top-level `system` for Anthropic, `instructions` for
    /// Responses.
    #[serde(default)]
    pub system: Option<String>,
    /// The conversation, oldest first.
    pub messages: Vec<Message>,
    /// Output token cap (required by Anthropic; the builder supplies a default there when `None`).
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// Sampling temperature.
    #[serde(default)]
    pub temperature: Option<f32>,
    /// Stop sequences.
    #[serde(default)]
    pub stop: Vec<String>,
    /// Stream the response (SSE) or not.
    #[serde(default = "default_true")]
    pub stream: bool,
    /// Structured output, if wanted.
    #[serde(default)]
    pub response_format: Option<ResponseFormat>,
    /// Tools the model may call.
    #[serde(default)]
    pub tools: Vec<ToolSpec>,
    /// Mark the system prompt and stable history prefix for prompt caching (Anthropic `cache_control`).
    #[serde(default)]
    pub prompt_cache: bool,
}

fn default_true() -> bool {
    true
}

impl ChatRequest {
    /// A streaming request for `model` with `messages` and everything else unset.
    pub fn new(model: impl Into<String>, messages: Vec<Message>) -> Self {
        Self {
            model: model.into(),
            system: None,
            messages,
            max_tokens: None,
            temperature: None,
            stop: Vec::new(),
            stream: true,
            response_format: None,
            tools: Vec::new(),
            prompt_cache: false,
        }
    }
}

/// A request that cannot be expressed for the chosen provider.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot build {provider} request: {message}")]
pub struct BuildError {
    /// The provider.
    pub provider: ProviderKind,
    /// What is wrong.
    pub message: String,
}

/// Builds the HTTP request for `request` against `config`.
pub fn build_request(config: &ProviderConfig, request: &ChatRequest) -> Result<HttpRequest, BuildError> {
    match config.kind {
        ProviderKind::OpenAiChat | ProviderKind::OpenAiCompatible => openai_chat::build_request(config, request),
        ProviderKind::OpenAiResponses => openai_responses::build_request(config, request),
        ProviderKind::Anthropic => anthropic::build_request(config, request),
    }
}

/// Decodes a provider's non-2xx response into a [`ProviderError`].
///
/// `headers` are the response headers; `now_unix_ms` is the current time, needed only to turn a `retry-after`
/// HTTP date into a delay (pass `None` if unknown; the date is then ignored). Never fails: an unreadable body
/// becomes the message.
pub fn parse_error(
    kind: ProviderKind,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
    now_unix_ms: Option<u64>,
) -> ProviderError {
    error::parse_error(kind, status, headers, body, now_unix_ms)
}

/// Decodes a non-streaming 2xx response body into the same final result a stream produces.
pub fn decode_response(kind: ProviderKind, body: &[u8]) -> Result<ChatResponse, StreamError> {
    match kind {
        ProviderKind::OpenAiChat | ProviderKind::OpenAiCompatible => openai_chat::decode_response(kind, body),
        ProviderKind::OpenAiResponses => openai_responses::decode_response(body),
        ProviderKind::Anthropic => anthropic::decode_response(body),
    }
}

mod common;
mod decoder;
mod error;
mod headers;
mod json;
mod tools;

pub use decoder::StreamDecoder;
pub use tools::{check_tools, ToolSpecError, MAX_TOOL_NAME_LEN};
