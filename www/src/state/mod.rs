//! The conversation model: turns, persistence to `localStorage`, and the chat actions (send, stop, regenerate, edit,
//! retry, continue, clear) that drive the stream. On an edge with resumable streams a broken connection is resumed
//! in place (also after a page reload) and Stop asks the edge to stop by the stream's id. A long conversation
//! never dead-ends: once the edge has summarized its earliest turns, the summary goes back instead of them, and
//! only the newest messages that fit the edge's limits are sent (`request.rs`).
//!
//! Client tools the page registers run here too (`tools.rs`): an answer that asks for tools has its calls run and
//! the next step asked, up to the edge's step cap. What happens is reported to an [`EventSink`] (`events.rs`; the
//! widget makes DOM events of it).
//!
//! Framework-free: [`Chat`] holds a [`State`] and calls its one watcher (the view, [`crate::widget`]) after every
//! change; the watcher reads the state and brings the DOM up to date. Where the conversation is saved is a
//! [`Store`] (the widget's: `localStorage`); an inspector can follow each answer's stream with [`Chat::trace`].

use std::cell::{Cell, Ref, RefCell};
use std::rc::Rc;

use edgechat::conversation::Role;
use edgechat::sse::SseEvent;
use edgechat::ToolCall;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::spawn_local;
use web_sys::AbortController;

#[cfg(feature = "hooks")]
use crate::api::RequestOptions;
use crate::api::{self, ChatError, Config, Cursor, Endpoint, UsageInfo};
#[cfg(feature = "byok")]
use crate::byok::ByokSettings;
use crate::json::{self, Obj};

pub mod attach;
mod events;
mod request;
mod stream;
mod tools;

pub use events::{ChatEvent, EventSink};
pub use request::{fit, Summary};
pub use tools::{Tool, ToolResult, DEFAULT_MAX_STEPS, DEFAULT_TIMEOUT_MS};

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

/// One turn of the conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    /// Stable id (the view keys its DOM by it).
    pub id: u32,
    /// Who said it.
    pub role: Role,
    /// Text so far.
    pub text: String,
    /// The model's reasoning so far (shown apart, never sent back).
    pub reasoning: String,
    /// Tool calls the model asked for (run when the page has tools: `tools.rs`).
    pub tool_calls: Vec<ToolCall>,
    /// Their results, in the order they came in (every call of a finished answer gets one).
    pub tool_results: Vec<ToolResult>,
    /// How it ended.
    pub status: Status,
    /// The error, when it failed or was cut off.
    pub error: Option<ChatError>,
    /// Usage and cost.
    pub usage: Option<UsageInfo>,
    /// The connection broke and the widget is resuming the stream (the text so far stays).
    pub reconnecting: bool,
    /// How the edge served the answer: its `start` event's data (`model`, the alias that served; `task`, what
    /// `auto` routed it as; `trimmed`, the messages the edge left out), as sent.
    pub served: Option<JsValue>,
    /// A user turn's files, in the edge's attachment JSON ([`attach`]).
    pub files: Vec<JsValue>,
}

impl Turn {
    /// Saved form; `stream` is where a streaming answer's resumable stream stands; `lean` leaves the files' bytes
    /// out (the storage is full).
    fn to_json(&self, stream: Option<&Cursor>, lean: bool) -> JsValue {
        let files = (!self.files.is_empty()).then(|| {
            self.files.iter().map(|f| if lean { attach::without_data(f) } else { f.clone() }).collect::<js_sys::Array>()
        });
        let role = if self.role == Role::User { "user" } else { "assistant" };
        let resumable = stream.filter(|c| self.status == Status::Streaming && !c.stream_id.is_empty());
        Obj::new()
            .set("role", role)
            .set("text", self.text.as_str())
            .opt("reasoning", Some(self.reasoning.as_str()).filter(|r| !r.is_empty()))
            .opt(
                "tool_calls",
                (!self.tool_calls.is_empty())
                    .then(|| self.tool_calls.iter().map(api::tool_call_to_json).collect::<js_sys::Array>()),
            )
            .opt(
                "tool_results",
                (!self.tool_results.is_empty())
                    .then(|| self.tool_results.iter().map(ToolResult::to_json).collect::<js_sys::Array>()),
            )
            .set("status", self.status.as_str())
            .opt("attachments", files)
            .opt("error", self.error.as_ref().map(ChatError::to_json))
            .opt("usage", self.usage.as_ref().map(UsageInfo::to_json))
            .opt("served", self.served.clone())
            .opt("stream", resumable.map(Cursor::to_json))
            .build()
    }

    /// A cut-off or stopped answer with text: the edge can carry it on (`"continue": true`).
    pub fn can_continue(&self) -> bool {
        self.role == Role::Assistant
            && matches!(self.status, Status::Truncated | Status::Stopped)
            && !self.text.is_empty()
    }
}

/// What the composer says about the draft (a view words it: [`Problem::text`] in English, the widget's
/// `strings`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The draft is longer than the edge's `max_message_chars` (this many).
    TooLong(usize),
    /// The browser's storage is full: the conversation was saved without its files' bytes.
    StorageFull,
    /// The file reader (`edgechat-attach.js`) could not be loaded.
    NoReader,
    /// Files were left out of the draft.
    Files {
        /// The reader's reasons, one English sentence each (`edgechat-attach.js`), space-separated; may be empty.
        refused: String,
        /// More files were picked than the edge takes per message.
        too_many: bool,
    },
}

impl Problem {
    /// In English.
    pub fn text(&self) -> String {
        match self {
            Self::TooLong(max) => format!("Your message is longer than the {max} characters allowed."),
            Self::StorageFull => attach::words::STORAGE_FULL.into(),
            Self::NoReader => attach::words::NO_READER.into(),
            Self::Files { refused, too_many } => Self::files(refused, *too_many, attach::words::TOO_MANY),
        }
    }

    /// [`Problem::Files`] in words: the reasons, then `too_many_words` when there were too many.
    pub fn files(refused: &str, too_many: bool, too_many_words: &str) -> String {
        match (refused.is_empty(), too_many) {
            (_, false) => refused.into(),
            (true, true) => too_many_words.into(),
            (false, true) => [refused, " ", too_many_words].concat(),
        }
    }
}

/// Everything the view shows.
#[derive(Debug, Default)]
pub struct State {
    /// Turns, oldest first.
    pub turns: Vec<Turn>,
    /// An answer is streaming.
    pub busy: bool,
    /// `GET /api/config`, once loaded.
    pub config: Option<Config>,
    /// Why the config could not be loaded.
    pub config_error: Option<ChatError>,
    /// Selected model alias.
    pub model: String,
    /// Optional request fields sent with every question (the app's settings; the widget has none: `hooks`).
    #[cfg(feature = "hooks")]
    pub options: RequestOptions,
    /// The input box (persisted on every change).
    pub draft: String,
    /// Files attached to the draft ([`Chat::attach`]; not saved until sent).
    pub files: Vec<JsValue>,
    /// What the composer says about the draft (too long, files refused, storage full) until it changes.
    pub problem: Option<Problem>,
    /// The edge's summary of the earliest turns, sent instead of them.
    pub summary: Option<Summary>,
    /// Bring-your-own-key settings, when enabled.
    #[cfg(feature = "byok")]
    pub byok: Option<ByokSettings>,
    /// Incremented to ask the view to focus the input.
    pub focus_input: u32,
    /// The tool call waiting for the user's yes or no ([`Chat::confirm_tool`]).
    pub confirm: Option<String>,
}

impl State {
    /// The answers come straight from a provider with the user's key.
    pub fn byok_active(&self) -> bool {
        #[cfg(feature = "byok")]
        return self.byok.is_some();
        #[cfg(not(feature = "byok"))]
        false
    }

    fn turn_mut(&mut self, id: u32) -> Option<&mut Turn> {
        self.turns.iter_mut().rev().find(|t| t.id == id)
    }

    /// After turns were dropped from the end: a summary of turns that are gone no longer holds (the whole history
    /// goes to the edge again, which summarizes it anew if it must).
    fn forget_summary_beyond(&mut self) {
        if self.summary.as_ref().is_some_and(|m| m.start > self.turns.len()) {
            self.summary = None;
        }
    }
}

/// What an answer's stream starts with.
enum Job {
    /// A new request with the conversation before the answer; `true` continues the answer (a partial one).
    Ask(bool),
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
    /// What its request sent: the turn of each message and the `covers` of the summary it carried (a `summary`
    /// event counts from there). `None` for a stream resumed after a reload.
    basis: Option<(Vec<usize>, u64)>,
}

type Watcher = Rc<dyn Fn(&State)>;

/// What an answer's stream did, as it happened (for an inspector: [`Chat::trace`]).
#[derive(Debug)]
#[non_exhaustive]
pub enum Trace<'a> {
    /// A request is being sent for the answer: a question (`POST /api/chat`), or with `resume`, a reconnect
    /// (`GET /api/chat/streams/{id}`).
    Request {
        /// It resumes a broken stream.
        resume: bool,
    },
    /// One SSE event as received, before it is applied.
    Event(&'a SseEvent),
    /// The connection broke; the stream is resumed after `wait_ms`.
    Broken {
        /// Why.
        error: &'a ChatError,
        /// The wait before the reconnect.
        wait_ms: u32,
    },
}

/// Called with an answer's turn id and what its stream did.
pub type Tracer = Rc<dyn Fn(u32, Trace<'_>)>;

/// Where a chat keeps its conversation (`"chat"`: JSON text) and the unsent draft (`"draft"`). Writes that fail
/// are the store's to report, or [`Store::try_set`]'s to answer.
pub trait Store {
    /// The text saved under `what`.
    fn get(&self, what: &str) -> Option<String>;
    /// Saves `value` under `what`.
    fn set(&self, what: &str, value: &str);
    /// Saves `value` under `what`; `false` when the store refused it (full): the conversation is then saved
    /// without its files' bytes. The default trusts [`Store::set`].
    fn try_set(&self, what: &str, value: &str) -> bool {
        self.set(what, value);
        true
    }
    /// Forgets `what`.
    fn remove(&self, what: &str);
}

/// The widget's store: `localStorage`, keys per endpoint and site key (two widgets with the same endpoint and key
/// on one origin share a conversation).
struct LocalStore(String);

impl LocalStore {
    fn key(&self, what: &str) -> String {
        [self.0.as_str(), ":", what].concat()
    }
}

impl Store for LocalStore {
    fn get(&self, what: &str) -> Option<String> {
        local()?.get_item(&self.key(what)).ok().flatten()
    }

    fn set(&self, what: &str, value: &str) {
        self.try_set(what, value);
    }

    fn try_set(&self, what: &str, value: &str) -> bool {
        local().is_some_and(|st| st.set_item(&self.key(what), value).is_ok())
    }

    fn remove(&self, what: &str) {
        if let Some(st) = local() {
            let _ = st.remove_item(&self.key(what));
        }
    }
}

struct Inner {
    state: RefCell<State>,
    endpoint: Endpoint,
    store: Rc<dyn Store>,
    #[cfg(feature = "hooks")]
    tracer: RefCell<Option<Tracer>>,
    live: RefCell<Live>,
    /// When the conversation was last saved (`Date.now()`), to save a streaming answer now and then.
    saved_at: Cell<f64>,
    next_id: Cell<u32>,
    watcher: RefCell<Option<Watcher>>,
    /// The widget was removed: nothing is saved any more (the next widget restores what was saved last).
    detached: Cell<bool>,
    /// The page's tools.
    tools: RefCell<Rc<Vec<Tool>>>,
    /// A call's time limit when its tool sets none.
    tool_timeout_ms: Cell<u32>,
    /// Resolves the confirmation the view shows.
    confirm: RefCell<Option<js_sys::Function>>,
    /// Who hears what happens ([`Chat::on_event`]).
    events: RefCell<Option<EventSink>>,
}

/// The widget's state and actions (a cheap handle; clones share one chat).
#[derive(Clone)]
pub struct Chat(Rc<Inner>);

fn local() -> Option<web_sys::Storage> {
    // `window.localStorage` as a property (it throws where storage is denied: then none).
    let win = web_sys::window()?;
    let st = json::get(&win, "localStorage");
    st.is_object().then(|| st.unchecked_into())
}

impl Chat {
    /// A chat against `endpoint`, restoring the conversation and draft saved in `localStorage` (a stream saved
    /// mid-answer resumes).
    pub fn new(endpoint: Endpoint) -> Self {
        let key = ["edgechat:v1:", endpoint.base.as_str(), ":", endpoint.site_key.as_deref().unwrap_or("")].concat();
        Self::with_store(endpoint, Rc::new(LocalStore(key)))
    }

    /// A chat against `endpoint` whose conversation and draft are kept in `store` (restored from it now).
    pub fn with_store(endpoint: Endpoint, store: Rc<dyn Store>) -> Self {
        let chat = Self(Rc::new(Inner {
            state: RefCell::new(State {
                #[cfg(feature = "byok")]
                byok: ByokSettings::load(),
                ..State::default()
            }),
            endpoint,
            store,
            #[cfg(feature = "hooks")]
            tracer: RefCell::default(),
            live: RefCell::default(),
            saved_at: Cell::new(0.0),
            next_id: Cell::new(0),
            watcher: RefCell::default(),
            detached: Cell::new(false),
            tools: RefCell::default(),
            tool_timeout_ms: Cell::new(DEFAULT_TIMEOUT_MS),
            confirm: RefCell::default(),
            events: RefCell::default(),
        }));
        chat.restore();
        chat
    }

    /// Calls `watcher` now and after every change (replacing the previous one); `None` stops the calls.
    pub fn watch(&self, watcher: Option<Watcher>) {
        *self.0.watcher.borrow_mut() = watcher;
        self.notify();
    }

    /// Calls `tracer` with what each answer's stream does from now on (`None` stops the calls). With the `hooks`
    /// feature (the app's); the embed has no inspector and carries none of it.
    #[cfg(feature = "hooks")]
    pub fn trace(&self, tracer: Option<Tracer>) {
        *self.0.tracer.borrow_mut() = tracer;
    }

    #[cfg(feature = "hooks")]
    fn traced(&self, id: u32, what: Trace<'_>) {
        let tracer = self.0.tracer.borrow().clone();
        if let Some(t) = tracer {
            t(id, what);
        }
    }

    #[cfg(not(feature = "hooks"))]
    #[inline(always)]
    fn traced(&self, _id: u32, _what: Trace<'_>) {}

    /// Lets go of the widget being removed: drops the connection of an answer in progress without ending it and
    /// saves nothing from now on, so the saved conversation still says where a resumable stream stands and the
    /// next widget on the page resumes it, as after a reload.
    pub fn detach(&self) {
        self.0.detached.set(true);
        let ctl = self.0.live.borrow().abort.clone();
        if let Some(c) = ctl {
            c.abort();
        }
    }

    /// Where the session token comes from.
    pub fn session(&self) -> &crate::session::Session {
        &self.0.endpoint.session
    }

    /// The current state (do not hold it across a call to an action).
    pub fn state(&self) -> Ref<'_, State> {
        self.0.state.borrow()
    }

    fn notify(&self) {
        let watcher = self.0.watcher.borrow().clone();
        if let Some(w) = watcher {
            w(&self.0.state.borrow());
        }
    }

    /// Changes the state, then lets the view catch up.
    fn update<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let r = f(&mut self.0.state.borrow_mut());
        self.notify();
        r
    }

    fn update_turn(&self, id: u32, f: impl FnOnce(&mut Turn)) {
        self.update(|s| s.turn_mut(id).map(f));
    }

    fn restore(&self) {
        let store = self.0.store.clone();
        let saved = store.get("chat").and_then(|s| json::parse(&s)).filter(JsValue::is_object);
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
                let text = json::string(&t, "text").unwrap_or_default();
                let id = self.push_turn_with(role, text, status, json::array(&t, "attachments"));
                resume = cursor.map(|c| (id, c));
                let usage = json::get(&t, "usage");
                let served = json::get(&t, "served");
                self.update_turn(id, |turn| {
                    turn.served = served.is_object().then_some(served);
                    turn.reasoning = json::string(&t, "reasoning").unwrap_or_default();
                    turn.tool_calls = json::array(&t, "tool_calls").iter().map(api::tool_call_from_json).collect();
                    turn.tool_results =
                        json::array(&t, "tool_results").iter().filter_map(ToolResult::from_json).collect();
                    turn.answer_open_calls("the page was closed before the tool finished");
                    turn.error = ChatError::from_json(&json::get(&t, "error"));
                    turn.usage = usage.is_object().then(|| UsageInfo::from_json(&usage));
                });
            }
            let summary = Summary::from_json(&json::get(&saved, "summary"));
            self.update(|s| {
                s.model = json::string(&saved, "model").unwrap_or_default();
                s.summary = summary.filter(|m| m.start <= s.turns.len());
            });
        }
        // Only the last turn can still be streaming; any other saved as streaming is cut off.
        let last = self.state().turns.last().map(|t| t.id);
        match resume {
            Some((id, c)) if Some(id) == last => self.run(id, Job::Resume(c)),
            Some((id, _)) => self.update_turn(id, |t| t.status = Status::Truncated),
            None => {}
        }
        if let Some(d) = store.get("draft") {
            self.update(|s| s.draft = d);
        }
    }

    /// Writes the conversation to the store.
    pub fn persist(&self) {
        if self.0.detached.get() {
            return;
        }
        let stream = self.0.live.borrow().cursor.clone();
        let saved = |lean: bool| {
            let s = self.state();
            let turns = js_sys::Array::new();
            for (i, t) in s.turns.iter().enumerate() {
                turns.push(&t.to_json(stream.as_ref().filter(|_| i + 1 == s.turns.len()), lean));
            }
            let saved = Obj::new()
                .set("turns", turns)
                .set("model", s.model.as_str())
                .opt("summary", s.summary.as_ref().map(Summary::to_json))
                .build();
            json::stringify(&saved)
        };
        // The state is not borrowed while the store runs (it may read it).
        let full = saved(false);
        if !self.0.store.try_set("chat", &full) && self.state().turns.iter().any(|t| !t.files.is_empty()) {
            // Storage full: keep the text, not the files' bytes, and say so.
            self.0.store.set("chat", &saved(true));
            self.update(|s| s.problem = Some(Problem::StorageFull));
        }
        self.0.saved_at.set(js_sys::Date::now());
    }

    /// Sets the draft and saves it.
    pub fn set_draft(&self, text: String) {
        if !self.0.detached.get() {
            self.0.store.set("draft", &text);
        }
        self.update(|s| s.draft = text);
    }

    /// Sets the optional request fields sent with every question from now on.
    #[cfg(feature = "hooks")]
    pub fn set_options(&self, options: RequestOptions) {
        self.update(|s| s.options = options);
    }

    /// Selects a model alias and saves it with the conversation.
    pub fn set_model(&self, alias: String) {
        self.update(|s| s.model = alias);
        self.persist();
    }

    fn push_turn(&self, role: Role, text: String, status: Status) -> u32 {
        self.push_turn_with(role, text, status, Vec::new())
    }

    /// [`Chat::push_turn`] of a turn with files (they are there when the view first shows it).
    fn push_turn_with(&self, role: Role, text: String, status: Status, files: Vec<JsValue>) -> u32 {
        let id = self.0.next_id.get();
        self.0.next_id.set(id + 1);
        let turn = Turn {
            id,
            role,
            text,
            reasoning: String::new(),
            tool_calls: Vec::new(),
            tool_results: Vec::new(),
            status,
            error: None,
            usage: None,
            reconnecting: false,
            served: None,
            files,
        };
        self.update(|s| s.turns.push(turn));
        id
    }

    /// Loads `GET /api/config` and picks the default model if none is selected.
    pub fn load_config(&self) {
        let this = self.clone();
        spawn_local(async move {
            let result = api::fetch_config(&this.0.endpoint).await;
            this.update(|s| match result {
                Ok(cfg) => {
                    if !cfg.models.iter().any(|m| m.alias == s.model) {
                        s.model = cfg.default_model.clone();
                    }
                    s.config_error = None;
                    s.config = Some(cfg);
                }
                Err(e) => s.config_error = Some(e),
            });
        });
    }

    /// Sends the draft (and the files picked for it) as a new user turn. When it cannot be sent (too long) it
    /// stays, with [`State::problem`] set.
    pub fn send_draft(&self) {
        let draft = self.state().draft.clone();
        if self.send_turn(&draft, true) {
            self.set_draft(String::new());
        }
    }

    /// Sends `text` as a new user turn (not while an answer is in progress, nor blank text); `false` when it was
    /// not sent (too long: [`State::problem`] says so). The composer's files stay for its own send.
    pub fn send(&self, text: &str) -> bool {
        self.send_turn(text, false)
    }

    /// A new user turn of `text`, with the composer's files when `with_files` (a turn of files alone is allowed).
    fn send_turn(&self, text: &str, with_files: bool) -> bool {
        let max = {
            let s = self.state();
            let files = with_files && !s.files.is_empty();
            if (text.trim().is_empty() && !files) || s.busy {
                return false;
            }
            s.config.as_ref().and_then(|c| c.limits.max_message_chars)
        };
        if let Some(max) = max.filter(|&m| text.chars().count() > m) {
            self.update(|s| s.problem = Some(Problem::TooLong(max)));
            return false;
        }
        self.update(|s| s.problem = None);
        let files = if with_files { std::mem::take(&mut self.0.state.borrow_mut().files) } else { Vec::new() };
        let id = self.push_turn_with(Role::User, text.to_string(), Status::Done, files);
        self.emit_turn(id);
        self.answer();
        true
    }

    /// Stops the streaming answer (before or after its first token). A resumable stream is stopped by id (closing
    /// the connection would not stop it), then the fetch is aborted; otherwise the fetch is aborted at once.
    pub fn stop(&self) {
        let (ctl, edge, cursor, pending) = {
            let l = self.0.live.borrow();
            (l.abort.clone(), l.edge, l.cursor.clone(), l.stop_pending)
        };
        let Some(ctl) = ctl else { return };
        let resumable = self.state().config.as_ref().is_some_and(|c| c.resumable);
        match cursor {
            // Not started yet: the stream's id comes with `start` (a second Stop aborts at once).
            None if edge && resumable && !pending => self.0.live.borrow_mut().stop_pending = true,
            Some(c) if !c.stream_id.is_empty() => {
                let ep = self.0.endpoint.clone();
                spawn_local(async move {
                    // The edge answers once the stream has ended; its final `usage` and `done` (stopped) may still
                    // be on their way on the stream's own connection, so give them a moment before aborting. If
                    // the stop request fails (offline), aborting at once still ends the turn as stopped here.
                    if api::stop_stream(&ep, &c.stream_id).await.is_ok() {
                        api::pause(3000, &api::signal(&ctl)).await;
                    }
                    ctl.abort();
                });
            }
            _ => ctl.abort(),
        }
    }

    /// Drops the last answer and asks again (regenerate, and retry after an error). In a tool loop only the last
    /// step is asked again: the tools that ran are not run twice.
    pub fn regenerate(&self) {
        if self.state().busy {
            return;
        }
        let asks = self.update(|s| {
            if s.turns.last().is_some_and(|t| t.role == Role::Assistant) {
                s.turns.pop();
            }
            s.forget_summary_beyond();
            s.turns.last().is_some_and(|t| t.role == Role::User || t.sends_calls())
        });
        if asks {
            self.answer();
        }
    }

    /// Moves the last user message back into the input for editing, dropping it and its answer.
    pub fn edit_last(&self) {
        if self.state().busy {
            return;
        }
        let text = self.update(|s| {
            let i = s.turns.iter().rposition(|t| t.role == Role::User)?;
            let text = std::mem::take(&mut s.turns[i].text);
            // Its files go back to the draft too (those whose bytes are still here).
            let files = std::mem::take(&mut s.turns[i].files);
            s.files.extend(files.into_iter().filter(attach::kept));
            s.turns.truncate(i);
            s.forget_summary_beyond();
            Some(text)
        });
        if let Some(t) = text {
            let draft = self.state().draft.clone();
            // Never lose what was typed: an unsent draft is kept below the edited message.
            let merged = if draft.trim().is_empty() { t } else { [t.as_str(), "\n\n", &draft].concat() };
            self.set_draft(merged);
            self.persist();
            self.update(|s| s.focus_input += 1);
        }
    }

    /// Carries on the last answer from where it was cut off (token limit, failure, stop): the edge streams only
    /// the continuation, which is appended to the same turn.
    pub fn continue_last(&self) {
        let id = {
            let s = self.state();
            match s.turns.last() {
                Some(t) if !s.busy && t.can_continue() => t.id,
                _ => return,
            }
        };
        self.update_turn(id, |t| {
            t.error = None;
            t.status = Status::Streaming;
        });
        self.run(id, Job::Ask(true));
    }

    /// Starts a new, empty conversation.
    pub fn new_conversation(&self) {
        self.stop();
        self.update(|s| {
            s.turns.clear();
            s.summary = None;
        });
        self.persist();
        self.update(|s| s.focus_input += 1);
    }

    /// Removes everything this widget stored: conversation, draft and any key.
    pub fn clear_all(&self) {
        self.stop();
        self.0.store.remove("chat");
        self.0.store.remove("draft");
        #[cfg(feature = "byok")]
        ByokSettings::clear();
        self.update(|s| {
            s.turns.clear();
            s.summary = None;
            s.draft.clear();
            s.files.clear();
            s.problem = None;
            #[cfg(feature = "byok")]
            {
                s.byok = None;
            }
            s.focus_input += 1;
        });
    }

    /// Uses (and saves for this tab) the user's own key, or forgets it.
    #[cfg(feature = "byok")]
    pub fn set_byok(&self, settings: Option<ByokSettings>) {
        match &settings {
            Some(s) => s.save(),
            None => ByokSettings::clear(),
        }
        self.update(|s| s.byok = settings);
    }

    fn answer(&self) {
        let id = self.push_turn(Role::Assistant, String::new(), Status::Streaming);
        self.run(id, Job::Ask(false));
    }
}
