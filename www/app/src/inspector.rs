//! The event inspector: every SSE event of an answer with its id and the time since the request, and what follows
//! from them (time to first token, tokens per second, reconnects, the model that served after a fallback, the
//! request id that finds the edge's log line). Fed by the shared model's trace hook (`Chat::trace`).

use std::collections::HashMap;

use edgechat_www::state::Trace;

use crate::js;

/// One line of an answer's log.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Milliseconds since the answer's request was sent.
    pub at: f64,
    /// What happened.
    pub what: Happened,
}

/// What a [`Row`] records.
#[derive(Debug, Clone, PartialEq)]
pub enum Happened {
    /// A request was sent: the question (or a continuation), or with `resume`, a reconnect.
    Request {
        /// A reconnect.
        resume: bool,
    },
    /// An SSE event.
    Event {
        /// Its `id:`.
        id: Option<String>,
        /// Its `event:`.
        name: String,
        /// Its `data:`.
        data: String,
    },
    /// The connection broke; a reconnect follows after `wait_ms`.
    Broken {
        /// Why.
        message: String,
        /// The wait.
        wait_ms: u32,
    },
}

/// One answer's log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnswerLog {
    /// The model alias selected when the question was sent.
    pub asked: String,
    /// `performance.now()` when the last question (not a reconnect) was sent.
    start: f64,
    /// Everything since.
    pub rows: Vec<Row>,
}

/// What the inspector shows above the events.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    /// Milliseconds from the request to the first token (text, reasoning or tool call).
    pub first_token_ms: Option<f64>,
    /// Output tokens per second between the first and the last token.
    pub tokens_per_s: Option<f64>,
    /// Reconnects of a broken stream.
    pub reconnects: u32,
    /// The edge's request id (`start`), to find its log line.
    pub request_id: Option<String>,
    /// The alias that served (`start.model`).
    pub served_by: Option<String>,
    /// Its provider.
    pub provider: Option<String>,
    /// Another alias served than was asked for (the edge fell back).
    pub fallback: bool,
    /// Events received.
    pub events: usize,
    /// Milliseconds from the request to the last event.
    pub total_ms: Option<f64>,
}

impl AnswerLog {
    /// Records what the stream did at `now` (ms, `performance.now()`); `asked` is the selected model.
    pub fn record(&mut self, trace: &Trace<'_>, now: f64, asked: &str) {
        let what = match trace {
            Trace::Request { resume } => {
                if !resume {
                    self.start = now;
                    self.asked = asked.to_string();
                }
                Happened::Request { resume: *resume }
            }
            Trace::Event(ev) => Happened::Event { id: ev.id.clone(), name: ev.event.clone(), data: ev.data.clone() },
            Trace::Broken { error, wait_ms } => Happened::Broken { message: error.message.clone(), wait_ms: *wait_ms },
            _ => return,
        };
        self.rows.push(Row { at: now - self.start, what });
    }

    /// The figures of the last request (a continued answer: of its continuation).
    pub fn stats(&self) -> Stats {
        let from = self.rows.iter().rposition(|r| r.what == Happened::Request { resume: false }).unwrap_or(0);
        let rows = &self.rows[from..];
        let mut s = Stats::default();
        let (mut first, mut last, mut output) = (None, None, None);
        for r in rows {
            match &r.what {
                Happened::Request { resume: true } => s.reconnects += 1,
                Happened::Event { name, data, .. } => {
                    s.events += 1;
                    s.total_ms = Some(r.at);
                    match name.as_str() {
                        "start" => {
                            let d = js::parse(data).unwrap_or(wasm_bindgen::JsValue::NULL);
                            s.request_id = js::get(&d, "request_id").as_string();
                            s.served_by = js::get(&d, "model").as_string();
                            s.provider = js::get(&d, "provider").as_string();
                        }
                        "delta" | "reasoning" | "tool_call" => {
                            first.get_or_insert(r.at);
                            last = Some(r.at);
                        }
                        "usage" => output = js::get(&js::parse(data).unwrap_or_default(), "output_tokens").as_f64(),
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        s.first_token_ms = first;
        s.tokens_per_s = match (first, last, output) {
            (Some(a), Some(b), Some(n)) if b - a >= 1.0 && n > 1.0 => Some((n - 1.0) / ((b - a) / 1000.0)),
            _ => None,
        };
        s.fallback = s.served_by.as_deref().is_some_and(|m| !self.asked.is_empty() && m != self.asked);
        s
    }
}

/// The logs of a conversation's answers, by turn id.
#[derive(Debug, Default)]
pub struct Inspector {
    logs: HashMap<u32, AnswerLog>,
}

impl Inspector {
    /// Records `trace` for turn `id`.
    pub fn record(&mut self, id: u32, trace: &Trace<'_>, now: f64, asked: &str) {
        self.logs.entry(id).or_default().record(trace, now, asked);
    }

    /// Turn `id`'s log, if its stream ran in this tab.
    pub fn log(&self, id: u32) -> Option<&AnswerLog> {
        self.logs.get(&id)
    }
}
