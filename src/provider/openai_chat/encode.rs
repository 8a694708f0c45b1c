//! Normalized events out as OpenAI Chat Completions: the edge's `/v1/chat/completions` over a model of another
//! format streams [`ChunkEncoder`]'s `chat.completion.chunk` events, answers [`completion`] bodies, and reports a
//! failure mid-stream with [`error_frame`].

use serde_json::{json, Value};

use crate::{ChatResponse, StopReason, StreamEvent, Usage};

/// OpenAI's `finish_reason` for a normalized stop reason.
pub fn finish_reason(r: Option<StopReason>) -> &'static str {
    match r {
        Some(StopReason::MaxTokens) => "length",
        Some(StopReason::ToolUse) => "tool_calls",
        Some(StopReason::ContentFilter | StopReason::Refusal) => "content_filter",
        _ => "stop",
    }
}

fn usage_json(u: &Usage) -> Value {
    let prompt = u.total_input_tokens();
    json!({
        "prompt_tokens": prompt,
        "completion_tokens": u.output_tokens,
        "total_tokens": prompt + u.output_tokens,
        "prompt_tokens_details": { "cached_tokens": u.cache_read_input_tokens },
    })
}

/// Encodes a stream as `chat.completion.chunk` SSE events.
#[derive(Debug)]
pub struct ChunkEncoder {
    id: String,
    model: String,
    created: u64,
    include_usage: bool,
    started: bool,
    tool_index: usize,
    stop: Option<StopReason>,
}

impl ChunkEncoder {
    /// An encoder for response `id` reporting `model`.
    pub fn new(id: String, model: String, created: u64, include_usage: bool) -> Self {
        Self { id, model, created, include_usage, started: false, tool_index: 0, stop: None }
    }

    fn chunk(&self, delta: Value, finish: Option<&str>) -> String {
        let c = json!({
            "id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
            "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }],
        });
        format!("data: {c}\n\n")
    }

    fn role(&mut self, out: &mut String) {
        if !self.started {
            self.started = true;
            out.push_str(&self.chunk(json!({"role": "assistant", "content": ""}), None));
        }
    }

    /// The SSE text for one event (may be empty).
    pub fn push(&mut self, ev: &StreamEvent) -> String {
        let mut out = String::new();
        match ev {
            StreamEvent::Start { .. } => self.role(&mut out),
            StreamEvent::TextDelta { text } | StreamEvent::Refusal { text } if !text.is_empty() => {
                self.role(&mut out);
                out.push_str(&self.chunk(json!({ "content": text }), None));
            }
            StreamEvent::ToolCall { call } => {
                self.role(&mut out);
                let d = json!({ "tool_calls": [{ "index": self.tool_index, "id": call.id, "type": "function",
                    "function": { "name": call.name, "arguments": call.arguments } }] });
                self.tool_index += 1;
                out.push_str(&self.chunk(d, None));
            }
            StreamEvent::Stop { reason, .. } => self.stop = Some(*reason),
            _ => {}
        }
        out
    }

    /// The closing chunks after the upstream's terminal event: finish reason, usage if asked, `[DONE]`.
    pub fn finish(&mut self, usage: &Usage) -> String {
        let mut out = String::new();
        self.role(&mut out);
        out.push_str(&self.chunk(json!({}), Some(finish_reason(self.stop))));
        if self.include_usage {
            let c = json!({ "id": self.id, "object": "chat.completion.chunk", "created": self.created,
                "model": self.model, "choices": [], "usage": usage_json(usage) });
            out.push_str(&format!("data: {c}\n\n"));
        }
        out.push_str("data: [DONE]\n\n");
        out
    }

    /// An error event in OpenAI's in-stream error shape (no `[DONE]` follows, so SDKs raise).
    pub fn error(&self, kind: &str, message: &str) -> String {
        error_frame(kind, message)
    }
}

/// A non-streaming `chat.completion` body.
pub fn completion(id: &str, model: &str, created: u64, r: &ChatResponse) -> Value {
    let tool_calls: Vec<Value> = r
        .tool_calls
        .iter()
        .map(|c| json!({ "id": c.id, "type": "function", "function": { "name": c.name, "arguments": c.arguments } }))
        .collect();
    let mut message = json!({ "role": "assistant", "content": r.text, "refusal": r.refusal });
    if !tool_calls.is_empty() {
        message["tool_calls"] = Value::Array(tool_calls);
    }
    json!({
        "id": id, "object": "chat.completion", "created": created, "model": model,
        "choices": [{ "index": 0, "message": message, "finish_reason": finish_reason(r.stop_reason), "logprobs": null }],
        "usage": usage_json(&r.usage),
    })
}

/// OpenAI's in-stream error event: a `data:` line with an `error` object (no `[DONE]` follows, so SDKs raise).
pub fn error_frame(kind: &str, message: &str) -> String {
    format!("data: {}\n\n", json!({ "error": { "type": kind, "message": message, "code": kind } }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ToolCall;

    #[test]
    fn stream_shape() {
        let mut e = ChunkEncoder::new("chatcmpl-1".into(), "smart".into(), 7, true);
        let mut s = e.push(&StreamEvent::Start { id: None, model: None });
        s += &e.push(&StreamEvent::TextDelta { text: "Hi".into() });
        s += &e.push(&StreamEvent::ToolCall {
            call: ToolCall { id: "c".into(), name: "f".into(), arguments: "{}".into() },
        });
        s += &e.push(&StreamEvent::Stop { reason: StopReason::ToolUse, raw: "tool_use".into() });
        s += &e.finish(&Usage { input_tokens: 5, output_tokens: 2, ..Usage::default() });
        let datas: Vec<&str> = s.split("\n\n").filter(|l| !l.is_empty()).map(|l| &l[6..]).collect();
        assert_eq!(datas.len(), 6);
        let v: Vec<Value> = datas[..5].iter().map(|d| serde_json::from_str(d).unwrap()).collect();
        assert_eq!(v[0]["choices"][0]["delta"]["role"], "assistant");
        assert_eq!(v[1]["choices"][0]["delta"]["content"], "Hi");
        assert_eq!(v[2]["choices"][0]["delta"]["tool_calls"][0]["function"]["name"], "f");
        assert_eq!(v[3]["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(v[4]["usage"]["total_tokens"], 7);
        assert_eq!(datas[5], "[DONE]");
    }

    #[test]
    fn non_streaming_completion() {
        let r =
            ChatResponse { text: "Hello".into(), stop_reason: Some(StopReason::MaxTokens), ..ChatResponse::default() };
        let c = completion("id", "smart", 1, &r);
        assert_eq!(c["choices"][0]["message"]["content"], "Hello");
        assert_eq!(c["choices"][0]["finish_reason"], "length");
    }
}
