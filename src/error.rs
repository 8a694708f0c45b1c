//! Typed errors: provider error responses, mid-stream provider errors, and stream failures.

use serde::{Deserialize, Serialize};

use crate::kind::ProviderKind;

/// What kind of failure a provider reported, normalized across providers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// 400: the request is malformed or invalid. Do not retry; fix the request.
    InvalidRequest,
    /// 401: bad or missing API key. Do not retry.
    Authentication,
    /// 403: the key may not use this resource. Do not retry.
    PermissionDenied,
    /// 404: unknown model or endpoint. Do not retry.
    NotFound,
    /// 413: the request is too large. Do not retry; trim the conversation.
    RequestTooLarge,
    /// 429: rate limited. Retry after the hint.
    RateLimited,
    /// 500 and other 5xx: provider failure. Retry with backoff.
    ServerError,
    /// 503 / 529 / Anthropic `overloaded_error`: provider overloaded. Retry with backoff or fail over.
    Overloaded,
    /// Anything else.
    Other,
}

impl ErrorKind {
    /// The normalized kind for an HTTP status.
    pub fn from_status(status: u16) -> Self {
        match status {
            400 | 422 => Self::InvalidRequest,
            401 => Self::Authentication,
            403 => Self::PermissionDenied,
            404 => Self::NotFound,
            413 => Self::RequestTooLarge,
            429 => Self::RateLimited,
            503 | 529 => Self::Overloaded,
            500..=599 => Self::ServerError,
            _ => Self::Other,
        }
    }

    /// Whether a request that failed this way may succeed when sent again.
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::RateLimited | Self::ServerError | Self::Overloaded)
    }
}

/// Rate-limit state reported in response headers (`x-ratelimit-*`, `anthropic-ratelimit-*`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimitInfo {
    /// Requests allowed in the window.
    pub limit_requests: Option<u64>,
    /// Requests left in the window.
    pub remaining_requests: Option<u64>,
    /// Tokens allowed in the window.
    pub limit_tokens: Option<u64>,
    /// Tokens left in the window.
    pub remaining_tokens: Option<u64>,
    /// Milliseconds until the request window resets, when the provider said.
    pub reset_requests_ms: Option<u64>,
    /// Milliseconds until the token window resets, when the provider said.
    pub reset_tokens_ms: Option<u64>,
}

/// An error reported by a provider: an HTTP error response, or an error event inside a stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{provider} error {status}: {message}")]
pub struct ProviderError {
    /// Which provider said it.
    pub provider: ProviderKind,
    /// HTTP status (for a mid-stream error, the status the provider's error type maps to, e.g. 529 for
    /// `overloaded_error`).
    pub status: u16,
    /// Normalized kind.
    pub kind: ErrorKind,
    /// The provider's own error type or code (`"rate_limit_error"`, `"insufficient_quota"`), if any.
    pub code: Option<String>,
    /// Human-readable message from the provider.
    pub message: String,
    /// How long the provider asked us to wait (`retry-after-ms`, `retry-after` seconds or HTTP date), in ms.
    pub retry_after_ms: Option<u64>,
    /// Rate-limit headers, when present.
    pub rate_limit: RateLimitInfo,
}

impl ProviderError {
    /// Whether sending the same request again may succeed.
    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }
}

/// Why a response stream failed. After any of these the stream is over; the partial output stays valid.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// The provider sent an error inside the stream (Anthropic `event: error`, OpenAI `{"error": …}`).
    /// Show it; retry only if [`ProviderError::is_retryable`] and nothing was shown yet, otherwise offer "continue".
    #[error("provider error mid-stream: {0}")]
    Provider(#[from] ProviderError),
    /// The input ended before the provider's terminal event (`[DONE]`, `message_stop`, `response.completed`):
    /// the answer is cut off. Never treat as success; offer "continue".
    #[error("stream ended without its terminal event (truncated)")]
    Truncated,
    /// An event could not be understood (not JSON, or not the provider's shape). The stream cannot be trusted
    /// further.
    #[error("malformed {provider} stream event: {message}")]
    Malformed {
        /// Which provider's format was expected.
        provider: ProviderKind,
        /// What was wrong, with a short excerpt of the event.
        message: String,
    },
    /// A line or event exceeded the configured size limit.
    #[error("SSE line or event exceeds the {limit}-byte limit")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// Bytes were fed after the stream had already ended (a caller bug, distinct from the stream ending).
    #[error("stream already finished")]
    AlreadyFinished,
}

impl StreamError {
    /// Short machine-readable name, as used in the edge's `error` events and the `decode` example.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Provider(e) => match e.kind {
                ErrorKind::InvalidRequest => "invalid_request",
                ErrorKind::Authentication => "authentication",
                ErrorKind::PermissionDenied => "permission_denied",
                ErrorKind::NotFound => "not_found",
                ErrorKind::RequestTooLarge => "request_too_large",
                ErrorKind::RateLimited => "rate_limited",
                ErrorKind::ServerError => "server_error",
                ErrorKind::Overloaded => "overloaded",
                ErrorKind::Other => "provider_error",
            },
            Self::Truncated => "truncated",
            Self::Malformed { .. } => "malformed_event",
            Self::TooLarge { .. } => "event_too_large",
            Self::AlreadyFinished => "already_finished",
        }
    }
}
