//! The conversation model: turns held in signals, persistence to `localStorage`, and the chat actions (send, stop,
//! regenerate, edit, retry, continue, clear) that drive the stream. On an edge with resumable streams a broken
//! connection is resumed in place (also after a page reload) and Stop asks the edge to stop by the stream's id.

use edgechat::conversation::{Message, Role};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsValue;
use web_sys::{AbortController, AbortSignal};

use crate::api::{self, ChatError, Config, Cursor, EdgeEvent, Endpoint, ErrorKind, Failure, UsageInfo};
#[cfg(feature = "byok")]
use crate::byok::{self, ByokSettings};
use crate::json::{self, Obj};

/// How an assistant turn ended (or that it is still streaming).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Complete.
    Done,
    /// Still arriving.
    Streaming,
    /// The user stopped it; the text so far is kept.
    Stopped,
    /// Cut off (connection lost or token limit); the text so far is kept.
    Truncated,
    /// Failed; see the error.
    Failed,
}

impl Status {
    /// Stable name (also the `data-status` attribute the UI sets).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Streaming => "streaming",
            Self::Stopped => "stopped",
            Self::Truncated => "truncated",
            Self::Failed => "failed",
        }
    }

    fn from_name(s: &str) -> Self {
        match s {
            "done" => Self::Done,
            "stopped" => Self::Stopped,
            "failed" => Self::Failed,
            // A turn saved mid-stream (page closed) is reloaded as cut off.
            _ => Self::Truncated,
        }
    }
}

/// One turn on screen: each part is its own signal so a streamed token touches only what shows it.
#[derive(Debug, Clone, Copy)]
pub struct Turn {
    /// Stable id for keyed rendering.
    pub id: u32,
    /// Who said it.
    pub role: Role,
    /// Text so far.
    pub text: RwSignal<String>,
    /// How it ended.
    pub status: RwSignal<Status>,
    /// The error, when it failed or was cut off.
    pub error: RwSignal<Option<ChatError>>,
    /// Usage and cost.
    pub usage: RwSignal<Option<UsageInfo>>,
    /// The connection broke and the widget is resuming the stream (the text so far stays).
    pub reconnecting: RwSignal<bool>,
}

impl Turn {
    /// Saved form; `stream` is where a streaming answer's resumable stream stands.
    fn to_json(self, stream: Option<&Cursor>) -> JsValue {
        let role = if self.role == Role::User { "user" } else { "assistant" };
        let status = self.status.get_untracked();
        let resumable = stream.filter(|c| status == Status::Streaming && !c.stream_id.is_empty());
        Obj::new()
            .set("role", role)
            .set("text", self.text.get_untracked())
            .set("status", status.as_str())
            .opt("error", self.error.get_untracked().map(|e| e.to_json()))
            .opt("usage", self.usage.get_untracked().map(|u| u.to_json()))
            .opt("stream", resumable.map(|c| c.to_json()))
            .build()
    }

    /// A cut-off or stopped answer with text: the edge can carry it on (`"continue": true`).
    pub fn can_continue(&self) -> bool {
        self.role == Role::Assistant
            && matches!(self.status.get(), Status::Truncated | Status::Stopped)
            && !self.text.with(String::is_empty)
    }
}

/// What an answer's stream starts with.
enum Job {
    /// A new request with this history; `true` continues the partial answer the history ends with.
    Ask(Vec<Message>, bool),
    /// The resumption of a saved stream (after a page reload).
    Resume(Cursor),
}

/// The answer in progress.
#[derive(Default)]
struct Live {
    /// Aborts its fetch.
    abort: Option<AbortController>,
    /// It streams from the edge (not directly from a provider).
    edge: bool,
    /// Where its stream stands: `None` until its first event (or the saved position, when resuming).
    cursor: Option<Cursor>,
    /// Stop was asked before a resumable stream's id was known: stop it by id once its `start` arrives.
    stop_pending: bool,
}

/// Reconnect attempts in a row without a new event before a broken stream is given up.
const MAX_RECONNECTS: u32 = 8;

/// The wait before reconnect attempt `n` (from 1): the stream's `retry` delay, doubling, at most 15 s.
fn backoff(retry_ms: Option<u64>, n: u32) -> u32 {
    let base = retry_ms.unwrap_or(1000).clamp(100, 10_000) as u32;
    (base << (n - 1).min(5)).min(15_000)
}

/// The widget's state and actions; `Copy`, shared through context.
#[derive(Clone, Copy)]
pub struct Chat {
    /// Turns, oldest first.
    pub turns: RwSignal<Vec<Turn>>,
    /// An answer is streaming.
    pub busy: RwSignal<bool>,
    /// `GET /api/config`, once loaded.
    pub config: RwSignal<Option<Config>>,
    /// Why the config could not be loaded.
    pub config_error: RwSignal<Option<ChatError>>,
    /// Selected model alias.
    pub model: RwSignal<String>,
    /// The input box (persisted on every change).
    pub draft: RwSignal<String>,
    /// Bring-your-own-key settings, when enabled.
    #[cfg(feature = "byok")]
    pub byok: RwSignal<Option<ByokSettings>>,
    /// Incremented to ask the view to focus the input.
    pub focus_input: RwSignal<u32>,
    endpoint: StoredValue<Endpoint>,
    /// The widget's root owner: turns are created under it, not under the view that asked (a Retry button's view
    /// is disposed when its turn is removed, and signals created under it would die with it).
    owner: StoredValue<Owner, LocalStorage>,
    live: StoredValue<Live, LocalStorage>,
    /// When the conversation was last saved (`Date.now()`), to save a streaming answer now and then.
    saved_at: StoredValue<f64>,
    next_id: StoredValue<u32>,
}

fn local() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

impl Chat {
    /// A chat against `endpoint`, restoring the saved conversation and draft.
    pub fn new(endpoint: Endpoint) -> Self {
        let chat = Self {
            turns: RwSignal::new(Vec::new()),
            busy: RwSignal::new(false),
            config: RwSignal::new(None),
            config_error: RwSignal::new(None),
            model: RwSignal::new(String::new()),
            draft: RwSignal::new(String::new()),
            #[cfg(feature = "byok")]
            byok: RwSignal::new(ByokSettings::load()),
            focus_input: RwSignal::new(0),
            endpoint: StoredValue::new(endpoint),
            owner: StoredValue::new_local(Owner::current().unwrap_or_default()),
            live: StoredValue::new_local(Live::default()),
            saved_at: StoredValue::new(0.0),
            next_id: StoredValue::new(0),
        };
        chat.restore();
        chat
    }

    fn key(&self, what: &str) -> String {
        self.endpoint.with_value(|e| format!("edgechat:v1:{}:{}:{what}", e.base, e.site_key.as_deref().unwrap_or("")))
    }

    fn restore(&self) {
        let Some(st) = local() else { return };
        let saved = st.get_item(&self.key("chat")).ok().flatten().and_then(|s| json::parse(&s)).filter(JsValue::is_object);
        let mut resume = None;
        if let Some(saved) = saved {
            for t in json::array(&saved, "turns") {
                let role = match json::string(&t, "role").as_deref() {
                    Some("user") => Role::User,
                    Some("assistant") => Role::Assistant,
                    _ => continue,
                };
                let status = json::string(&t, "status").unwrap_or_default();
                // An answer saved mid-stream with a resumable stream id is resumed below; others are cut off.
                let cursor = Cursor::from_json(&json::get(&t, "stream")).filter(|_| status == "streaming");
                let status = if cursor.is_some() { Status::Streaming } else { Status::from_name(&status) };
                let turn = self.push_turn(role, json::string(&t, "text").unwrap_or_default(), status);
                resume = cursor.map(|c| (turn, c));
                turn.error.set(ChatError::from_json(&json::get(&t, "error")));
                let usage = json::get(&t, "usage");
                turn.usage.set(usage.is_object().then(|| UsageInfo::from_json(&usage)));
            }
            self.model.set(json::string(&saved, "model").unwrap_or_default());
        }
        // Only the last turn can still be streaming; any other saved as streaming is cut off.
        let last = self.turns.with_untracked(|ts| ts.last().map(|t| t.id));
        match resume {
            Some((t, c)) if Some(t.id) == last => self.run(t, Job::Resume(c)),
            Some((t, _)) => t.status.set(Status::Truncated),
            None => {}
        }
        if let Some(d) = st.get_item(&self.key("draft")).ok().flatten() {
            self.draft.set(d);
        }
    }

    /// Writes the conversation to `localStorage`.
    pub fn persist(&self) {
        let turns = js_sys::Array::new();
        let stream = self.live.with_value(|l| l.cursor.clone());
        self.turns.with_untracked(|ts| ts.iter().enumerate().for_each(|(i, t)| {
            turns.push(&t.to_json(stream.as_ref().filter(|_| i + 1 == ts.len())));
        }));
        let saved = Obj::new().set("turns", turns).set("model", self.model.get_untracked()).build();
        if let Some(st) = local() {
            let _ = st.set_item(&self.key("chat"), &json::stringify(&saved));
        }
        self.saved_at.set_value(js_sys::Date::now());
    }

    /// Sets the draft and saves it.
    pub fn set_draft(&self, text: String) {
        if let Some(st) = local() {
            let _ = st.set_item(&self.key("draft"), &text);
        }
        self.draft.set(text);
    }

    fn fresh_id(&self) -> u32 {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        id
    }

    fn push_turn(&self, role: Role, text: String, status: Status) -> Turn {
        let id = self.fresh_id();
        let owner = self.owner.get_value();
        let t = owner.with(|| Turn {
            id,
            role,
            text: RwSignal::new(text),
            status: RwSignal::new(status),
            error: RwSignal::new(None),
            usage: RwSignal::new(None),
            reconnecting: RwSignal::new(false),
        });
        self.turns.update(|ts| ts.push(t));
        t
    }

    /// Loads `GET /api/config` and picks the default model if none is selected.
    pub fn load_config(&self) {
        let this = *self;
        spawn_local(async move {
            let ep = this.endpoint.get_value();
            match api::fetch_config(&ep).await {
                Ok(cfg) => {
                    let known = cfg.models.iter().any(|m| m.alias == this.model.get_untracked());
                    if !known {
                        this.model.set(cfg.default_model.clone());
                    }
                    this.config_error.set(None);
                    this.config.set(Some(cfg));
                }
                Err(e) => this.config_error.set(Some(e)),
            }
        });
    }

    /// Sends the draft as a new user turn. Returns an error message when it cannot be sent (too long, busy).
    pub fn send_draft(&self) -> Result<(), String> {
        let text = self.draft.get_untracked();
        if text.trim().is_empty() || self.busy.get_untracked() {
            return Ok(());
        }
        let max = self.config.with_untracked(|c| c.as_ref().and_then(|c| c.limits.max_message_chars));
        if let Some(max) = max.filter(|&m| text.chars().count() > m) {
            return Err(format!("Your message is longer than the {max} characters allowed."));
        }
        self.push_turn(Role::User, text, Status::Done);
        self.set_draft(String::new());
        self.answer();
        Ok(())
    }

    /// Stops the streaming answer (before or after its first token). A resumable stream is stopped by id (closing
    /// the connection would not stop it), then the fetch is aborted; otherwise the fetch is aborted at once.
    pub fn stop(&self) {
        let (ctl, edge, cursor, pending) = self.live.with_value(|l| (l.abort.clone(), l.edge, l.cursor.clone(), l.stop_pending));
        let Some(ctl) = ctl else { return };
        let resumable = self.config.with_untracked(|c| c.as_ref().is_some_and(|c| c.resumable));
        match cursor {
            // Not started yet: the stream's id comes with `start` (a second Stop aborts at once).
            None if edge && resumable && !pending => self.live.update_value(|l| l.stop_pending = true),
            Some(c) if !c.stream_id.is_empty() => {
                let ep = self.endpoint.get_value();
                spawn_local(async move {
                    // The edge answers once the stream has ended; its final `usage` and `done` (stopped) may still
                    // be on their way on the stream's own connection, so give them a moment before aborting. If
                    // the stop request fails (offline), aborting at once still ends the turn as stopped here.
                    if api::stop_stream(&ep, &c.stream_id).await.is_ok() {
                        api::pause(3000, &ctl.signal()).await;
                    }
                    ctl.abort();
                });
            }
            _ => ctl.abort(),
        }
    }

    /// Drops the last answer and asks again (regenerate, and retry after an error).
    pub fn regenerate(&self) {
        if self.busy.get_untracked() {
            return;
        }
        let last_is_answer = self.turns.with_untracked(|ts| ts.last().is_some_and(|t| t.role == Role::Assistant));
        if last_is_answer {
            self.turns.update(|ts| {
                ts.pop();
            });
        }
        if self.turns.with_untracked(|ts| ts.last().is_some_and(|t| t.role == Role::User)) {
            self.answer();
        }
    }

    /// Moves the last user message back into the input for editing, dropping it and its answer.
    pub fn edit_last(&self) {
        if self.busy.get_untracked() {
            return;
        }
        let mut text = None;
        self.turns.update(|ts| {
            if let Some(i) = ts.iter().rposition(|t| t.role == Role::User) {
                text = Some(ts[i].text.get_untracked());
                ts.truncate(i);
            }
        });
        if let Some(t) = text {
            let draft = self.draft.get_untracked();
            // Never lose what was typed: an unsent draft is kept below the edited message.
            let merged = if draft.trim().is_empty() { t } else { format!("{t}\n\n{draft}") };
            self.set_draft(merged);
            self.persist();
            self.focus_input.update(|n| *n += 1);
        }
    }

    /// Carries on the last answer from where it was cut off (token limit, failure, stop): the edge streams only
    /// the continuation, which is appended to the same turn.
    pub fn continue_last(&self) {
        let last = self.turns.with_untracked(|ts| ts.last().copied());
        let Some(turn) = last.filter(|t| !self.busy.get_untracked() && t.can_continue()) else { return };
        let messages = self.history();
        turn.error.set(None);
        turn.status.set(Status::Streaming);
        self.run(turn, Job::Ask(messages, true));
    }

    /// Starts a new, empty conversation.
    pub fn new_conversation(&self) {
        self.stop();
        self.turns.set(Vec::new());
        self.persist();
        self.focus_input.update(|n| *n += 1);
    }

    /// Removes everything this widget stored: conversation, draft and any key.
    pub fn clear_all(&self) {
        self.stop();
        self.turns.set(Vec::new());
        self.draft.set(String::new());
        if let Some(st) = local() {
            let _ = st.remove_item(&self.key("chat"));
            let _ = st.remove_item(&self.key("draft"));
        }
        #[cfg(feature = "byok")]
        {
            ByokSettings::clear();
            self.byok.set(None);
        }
        self.focus_input.update(|n| *n += 1);
    }

    /// The history to send: every turn except failed empty answers; cut-off answers are marked interrupted.
    fn history(&self) -> Vec<Message> {
        self.turns.with_untracked(|ts| {
            ts.iter()
                .filter_map(|t| {
                    let text = t.text.get_untracked();
                    let status = t.status.get_untracked();
                    if t.role == Role::Assistant && (text.is_empty() || status == Status::Streaming) {
                        return None;
                    }
                    let mut m = if t.role == Role::User { Message::user(text) } else { Message::assistant(text) };
                    m.interrupted = matches!(status, Status::Stopped | Status::Truncated | Status::Failed);
                    Some(m)
                })
                .collect()
        })
    }

    fn answer(&self) {
        let messages = self.history();
        let turn = self.push_turn(Role::Assistant, String::new(), Status::Streaming);
        self.run(turn, Job::Ask(messages, false));
    }

    /// Streams `job` into `turn`.
    fn run(&self, turn: Turn, job: Job) {
        let this = *self;
        let controller = AbortController::new().ok();
        let cursor = match &job {
            Job::Resume(c) => Some(c.clone()),
            Job::Ask(..) => None,
        };
        self.live.set_value(Live { abort: controller.clone(), cursor, ..Live::default() });
        self.busy.set(true);
        self.persist();
        spawn_local(async move {
            let Some(controller) = controller else {
                finish_with(turn, Status::Failed, Some(ChatError::network("AbortController unavailable")));
                this.done(turn);
                return;
            };
            let signal = controller.signal();
            #[cfg(feature = "byok")]
            let direct = match &job {
                Job::Ask(m, false) => this.byok.get_untracked().map(|s| (s, m.clone())),
                _ => None,
            };
            #[cfg(not(feature = "byok"))]
            let direct: Option<()> = None;
            let result = match direct {
                #[cfg(feature = "byok")]
                Some((settings, messages)) => {
                    byok::stream_direct(&settings, &messages, &signal, move |ev| apply(turn, ev)).await
                }
                _ => {
                    let body = match job {
                        Job::Ask(m, cont) => Some(api::chat_body(&this.model.get_untracked(), &m, cont)),
                        Job::Resume(_) => None,
                    };
                    this.stream(turn, body, &signal).await
                }
            };
            match result {
                Ok(()) => {}
                Err(Failure::Aborted) => finish_with(turn, Status::Stopped, None),
                // Failed; cut off when a continued answer already has text.
                Err(Failure::Error(e)) => {
                    let empty = turn.text.with_untracked(String::is_empty);
                    finish_with(turn, if empty { Status::Failed } else { Status::Truncated }, Some(e));
                }
            }
            if turn.status.get_untracked() == Status::Streaming {
                finish_with(turn, Status::Truncated, Some(ChatError::truncated()));
            }
            this.done(turn);
        });
    }

    /// Streams `turn` from the edge: `post` is a new request's body, `None` resumes the saved stream. A
    /// resumable stream whose connection breaks is resumed in place ("reconnecting", waiting the stream's `retry`
    /// delay and backing off, sooner when the browser comes back online or the page becomes visible) until it ends
    /// or can no longer be resumed.
    async fn stream(self, turn: Turn, post: Option<String>, signal: &AbortSignal) -> Result<(), Failure> {
        let ep = self.endpoint.get_value();
        // A continued answer's usage covers both parts.
        let carry = turn.usage.get_untracked();
        let live = self.live.try_update_value(|l| {
            l.edge = true;
            l.cursor.clone()
        });
        let mut cursor = live.flatten().unwrap_or_default();
        let silence_ms = self.config.with_untracked(|c| c.as_ref().map_or_else(|| api::Limits::default().silence_ms(), |c| c.limits.silence_ms()));
        let mut post = post;
        let mut failures = 0;
        loop {
            let before = cursor.last_event_id;
            let opened = api::open_stream(&ep, post.take().as_deref(), &cursor, signal).await;
            let broken = match opened {
                Ok(resp) => {
                    let on_event = |ev, c: &Cursor| self.received(turn, ev, c, carry);
                    match api::read_events(&resp, &mut cursor, silence_ms, on_event).await? {
                        None => return Ok(()),
                        Some(e) => e,
                    }
                }
                // Refused before the stream started: as before resumable streams.
                Err(Failure::Error(e)) if cursor.stream_id.is_empty() => return Err(Failure::Error(e)),
                // The edge no longer has the stream (404), or refuses the resume: keep the text, offer Continue.
                Err(Failure::Error(e)) if e.kind == ErrorKind::Rejected => {
                    apply(turn, EdgeEvent::Error(ChatError::expired()));
                    return Ok(());
                }
                Err(Failure::Error(e)) => e,
                Err(Failure::Aborted) => return Err(Failure::Aborted),
            };
            failures = if cursor.last_event_id > before { 1 } else { failures + 1 };
            if cursor.stream_id.is_empty() || failures > MAX_RECONNECTS {
                apply(turn, EdgeEvent::Error(broken));
                return Ok(());
            }
            turn.reconnecting.set(true);
            let c = cursor.clone();
            self.live.update_value(|l| l.cursor = Some(c));
            self.persist();
            api::pause(backoff(cursor.retry_ms, failures), signal).await;
            if signal.aborted() {
                return Err(Failure::Aborted);
            }
        }
    }

    /// One event of the edge's stream for `turn`, with the stream position after it.
    fn received(&self, turn: Turn, ev: EdgeEvent, cursor: &Cursor, carry: Option<UsageInfo>) {
        let started = ev == EdgeEvent::Start;
        apply(turn, match (ev, carry) {
            (EdgeEvent::Usage(u), Some(c)) => EdgeEvent::Usage(c.plus(u)),
            (ev, _) => ev,
        });
        if turn.reconnecting.get_untracked() {
            turn.reconnecting.set(false);
        }
        let c = cursor.clone();
        let pending = self.live.try_update_value(|l| {
            l.cursor = Some(c);
            l.stop_pending
        });
        if started && pending == Some(true) {
            self.stop();
        }
        // Saved now and then, text and position together, so a reload resumes where the saved text ends.
        if started || js_sys::Date::now() - self.saved_at.get_value() > 500.0 {
            self.persist();
        }
    }

    fn done(&self, turn: Turn) {
        turn.reconnecting.set(false);
        self.live.set_value(Live::default());
        self.busy.set(false);
        self.persist();
        self.focus_input.update(|n| *n += 1);
    }
}

fn finish_with(turn: Turn, status: Status, error: Option<ChatError>) {
    if turn.status.get_untracked() == Status::Streaming {
        turn.error.set(error);
        turn.status.set(status);
    }
}

/// Applies one stream event to the answer turn.
fn apply(turn: Turn, ev: EdgeEvent) {
    match ev {
        EdgeEvent::Start | EdgeEvent::Reasoning(_) => {}
        EdgeEvent::Delta(text) => turn.text.update(|t| t.push_str(&text)),
        EdgeEvent::Usage(u) => turn.usage.set(Some(u)),
        EdgeEvent::Done { stopped, stop_reason } => {
            if stopped {
                finish_with(turn, Status::Stopped, None);
            } else if stop_reason.as_deref() == Some("max_tokens") {
                let e = ChatError {
                    message: "The answer reached the token limit.".into(),
                    retryable: false,
                    ..ChatError::truncated()
                };
                finish_with(turn, Status::Truncated, Some(e));
            } else {
                finish_with(turn, Status::Done, None);
            }
        }
        EdgeEvent::Error(e) => {
            let status = if e.kind == api::ErrorKind::Truncated || !turn.text.with_untracked(String::is_empty) {
                Status::Truncated
            } else {
                Status::Failed
            };
            finish_with(turn, status, Some(e));
        }
    }
}
