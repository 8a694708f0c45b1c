//! The one structured log line per request.

use edgechat::Usage;
use serde::Serialize;

/// Fields of the request log line (printed as one JSON object with `console.log` after the stream ends).
#[derive(Debug, Clone, Default, Serialize)]
pub struct LogLine {
    /// Request id (also the `x-request-id` header).
    pub request_id: String,
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
    /// `hit`, `miss` or `bypass`.
    pub cache: &'static str,
    /// On a hit: `exact` or `semantic` (with the similarity score).
    pub cache_kind: Option<&'static str>,
    /// Similarity of a semantic hit.
    pub cache_similarity: Option<f64>,
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
