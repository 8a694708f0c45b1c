//! Normalized events out as Anthropic Messages: the edge's `/v1/messages` over a model of another format streams
//! [`MessagesEncoder`]'s events, answers [`message`] bodies, and reports a failure mid-stream with [`error_frame`].

use serde_json::{json, Value};

use crate::{ChatResponse, StopReason, StreamEvent, Usage};

/// Anthropic's `stop_reason` for a normalized stop reason.
pub fn anthropic_stop_reason(r: Option<StopReason>) -> &'static str {
    match r {
        Some(StopReason::MaxTokens) => "max_tokens",
        Some(StopReason::StopSequence) => "stop_sequence",
        Some(StopReason::ToolUse) => "tool_use",
        Some(StopReason::Refusal) => "refusal",
        Some(StopReason::PauseTurn) => "pause_turn",
        _ => "end_turn",
    }
}

fn anthropic_usage(u: &Usage) -> Value {
    json!({
        "input_tokens": u.input_tokens,
        "output_tokens": u.output_tokens,
        "cache_read_input_tokens": u.cache_read_input_tokens,
        "cache_creation_input_tokens": u.cache_creation_input_tokens,
    })
}

fn sse(event: &str, data: &Value) -> String {
    format!("event: {event}\ndata: {data}\n\n")
}

/// Encodes a stream as Anthropic Messages SSE (`/v1/messages` over a model of another format). Text becomes text
/// blocks, tool calls `tool_use` blocks (the input as one `input_json_delta`); reasoning is not forwarded.
#[derive(Debug)]
pub struct MessagesEncoder {
    id: String,
    model: String,
    started: bool,
    index: usize,
    text_open: bool,
    stop: Option<StopReason>,
}

impl MessagesEncoder {
    /// An encoder for message `id` reporting `model`.
    pub fn new(id: String, model: String) -> Self {
        Self { id, model, started: false, index: 0, text_open: false, stop: None }
    }

    fn start(&mut self, out: &mut String) {
        if !self.started {
            self.started = true;
            let msg = json!({ "id": self.id, "type": "message", "role": "assistant", "model": self.model, "content": [],
                "stop_reason": null, "stop_sequence": null, "usage": anthropic_usage(&Usage::default()) });
            out.push_str(&sse("message_start", &json!({ "type": "message_start", "message": msg })));
        }
    }

    fn close_text(&mut self, out: &mut String) {
        if self.text_open {
            self.text_open = false;
            out.push_str(&sse("content_block_stop", &json!({ "type": "content_block_stop", "index": self.index })));
            self.index += 1;
        }
    }

    /// The SSE text for one event (may be empty).
    pub fn push(&mut self, ev: &StreamEvent) -> String {
        let mut out = String::new();
        match ev {
            StreamEvent::Start { .. } => self.start(&mut out),
            StreamEvent::TextDelta { text } | StreamEvent::Refusal { text } if !text.is_empty() => {
                self.start(&mut out);
                if !self.text_open {
                    self.text_open = true;
                    out.push_str(&sse(
                        "content_block_start",
                        &json!({ "type": "content_block_start", "index": self.index,
                        "content_block": { "type": "text", "text": "" } }),
                    ));
                }
                out.push_str(&sse(
                    "content_block_delta",
                    &json!({ "type": "content_block_delta", "index": self.index,
                    "delta": { "type": "text_delta", "text": text } }),
                ));
            }
            StreamEvent::ToolCall { call } => {
                self.start(&mut out);
                self.close_text(&mut out);
                let i = self.index;
                out.push_str(&sse(
                    "content_block_start",
                    &json!({ "type": "content_block_start", "index": i,
                    "content_block": { "type": "tool_use", "id": call.id, "name": call.name, "input": {} } }),
                ));
                out.push_str(&sse(
                    "content_block_delta",
                    &json!({ "type": "content_block_delta", "index": i,
                    "delta": { "type": "input_json_delta", "partial_json": call.arguments } }),
                ));
                out.push_str(&sse("content_block_stop", &json!({ "type": "content_block_stop", "index": i })));
                self.index += 1;
            }
            StreamEvent::Stop { reason, .. } => self.stop = Some(*reason),
            _ => {}
        }
        out
    }

    /// The closing events after the upstream's terminal event.
    pub fn finish(&mut self, usage: &Usage) -> String {
        let mut out = String::new();
        self.start(&mut out);
        self.close_text(&mut out);
        out.push_str(&sse(
            "message_delta",
            &json!({ "type": "message_delta",
            "delta": { "stop_reason": anthropic_stop_reason(self.stop), "stop_sequence": null },
            "usage": anthropic_usage(usage) }),
        ));
        out.push_str(&sse("message_stop", &json!({ "type": "message_stop" })));
        out
    }

    /// Anthropic's in-stream error event (no `message_stop` follows, so SDKs raise).
    pub fn error(&self, kind: &str, message: &str) -> String {
        error_frame(kind, message)
    }
}

/// A non-streaming Anthropic `message` body.
pub fn message(id: &str, model: &str, r: &ChatResponse) -> Value {
    let mut content = Vec::new();
    if !r.text.is_empty() {
        content.push(json!({ "type": "text", "text": r.text }));
    }
    for c in &r.tool_calls {
        let input: Value = serde_json::from_str(&c.arguments).unwrap_or_else(|_| json!({}));
        content.push(json!({ "type": "tool_use", "id": c.id, "name": c.name, "input": input }));
    }
    json!({
        "id": id, "type": "message", "role": "assistant", "model": model, "content": content,
        "stop_reason": anthropic_stop_reason(r.stop_reason), "stop_sequence": null, "usage": anthropic_usage(&r.usage),
    })
}

/// Anthropic's in-stream `error` event (no `message_stop` follows, so SDKs raise); `kind` is the edge's error
/// type, mapped to Anthropic's (`overloaded_error`, otherwise `api_error`).
pub fn error_frame(kind: &str, message: &str) -> String {
    let t = if kind == "overloaded" { "overloaded_error" } else { "api_error" };
    sse("error", &json!({ "type": "error", "error": { "type": t, "message": message } }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ToolCall;

    #[test]
    fn anthropic_stream_shape() {
        let mut e = MessagesEncoder::new("msg_1".into(), "fast".into());
        let mut s = e.push(&StreamEvent::Start { id: None, model: None });
        s += &e.push(&StreamEvent::TextDelta { text: "Hi".into() });
        s += &e.push(&StreamEvent::ToolCall {
            call: ToolCall { id: "t".into(), name: "f".into(), arguments: "{}".into() },
        });
        s += &e.push(&StreamEvent::Stop { reason: StopReason::ToolUse, raw: "tool_calls".into() });
        s += &e.finish(&Usage { input_tokens: 5, output_tokens: 2, ..Usage::default() });
        let names: Vec<&str> = s.lines().filter_map(|l| l.strip_prefix("event: ")).collect();
        assert_eq!(
            names,
            [
                "message_start",
                "content_block_start",
                "content_block_delta",
                "content_block_stop",
                "content_block_start",
                "content_block_delta",
                "content_block_stop",
                "message_delta",
                "message_stop"
            ]
        );
        assert!(s.contains(r#""stop_reason":"tool_use""#));
        assert!(s.contains(r#""index":1"#));
        let m = message("msg", "fast", &ChatResponse { text: "x".into(), ..ChatResponse::default() });
        assert_eq!(m["content"][0]["text"], "x");
        assert_eq!(m["stop_reason"], "end_turn");
    }
}
