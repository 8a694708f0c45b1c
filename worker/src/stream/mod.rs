//! One upstream stream as a pure state machine: every route's stream (`/api/chat` stateless, the resumable
//! stream object, the SDK routes' pass-through and translation) is decided here, and the runtime only moves
//! bytes and time in and out (`rt/pump.rs`).
//!
//! # Calling order
//! Make a [`StreamMachine`] once the upstream answered 2xx. Then, until [`StreamMachine::is_ended`]:
//! 1. hand out what it produced: [`take_bytes`](StreamMachine::take_bytes) (one write to the client) and, with
//!    [`Framing::Frames`], [`take_frames`](StreamMachine::take_frames) (events for a resumable log);
//! 2. wait for the upstream until [`poll_timeout`](StreamMachine::poll_timeout) and feed what happened:
//!    [`on_upstream`](StreamMachine::on_upstream) (bytes), [`on_upstream_end`](StreamMachine::on_upstream_end),
//!    [`on_upstream_error`](StreamMachine::on_upstream_error) (the body failed, e.g. a reset),
//!    [`on_timeout`](StreamMachine::on_timeout) (the deadline passed), [`on_client_gone`](StreamMachine::on_client_gone)
//!    (the client left, or took nothing of a write in time), [`on_stop`](StreamMachine::on_stop) (a stop request).
//!
//! Once ended, take the last bytes, write them, report a failed final write with `on_client_gone`, and call
//! [`into_ending`](StreamMachine::into_ending): the outcome, the usage and cost to bill, and what to do with the
//! upstream body ([`UpstreamEnd`]). Times are milliseconds on any clock that only moves forward.
//!
//! This is the shape of quinn-proto's `Connection` and rustls's unbuffered API: events in, transmits and a
//! deadline out, no IO, so every ending is tested natively (`tests.rs`).

mod output;
#[cfg(test)]
mod tests;

use edgechat::cost::ModelPrice;
use edgechat::protocol::{Done, ErrorReport, Frame, Start, UsageReport, WidgetEvent};
use edgechat::provider::{ProviderKind, StreamDecoder};
use edgechat::{StreamError, StreamEvent, Usage};

pub use self::output::{Encoder, Output};
use crate::cache::CachedAnswer;
use crate::error::scrub;
use crate::meter::Meter;

/// How widget events leave the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// SSE bytes for one client ([`StreamMachine::take_bytes`]).
    Sse,
    /// Numbered frames for a resumable stream's log ([`StreamMachine::take_frames`]); each client's relay sends
    /// its own keep-alives, so the machine sends none.
    Frames,
}

/// What a stream may do before it is cut.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Budget {
    /// USD this request may still spend (the caller's daily budget left).
    pub usd: Option<f64>,
    /// Tokens (input and output) this request may still use.
    pub tokens: Option<u64>,
}

/// The stream's limits and accounting inputs.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Silence from the upstream after which the stream fails as `stalled`, ms.
    pub stall_ms: u32,
    /// Time from the start within which a token must come, or the stream fails as `first_token_timeout`, ms
    /// (`None`: no such limit; the stall limit always applies).
    pub first_token_ms: Option<u32>,
    /// Idle time after which the client gets a `: ping` comment, ms (`None`: no pings).
    pub keepalive_ms: Option<u32>,
    /// The request's estimated prompt tokens (billed when the provider reports none).
    pub prompt_tokens: u64,
    /// The model's price (`None`: cost unknown).
    pub price: Option<ModelPrice>,
    /// Live budget: the stream ends early (`done`, `reason: "budget"`) when its usage so far exceeds it.
    pub budget: Budget,
    /// Keep the answer for the response cache ([`Ending::answer`]).
    pub keep_answer: bool,
    /// Secrets scrubbed from the provider's error messages before they reach the client.
    pub secrets: Vec<String>,
}

impl Settings {
    /// The settings for a stream of `model` from the edge's configuration (limits and prices).
    pub fn from_config(config: &crate::config::Config, model: &str, prompt_tokens: u64, secrets: &[String]) -> Self {
        let l = &config.limits;
        Self {
            stall_ms: l.stall_timeout_ms,
            first_token_ms: Some(l.first_token_timeout_ms),
            keepalive_ms: Some(l.keepalive_ms),
            prompt_tokens,
            price: config.pricing.get(model).copied(),
            budget: Budget::default(),
            keep_answer: false,
            secrets: secrets.to_vec(),
        }
    }
}

/// How a stream ended, for the log line and the usage store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The provider's terminal event arrived.
    Complete,
    /// A stop request ended it (`done` with `stopped: true`).
    Stopped,
    /// The live budget ran out (`done` with `stopped: true, reason: "budget"`).
    Budget,
    /// The client went away.
    Aborted,
    /// The upstream ended, failed or stalled without its terminal event.
    Truncated,
    /// An error ended the stream (a provider error mid-stream, a malformed event, a first-token timeout).
    Error,
}

impl Outcome {
    /// Log name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Complete => "complete",
            Self::Stopped => "stopped",
            Self::Budget => "budget",
            Self::Aborted => "aborted",
            Self::Truncated => "truncated",
            Self::Error => "error",
        }
    }
}

/// What to do with the upstream body once the stream has ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum UpstreamEnd {
    /// The answer is complete: read the body to its end (after closing the client's stream) so the runtime can
    /// reuse the connection.
    Drain,
    /// Cancel the body and abort the request: the provider stops generating (and billing).
    Cancel,
}

/// The end of a stream.
#[derive(Debug, Clone)]
pub struct Ending {
    /// How it ended.
    pub outcome: Outcome,
    /// Usage to bill.
    pub usage: Usage,
    /// Some of it is estimated.
    pub estimated: bool,
    /// Cost in USD (`None`: price unknown).
    pub cost_usd: Option<f64>,
    /// The failure, for `Truncated` and `Error` (and an `Aborted` stream whose failure never reached the client).
    pub error: Option<ErrorReport>,
    /// What to do with the upstream body.
    pub upstream: UpstreamEnd,
    /// The complete answer, when [`Settings::keep_answer`] asked for it and the stream completed.
    pub answer: Option<CachedAnswer>,
}

/// One upstream stream (see the [module docs](self) for the calling order).
pub struct StreamMachine {
    decoder: StreamDecoder,
    meter: Meter,
    output: Output,
    settings: Settings,
    answer: Option<CachedAnswer>,
    bytes: Vec<u8>,
    frames: Vec<Frame>,
    next_id: u64,
    /// When the upstream's silence ends the stream (`stalled`).
    stall_at: u64,
    /// When the stream fails if no token has come yet (`first_token_timeout`); `None` once one has.
    first_token_at: Option<u64>,
    /// When the client gets the next keep-alive.
    ping_at: Option<u64>,
    /// A decode failure seen in pass-through mode: metering stopped, the bytes still flow to the end.
    failed: Option<ErrorReport>,
    ended: Option<(Outcome, Option<ErrorReport>)>,
    client_gone: bool,
}

impl StreamMachine {
    /// A stream from `provider`'s upstream, shown to the client as `output`, starting at `now`.
    pub fn new(provider: ProviderKind, output: Output, settings: Settings, now: u64) -> Self {
        let answer = settings.keep_answer.then(|| CachedAnswer::new(provider.as_str(), ""));
        let mut m = Self {
            decoder: StreamDecoder::new(provider),
            meter: Meter::default(),
            output,
            answer,
            bytes: Vec::new(),
            frames: Vec::new(),
            next_id: 0,
            stall_at: 0,
            first_token_at: None,
            ping_at: None,
            failed: None,
            ended: None,
            client_gone: false,
            settings,
        };
        m.stall_at = now + u64::from(m.settings.stall_ms);
        m.first_token_at = m.settings.first_token_ms.map(|t| now + u64::from(t));
        m.ping_at = m.settings.keepalive_ms.map(|k| now + u64::from(k.max(1)));
        if let Output::Widget { start, summary, .. } = &m.output {
            let (start, summary) = (WidgetEvent::Start(start.clone()), summary.clone().map(WidgetEvent::Summary));
            m.emit(start);
            if let Some(s) = summary {
                m.emit(s);
            }
        }
        m
    }

    /// Records the model id on the kept answer (the cache stores it).
    pub fn set_model(&mut self, model: &str) {
        if let Some(a) = &mut self.answer {
            a.model = model.to_string();
        }
    }

    /// Bytes from the upstream body.
    pub fn on_upstream(&mut self, bytes: &[u8], now: u64) {
        if self.ended.is_some() {
            return;
        }
        if let Output::Passthrough { forward: true, .. } = self.output {
            self.bytes.extend_from_slice(bytes);
        }
        if self.failed.is_none() {
            self.decoder.feed(bytes);
            self.drain();
        }
        if self.meter.generated() {
            self.first_token_at = None;
        }
        self.stall_at = now + u64::from(self.settings.stall_ms);
        self.ping_at = self.settings.keepalive_ms.map(|k| now + u64::from(k.max(1)));
    }

    /// The upstream body ended.
    pub fn on_upstream_end(&mut self, _now: u64) {
        if self.ended.is_some() {
            return;
        }
        if self.failed.is_none() {
            self.decoder.finish();
            self.drain();
        }
        if self.ended.is_none() {
            let e = self.failed.take().unwrap_or_else(|| error_report(&StreamError::Truncated, &[]));
            self.fail(e);
        }
    }

    /// The upstream body failed (a reset connection, an aborted read): the same as an early end — what was
    /// decoded stays, and a stream without its terminal event is truncated.
    pub fn on_upstream_error(&mut self, _message: &str, now: u64) {
        self.on_upstream_end(now);
    }

    /// The deadline of [`poll_timeout`](Self::poll_timeout) passed (a timer may fire early: nothing happens then).
    pub fn on_timeout(&mut self, now: u64) {
        if self.ended.is_some() {
            return;
        }
        if self.first_token_at.is_some_and(|at| now >= at && at <= self.stall_at) {
            self.fail(first_token_timeout(self.settings.first_token_ms.unwrap_or_default()));
        } else if now >= self.stall_at {
            self.fail(stalled(self.settings.stall_ms));
        } else if self.ping_at.is_some_and(|at| now >= at) {
            self.bytes.extend_from_slice(b": ping\n\n");
            self.ping_at = self.settings.keepalive_ms.map(|k| now + u64::from(k.max(1)));
        }
    }

    /// The client went away (its connection closed, or it took nothing of a write in time). Nothing more is sent;
    /// the upstream is cancelled. After the end, it says the final write was not delivered: a failure the client
    /// never saw counts as `Aborted`.
    pub fn on_client_gone(&mut self) {
        self.client_gone = true;
        match &mut self.ended {
            None => {
                self.bytes.clear();
                self.frames.clear();
                self.ended = Some((Outcome::Aborted, None));
            }
            Some((o @ (Outcome::Truncated | Outcome::Error), _)) => *o = Outcome::Aborted,
            Some(_) => {}
        }
    }

    /// A stop request: the answer ends now with `done` (`stopped: true`); the upstream is cancelled.
    pub fn on_stop(&mut self) {
        if self.ended.is_none() {
            self.end_early(Outcome::Stopped);
        }
    }

    /// When to call [`on_timeout`](Self::on_timeout) if nothing else happens first; `None` once ended.
    pub fn poll_timeout(&self) -> Option<u64> {
        if self.ended.is_some() {
            return None;
        }
        let fail_at = self.first_token_at.map_or(self.stall_at, |t| t.min(self.stall_at));
        Some(self.ping_at.map_or(fail_at, |p| p.min(fail_at)))
    }

    /// When a client that has not taken the last write counts as gone (report it with
    /// [`on_client_gone`](Self::on_client_gone)): [`WRITE_GIVE_UP_MS`] after `now`, or the stall limit if shorter.
    pub fn write_give_up_at(&self, now: u64) -> u64 {
        now + u64::from(self.settings.stall_ms.min(WRITE_GIVE_UP_MS))
    }

    /// Bytes to write to the client now, in one write.
    pub fn take_bytes(&mut self) -> Option<Vec<u8>> {
        (!self.bytes.is_empty()).then(|| std::mem::take(&mut self.bytes))
    }

    /// Frames for the stream log ([`Framing::Frames`]).
    pub fn take_frames(&mut self) -> Vec<Frame> {
        std::mem::take(&mut self.frames)
    }

    /// Whether the stream has ended (take the last output, then [`into_ending`](Self::into_ending)).
    pub fn is_ended(&self) -> bool {
        self.ended.is_some()
    }

    /// Whether the answer produced anything visible so far.
    pub fn generated(&self) -> bool {
        self.meter.generated()
    }

    /// The end of the stream. Call once [`is_ended`](Self::is_ended); before that, the stream counts as aborted.
    pub fn into_ending(self) -> Ending {
        let (outcome, error) = self.ended.clone().unwrap_or((Outcome::Aborted, None));
        let (usage, estimated, cost_usd) = self.usage();
        let complete = outcome == Outcome::Complete;
        Ending {
            outcome,
            usage,
            estimated,
            cost_usd,
            error,
            upstream: if complete { UpstreamEnd::Drain } else { UpstreamEnd::Cancel },
            answer: self.answer.filter(|a| complete && a.complete),
        }
    }

    fn usage(&self) -> (Usage, bool, Option<f64>) {
        let (usage, estimated) = self.meter.settle(self.settings.prompt_tokens);
        let cost = self.settings.price.map(|p| round_usd(p.cost(&usage)));
        (usage, estimated, cost)
    }

    fn emit(&mut self, event: WidgetEvent) {
        self.next_id += 1;
        let frame = Frame { id: self.next_id, event };
        match &self.output {
            Output::Widget { framing: Framing::Frames, .. } => self.frames.push(frame),
            _ => self.bytes.extend_from_slice(frame.encode().as_bytes()),
        }
    }

    /// Normalized upstream events that did not come through the decoder (a cached answer replayed); the same
    /// path as decoded ones.
    pub fn on_events(&mut self, events: impl IntoIterator<Item = StreamEvent>) {
        for ev in events {
            if self.ended.is_some() {
                return;
            }
            self.handle(ev);
        }
        if self.ended.is_none() && self.over_budget() {
            self.end_early(Outcome::Budget);
        }
    }

    /// Decodes what the decoder holds, and ends the stream on the terminal event, a failure or the budget.
    fn drain(&mut self) {
        while let Some(item) = self.decoder.next_event() {
            match item {
                Ok(ev) => self.handle(ev),
                Err(e) => {
                    let e = error_report(&e, &self.settings.secrets);
                    match self.output {
                        // The provider's bytes (its own error event included) already went to the client.
                        Output::Passthrough { .. } => self.failed = Some(e),
                        _ => self.fail(e),
                    }
                }
            }
            if self.ended.is_some() || self.failed.is_some() {
                return;
            }
        }
        if self.over_budget() {
            self.end_early(Outcome::Budget);
        }
    }

    fn handle(&mut self, ev: StreamEvent) {
        self.meter.push(&ev);
        if let Some(a) = &mut self.answer {
            a.push(&ev);
        }
        match &mut self.output {
            Output::Widget { .. } => {
                if let Some(we) = widget_event(ev) {
                    self.emit(we);
                }
            }
            Output::Translate(enc) if !matches!(ev, StreamEvent::Done) => {
                let s = enc.push(&ev);
                self.bytes.extend_from_slice(s.as_bytes());
            }
            _ => {}
        }
        if self.meter.is_done() {
            self.complete();
        }
    }

    fn over_budget(&self) -> bool {
        let b = self.settings.budget;
        if b.usd.is_none() && b.tokens.is_none() {
            return false;
        }
        let (usage, _, cost) = self.usage();
        b.tokens.is_some_and(|t| usage.total_input_tokens() + usage.output_tokens > t)
            || matches!((b.usd, cost), (Some(max), Some(c)) if c > max)
    }

    fn complete(&mut self) {
        let (usage, estimated, cost_usd) = self.usage();
        match &mut self.output {
            Output::Widget { .. } => {
                self.emit(WidgetEvent::Usage(UsageReport { usage, cost_usd, estimated }));
                let stop = self.meter.stop().cloned();
                self.emit(WidgetEvent::Done(Done {
                    stop_reason: Some(stop.as_ref().map_or(edgechat::StopReason::EndTurn, |s| s.0)),
                    raw_stop_reason: stop.map(|s| s.1),
                    stopped: false,
                    reason: None,
                }));
            }
            Output::Translate(enc) => {
                let s = enc.finish(&usage);
                self.bytes.extend_from_slice(s.as_bytes());
            }
            Output::Passthrough { .. } => {}
        }
        self.ended = Some((Outcome::Complete, None));
    }

    /// A stop or the budget: the answer so far is whole, with `done` (`stopped: true`).
    fn end_early(&mut self, outcome: Outcome) {
        let (usage, estimated, cost_usd) = self.usage();
        let budget = outcome == Outcome::Budget;
        match &mut self.output {
            Output::Widget { .. } => {
                self.emit(WidgetEvent::Usage(UsageReport { usage, cost_usd, estimated }));
                let stop = self.meter.stop().cloned();
                self.emit(WidgetEvent::Done(Done {
                    stop_reason: stop.as_ref().map(|s| s.0),
                    raw_stop_reason: stop.map(|s| s.1),
                    stopped: true,
                    reason: budget.then(|| "budget".to_string()),
                }));
            }
            Output::Translate(enc) => {
                let s = if budget { enc.error("budget_exceeded", BUDGET_MESSAGE) } else { enc.finish(&usage) };
                self.bytes.extend_from_slice(s.as_bytes());
            }
            Output::Passthrough { format, .. } => {
                let s = output::error_frame(*format, "budget_exceeded", BUDGET_MESSAGE);
                self.bytes.extend_from_slice(s.as_bytes());
            }
        }
        self.ended = Some((outcome, None));
    }

    /// A failure: the client is told in its format, after the usage so far.
    fn fail(&mut self, e: ErrorReport) {
        let (usage, estimated, cost_usd) = self.usage();
        match &mut self.output {
            Output::Widget { .. } => {
                self.emit(WidgetEvent::Usage(UsageReport { usage, cost_usd, estimated }));
                self.emit(WidgetEvent::Error(e.clone()));
            }
            Output::Translate(enc) => {
                let s = enc.error(&e.kind, &e.message);
                self.bytes.extend_from_slice(s.as_bytes());
            }
            // A provider's own error already passed through; the edge's own findings get a frame.
            Output::Passthrough { format, .. }
                if e.kind == "truncated" || e.kind == "stalled" || e.kind == "first_token_timeout" =>
            {
                let s = output::error_frame(*format, &e.kind, &e.message);
                self.bytes.extend_from_slice(s.as_bytes());
            }
            Output::Passthrough { .. } => {}
        }
        let outcome = if e.truncated { Outcome::Truncated } else { Outcome::Error };
        self.ended = Some((if self.client_gone { Outcome::Aborted } else { outcome }, Some(e)));
    }
}

/// How long a client may leave a write untaken before it counts as gone. Stream events are small, so a live
/// client's connection (the runtime's and the kernel's buffers) takes every write at once; a write still pending
/// after this long means the runtime stopped draining a client that closed — and waiting longer only keeps the
/// upstream generating (and billing) for nobody.
pub const WRITE_GIVE_UP_MS: u32 = 1_500;

const BUDGET_MESSAGE: &str = "the budget for this client ran out during the answer; it is cut here";

/// The widget event an upstream event becomes, if any.
fn widget_event(ev: StreamEvent) -> Option<WidgetEvent> {
    match ev {
        StreamEvent::TextDelta { text } | StreamEvent::Refusal { text } if !text.is_empty() => {
            Some(WidgetEvent::Delta { text })
        }
        StreamEvent::ReasoningDelta { text } if !text.is_empty() => Some(WidgetEvent::Reasoning { text }),
        StreamEvent::ToolCall { call } => Some(WidgetEvent::ToolCall(call)),
        _ => None,
    }
}

/// The `start` event's data for a stream.
pub fn start(request_id: &str, stream_id: &str, alias: &str, provider: ProviderKind, resumable: bool) -> Start {
    Start {
        request_id: request_id.into(),
        stream_id: stream_id.into(),
        model: alias.into(),
        provider: provider.as_str().into(),
        resumable,
        trimmed: 0,
        task: None,
    }
}

/// A stream failure as the client is told it, with `secrets` (and echoed key fragments) scrubbed from the
/// provider's message.
pub fn error_report(e: &StreamError, secrets: &[String]) -> ErrorReport {
    let (retryable, retry_after_ms, message) = match e {
        StreamError::Provider(p) => (p.is_retryable(), p.retry_after_ms, scrub(&p.message, secrets)),
        StreamError::Truncated => (true, None, "the upstream stream ended before the answer was complete".into()),
        other => (false, None, scrub(&other.to_string(), secrets)),
    };
    ErrorReport {
        kind: e.type_name().into(),
        message,
        retryable,
        truncated: matches!(e, StreamError::Truncated),
        retry_after_ms,
    }
}

/// The upstream sent nothing for `ms` after the answer began.
pub fn stalled(ms: u32) -> ErrorReport {
    ErrorReport {
        kind: "stalled".into(),
        message: format!("the upstream sent nothing for {ms} ms"),
        retryable: true,
        truncated: true,
        retry_after_ms: None,
    }
}

/// No token arrived within `ms` of the start.
pub fn first_token_timeout(ms: u32) -> ErrorReport {
    ErrorReport {
        kind: "first_token_timeout".into(),
        message: format!("no token from the provider within {ms} ms"),
        retryable: true,
        truncated: false,
        retry_after_ms: None,
    }
}

/// A USD amount rounded to nano-dollars (so logs and events show `0.00001515`, not float noise).
pub fn round_usd(usd: f64) -> f64 {
    (usd * 1e9).round() / 1e9
}
