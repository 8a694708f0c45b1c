//! Output in the Responses API's stream format, for the edge's `/v1/responses` route.

use serde_json::json;

/// The Responses stream's `error` event (no `response.completed` follows, so SDKs raise).
pub fn error_frame(kind: &str, message: &str) -> String {
    format!(
        "event: error\ndata: {}\n\n",
        json!({ "type": "error", "code": kind, "message": message, "sequence_number": 0 })
    )
}
