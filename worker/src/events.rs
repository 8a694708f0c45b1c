//! Event production for the widget protocol: normalized [`StreamEvent`]s in, numbered widget events out.
//!
//! Production (this module) is separate from transport (SSE framing to one client, [`encode_sse`]) so a later
//! Durable Object can own the producer, store its events and replay them from a `Last-Event-ID`.

use edgechat::{StopReason, StreamError, StreamEvent, Usage};
use serde_json::{json, Value};

/// One widget event with its id (ids increase by one from 1 within a stream).
#[derive(Debug, Clone, PartialEq)]
pub struct WidgetEvent {
    /// SSE `id`.
    pub id: u64,
    /// Event name (`start`, `delta`, …).
    pub name: &'static str,
    /// JSON data.
    pub data: Value,
}

/// SSE framing of one event.
pub fn encode_sse(ev: &WidgetEvent) -> String {
    format!("id: {}\nevent: {}\ndata: {}\n\n", ev.id, ev.name, ev.data)
}

/// How a stream ended, for the log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Terminal event arrived.
    Complete,
    /// The client went away.
    Aborted,
    /// The upstream ended (or stalled) without its terminal event.
    Truncated,
    /// An error ended the stream.
    Error,
}

impl Outcome {
    /// Log name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Complete => "complete",
            Self::Aborted => "aborted",
            Self::Truncated => "truncated",
            Self::Error => "error",
        }
    }
}

/// A failure as the widget's `error` event shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorInfo {
    /// Machine-readable type.
    pub kind: String,
    /// Message (already scrubbed of secrets).
    pub message: String,
    /// Whether sending again may work.
    pub retryable: bool,
    /// The answer was cut off.
    pub truncated: bool,
    /// Provider's wait hint.
    pub retry_after_ms: Option<u64>,
}

impl ErrorInfo {
    /// From a stream failure; `scrub` removes secrets from provider messages.
    pub fn from_stream_error(e: &StreamError, scrub: impl Fn(&str) -> String) -> Self {
        let (retryable, retry_after_ms, message) = match e {
            StreamError::Provider(p) => (p.is_retryable(), p.retry_after_ms, scrub(&p.message)),
            StreamError::Truncated => (true, None, "the upstream stream ended before the answer was complete".into()),
            other => (false, None, scrub(&other.to_string())),
        };
        Self { kind: e.type_name().into(), message, retryable, truncated: matches!(e, StreamError::Truncated), retry_after_ms }
    }

    /// The upstream sent nothing for `ms`.
    pub fn stalled(ms: u32) -> Self {
        Self {
            kind: "stalled".into(),
            message: format!("the upstream sent nothing for {ms} ms"),
            retryable: true,
            truncated: true,
            retry_after_ms: None,
        }
    }
}

/// Folds upstream events into widget events. Calling order: [`start`](Self::start), then
/// [`push`](Self::push) each upstream event, then exactly one of [`finish`](Self::finish) /
/// [`fail`](Self::fail). The usage and cost come from the caller at the end.
#[derive(Debug, Default)]
pub struct Producer {
    next_id: u64,
    usage: Usage,
    reported: bool,
    output_chars: usize,
    stop: Option<(StopReason, String)>,
    done: bool,
    ended: bool,
}

impl Producer {
    /// A producer whose first event gets id 1.
    pub fn new() -> Self {
        Self::default()
    }

    fn emit(&mut self, name: &'static str, data: Value) -> WidgetEvent {
        self.next_id += 1;
        WidgetEvent { id: self.next_id, name, data }
    }

    /// The `start` event.
    pub fn start(&mut self, request_id: &str, stream_id: &str, alias: &str, provider: &str) -> WidgetEvent {
        self.emit(
            "start",
            json!({ "request_id": request_id, "stream_id": stream_id, "model": alias, "provider": provider, "resumable": false }),
        )
    }

    /// Applies one upstream event; returns the widget event it becomes, if any.
    pub fn push(&mut self, ev: &StreamEvent) -> Option<WidgetEvent> {
        match ev {
            StreamEvent::TextDelta { text } | StreamEvent::Refusal { text } if !text.is_empty() => {
                self.output_chars += text.chars().count();
                Some(self.emit("delta", json!({ "text": text })))
            }
            StreamEvent::ReasoningDelta { text } if !text.is_empty() => {
                self.output_chars += text.chars().count();
                Some(self.emit("reasoning", json!({ "text": text })))
            }
            StreamEvent::ToolCall { call } => {
                self.output_chars += call.arguments.chars().count() + call.name.len();
                Some(self.emit("tool_call", json!({ "id": call.id, "name": call.name, "arguments": call.arguments })))
            }
            StreamEvent::Usage { usage } => {
                self.usage.merge_max(usage);
                self.reported = true;
                None
            }
            StreamEvent::Stop { reason, raw } => {
                self.stop = Some((*reason, raw.clone()));
                None
            }
            StreamEvent::Done => {
                self.done = true;
                None
            }
            _ => None,
        }
    }

    /// Whether the upstream's terminal event arrived.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Whether anything visible was produced (text, reasoning, tool calls).
    pub fn generated(&self) -> bool {
        self.output_chars > 0
    }

    /// Usage as reported, or estimated from text when the provider reported none. `prompt_chars` is the size of
    /// the request's text. Returns the usage and whether it is estimated.
    pub fn usage(&self, prompt_chars: usize) -> (Usage, bool) {
        // A stream cut early (stopped, aborted, failed) keeps what the provider reported and estimates the rest.
        crate::resume::settle_usage(self.usage, self.reported, self.output_chars, prompt_chars, self.done)
    }

    fn usage_event(&mut self, usage: Usage, estimated: bool, cost: Option<f64>) -> WidgetEvent {
        self.emit(
            "usage",
            json!({
                "input_tokens": usage.input_tokens,
                "output_tokens": usage.output_tokens,
                "cache_read_input_tokens": usage.cache_read_input_tokens,
                "cache_creation_input_tokens": usage.cache_creation_input_tokens,
                "cost_usd": cost,
                "estimated": estimated,
            }),
        )
    }

    /// Normal end: `usage` then `done`.
    pub fn finish(&mut self, usage: Usage, estimated: bool, cost: Option<f64>) -> Vec<WidgetEvent> {
        if self.ended {
            return Vec::new();
        }
        self.ended = true;
        let u = self.usage_event(usage, estimated, cost);
        let (reason, raw) = match &self.stop {
            Some((r, raw)) => (serde_json::to_value(r).unwrap_or(Value::Null), Value::String(raw.clone())),
            None => (json!("end_turn"), Value::Null),
        };
        let d = self.emit("done", json!({ "stop_reason": reason, "raw_stop_reason": raw, "stopped": false }));
        vec![u, d]
    }

    /// Failed end: `usage` (always: the prompt was billed even when nothing was generated) then `error`.
    pub fn fail(&mut self, err: &ErrorInfo, usage: Usage, estimated: bool, cost: Option<f64>) -> Vec<WidgetEvent> {
        if self.ended {
            return Vec::new();
        }
        self.ended = true;
        let mut out = vec![self.usage_event(usage, estimated, cost)];
        out.push(self.emit(
            "error",
            json!({
                "type": err.kind,
                "message": err.message,
                "retryable": err.retryable,
                "truncated": err.truncated,
                "retry_after_ms": err.retry_after_ms,
            }),
        ));
        out
    }
}

/// A USD amount rounded to nano-dollars (so logs and events show `0.00001515`, not float noise).
pub fn round_usd(usd: f64) -> f64 {
    (usd * 1e9).round() / 1e9
}

/// A rough token count for text the provider did not count (about four characters per token).
pub fn estimate_tokens(chars: usize) -> u64 {
    (chars as u64).div_ceil(4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgechat::ToolCall;

    #[test]
    fn ids_increase_and_the_stream_ends_once() {
        let mut p = Producer::new();
        let s = p.start("r", "s", "fast", "openai-chat");
        assert_eq!((s.id, s.name), (1, "start"));
        let d = p.push(&StreamEvent::TextDelta { text: "Hi".into() }).unwrap();
        assert_eq!((d.id, d.name, d.data["text"].as_str()), (2, "delta", Some("Hi")));
        assert!(p.push(&StreamEvent::TextDelta { text: String::new() }).is_none());
        let call = ToolCall { id: "c1".into(), name: "f".into(), arguments: "{}".into() };
        assert_eq!(p.push(&StreamEvent::ToolCall { call }).unwrap().name, "tool_call");
        p.push(&StreamEvent::Usage { usage: Usage { input_tokens: 3, output_tokens: 2, ..Usage::default() } });
        p.push(&StreamEvent::Stop { reason: StopReason::EndTurn, raw: "stop".into() });
        p.push(&StreamEvent::Done);
        assert!(p.is_done());
        let (u, est) = p.usage(100);
        assert_eq!((u.input_tokens, est), (3, false));
        let end = p.finish(u, est, Some(0.5));
        assert_eq!(end.iter().map(|e| (e.id, e.name)).collect::<Vec<_>>(), [(4, "usage"), (5, "done")]);
        assert_eq!(end[1].data["stop_reason"], "end_turn");
        assert_eq!(end[1].data["raw_stop_reason"], "stop");
        assert!(p.fail(&ErrorInfo::stalled(1), u, est, None).is_empty());
    }

    #[test]
    fn truncation_reports_estimated_usage_and_error() {
        let mut p = Producer::new();
        p.start("r", "s", "fast", "anthropic");
        p.push(&StreamEvent::TextDelta { text: "12345678".into() });
        let (u, est) = p.usage(40);
        assert_eq!((u.input_tokens, u.output_tokens, est), (10, 2, true));
        let err = ErrorInfo::from_stream_error(&StreamError::Truncated, |s| s.to_string());
        let end = p.fail(&err, u, est, None);
        assert_eq!(end[0].data["estimated"], true);
        assert_eq!(end[1].name, "error");
        assert_eq!(end[1].data["truncated"], true);
        assert_eq!(end[1].data["type"], "truncated");
    }

    #[test]
    fn sse_framing() {
        let e = WidgetEvent { id: 7, name: "delta", data: json!({"text":"a\nb"}) };
        assert_eq!(encode_sse(&e), "id: 7\nevent: delta\ndata: {\"text\":\"a\\nb\"}\n\n");
    }
}
