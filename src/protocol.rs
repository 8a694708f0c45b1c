//! The widget protocol: the events the edge streams to the widget on `POST /api/chat` (`docs/protocol.md`).
//!
//! One definition for both ends. The edge builds [`WidgetEvent`]s and frames them with [`Frame::encode`]; the
//! widget reads each SSE event's name and JSON data through [`WidgetEvent::decode`], over whatever JSON object it
//! has (a `serde_json::Value` here, a parsed JS object in the browser) by implementing [`Fields`]. The encoder is
//! written by hand (no serde derive): the widget build carries it, and derived serializers cost wasm size.

use crate::{StopReason, ToolCall, Usage};

/// One event of the widget protocol.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum WidgetEvent {
    /// The request was accepted and the answer begins.
    Start(Start),
    /// The oldest turns of the request were summarized to fit the model's context (before the first `delta`).
    Summary(Summary),
    /// Answer text to append.
    Delta {
        /// The text.
        text: String,
    },
    /// Reasoning text to append (shown apart from the answer).
    Reasoning {
        /// The text.
        text: String,
    },
    /// A complete tool call the model asked for.
    ToolCall(ToolCall),
    /// Tokens and cost of the request (always sent before `done` or `error`).
    Usage(UsageReport),
    /// Normal end of the answer.
    Done(Done),
    /// The stream failed; the text so far stays valid.
    Error(ErrorReport),
}

/// Data of the `start` event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Start {
    /// The edge's request id (also `x-request-id`).
    pub request_id: String,
    /// The stream id (resume and stop take it when `resumable`).
    pub stream_id: String,
    /// The alias that serves (after a fallback, the fallback's).
    pub model: String,
    /// The provider of that alias.
    pub provider: String,
    /// The stream can be resumed and stopped by id.
    pub resumable: bool,
    /// The oldest messages of the request dropped (without a summary) to fit the model's context; 0: none.
    pub trimmed: u64,
    /// The task the `auto` alias classified the request as (`chat`, `code`, …), when it routed it.
    pub task: Option<String>,
}

/// Data of the `summary` event: from now on the client sends `{"summary": {text, token, covers}}` and only the
/// messages after the ones it covers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// How many of the request's `messages` (as sent, from the start) the summary replaces; it also replaces a
    /// summary the request carried.
    pub covers: u64,
    /// The summary text.
    pub text: String,
    /// The edge's signature over the summary (bound to the site key and session subject); sent back with it.
    pub token: String,
}

/// Data of the `usage` event.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct UsageReport {
    /// Token counts.
    pub usage: Usage,
    /// Cost in USD; `None` when the model's price is unknown.
    pub cost_usd: Option<f64>,
    /// Some of the counts are estimated from text (the provider reported none, or the stream was cut).
    pub estimated: bool,
}

/// Data of the `done` event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Done {
    /// Normalized stop reason; `None` when a stop request ended the stream before the provider gave one.
    pub stop_reason: Option<StopReason>,
    /// The provider's own stop value, when it sent one.
    pub raw_stop_reason: Option<String>,
    /// A stop request (or a budget) ended the answer early.
    pub stopped: bool,
    /// Why the edge ended it early (`"budget"`), when it was not a client's stop.
    pub reason: Option<String>,
}

/// Data of the `error` event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ErrorReport {
    /// Machine-readable type (`stalled`, `truncated`, `rate_limited`, …).
    pub kind: String,
    /// Human-readable message (scrubbed of secrets by the edge).
    pub message: String,
    /// Sending again may work.
    pub retryable: bool,
    /// The answer was cut off (Continue can extend it).
    pub truncated: bool,
    /// The provider's wait hint, ms.
    pub retry_after_ms: Option<u64>,
}

/// A numbered event as sent: ids start at 1 and increase by one within a stream (the `Last-Event-ID` of resume).
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// SSE `id`.
    pub id: u64,
    /// The event.
    pub event: WidgetEvent,
}

impl Frame {
    /// SSE framing: `id`, `event` and one `data` line.
    pub fn encode(&self) -> String {
        let mut out = format!("id: {}\nevent: {}\ndata: ", self.id, self.event.name());
        self.event.write_data(&mut out);
        out.push_str("\n\n");
        out
    }
}

/// Why an event's data could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// The event name.
    pub event: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "bad {} event: {}", self.event, self.message)
    }
}

/// Read access to one JSON object, as the decoder needs it. Missing fields and `null` read as `None`.
pub trait Fields {
    /// A string field.
    fn string(&self, key: &str) -> Option<String>;
    /// A number field.
    fn number(&self, key: &str) -> Option<f64>;
    /// A boolean field.
    fn flag(&self, key: &str) -> Option<bool>;
}

impl Fields for serde_json::Value {
    fn string(&self, key: &str) -> Option<String> {
        self.get(key).and_then(|v| v.as_str()).map(str::to_string)
    }
    fn number(&self, key: &str) -> Option<f64> {
        self.get(key).and_then(serde_json::Value::as_f64)
    }
    fn flag(&self, key: &str) -> Option<bool> {
        self.get(key).and_then(serde_json::Value::as_bool)
    }
}

impl WidgetEvent {
    /// The SSE event name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Start(_) => "start",
            Self::Summary(_) => "summary",
            Self::Delta { .. } => "delta",
            Self::Reasoning { .. } => "reasoning",
            Self::ToolCall(_) => "tool_call",
            Self::Usage(_) => "usage",
            Self::Done(_) => "done",
            Self::Error(_) => "error",
        }
    }

    /// Whether this event ends the stream (`done` or `error`).
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Done(_) | Self::Error(_))
    }

    /// The JSON data of the event.
    pub fn data(&self) -> String {
        let mut out = String::new();
        self.write_data(&mut out);
        out
    }

    fn write_data(&self, out: &mut String) {
        let mut o = JsonObject::new(out);
        match self {
            Self::Start(s) => {
                o.str("request_id", &s.request_id);
                o.str("stream_id", &s.stream_id);
                o.str("model", &s.model);
                o.str("provider", &s.provider);
                o.bool("resumable", s.resumable);
                if s.trimmed > 0 {
                    o.uint("trimmed", Some(s.trimmed));
                }
                if let Some(t) = &s.task {
                    o.str("task", t);
                }
            }
            Self::Summary(s) => {
                o.uint("covers", Some(s.covers));
                o.str("text", &s.text);
                o.str("token", &s.token);
            }
            Self::Delta { text } | Self::Reasoning { text } => o.str("text", text),
            Self::ToolCall(c) => {
                o.str("id", &c.id);
                o.str("name", &c.name);
                o.str("arguments", &c.arguments);
            }
            Self::Usage(r) => {
                o.uint("input_tokens", Some(r.usage.input_tokens));
                o.uint("output_tokens", Some(r.usage.output_tokens));
                o.uint("cache_read_input_tokens", Some(r.usage.cache_read_input_tokens));
                o.uint("cache_creation_input_tokens", Some(r.usage.cache_creation_input_tokens));
                o.float("cost_usd", r.cost_usd);
                o.bool("estimated", r.estimated);
            }
            Self::Done(d) => {
                o.opt_str("stop_reason", d.stop_reason.map(StopReason::as_str));
                o.opt_str("raw_stop_reason", d.raw_stop_reason.as_deref());
                o.bool("stopped", d.stopped);
                if let Some(r) = &d.reason {
                    o.str("reason", r);
                }
            }
            Self::Error(e) => {
                o.str("type", &e.kind);
                o.str("message", &e.message);
                o.bool("retryable", e.retryable);
                o.bool("truncated", e.truncated);
                o.uint("retry_after_ms", e.retry_after_ms);
            }
        }
        o.end();
    }

    /// Reads the event `name` from its JSON data. `Ok(None)` for an event name this version does not know
    /// (ignore it: newer edges may add events); an error when a known event lacks a required field.
    pub fn decode(name: &str, data: &impl Fields) -> Result<Option<Self>, DecodeError> {
        let missing = |field: &str| DecodeError { event: name.to_string(), message: format!("no {field}") };
        let text = || data.string("text").ok_or_else(|| missing("text"));
        let uint = |k: &str| data.number(k).filter(|n| *n >= 0.0).map(|n| n as u64);
        Ok(Some(match name {
            "start" => Self::Start(Start {
                request_id: data.string("request_id").unwrap_or_default(),
                stream_id: data.string("stream_id").unwrap_or_default(),
                model: data.string("model").unwrap_or_default(),
                provider: data.string("provider").unwrap_or_default(),
                resumable: data.flag("resumable").unwrap_or(false),
                trimmed: uint("trimmed").unwrap_or(0),
                task: data.string("task"),
            }),
            "summary" => Self::Summary(Summary {
                covers: uint("covers").ok_or_else(|| missing("covers"))?,
                text: data.string("text").ok_or_else(|| missing("text"))?,
                token: data.string("token").ok_or_else(|| missing("token"))?,
            }),
            "delta" => Self::Delta { text: text()? },
            "reasoning" => Self::Reasoning { text: text()? },
            "tool_call" => Self::ToolCall(ToolCall {
                id: data.string("id").unwrap_or_default(),
                name: data.string("name").ok_or_else(|| missing("name"))?,
                arguments: data.string("arguments").unwrap_or_default(),
            }),
            "usage" => Self::Usage(UsageReport {
                usage: Usage {
                    input_tokens: uint("input_tokens").unwrap_or(0),
                    output_tokens: uint("output_tokens").unwrap_or(0),
                    cache_read_input_tokens: uint("cache_read_input_tokens").unwrap_or(0),
                    cache_creation_input_tokens: uint("cache_creation_input_tokens").unwrap_or(0),
                },
                cost_usd: data.number("cost_usd"),
                estimated: data.flag("estimated").unwrap_or(false),
            }),
            "done" => Self::Done(Done {
                stop_reason: data.string("stop_reason").map(|s| StopReason::from_normalized(&s)),
                raw_stop_reason: data.string("raw_stop_reason"),
                stopped: data.flag("stopped").unwrap_or(false),
                reason: data.string("reason"),
            }),
            "error" => Self::Error(ErrorReport {
                kind: data.string("type").unwrap_or_else(|| "error".into()),
                message: data.string("message").unwrap_or_default(),
                retryable: data.flag("retryable").unwrap_or(false),
                truncated: data.flag("truncated").unwrap_or(false),
                retry_after_ms: uint("retry_after_ms"),
            }),
            _ => return Ok(None),
        }))
    }
}

/// Writes one flat JSON object.
struct JsonObject<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> JsonObject<'a> {
    fn new(out: &'a mut String) -> Self {
        out.push('{');
        Self { out, first: true }
    }
    fn key(&mut self, k: &str) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        write_json_string(self.out, k);
        self.out.push(':');
    }
    fn str(&mut self, k: &str, v: &str) {
        self.key(k);
        write_json_string(self.out, v);
    }
    fn opt_str(&mut self, k: &str, v: Option<&str>) {
        match v {
            Some(v) => self.str(k, v),
            None => {
                self.key(k);
                self.out.push_str("null");
            }
        }
    }
    fn bool(&mut self, k: &str, v: bool) {
        self.key(k);
        self.out.push_str(if v { "true" } else { "false" });
    }
    fn uint(&mut self, k: &str, v: Option<u64>) {
        self.key(k);
        match v {
            Some(n) => self.out.push_str(&n.to_string()),
            None => self.out.push_str("null"),
        }
    }
    fn float(&mut self, k: &str, v: Option<f64>) {
        self.key(k);
        match v.filter(|f| f.is_finite()) {
            // serde_json's formatting: shortest round-trip, integers without a fraction.
            Some(f) => self.out.push_str(&serde_json::Number::from_f64(f).map_or("null".into(), |n| n.to_string())),
            None => self.out.push_str("null"),
        }
    }
    fn end(self) {
        self.out.push('}');
    }
}

/// Appends `s` as a JSON string (RFC 8259 section 7: quote, backslash and control characters escaped).
pub fn write_json_string(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        // `get`, not `[]`: the cut is at an ASCII byte, and `[]` would link its panic formatting into the widget.
        out.push_str(s.get(start..i).unwrap_or_default());
        if esc.is_empty() {
            out.push_str(&format!("\\u{b:04x}"));
        } else {
            out.push_str(esc);
        }
        start = i + 1;
    }
    out.push_str(s.get(start..).unwrap_or_default());
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(ev: WidgetEvent) {
        let frame = Frame { id: 3, event: ev.clone() };
        let text = frame.encode();
        let data = text.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
        let v: serde_json::Value = serde_json::from_str(data).expect("valid JSON");
        assert_eq!(WidgetEvent::decode(ev.name(), &v).unwrap(), Some(ev));
    }

    #[test]
    fn every_event_round_trips_through_json() {
        round_trip(WidgetEvent::Start(Start {
            request_id: "r".into(),
            stream_id: "s".into(),
            model: "fast".into(),
            provider: "openai-chat".into(),
            resumable: true,
            trimmed: 0,
            task: None,
        }));
        round_trip(WidgetEvent::Start(Start { trimmed: 4, task: Some("code".into()), ..Start::default() }));
        round_trip(WidgetEvent::Summary(Summary {
            covers: 12,
            text: "We talked about \"x\".".into(),
            token: "t0k".into(),
        }));
        round_trip(WidgetEvent::Delta { text: "a \"quoted\" \\ line\nnext\u{1}\u{7f} é 日本 🦀".into() });
        round_trip(WidgetEvent::Reasoning { text: "think".into() });
        round_trip(WidgetEvent::ToolCall(ToolCall {
            id: "c1".into(),
            name: "f".into(),
            arguments: "{\"a\":1}".into(),
        }));
        round_trip(WidgetEvent::Usage(UsageReport {
            usage: Usage {
                input_tokens: 10,
                output_tokens: 2,
                cache_read_input_tokens: 1,
                cache_creation_input_tokens: 0,
            },
            cost_usd: Some(0.000_015_15),
            estimated: true,
        }));
        round_trip(WidgetEvent::Usage(UsageReport { cost_usd: None, ..UsageReport::default() }));
        round_trip(WidgetEvent::Done(Done {
            stop_reason: Some(StopReason::MaxTokens),
            raw_stop_reason: Some("length".into()),
            stopped: false,
            reason: None,
        }));
        round_trip(WidgetEvent::Done(Done { stopped: true, reason: Some("budget".into()), ..Done::default() }));
        round_trip(WidgetEvent::Error(ErrorReport {
            kind: "stalled".into(),
            message: "nothing".into(),
            retryable: true,
            truncated: true,
            retry_after_ms: Some(1500),
        }));
    }

    #[test]
    fn framing_and_unknown_events() {
        let f = Frame { id: 7, event: WidgetEvent::Delta { text: "a\nb".into() } };
        assert_eq!(f.encode(), "id: 7\nevent: delta\ndata: {\"text\":\"a\\nb\"}\n\n");
        assert_eq!(WidgetEvent::decode("later", &serde_json::json!({})), Ok(None));
        assert!(WidgetEvent::decode("delta", &serde_json::json!({})).is_err());
    }

    #[test]
    fn usage_cost_is_formatted_like_serde_json() {
        let ev = WidgetEvent::Usage(UsageReport { cost_usd: Some(0.5), ..UsageReport::default() });
        assert!(ev.data().contains("\"cost_usd\":0.5,"));
        let zero = WidgetEvent::Usage(UsageReport { cost_usd: Some(0.0), ..UsageReport::default() });
        assert!(zero.data().contains("\"cost_usd\":0.0,"), "{}", zero.data());
    }
}
