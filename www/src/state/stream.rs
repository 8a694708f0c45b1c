//! Streaming an answer into its turn: from the edge (resuming a broken connection in place), or, in the `byok`
//! build, straight from the provider; and the stream's events applied to the turn.

use wasm_bindgen_futures::spawn_local;
use web_sys::{AbortController, AbortSignal};

use super::{Chat, Job, Live, Status, Trace};
use crate::api::{self, ChatError, Cursor, EdgeEvent, ErrorKind, Failure, Note, UsageInfo};
#[cfg(feature = "byok")]
use crate::byok;

/// Reconnect attempts in a row without a new event before a broken stream is given up.
const MAX_RECONNECTS: u32 = 8;

/// The wait before reconnect attempt `n` (from 1): the stream's `retry` delay, doubling, at most 15 s.
fn backoff(retry_ms: Option<u64>, n: u32) -> u32 {
    let base = retry_ms.unwrap_or(1000).clamp(100, 10_000) as u32;
    (base << (n - 1).min(5)).min(15_000)
}

impl Chat {
    /// Streams `job` into turn `id`.
    pub(super) fn run(&self, id: u32, job: Job) {
        let this = self.clone();
        let controller = AbortController::new().ok();
        let cursor = match &job {
            Job::Resume(c) => Some(c.clone()),
            Job::Ask(..) => None,
        };
        *self.0.live.borrow_mut() = Live { abort: controller.clone(), cursor, ..Live::default() };
        self.update(|s| s.busy = true);
        self.persist();
        spawn_local(async move {
            let Some(controller) = controller else {
                this.finish_with(id, Status::Failed, Some(ChatError::network("AbortController unavailable")));
                this.done(id);
                return;
            };
            let signal = api::signal(&controller);
            #[cfg(feature = "byok")]
            let direct = match &job {
                Job::Ask(false) => this.state().byok.clone().map(|b| {
                    let s = this.state();
                    (b, s.messages(&s.ask(id, false, false)))
                }),
                _ => None,
            };
            #[cfg(not(feature = "byok"))]
            let direct: Option<()> = None;
            let result = match direct {
                #[cfg(feature = "byok")]
                Some((settings, messages)) => {
                    let on_event = |ev| this.apply(id, ev);
                    byok::stream_direct(&settings, &messages, &signal, on_event).await
                }
                _ => this.stream(id, &job, &signal).await,
            };
            this.ended(id, result);
        });
    }

    /// After answer `id`'s stream: ends the turn (a stream that stopped without an end is cut off), lets the view
    /// and the page know, and runs the tools it asked for.
    fn ended(&self, id: u32, result: Result<(), Failure>) {
        match result {
            Ok(()) => {}
            Err(Failure::Aborted) => self.finish_with(id, Status::Stopped, None),
            // Failed; cut off when a continued answer already has text.
            Err(Failure::Error(e)) => {
                let empty = self.state().turns.iter().any(|t| t.id == id && t.text.is_empty());
                self.finish_with(id, if empty { Status::Failed } else { Status::Truncated }, Some(e));
            }
        }
        self.finish_with(id, Status::Truncated, Some(ChatError::truncated()));
        self.done(id);
        self.emit_turn(id);
        self.tool_step(id);
    }

    /// The `POST /api/chat` body for answer `id` (`None`: resume the saved stream), and whether it carries a
    /// summary. Records what it sends, for a `summary` event to count from.
    fn request(&self, id: u32, job: &Job) -> (Option<String>, bool) {
        let Job::Ask(cont) = *job else { return (None, false) };
        let s = self.state();
        let ask = s.ask(id, cont, true);
        let body = s.body(&ask, cont, self.tool_specs());
        drop(s);
        let covers = ask.summary.as_ref().map(|s| s.covers);
        self.0.live.borrow_mut().basis = Some((ask.turns, covers.unwrap_or(0)));
        (Some(body), covers.is_some())
    }

    /// Streams turn `id` from the edge: a new request, or the resumption of the saved stream. A resumable stream
    /// whose connection breaks is resumed in place ("reconnecting", waiting the stream's `retry` delay and backing
    /// off, sooner when the browser comes back online or the page becomes visible) until it ends or can no longer
    /// be resumed. When the edge refuses the summary a request carried (`summary_invalid`: forged, stale, or made
    /// for another user), the summary is dropped and the whole conversation sent once more.
    async fn stream(&self, id: u32, job: &Job, signal: &AbortSignal) -> Result<(), Failure> {
        let ep = &self.0.endpoint;
        let (carry, silence_ms) = {
            let s = self.state();
            // A continued answer's usage covers both parts.
            let carry = s.turns.iter().find(|t| t.id == id).and_then(|t| t.usage);
            let limits = s.config.as_ref().map(|c| &c.limits);
            (carry, limits.map_or_else(|| api::Limits::default().silence_ms(), api::Limits::silence_ms))
        };
        let mut cursor = {
            let mut l = self.0.live.borrow_mut();
            l.edge = true;
            l.cursor.clone().unwrap_or_default()
        };
        let (mut post, mut summarized) = self.request(id, job);
        let mut failures = 0;
        loop {
            let before = cursor.last_event_id;
            self.traced(id, Trace::Request { resume: post.is_none() });
            let opened = api::open_stream(ep, post.take().as_deref(), &cursor, signal).await;
            let broken = match opened {
                Ok(resp) => {
                    let on_raw = |ev: &_| self.traced(id, Trace::Event(ev));
                    let on_event = |ev, c: &Cursor| self.received(id, ev, c, carry);
                    match api::read_events(&resp, &mut cursor, silence_ms, on_raw, on_event).await? {
                        None => return Ok(()),
                        Some(e) => e,
                    }
                }
                Err(Failure::Error(e)) if summarized && e.code == "summary_invalid" => {
                    self.update(|s| s.summary = None);
                    (post, summarized) = self.request(id, job);
                    continue;
                }
                // Refused before the stream started: as before resumable streams.
                Err(Failure::Error(e)) if cursor.stream_id.is_empty() => return Err(Failure::Error(e)),
                // The edge no longer has the stream (404), or refuses the resume: keep the text, offer Continue.
                Err(Failure::Error(e)) if e.kind == ErrorKind::Rejected => {
                    self.apply(id, EdgeEvent::Error(ChatError::expired()));
                    return Ok(());
                }
                Err(Failure::Error(e)) => e,
                Err(Failure::Aborted) => return Err(Failure::Aborted),
            };
            failures = if cursor.last_event_id > before { 1 } else { failures + 1 };
            let Some(wait_ms) = self.broken(id, broken, &cursor, failures) else { return Ok(()) };
            api::pause(wait_ms, signal).await;
            if api::aborted(signal) {
                return Err(Failure::Aborted);
            }
        }
    }

    /// Turn `id`'s connection broke (`failures` times in a row without a new event): the wait before it is resumed,
    /// or `None` when it cannot be (the error then ends the turn).
    fn broken(&self, id: u32, error: ChatError, cursor: &Cursor, failures: u32) -> Option<u32> {
        if cursor.stream_id.is_empty() || failures > MAX_RECONNECTS {
            self.apply(id, EdgeEvent::Error(error));
            return None;
        }
        let wait_ms = backoff(cursor.retry_ms, failures);
        self.traced(id, Trace::Broken { error: &error, wait_ms });
        self.update_turn(id, |t| t.reconnecting = true);
        self.0.live.borrow_mut().cursor = Some(cursor.clone());
        self.persist();
        Some(wait_ms)
    }

    /// One event of the edge's stream for turn `id`, with the stream position after it.
    fn received(&self, id: u32, ev: EdgeEvent, cursor: &Cursor, carry: Option<UsageInfo>) {
        let started = matches!(ev, EdgeEvent::Start(_));
        let ended = matches!(ev, EdgeEvent::Done { .. } | EdgeEvent::Error(_));
        self.apply(
            id,
            match (ev, carry) {
                (EdgeEvent::Usage(u), Some(c)) => EdgeEvent::Usage(c.plus(u)),
                (ev, _) => ev,
            },
        );
        let pending = {
            let mut l = self.0.live.borrow_mut();
            l.cursor = Some(cursor.clone());
            l.stop_pending
        };
        if started && pending {
            self.stop();
        }
        // Saved now and then, text and position together, so a reload resumes where the saved text ends; and as
        // soon as the answer ends (its connection closes a moment later).
        if started || ended || js_sys::Date::now() - self.0.saved_at.get() > 500.0 {
            self.persist();
        }
    }

    fn done(&self, id: u32) {
        *self.0.live.borrow_mut() = Live::default();
        self.update(|s| {
            if let Some(t) = s.turn_mut(id) {
                t.reconnecting = false;
            }
            s.busy = false;
            s.focus_input += 1;
        });
        self.persist();
    }

    /// Ends turn `id` as `status` unless it already ended.
    fn finish_with(&self, id: u32, status: Status, error: Option<ChatError>) {
        self.update_turn(id, |t| {
            if t.status == Status::Streaming {
                t.error = error;
                t.status = status;
            }
        });
    }

    /// Applies one stream event to answer turn `id`.
    pub(super) fn apply(&self, id: u32, ev: EdgeEvent) {
        match ev {
            EdgeEvent::Start(served) => self.update_turn(id, |t| {
                t.served = Some(served);
                t.reconnecting = false;
            }),
            EdgeEvent::Summary(ev) => self.summarized(ev),
            EdgeEvent::Reasoning(text) => self.update_turn(id, |t| {
                t.reasoning.push_str(&text);
                t.reconnecting = false;
            }),
            EdgeEvent::ToolCall(call) => self.update_turn(id, |t| {
                t.tool_calls.push(call);
                t.reconnecting = false;
            }),
            EdgeEvent::Delta(text) => self.update_turn(id, |t| {
                t.text.push_str(&text);
                t.reconnecting = false;
            }),
            EdgeEvent::Usage(u) => {
                self.update_turn(id, |t| {
                    t.usage = Some(u);
                    t.reconnecting = false;
                });
                self.emit_usage(id, u);
            }
            EdgeEvent::Done { stopped, budget: true, .. } => {
                // Cut by the edge, not by the person: say why; Continue picks up after the budget resets.
                let message = Note::Budget.english().into();
                let e = ChatError {
                    retryable: false,
                    ..ChatError::from_edge("budget_exceeded", message, None, None, false)
                };
                self.finish_with(id, if stopped { Status::Stopped } else { Status::Truncated }, Some(e));
            }
            EdgeEvent::Done { stopped, stop_reason, .. } => {
                if stopped {
                    self.finish_with(id, Status::Stopped, None);
                } else if stop_reason.as_deref() == Some("max_tokens") {
                    let e = ChatError { retryable: false, ..ChatError::noted(Note::TokenLimit) };
                    self.finish_with(id, Status::Truncated, Some(e));
                } else {
                    self.finish_with(id, Status::Done, None);
                }
            }
            EdgeEvent::Error(e) => {
                let has_text = self.state().turns.iter().any(|t| t.id == id && !t.text.is_empty());
                let status =
                    if e.kind == ErrorKind::Truncated || has_text { Status::Truncated } else { Status::Failed };
                self.finish_with(id, status, Some(e));
            }
        }
    }
}
