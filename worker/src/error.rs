//! The one JSON error shape every non-2xx response uses (docs/protocol.md "Errors before the stream starts").

use serde_json::json;

/// A request the edge refuses or cannot serve. Carries only what is safe to show a client.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// Machine-readable type from the documented list.
    pub kind: &'static str,
    /// Human-readable, precise, free of secrets.
    pub message: String,
    /// Seconds for `Retry-After` (429 and 503).
    pub retry_after_s: Option<u64>,
    /// The request parameter at fault (`param` in the body), for a `400` about one.
    pub param: Option<&'static str>,
}

impl ApiError {
    /// A new error.
    pub fn new(status: u16, kind: &'static str, message: impl Into<String>) -> Self {
        Self { status, kind, message: message.into(), retry_after_s: None, param: None }
    }
    /// 400 `bad_request`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "bad_request", message)
    }
    /// The same error under another documented `kind` (a more precise 400).
    pub fn with_kind(mut self, kind: &'static str) -> Self {
        self.kind = kind;
        self
    }
    /// 400 `bad_request` about the request parameter `param`.
    pub fn bad_param(param: &'static str, message: impl Into<String>) -> Self {
        Self { param: Some(param), ..Self::bad_request(message) }
    }
    /// 401 `unauthorized`.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(401, "unauthorized", message)
    }
    /// 429 with a `Retry-After`.
    pub fn rate_limited(kind: &'static str, message: impl Into<String>, retry_after_s: u64) -> Self {
        Self { retry_after_s: Some(retry_after_s.max(1)), ..Self::new(429, kind, message) }
    }
    /// 500 `internal` (the message is generic on purpose; details go to the log).
    pub fn internal() -> Self {
        Self::new(500, "internal", "internal error")
    }

    /// The JSON body.
    pub fn body(&self, request_id: &str) -> String {
        let mut e = json!({ "type": self.kind, "message": self.message, "request_id": request_id });
        if let Some(p) = self.param {
            e["param"] = p.into();
        }
        json!({ "error": e }).to_string()
    }
}

/// Removes every occurrence of a secret, and anything that looks like an echoed key fragment
/// (OpenAI's "Incorrect API key provided: sk-abc***xyz"), from `text`.
pub fn scrub(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for s in secrets {
        if !s.is_empty() {
            out = out.replace(s.as_str(), "[redacted]");
        }
    }
    // Any word that looks like a provider key or a masked key fragment is redacted (only the key-like core, so
    // the surrounding JSON punctuation survives).
    let mut result = String::with_capacity(out.len());
    for (i, word) in out.split(' ').enumerate() {
        if i > 0 {
            result.push(' ');
        }
        let is_core = |c: char| c.is_ascii_alphanumeric() || matches!(c, '*' | '-' | '_' | '.');
        let start = word.find(is_core).unwrap_or(word.len());
        let end = word.rfind(is_core).map_or(start, |e| e + 1).max(start);
        let core = word[start..end].trim_end_matches('.');
        if looks_like_key(core) {
            result.push_str(&word[..start]);
            result.push_str("[redacted]");
            result.push_str(&word[start + core.len()..]);
        } else {
            result.push_str(word);
        }
    }
    result
}

fn looks_like_key(w: &str) -> bool {
    let prefixed = ["sk-", "sk_", "pk-", "rk-", "key-", "sess-"].iter().any(|p| w.starts_with(p)) && w.len() > 6;
    prefixed
        || (w.contains("***") && w.len() > 4)
        || (w.len() >= 32
            && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            && w.chars().any(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_has_the_documented_shape() {
        let e = ApiError::new(403, "origin_not_allowed", "Origin https://evil.example is not allowed");
        let v: serde_json::Value = serde_json::from_str(&e.body("req1")).unwrap();
        assert_eq!(v["error"]["type"], "origin_not_allowed");
        assert_eq!(v["error"]["request_id"], "req1");
    }

    #[test]
    fn scrub_removes_keys_and_masked_fragments() {
        let secrets = vec!["sk-test-openai-0000".to_string()];
        let s = scrub("Incorrect API key provided: sk-tes***0000. You can find your key", &secrets);
        assert!(!s.contains("sk-tes"), "{s}");
        assert!(s.contains("Incorrect API key provided"));
        let s = scrub("key sk-test-openai-0000 leaked", &secrets);
        assert_eq!(s, "key [redacted] leaked");
        assert_eq!(scrub("plain words stay", &secrets), "plain words stay");
        let json = r#"{"error":{"message":"Incorrect API key provided: sk-abc***wxyz."}}"#;
        let s = scrub(json, &secrets);
        assert_eq!(s, r#"{"error":{"message":"Incorrect API key provided: [redacted]."}}"#);
    }
}
