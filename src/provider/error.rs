//! Provider error responses (non-2xx bodies) and mid-stream error objects, normalized into [`ProviderError`].
//!
//! Error shapes: OpenAI `{"error":{"message","type","param","code"}}`
//! (<https://platform.openai.com/docs/guides/error-codes>), Anthropic
//! `{"type":"error","error":{"type","message"},"request_id"}` (<https://docs.anthropic.com/en/api/errors>), and
//! what OpenAI-compatible servers send instead (`{"error":"text"}`, vLLM's `{"object":"error","message","type",
//! "code"}`, FastAPI's `{"detail": …}`). A body that is not JSON at all (an HTML 502 page from a proxy) still gives
//! a [`ProviderError`] whose message is a short excerpt of the body.

use serde_json::Value;

use crate::error::{ErrorKind, ProviderError, RateLimitInfo};
use crate::provider::common::excerpt;
use crate::provider::headers;
use crate::provider::ProviderKind;

/// Longest message kept from a non-JSON body.
const MAX_MESSAGE: usize = 300;

pub(crate) fn parse_error(
    kind: ProviderKind,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
    now_unix_ms: Option<u64>,
) -> ProviderError {
    // Through `from_str` (its parser is linked anyway; `from_slice` would add a second copy): the same bodies parse.
    let (code, message) = match std::str::from_utf8(body).map(serde_json::from_str::<Value>) {
        Ok(Ok(v)) => code_and_message(&v),
        _ => (None, None),
    };
    let message = message.unwrap_or_else(|| body_excerpt(status, body));
    let mut err = provider_error(kind, status, code, message);
    err.retry_after_ms = headers::retry_after_ms(headers, now_unix_ms);
    err.rate_limit = headers::rate_limit(headers, now_unix_ms);
    err
}

/// A [`ProviderError`] for `status` whose kind also considers the provider's `code` (an Anthropic
/// `overloaded_error` is overloaded whatever the status; OpenAI's `insufficient_quota` 429 is not retryable).
pub(crate) fn provider_error(kind: ProviderKind, status: u16, code: Option<String>, message: String) -> ProviderError {
    let mut error_kind = ErrorKind::from_status(status);
    match code.as_deref() {
        Some("overloaded_error") => error_kind = ErrorKind::Overloaded,
        // Out of credit: waiting does not help, so it must not look like a retryable rate limit.
        Some("insufficient_quota" | "billing_error") => error_kind = ErrorKind::Other,
        _ => {}
    }
    ProviderError {
        provider: kind,
        status,
        kind: error_kind,
        code,
        message,
        retry_after_ms: None,
        rate_limit: RateLimitInfo::default(),
    }
}

/// A mid-stream error object (`{"error":{…}}` or Anthropic's `error` event data, or Responses' `error` event) as a
/// [`ProviderError`]; the status is the one the provider's error type stands for (Anthropic `overloaded_error` →
/// 529), 500 when unknown.
pub(crate) fn stream_error(kind: ProviderKind, v: &Value) -> ProviderError {
    let (code, message) = code_and_message(v);
    let status = code.as_deref().map_or(500, status_for_code);
    provider_error(kind, status, code, message.unwrap_or_else(|| "provider error without a message".into()))
}

/// The HTTP status a provider error type or code stands for.
pub(crate) fn status_for_code(code: &str) -> u16 {
    match code {
        "invalid_request_error" | "invalid_request" | "context_length_exceeded" | "invalid_prompt" | "bad_request" => {
            400
        }
        "authentication_error" | "invalid_api_key" => 401,
        "billing_error" => 402,
        "permission_error" | "permission_denied" => 403,
        "not_found_error" | "not_found" | "model_not_found" => 404,
        "request_too_large" => 413,
        "rate_limit_error" | "rate_limit_exceeded" | "rate_limited" | "insufficient_quota" | "requests" | "tokens" => {
            429
        }
        "timeout_error" => 504,
        "overloaded_error" => 529,
        "overloaded" | "server_is_overloaded" | "service_unavailable" | "slow_down" => 503,
        _ => 500,
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// The provider code (OpenAI `error.code`, else `error.type`; Anthropic `error.type`) and message of an error
/// object in any of the known shapes.
fn code_and_message(v: &Value) -> (Option<String>, Option<String>) {
    match v.get("error") {
        Some(e @ Value::Object(_)) => {
            let code = text(e.get("code")).or_else(|| text(e.get("type")));
            (code, text(e.get("message")))
        }
        Some(Value::String(s)) => (None, Some(s.clone())),
        _ => {
            // Responses `error` events and vLLM carry the fields at the top level.
            let code = text(v.get("code")).or_else(|| match text(v.get("type")) {
                Some(t) if t != "error" => Some(t),
                _ => None,
            });
            let message = text(v.get("message")).or_else(|| match v.get("detail") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(d @ (Value::Array(_) | Value::Object(_))) => Some(d.to_string()),
                _ => None,
            });
            (code, message)
        }
    }
}

/// A message for a body that carried none: a whitespace-collapsed excerpt, or a note that it was empty.
fn body_excerpt(status: u16, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() {
        format!("HTTP {status} with an empty body")
    } else {
        format!("HTTP {status}: {}", excerpt(&collapsed, MAX_MESSAGE))
    }
}
