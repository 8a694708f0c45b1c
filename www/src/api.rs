//! The widget's side of docs/protocol.md: `GET /api/config`, the streamed `POST /api/chat`, and resumable streams
//! (`GET /api/chat/streams/{id}` with `Last-Event-ID`, `POST .../stop`).
//!
//! The body is read with a `ReadableStream` reader and fed to the core's SSE parser; each edge event becomes an
//! [`EdgeEvent`], reported with the stream's [`Cursor`] (its id, the last event id, the `retry` delay) so a broken
//! connection can be resumed. Failures are a typed [`ChatError`] whose kind the UI shows in place.

use std::rc::Rc;

use edgechat::sse::{SseEvent, SseParser};
use edgechat::ToolCall;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue, UnwrapThrowExt};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, EventTarget, Headers, ReadableStreamDefaultReader, RequestInit, Response};

use crate::json::{self, Obj};
use crate::session::Session;

/// Where the edge is and how to identify the site and the user.
#[derive(Debug, Clone, Default)]
pub struct Endpoint {
    /// Base URL the `/api/...` paths are appended to; empty for the page's own origin.
    pub base: String,
    /// Publishable site key (`pk_...`), sent as `x-edgechat-site-key`.
    pub site_key: Option<String>,
    /// The signed-in user's session token, sent as `Authorization: Bearer` (shared by the endpoint's clones).
    pub session: Rc<Session>,
}

impl Endpoint {
    fn url(&self, path: &str) -> String {
        [self.base.trim_end_matches('/'), path].concat()
    }
}

/// One model the edge offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelInfo {
    /// Alias sent back in `model`.
    pub alias: String,
    /// Human label.
    pub label: String,
    /// Provider name (informational).
    pub provider: String,
    /// The model takes images.
    pub vision: bool,
    /// The model takes PDF documents.
    pub documents: bool,
}

/// Limits the edge enforces (the widget checks the message length before sending, and sends only the newest
/// messages that fit the conversation limits).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Limits {
    /// Characters per message.
    pub max_message_chars: Option<usize>,
    /// Messages per request.
    pub max_messages: Option<usize>,
    /// Characters per request, all messages together.
    pub max_total_chars: Option<usize>,
    /// The most output tokens a request may ask for (`max_tokens`).
    pub max_tokens: Option<u32>,
    /// The edge writes at least this often on a stream (a `: ping` comment while nothing else comes).
    pub keepalive_ms: Option<u32>,
    /// Files per request (0: the edge takes none).
    pub max_attachments: usize,
    /// Largest file, bytes.
    pub max_attachment_bytes: u64,
    /// MIME types a file may have.
    pub attachment_types: Vec<String>,
}

impl Limits {
    /// How long a resumable stream may stay silent before the connection is taken for dead and resumed: three
    /// keep-alive intervals (a connection that hangs without an error, as in a tunnel or after a network change).
    pub fn silence_ms(&self) -> u32 {
        self.keepalive_ms.unwrap_or(5_000).clamp(100, 60_000) * 3
    }
}

/// `GET /api/config`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Config {
    /// Models to pick from.
    pub models: Vec<ModelInfo>,
    /// The default alias.
    pub default_model: String,
    /// Limits.
    pub limits: Limits,
    /// Answers come from a mock upstream.
    pub simulated: bool,
    /// Streams can be resumed and stopped by id (the edge has its `STREAMS` Durable Object).
    pub resumable: bool,
    /// A request may carry its own system prompt ([`RequestOptions::system`]).
    pub allow_system_prompt: bool,
    /// Tool steps after a question the edge takes (`client_tools.max_steps`), when it takes client tools.
    pub max_tool_steps: Option<u32>,
}

impl Config {
    /// Reads `GET /api/config`'s body; missing fields take defaults. The routing alias `auto`, when offered, is
    /// listed first.
    pub fn from_json(c: &JsValue) -> Self {
        let mut models: Vec<ModelInfo> = json::array(c, "models")
            .iter()
            .filter_map(|m| {
                Some(ModelInfo {
                    alias: json::string(m, "alias")?,
                    label: json::string(m, "label").unwrap_or_default(),
                    provider: json::string(m, "provider").unwrap_or_default(),
                    vision: json::flag(m, "vision"),
                    documents: json::flag(m, "documents"),
                })
            })
            .collect();
        if let Some(i) = models.iter().position(|m| m.alias == "auto") {
            let auto = models.remove(i);
            models.insert(0, auto);
        }
        Self {
            models,
            default_model: json::string(c, "default_model").unwrap_or_default(),
            limits: {
                let l = json::get(c, "limits");
                Limits {
                    max_message_chars: json::uint(&l, "max_message_chars").map(|n| n as usize),
                    max_messages: json::uint(&l, "max_messages").map(|n| n as usize),
                    max_total_chars: json::uint(&l, "max_total_chars").map(|n| n as usize),
                    max_tokens: json::uint(&l, "max_tokens").map(|n| n.min(u64::from(u32::MAX)) as u32),
                    keepalive_ms: json::uint(&l, "keepalive_ms").map(|n| n.min(u64::from(u32::MAX)) as u32),
                    max_attachments: json::uint(&l, "max_attachments").unwrap_or(0) as usize,
                    max_attachment_bytes: json::uint(&l, "max_attachment_bytes").unwrap_or(0),
                    attachment_types: json::array(&l, "attachment_types")
                        .iter()
                        .filter_map(JsValue::as_string)
                        .collect(),
                }
            },
            simulated: json::flag(c, "simulated"),
            resumable: json::flag(c, "resumable"),
            allow_system_prompt: json::flag(c, "allow_system_prompt"),
            max_tool_steps: json::uint(&json::get(c, "client_tools"), "max_steps").map(|n| n.min(100) as u32),
        }
    }
}

/// Token usage and cost of one answer (the `usage` event).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct UsageInfo {
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Generated tokens.
    pub output_tokens: u64,
    /// Prompt tokens read from cache.
    pub cache_read_input_tokens: u64,
    /// Cost in US dollars, when the price is known.
    pub cost_usd: Option<f64>,
    /// Counted from text rather than reported by the provider.
    pub estimated: bool,
}

impl UsageInfo {
    /// Reads a `usage` event's data (or a saved copy).
    pub fn from_json(d: &JsValue) -> Self {
        Self {
            input_tokens: json::uint(d, "input_tokens").unwrap_or(0),
            output_tokens: json::uint(d, "output_tokens").unwrap_or(0),
            cache_read_input_tokens: json::uint(d, "cache_read_input_tokens").unwrap_or(0),
            cost_usd: json::number(d, "cost_usd"),
            estimated: json::flag(d, "estimated"),
        }
    }

    /// Both answers' usage together (a continued answer costs its first part plus the continuation).
    pub fn plus(self, o: Self) -> Self {
        Self {
            input_tokens: self.input_tokens + o.input_tokens,
            output_tokens: self.output_tokens + o.output_tokens,
            cache_read_input_tokens: self.cache_read_input_tokens + o.cache_read_input_tokens,
            cost_usd: self.cost_usd.zip(o.cost_usd).map(|(a, b)| a + b),
            estimated: self.estimated || o.estimated,
        }
    }

    /// The same shape back, for saving.
    pub fn to_json(&self) -> JsValue {
        Obj::new()
            .set("input_tokens", self.input_tokens as f64)
            .set("output_tokens", self.output_tokens as f64)
            .set("cache_read_input_tokens", self.cache_read_input_tokens as f64)
            .opt("cost_usd", self.cost_usd)
            .set("estimated", self.estimated)
            .build()
    }
}

/// What went wrong, as shown to the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Rate limited or over budget; `retry_after_ms` says how long to wait.
    RateLimited,
    /// The network failed (no response, or the connection broke).
    Network,
    /// The answer was cut off before its end.
    Truncated,
    /// The provider (or the edge on its behalf) reported an error.
    Provider,
    /// The edge refused the request (bad request, origin, key, limits).
    Rejected,
    /// No valid session: the edge wants one (`session_required`, `unauthorized`), or the page's token endpoint
    /// gave none.
    Auth,
}

impl ErrorKind {
    /// Short label for the UI.
    pub fn label(self) -> &'static str {
        match self {
            Self::RateLimited => "Rate limited",
            Self::Network => "Network error",
            Self::Truncated => "Answer cut off",
            Self::Provider => "Provider error",
            Self::Rejected => "Request refused",
            Self::Auth => "Not signed in",
        }
    }
}

impl ErrorKind {
    /// Stable name (also the `data-kind` attribute the UI sets).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RateLimited => "ratelimited",
            Self::Network => "network",
            Self::Truncated => "truncated",
            Self::Provider => "provider",
            Self::Rejected => "rejected",
            Self::Auth => "auth",
        }
    }

    fn from_name(s: &str) -> Self {
        match s {
            "ratelimited" => Self::RateLimited,
            "network" => Self::Network,
            "truncated" => Self::Truncated,
            "rejected" => Self::Rejected,
            "auth" => Self::Auth,
            _ => Self::Provider,
        }
    }
}

/// A failure the widget words itself (not the edge): a [`ChatError::message`] that starts with a note's English
/// text ([`ChatError::note`]; for [`Note::SessionToken`] a detail follows). A view may show its own words instead
/// (the widget's `strings`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note {
    /// The connection closed before the answer finished.
    Truncated,
    /// The edge no longer has the stream, or refused its resumption.
    Expired,
    /// The answer reached the token limit.
    TokenLimit,
    /// The edge's daily budget ran out during the answer.
    Budget,
    /// The page's token endpoint gave no session token.
    SessionToken,
}

impl Note {
    /// Every note.
    pub const ALL: [Self; 5] = [Self::Truncated, Self::Expired, Self::TokenLimit, Self::Budget, Self::SessionToken];

    /// In English.
    pub fn english(self) -> &'static str {
        match self {
            Self::Truncated => "The connection closed before the answer finished.",
            Self::Expired => "The answer could not be resumed.",
            Self::TokenLimit => "The answer reached the token limit.",
            Self::Budget => "The budget ran out during this answer. Continue after it resets.",
            Self::SessionToken => "Could not get a session token:",
        }
    }
}

/// A failed request or stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatError {
    /// Kind.
    pub kind: ErrorKind,
    /// The edge's `type` (`rate_limited`, `upstream_error`, …) or a local name.
    pub code: String,
    /// Message.
    pub message: String,
    /// Wait this long before retrying.
    pub retry_after_ms: Option<u64>,
    /// Retrying may succeed.
    pub retryable: bool,
}

impl ChatError {
    /// Saved form.
    pub fn to_json(&self) -> JsValue {
        Obj::new()
            .set("kind", self.kind.as_str())
            .set("code", self.code.as_str())
            .set("message", self.message.as_str())
            .opt("retry_after_ms", self.retry_after_ms.map(|n| n as f64))
            .set("retryable", self.retryable)
            .build()
    }

    /// Which of the widget's own messages this is, and what follows its English text (a session token's failure:
    /// a space and why); `None` for the edge's words.
    pub fn note(&self) -> Option<(Note, &str)> {
        Note::ALL.into_iter().find_map(|n| Some((n, self.message.strip_prefix(n.english())?)))
    }

    /// Reads the saved form.
    pub fn from_json(e: &JsValue) -> Option<Self> {
        Some(Self {
            kind: ErrorKind::from_name(&json::string(e, "kind")?),
            code: json::string(e, "code").unwrap_or_default(),
            message: json::string(e, "message").unwrap_or_default(),
            retry_after_ms: json::uint(e, "retry_after_ms"),
            retryable: json::flag(e, "retryable"),
        })
    }

    /// A network-level failure.
    pub fn network(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Network,
            code: "network".into(),
            message: message.into(),
            retry_after_ms: None,
            retryable: true,
        }
    }

    /// A stream that ended without `done` or `error`.
    pub fn truncated() -> Self {
        Self::noted(Note::Truncated)
    }

    /// A resumable stream the edge no longer has (expired, or refused): the text so far is all there is.
    pub fn expired() -> Self {
        Self::noted(Note::Expired)
    }

    /// The answer was cut off: `note` says why (retryable, kind [`ErrorKind::Truncated`]).
    pub fn noted(note: Note) -> Self {
        Self {
            kind: ErrorKind::Truncated,
            code: "truncated".into(),
            message: note.english().into(),
            retry_after_ms: None,
            retryable: true,
        }
    }

    /// Classifies an edge error `type` (and HTTP status, when there was one).
    pub fn from_edge(
        code: &str,
        message: String,
        status: Option<u16>,
        retry_after_ms: Option<u64>,
        truncated: bool,
    ) -> Self {
        let kind = match code {
            _ if truncated => ErrorKind::Truncated,
            "rate_limited" | "budget_exceeded" => ErrorKind::RateLimited,
            _ if status == Some(429) => ErrorKind::RateLimited,
            "network" => ErrorKind::Network,
            "truncated" => ErrorKind::Truncated,
            "unauthorized" | "session_required" => ErrorKind::Auth,
            _ if status == Some(401) => ErrorKind::Auth,
            "bad_request"
            | "body_too_large"
            | "invalid_json"
            | "origin_not_allowed"
            | "summary_invalid"
            | "model_not_allowed"
            | "too_many_messages"
            | "message_too_long"
            | "conversation_too_long"
            | "max_tokens_exceeded"
            | "not_found"
            | "method_not_allowed" => ErrorKind::Rejected,
            _ => ErrorKind::Provider,
        };
        // The edge answers a provider's rate limit, once its own retries are spent, as `upstream_error` with a
        // Retry-After: to the user that is "rate limited, wait N s".
        let kind = if kind == ErrorKind::Provider && retry_after_ms.is_some() { ErrorKind::RateLimited } else { kind };
        let retryable = !matches!(kind, ErrorKind::Rejected);
        Self { kind, code: code.to_string(), message, retry_after_ms, retryable }
    }

    /// What the UI says, e.g. "Rate limited — try again in 12 s".
    pub fn summary(&self) -> String {
        match self.retry_after_ms {
            Some(ms) if self.kind == ErrorKind::RateLimited => {
                format!("{}: try again in {} s", self.kind.label(), ms.div_ceil(1000).max(1))
            }
            _ => self.kind.label().to_string(),
        }
    }
}

/// A summary of the earliest turns, made by the edge (the `summary` event; docs/protocol.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryEvent {
    /// How many of the request's messages, as sent, from the first, it replaces (with any summary it carried).
    pub covers: u64,
    /// The summary.
    pub text: String,
    /// The edge's signature, sent back with the text.
    pub token: String,
}

/// One event of the edge's stream.
#[derive(Debug, Clone, PartialEq)]
pub enum EdgeEvent {
    /// Accepted; the `start` event's data (the alias that serves, the routed `task`, the messages the edge
    /// `trimmed`: kept with the answer, not shown).
    Start(JsValue),
    /// The request's earliest messages were summarized (before the first `delta`).
    Summary(SummaryEvent),
    /// Answer text.
    Delta(String),
    /// Reasoning text.
    Reasoning(String),
    /// A complete tool call the model asked for (run once the answer ends, when the page has the tool).
    ToolCall(ToolCall),
    /// Usage and cost.
    Usage(UsageInfo),
    /// Normal end; `stopped` after an explicit stop.
    Done {
        /// Ended by a stop request.
        stopped: bool,
        /// Normalized stop reason (`max_tokens` means the answer is cut off by the limit).
        stop_reason: Option<String>,
        /// The edge ended it because a daily budget ran out mid-answer (`reason: "budget"`).
        budget: bool,
    },
    /// The stream failed.
    Error(ChatError),
}

/// Decodes one SSE event of the edge protocol with the core's definition (`edgechat::protocol`); unknown event
/// names are ignored (`None`).
pub fn decode_event(event: &str, data: &str) -> Option<Result<EdgeEvent, ChatError>> {
    use edgechat::protocol::WidgetEvent as W;
    let malformed = |what: &str| {
        let m = ["bad ", event, " event: ", what].concat();
        Some(Err(ChatError::from_edge("malformed_event", m, None, None, false)))
    };
    // Data that is not an object reads as one without fields: the event's name still decides (unknown: ignored).
    let d = json::parse(data).filter(JsValue::is_object).unwrap_or(JsValue::UNDEFINED);
    let ev = match W::decode(event, &json::JsFields(&d)) {
        Ok(None) => return None,
        _ if d.is_undefined() => return malformed("not a JSON object"),
        Ok(Some(ev)) => ev,
        Err(e) => return malformed(&e.message),
    };
    Some(Ok(match ev {
        W::Start(_) => EdgeEvent::Start(d),
        W::Summary(s) => EdgeEvent::Summary(SummaryEvent { covers: s.covers, text: s.text, token: s.token }),
        W::Delta { text } => EdgeEvent::Delta(text),
        W::Reasoning { text } => EdgeEvent::Reasoning(text),
        W::ToolCall(call) => EdgeEvent::ToolCall(call),
        W::Usage(u) => EdgeEvent::Usage(UsageInfo {
            input_tokens: u.usage.input_tokens,
            output_tokens: u.usage.output_tokens,
            cache_read_input_tokens: u.usage.cache_read_input_tokens,
            cost_usd: u.cost_usd,
            estimated: u.estimated,
        }),
        W::Done(d) => EdgeEvent::Done {
            stopped: d.stopped,
            stop_reason: d.stop_reason.map(|r| r.as_str().to_string()),
            budget: d.reason.as_deref() == Some("budget"),
        },
        W::Error(e) => EdgeEvent::Error(ChatError::from_edge(&e.kind, e.message, None, e.retry_after_ms, e.truncated)),
        _ => return None,
    }))
}

/// A `tool_call` event's data (or a saved copy).
pub fn tool_call_from_json(d: &JsValue) -> ToolCall {
    let field = |k| json::string(d, k).unwrap_or_default();
    ToolCall { id: field("id"), name: field("name"), arguments: field("arguments") }
}

/// The same shape back, for saving.
pub fn tool_call_to_json(c: &ToolCall) -> JsValue {
    Obj::new().set("id", c.id.as_str()).set("name", c.name.as_str()).set("arguments", c.arguments.as_str()).build()
}

/// `n` in decimal (no formatting machinery).
pub(crate) fn decimal(n: u64) -> String {
    fn push(out: &mut String, n: u64) {
        if n >= 10 {
            push(out, n / 10);
        }
        out.push(char::from(b'0' + (n % 10) as u8));
    }
    let mut out = String::new();
    push(&mut out, n);
    out
}

fn js_err(context: &str, e: JsValue) -> ChatError {
    ChatError::network([context, ": ", &thrown(&e).unwrap_or_default()].concat())
}

/// A thrown value's message: an `Error`'s, or the value when it is a string.
pub(crate) fn thrown(e: &JsValue) -> Option<String> {
    if e.is_instance_of::<js_sys::Error>() {
        json::string(e, "message")
    } else {
        e.as_string()
    }
}

/// The response's status is 2xx (`Response.ok`).
pub(crate) fn ok(resp: &Response) -> bool {
    (200..300).contains(&resp.status())
}

/// `controller.signal` (read as a property: one binding fewer).
pub(crate) fn signal(controller: &web_sys::AbortController) -> AbortSignal {
    json::get(controller, "signal").unchecked_into()
}

/// `signal.aborted`.
pub(crate) fn aborted(signal: &AbortSignal) -> bool {
    json::flag(signal, "aborted")
}

/// What a [`deadline`] rejects with when its time is up.
const TIMED_OUT: &str = "edgechat:timeout";

/// A promise that rejects once `ms` pass (with [`TIMED_OUT`]: [`timed_out`]) or `signal` aborts (with the abort
/// event), whichever comes first; and its timer, for `clearTimeout`.
pub(crate) fn deadline(ms: Option<u32>, signal: Option<&AbortSignal>) -> (js_sys::Promise, Option<i32>) {
    let mut timer = None;
    let promise = js_sys::Promise::new(&mut |_, reject| {
        if let Some(s) = signal {
            s.set_onabort(Some(&reject));
        }
        if let (Some(ms), Some(w)) = (ms, web_sys::window()) {
            let ms = ms.min(i32::MAX as u32) as i32;
            timer = w.set_timeout_with_callback_and_timeout_and_arguments_1(&reject, ms, &TIMED_OUT.into()).ok();
        }
    });
    (promise, timer)
}

/// Whether a [`deadline`]'s time was up.
pub(crate) fn timed_out(e: &JsValue) -> bool {
    e.as_string().as_deref() == Some(TIMED_OUT)
}

/// `Promise.race([a, b])`: the first of them to settle (values that are not promises settle at once).
pub(crate) fn race(a: &JsValue, b: &JsValue) -> js_sys::Promise {
    let both = js_sys::Array::new();
    both.push(a);
    both.push(b);
    js_sys::Promise::race(&both)
}

/// Whether `e` is the `AbortError` a stopped fetch rejects with (a `DOMException`, or any value so named).
pub fn is_abort(e: &JsValue) -> bool {
    json::string(e, "name").as_deref() == Some("AbortError")
}

/// The outcome of a fetch: a failure, or the user stopped it.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// Stopped by the user (abort).
    Aborted,
    /// Failed.
    Error(ChatError),
}

impl From<ChatError> for Failure {
    fn from(e: ChatError) -> Self {
        Self::Error(e)
    }
}

/// `Headers` with these values (one that is forbidden or invalid is left out).
#[cfg(feature = "byok")]
pub fn headers(pairs: &[(String, String)]) -> Headers {
    let h = Headers::new().unwrap_throw();
    for (k, v) in pairs {
        let _ = h.set(k, v);
    }
    h
}

/// A request's method, headers, body and abort signal.
pub fn request(method: &str, headers: &Headers, body: Option<&str>, signal: Option<&AbortSignal>) -> RequestInit {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_headers(headers);
    if let Some(b) = body {
        init.set_body(&JsValue::from_str(b));
    }
    init.set_signal(signal);
    init
}

/// Sends `method url` with a body and headers; returns the response or the failure.
pub async fn send(
    method: &str,
    url: &str,
    headers: &Headers,
    body: Option<&str>,
    signal: Option<&AbortSignal>,
) -> Result<Response, Failure> {
    fetch(url, &request(method, headers, body, signal)).await
}

/// `fetch(url, init)`: the response (any status), or the failure.
pub async fn fetch(url: &str, init: &RequestInit) -> Result<Response, Failure> {
    let window = web_sys::window().ok_or_else(|| ChatError::network("no window"))?;
    match JsFuture::from(window.fetch_with_str_and_init(url, init)).await {
        Ok(r) => Ok(r.unchecked_into()),
        Err(e) if is_abort(&e) => Err(Failure::Aborted),
        Err(e) => Err(js_err("request failed", e).into()),
    }
}

/// Reads the whole body as text.
pub async fn text(resp: &Response) -> Result<String, Failure> {
    let p = resp.text().map_err(|e| js_err("read body", e))?;
    match JsFuture::from(p).await {
        Ok(t) => Ok(t.as_string().unwrap_or_default()),
        Err(e) if is_abort(&e) => Err(Failure::Aborted),
        Err(e) => Err(js_err("read body", e).into()),
    }
}

fn retry_after_ms(resp: &Response) -> Option<u64> {
    let v = resp.headers().get("retry-after").ok().flatten()?;
    v.trim().parse::<u64>().ok().map(|s| s * 1000)
}

/// Turns a non-2xx edge response into a [`ChatError`].
pub async fn edge_error(resp: &Response) -> ChatError {
    let status = resp.status();
    let body = text(resp).await.unwrap_or_default();
    let err = json::parse(&body).map(|b| json::get(&b, "error")).filter(JsValue::is_object);
    let (code, message) = match err {
        Some(e) => (json::string(&e, "type").unwrap_or_default(), json::string(&e, "message").unwrap_or_default()),
        None => {
            let n = decimal(status.into());
            (["http_", &n].concat(), ["HTTP ", &n].concat())
        }
    };
    ChatError::from_edge(&code, message, Some(status), retry_after_ms(resp), false)
}

/// Reads a body stream chunk by chunk, calling `on_chunk` with each chunk's bytes.
pub async fn read_body(resp: &Response, on_chunk: impl FnMut(&[u8])) -> Result<(), Failure> {
    read_body_within(resp, || None, on_chunk).await
}

/// [`read_body`], giving up on the connection (a network error) when `silence()` says how long it may stay
/// silent and nothing arrives for that long.
async fn read_body_within(
    resp: &Response,
    silence: impl Fn() -> Option<u32>,
    mut on_chunk: impl FnMut(&[u8]),
) -> Result<(), Failure> {
    let body = resp.body().ok_or_else(|| ChatError::network("response has no body"))?;
    let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    loop {
        let read = reader.read();
        let read = match silence().and_then(|ms| Some((ms, web_sys::window()?))) {
            None => JsFuture::from(read).await,
            Some((ms, win)) => {
                let (quiet, timer) = deadline(Some(ms), None);
                let first = JsFuture::from(race(&read, &quiet)).await;
                if let Some(t) = timer {
                    win.clear_timeout_with_handle(t);
                }
                if first.as_ref().is_err_and(timed_out) {
                    drop(reader.cancel());
                    return Err(
                        ChatError::network(["no data for ", &decimal((ms / 1000).into()), " s"].concat()).into()
                    );
                }
                first
            }
        };
        let r = match read {
            Ok(r) => r,
            Err(e) if is_abort(&e) => return Err(Failure::Aborted),
            Err(e) => return Err(js_err("connection lost", e).into()),
        };
        let done = js_sys::Reflect::get(&r, &"done".into()).map(|d| d.is_truthy()).unwrap_or(true);
        if done {
            return Ok(());
        }
        if let Ok(v) = js_sys::Reflect::get(&r, &"value".into()) {
            on_chunk(&js_sys::Uint8Array::new(&v).to_vec());
        }
    }
}

/// `GET /api/config`.
pub async fn fetch_config(ep: &Endpoint) -> Result<Config, ChatError> {
    let resp = match open(ep, "GET", "/api/config", None, None, None).await {
        Ok(r) => r,
        Err(Failure::Error(e)) => return Err(e),
        Err(Failure::Aborted) => return Err(ChatError::network("aborted")),
    };
    let body = text(&resp).await.map_err(|_| ChatError::network("reading config failed"))?;
    json::parse(&body)
        .filter(JsValue::is_object)
        .map(|c| Config::from_json(&c))
        .ok_or_else(|| ChatError::from_edge("bad_config", "unreadable config".into(), None, None, false))
}

/// The optional fields of a `POST /api/chat` body (docs/protocol.md); `None` leaves a field out (the edge's
/// default). The widget sends none of them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RequestOptions {
    /// `system`: a system prompt of the caller's (refused unless the config's `allow_system_prompt`).
    pub system: Option<String>,
    /// `temperature`, 0 to 2.
    pub temperature: Option<f64>,
    /// `max_tokens`, at most the config's `limits.max_tokens`.
    pub max_tokens: Option<u32>,
    /// `response_format`, as JSON text (`{"type":"json_schema","name","schema","strict"}` or
    /// `{"type":"json_object"}`); text that is not JSON is left out.
    pub response_format: Option<String>,
}

impl RequestOptions {
    fn add_to(&self, body: Obj) -> Obj {
        let format = self.response_format.as_deref().and_then(json::parse);
        body.opt("system", self.system.as_deref())
            .opt("temperature", self.temperature)
            .opt("max_tokens", self.max_tokens.map(f64::from))
            .opt("response_format", format)
    }
}

/// The `POST /api/chat` body: `{"model", "messages"}` (`messages` in the core's `Message` shape), the `options`
/// that are set, `"continue": true` to carry on the partial assistant turn the messages end with, `summary`
/// (`{"text", "token", "covers"}`) when the messages are the ones after an edge-made summary, and the page's client
/// `tools` (`[{"name", "description", "parameters"}]`).
pub fn chat_body(
    model: &str,
    messages: js_sys::Array,
    cont: bool,
    summary: Option<&JsValue>,
    options: Option<&RequestOptions>,
    tools: Option<js_sys::Array>,
) -> String {
    let body = Obj::new().set("model", model).set("messages", messages).opt("summary", summary).opt("tools", tools);
    let body = match options {
        Some(o) => o.add_to(body),
        None => body,
    };
    json::stringify(&if cont { body.set("continue", true) } else { body }.build())
}

/// Where a resumable stream stands: what a reconnect sends (docs/protocol.md, "Resumable streams"). An empty
/// `stream_id` means the stream cannot be resumed (the edge has no `STREAMS` object, or a cache hit).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cursor {
    /// The edge's `x-edgechat-stream-id`.
    pub stream_id: String,
    /// The SSE id of the last event fully received (0: none yet).
    pub last_event_id: u64,
    /// The reconnect delay the stream set with `retry:`, in ms.
    pub retry_ms: Option<u64>,
}

impl Cursor {
    /// Saved form (`{"id","last","retry"}`).
    pub fn to_json(&self) -> JsValue {
        Obj::new()
            .set("id", self.stream_id.as_str())
            .set("last", self.last_event_id as f64)
            .opt("retry", self.retry_ms.map(|n| n as f64))
            .build()
    }

    /// Reads the saved form; `None` without a stream id.
    pub fn from_json(c: &JsValue) -> Option<Self> {
        let stream_id = json::string(c, "id").filter(|s| !s.is_empty())?;
        Some(Self { stream_id, last_event_id: json::uint(c, "last").unwrap_or(0), retry_ms: json::uint(c, "retry") })
    }
}

/// Sends an edge request with the site key and the session token (a JSON body's content type, `extra`). After a
/// `401`, with a token from the page's token endpoint, a new token is fetched and the request sent once more. A
/// non-2xx answer is an error.
async fn open(
    ep: &Endpoint,
    method: &str,
    path: &str,
    extra: Option<(&str, &str)>,
    body: Option<&str>,
    signal: Option<&AbortSignal>,
) -> Result<Response, Failure> {
    let h = edge_headers(ep, extra, body.is_some());
    let url = ep.url(path);
    let mut renewed = false;
    loop {
        if let Some(t) = ep.session.bearer().await? {
            let _ = h.set("authorization", &["Bearer ", &t].concat());
        }
        let resp = send(method, &url, &h, body, signal).await?;
        if resp.status() == 401 && !renewed && ep.session.renew() {
            renewed = true;
            continue;
        }
        if !ok(&resp) {
            return Err(edge_error(&resp).await.into());
        }
        return Ok(resp);
    }
}

/// An edge request's headers: `extra`, the site key, a JSON body's content type. `set` fails only for a forbidden
/// name or an invalid value: the header is left out.
fn edge_headers(ep: &Endpoint, extra: Option<(&str, &str)>, json_body: bool) -> Headers {
    let h = Headers::new().unwrap_throw();
    if let Some((k, v)) = extra {
        let _ = h.set(k, v);
    }
    if let Some(k) = ep.site_key.as_deref().filter(|k| !k.is_empty()) {
        let _ = h.set("x-edgechat-site-key", k);
    }
    if json_body {
        let _ = h.set("content-type", "application/json");
    }
    h
}

/// Opens a stream whose body [`read_events`] reads: `POST /api/chat` with `body`, or without one, the resumption
/// of `cursor`'s stream (`GET /api/chat/streams/{id}` with `Last-Event-ID`: the events after it, then the live
/// ones).
pub async fn open_stream(
    ep: &Endpoint,
    body: Option<&str>,
    cursor: &Cursor,
    signal: &AbortSignal,
) -> Result<Response, Failure> {
    match body {
        Some(_) => open(ep, "POST", "/api/chat", None, body, Some(signal)).await,
        None => {
            let path = ["/api/chat/streams/", &cursor.stream_id].concat();
            let last = decimal(cursor.last_event_id);
            open(ep, "GET", &path, Some(("last-event-id", &last)), None, Some(signal)).await
        }
    }
}

/// `POST /api/chat/streams/{id}/stop`: the edge aborts the upstream and ends the stream with `done` stopped.
pub async fn stop_stream(ep: &Endpoint, stream_id: &str) -> Result<(), Failure> {
    open(ep, "POST", &["/api/chat/streams/", stream_id, "/stop"].concat(), None, None, None).await.map(drop)
}

/// The stream id of a `start` event that says `"resumable": true` (the same as `x-edgechat-stream-id`, which a
/// cross-origin page may not be allowed to read).
fn resumable_id(data: &str) -> Option<String> {
    json::parse(data).filter(|d| json::flag(d, "resumable")).and_then(|d| json::string(&d, "stream_id"))
}

/// Reads one response's SSE events into `on_event`, each with the stream position just after it (and each as
/// received, unknown ones too, into `on_raw` first). `Ok(None)` once a terminal event (`done`/`error`) arrived;
/// `Ok(Some(e))` when the connection broke first (a read error, the body ended, or a resumable stream was silent
/// for `silence_ms`: the edge writes at least every keep-alive interval there): the caller resumes from the cursor
/// or reports `e`.
pub async fn read_events(
    resp: &Response,
    cursor: &mut Cursor,
    silence_ms: u32,
    mut on_raw: impl FnMut(&SseEvent),
    mut on_event: impl FnMut(EdgeEvent, &Cursor),
) -> Result<Option<ChatError>, Failure> {
    let mut parser = SseParser::new();
    let mut ended = false;
    let resumable = std::cell::Cell::new(!cursor.stream_id.is_empty());
    let read = read_body_within(
        resp,
        || resumable.get().then_some(silence_ms),
        |chunk| {
            parser.feed(chunk);
            drain(&mut parser, cursor, &mut ended, &mut on_raw, &mut on_event);
            resumable.set(!cursor.stream_id.is_empty());
        },
    )
    .await;
    let broken = match read {
        Err(Failure::Aborted) => return Err(Failure::Aborted),
        Err(Failure::Error(e)) => ChatError { kind: ErrorKind::Network, ..e },
        Ok(()) => ChatError::truncated(),
    };
    parser.finish();
    drain(&mut parser, cursor, &mut ended, &mut on_raw, &mut on_event);
    Ok((!ended).then_some(broken))
}

/// Passes every event the parser has ready to `on_event`, decoding the edge protocol and moving the cursor. After
/// a terminal event (`done`/`error`) the rest is ignored.
fn drain(
    parser: &mut SseParser,
    cursor: &mut Cursor,
    ended: &mut bool,
    on_raw: &mut impl FnMut(&SseEvent),
    on_event: &mut impl FnMut(EdgeEvent, &Cursor),
) {
    cursor.retry_ms = parser.retry_ms().or(cursor.retry_ms);
    while let Some(item) = parser.next_event() {
        if *ended {
            continue;
        }
        let decoded = match item {
            Ok(ev) => {
                on_raw(&ev);
                if let Some(id) = ev.id.as_deref().and_then(|i| i.parse().ok()) {
                    cursor.last_event_id = id;
                }
                if ev.event == "start" {
                    cursor.stream_id = resumable_id(&ev.data).unwrap_or_default();
                }
                decode_event(&ev.event, &ev.data)
            }
            Err(e) => Some(Err(ChatError::from_edge("event_too_large", e.to_string(), None, None, false))),
        };
        let ev = match decoded {
            Some(Ok(e)) => e,
            Some(Err(e)) => EdgeEvent::Error(e),
            None => continue,
        };
        *ended = matches!(ev, EdgeEvent::Done { .. } | EdgeEvent::Error(_));
        on_event(ev, cursor);
    }
}

/// Waits `ms`, or less: until the browser is back online, or `signal` aborts (the caller checks
/// `signal.aborted()`). While the page is hidden it waits until it is visible again: a background tab reconnects
/// when the user comes back (the edge keeps the stream meanwhile).
pub async fn pause(ms: u32, signal: &AbortSignal) {
    let Some(win) = web_sys::window() else { return };
    let doc = win.document();
    let mut wake = None;
    let promise = js_sys::Promise::new(&mut |resolve: js_sys::Function, _| {
        let d = doc.clone();
        wake = Some(Closure::<dyn FnMut()>::new(move || {
            if !d.as_ref().is_some_and(|d| json::flag(d, "hidden")) {
                drop(resolve.call0(&JsValue::NULL));
            }
        }));
    });
    let Some(wake) = wake else { return };
    let f: &js_sys::Function = wake.as_ref().unchecked_ref();
    let mut on: Vec<(EventTarget, &str)> = vec![(win.clone().into(), "online"), (signal.clone().into(), "abort")];
    if let Some(d) = doc {
        on.push((d.into(), "visibilitychange"));
    }
    // A listener that cannot be added only means waiting for the timer.
    for (target, name) in &on {
        let _ = target.add_event_listener_with_callback(name, f);
    }
    // `setTimeout` with an (unused) argument: the binding the tools' timeout needs anyway, one import fewer.
    let ms = ms.min(i32::MAX as u32) as i32;
    let timer = win.set_timeout_with_callback_and_timeout_and_arguments_1(f, ms, &JsValue::UNDEFINED);
    let _ = JsFuture::from(promise).await;
    for (target, name) in &on {
        let _ = target.remove_event_listener_with_callback(name, f);
    }
    if let Ok(t) = timer {
        win.clear_timeout_with_handle(t);
    }
}
