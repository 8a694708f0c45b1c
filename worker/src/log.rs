//! The one structured log line per request.

use edgechat::Usage;
use serde::Serialize;
use serde_json::{Map, Value};

/// Fields of the request log line (printed as one JSON object with `console.log` after the stream ends).
#[derive(Debug, Clone, Default, Serialize)]
pub struct LogLine {
    /// Request id (also the `x-request-id` header).
    pub request_id: String,
    /// When the request arrived, Unix ms.
    pub time: u64,
    /// Route (`/api/chat`, `/v1/messages`, …).
    pub route: String,
    /// Rate-limit identity of the caller.
    pub client: String,
    /// Provider of the model that served (or last failed).
    pub provider: Option<String>,
    /// Provider model id.
    pub model: Option<String>,
    /// Alias requested.
    pub alias: Option<String>,
    /// HTTP status sent to the client.
    pub status: u16,
    /// Upstream attempts made (retries and fallbacks included).
    pub attempts: u32,
    /// A fallback model served (or last failed): not the alias's own.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub fallback: bool,
    /// The site key used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site_key: Option<String>,
    /// The session subject, salted and hashed (`crate::usage::hash_subject`): groups one user's requests without
    /// keeping their id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// `hit`, `miss`, `refresh` or `bypass`.
    pub cache: &'static str,
    /// On a hit: `exact` or `semantic` (with the similarity score).
    pub cache_kind: Option<&'static str>,
    /// Similarity of a semantic hit.
    pub cache_similarity: Option<f64>,
    /// On a hit, the key of the answer reused; after a miss or refresh, the key the answer was stored under (the
    /// same key, so an owner can find the request that produced a reused answer).
    pub cache_key: Option<String>,
    /// Which limiter counted the request: `durable_object` or `isolate`.
    pub limiter: &'static str,
    /// Time to the first upstream body byte (or cache replay), ms.
    pub ttfb_ms: Option<u64>,
    /// Whole request, ms.
    pub duration_ms: u64,
    /// Input tokens at the normal rate.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Cache-read input tokens.
    pub cache_read_input_tokens: u64,
    /// Cache-write input tokens.
    pub cache_creation_input_tokens: u64,
    /// Usage counted from text because the provider reported none.
    pub usage_estimated: bool,
    /// Cost in USD, when the price is known.
    pub cost_usd: Option<f64>,
    /// `complete`, `aborted`, `truncated` or `error`.
    pub outcome: &'static str,
    /// Error type, when there was one.
    pub error: Option<String>,
    /// `summary` on the line of a summarizer call made for a request (the request has its own line).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    /// The task the `auto` alias routed the request as.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<&'static str>,
    /// Messages dropped from the front of the request to fit the model's context (0: none).
    #[serde(skip_serializing_if = "is_zero")]
    pub trimmed: u64,
    /// Messages folded into a new summary for this request (0: none).
    #[serde(skip_serializing_if = "is_zero")]
    pub summarized: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl LogLine {
    /// Records usage.
    pub fn set_usage(&mut self, u: &Usage, estimated: bool) {
        self.input_tokens = u.input_tokens;
        self.output_tokens = u.output_tokens;
        self.cache_read_input_tokens = u.cache_read_input_tokens;
        self.cache_creation_input_tokens = u.cache_creation_input_tokens;
        self.usage_estimated = estimated;
    }

    /// Records how a stream ended: outcome, usage, cost, error type.
    pub fn record(&mut self, end: &crate::stream::Ending) {
        self.outcome = end.outcome.as_str();
        self.set_usage(&end.usage, end.estimated);
        self.cost_usd = end.cost_usd;
        if let Some(e) = &end.error {
            self.error = Some(e.kind.clone());
        }
    }

    /// The JSON line.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A line about something beside a request's own line (a store failing, a stream not kept):
/// `{"request_id": …, "<kind>": detail}`, serialized as JSON (so any text in `detail` stays one valid line).
pub fn incident(request_id: &str, kind: &str, detail: impl Serialize) -> String {
    let mut m = Map::new();
    m.insert("request_id".into(), Value::from(request_id));
    m.insert(kind.into(), serde_json::to_value(detail).unwrap_or(Value::Null));
    Value::Object(m).to_string()
}

/// The line a resumable stream's relay writes when it gives up on a client that took nothing of a write.
#[derive(Debug, Serialize)]
pub struct RelayGone<'a> {
    /// The request that opened the relay.
    pub request_id: &'a str,
    /// The stream.
    pub stream_id: &'a str,
    /// Always `client_gone`.
    pub relay: &'static str,
    /// The last event id it wrote.
    pub written_through: u64,
}

impl RelayGone<'_> {
    /// The JSON line.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NASTY: &str = "gpt-\"4o\" \\ back\\slash\n\t\u{1}\u{7f} “quoted” é 日本 🦀 \u{2028}";

    #[test]
    fn log_lines_are_valid_json_whatever_the_text() {
        let line = LogLine {
            request_id: "r1".into(),
            model: Some(NASTY.into()),
            alias: Some(NASTY.into()),
            error: Some(NASTY.into()),
            outcome: "error",
            ..LogLine::default()
        };
        let v: Value = serde_json::from_str(&line.to_json()).expect("valid JSON");
        assert_eq!(v["model"], NASTY);
        assert_eq!(v["error"], NASTY);
        assert!(!line.to_json().contains('\n'), "one line");

        let i = incident("r1", "cache_error", NASTY);
        let v: Value = serde_json::from_str(&i).expect("valid JSON");
        assert_eq!(v["cache_error"], NASTY);
        assert_eq!(v["request_id"], "r1");

        let r = RelayGone { request_id: NASTY, stream_id: "s", relay: "client_gone", written_through: 4 }.to_json();
        let v: Value = serde_json::from_str(&r).expect("valid JSON");
        assert_eq!((v["request_id"].as_str(), v["written_through"].as_u64()), (Some(NASTY), Some(4)));
    }
}
