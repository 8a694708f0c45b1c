//! Resumable streams (wasm32 only): with the `STREAMS` Durable Object bound, every `/api/chat` stream is owned by
//! one `EdgechatStream` object that makes the upstream request, keeps the encoded widget events
//! ([`crate::resume::StreamLog`]) and serves any number of clients from their `Last-Event-ID`. A client that goes
//! away does not stop generation; `POST /api/chat/streams/{id}/stop` does.
//!
//! Worker side: [`start`] (from the `/api/chat` handler, after policy, limits and caches) and [`route`] (resume,
//! stop). Object side: [`StreamCore`], which `entry.mjs`'s `EdgechatStream` class delegates to. The worker talks to
//! the object over internal requests: `POST /start` (JSON [`StartMsg`]), `GET /events` and `POST /stop` (owner in
//! the `x-edgechat-owner` header, JSON).

use std::cell::RefCell;
use std::rc::Rc;

use edgechat::provider::{build_request, StreamDecoder};
use edgechat::StreamError;
use js_sys::{Object, Promise, Reflect};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, spawn_local, JsFuture};
use web_sys::{Request, Response};

use super::js::{call_async, console_log, get_obj, get_str, js_error, now_ms, response, sleep, stream_response, ChunkReader, Read, Writer};
use super::store::{CacheStore, LimiterStore};
use super::upstream::{self, Body, Stats, Upstream};
use super::Ctx;
use crate::cache::{CachedAnswer, SemanticEntry, SemanticIndex};
use crate::chat::{self, PreparedChat};
use crate::config::{Config, Env};
use crate::error::{scrub, ApiError};
use crate::events::{encode_sse, round_usd, ErrorInfo, Outcome, Producer, WidgetEvent};
use crate::limiter::Op;
use crate::log::LogLine;
use crate::resume::{self, Owner, Snapshot, StopAnswer, StopState, StreamAction, StreamLog, StreamSettings};

const OWNER_HEADER: &str = "x-edgechat-owner";
const ID_HEADER: &str = "x-edgechat-stream-id";
/// While generating, the object wakes itself this often so the runtime keeps it in memory without clients.
const HEARTBEAT_MS: u64 = 30_000;
/// Largest storage value written (the runtime's limit is 128 KiB).
const STORAGE_PIECE: usize = 100_000;

/// What the worker hands the object to start a stream.
#[derive(Serialize, Deserialize)]
pub(crate) struct StartMsg {
    stream_id: String,
    request_id: String,
    started_ms: u64,
    /// The client's `/api/chat` body (validated again by the object with the same configuration).
    body: String,
    owner: Owner,
    client: String,
    lease: u64,
    cache: String,
    answer_key: String,
    cacheable: bool,
    semantic: Option<(Vec<f32>, String, SemanticIndex)>,
}

// ---------------------------------------------------------------------------------------------------------------
// Worker side

fn owner_of(ctx: &Ctx) -> Owner {
    Owner { origin: ctx.cors_origin.clone(), site: ctx.principal.site.clone(), subject: ctx.principal.subject.clone() }
}

fn call(obj: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, String> {
    let f: js_sys::Function = Reflect::get(obj, &JsValue::from_str(name))
        .map_err(|e| js_error(&e))?
        .dyn_into()
        .map_err(|_| format!("{name} is not a function"))?;
    let arr = js_sys::Array::new();
    for a in args {
        arr.push(a);
    }
    Reflect::apply(&f, obj, &arr).map_err(|e| js_error(&e))
}

/// Sends one internal request to the object `stub`.
async fn to_object(stub: &JsValue, method: &str, path: &str, headers: &[(&str, String)], body: Option<String>) -> Result<Response, String> {
    let init = Object::new();
    let h = Object::new();
    for (k, v) in headers {
        let _ = Reflect::set(&h, &JsValue::from_str(k), &JsValue::from_str(v));
    }
    let _ = Reflect::set(&init, &"method".into(), &method.into());
    let _ = Reflect::set(&init, &"headers".into(), &h);
    if let Some(b) = body {
        let _ = Reflect::set(&init, &"body".into(), &JsValue::from_str(&b));
    }
    let url = format!("https://streams.internal{path}");
    let resp = call_async(stub, "fetch", &[JsValue::from_str(&url), init.into()]).await?;
    resp.dyn_into::<Response>().map_err(|_| "the stream object did not answer with a Response".to_string())
}

/// Relays the object's answer to the client with this request's headers (CORS, request id).
fn relay(ctx: &Ctx, from: &Response, stream_id: Option<&str>) -> Response {
    let mut h = ctx.headers();
    let headers = from.headers();
    for name in ["content-type", "cache-control", "retry-after", "x-edgechat-cache"] {
        if let Ok(Some(v)) = headers.get(name) {
            h.push((name.into(), v));
        }
    }
    if let Some(id) = stream_id {
        h.push((ID_HEADER.into(), id.into()));
        if ctx.cors_origin.is_some() {
            h.push(("access-control-expose-headers".into(), ID_HEADER.into()));
        }
    }
    let init = web_sys::ResponseInit::new();
    init.set_status(from.status());
    if let Ok(hs) = web_sys::Headers::new() {
        for (k, v) in &h {
            let _ = hs.append(k, v);
        }
        init.set_headers(&hs);
    }
    Response::new_with_opt_readable_stream_and_init(from.body().as_ref(), &init).unwrap_or_else(|_| Response::error())
}

/// Starts `/api/chat` in a new stream object and streams its events to the client. The object writes the
/// request's log line and releases the limiter lease when the stream ends.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn start(
    mut ctx: Ctx,
    ns: JsValue,
    body: &[u8],
    lease: u64,
    answer_key: String,
    cacheable: bool,
    semantic: Option<(Vec<f32>, String, SemanticIndex)>,
) -> Response {
    let made = call(&ns, "newUniqueId", &[]).and_then(|id| {
        let stream_id = call(&id, "toString", &[])?.as_string().unwrap_or_default();
        Ok((stream_id, call(&ns, "get", &[id])?))
    });
    let (stream_id, stub) = match made {
        Ok(x) => x,
        Err(e) => return object_failed(ctx, lease, &e).await,
    };
    let msg = StartMsg {
        stream_id: stream_id.clone(),
        request_id: ctx.request_id.clone(),
        started_ms: ctx.started_ms,
        body: String::from_utf8_lossy(body).into_owned(),
        owner: owner_of(&ctx),
        client: ctx.log.client.clone(),
        lease,
        cache: ctx.log.cache.to_string(),
        answer_key,
        cacheable,
        semantic,
    };
    let json = serde_json::to_string(&msg).unwrap_or_default();
    match to_object(&stub, "POST", "/start", &[("content-type", "application/json".into())], Some(json)).await {
        Ok(r) => {
            let ok = r.status() == 200;
            ctx.log.status = r.status();
            relay(&ctx, &r, ok.then_some(stream_id.as_str()))
        }
        Err(e) => object_failed(ctx, lease, &e).await,
    }
}

async fn object_failed(mut ctx: Ctx, lease: u64, e: &str) -> Response {
    console_log(&ctx.scrub(&format!("{{\"request_id\":\"{}\",\"stream_object_error\":{:?}}}", ctx.request_id, e)));
    ctx.release(lease, 0, 0.0).await;
    ctx.error(&ApiError::internal())
}

/// `GET /api/chat/streams/{id}` and `POST /api/chat/streams/{id}/stop`.
pub(crate) async fn route(mut ctx: Ctx, id: &str, action: StreamAction, last_event_id: Option<String>) -> Response {
    let Some(ns) = ctx.streams.clone() else {
        return ctx.error(&ApiError::new(
            404,
            "not_found",
            "resumable streams are not enabled on this edge (no STREAMS Durable Object is bound)",
        ));
    };
    let after = match resume::parse_last_event_id(last_event_id.as_deref()) {
        Ok(n) => n,
        Err(e) => return ctx.error(&e),
    };
    // An id this namespace never made does not parse: the same 404 as an unknown stream.
    let stub = match call(&ns, "idFromString", &[JsValue::from_str(id)]).and_then(|i| call(&ns, "get", &[i])) {
        Ok(s) => s,
        Err(_) => return ctx.error(&resume::stream_not_found()),
    };
    let owner = serde_json::to_string(&owner_of(&ctx)).unwrap_or_default();
    let (method, path) = match action {
        StreamAction::Resume => ("GET", format!("/events?after={after}")),
        StreamAction::Stop => ("POST", "/stop".to_string()),
    };
    let headers = [(OWNER_HEADER, owner), ("x-request-id", ctx.request_id.clone())];
    match to_object(&stub, method, &path, &headers, None).await {
        Ok(r) => {
            ctx.log.status = r.status();
            ctx.log.outcome = if r.status() < 300 { "complete" } else { "error" };
            if r.status() >= 300 {
                ctx.log.error = Some(format!("stream_{}", r.status()));
            }
            ctx.write_log();
            relay(&ctx, &r, (r.status() == 200).then_some(id))
        }
        Err(e) => {
            console_log(&ctx.scrub(&format!("{{\"request_id\":\"{}\",\"stream_object_error\":{:?}}}", ctx.request_id, e)));
            ctx.error(&ApiError::internal())
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Object side

#[derive(Default)]
struct State {
    stream_id: String,
    log: Option<StreamLog>,
    owner: Owner,
    stop: StopState,
    /// Resolve functions of clients waiting for the next event.
    waiters: Vec<js_sys::Function>,
    /// Resolves the pump's stop promise (to `undefined`, which `read_timed` reads as "gone").
    stop_signal: Option<js_sys::Function>,
    /// Idle time after which a client gets a `: ping` comment (not part of the log).
    keepalive_ms: u32,
}

impl State {
    /// A promise that resolves when the log changes (next event or end).
    fn changed(&mut self) -> Promise {
        let waiters = &mut self.waiters;
        Promise::new(&mut |resolve, _| waiters.push(resolve))
    }

    fn notify(&mut self) {
        for w in self.waiters.drain(..) {
            let _ = w.call1(&JsValue::NULL, &JsValue::TRUE);
        }
    }
}

type Shared = Rc<RefCell<State>>;

/// The stream object's core, exported to `entry.mjs`'s `EdgechatStream` class.
#[wasm_bindgen]
pub struct StreamCore {
    state: Shared,
    env: JsValue,
    storage: Option<JsValue>,
}

#[wasm_bindgen]
impl StreamCore {
    /// One per object: `state` is the Durable Object state, `env` the bindings.
    #[wasm_bindgen(constructor)]
    pub fn new(state: JsValue, env: JsValue) -> StreamCore {
        StreamCore { state: Rc::default(), storage: get_obj(&state, "storage"), env }
    }

    /// Handles one internal request from the worker.
    pub fn fetch(&self, req: Request) -> Promise {
        let (state, env, storage) = (self.state.clone(), self.env.clone(), self.storage.clone());
        future_to_promise(async move { Ok(object_fetch(state, env, storage, req).await.into()) })
    }

    /// The alarm: a heartbeat while generating, then the end of the retention time (forget the stream).
    pub fn alarm(&self) -> Promise {
        let (state, storage) = (self.state.clone(), self.storage.clone());
        future_to_promise(async move {
            let Some(storage) = storage else { return Ok(JsValue::UNDEFINED) };
            if state.borrow().log.is_none() {
                restore(&state, &storage).await;
            }
            let (running, expires) = match state.borrow().log.as_ref() {
                Some(l) => (!l.is_ended(), l.expires_at_ms()),
                None => (false, None),
            };
            let now = now_ms();
            match expires {
                _ if running => set_alarm(&storage, now + HEARTBEAT_MS).await,
                Some(at) if now < at => set_alarm(&storage, at).await,
                _ => {
                    state.borrow_mut().log = None;
                    let _ = call_async(&storage, "deleteAll", &[]).await;
                }
            }
            Ok(JsValue::UNDEFINED)
        })
    }
}

fn json_error(e: &ApiError, request_id: &str) -> Response {
    let mut h = vec![("content-type".to_string(), "application/json".to_string())];
    if let Some(s) = e.retry_after_s {
        h.push(("retry-after".into(), s.to_string()));
    }
    response(e.status, &h, &e.body(request_id))
}

fn environment(env: &JsValue) -> (Env, Vec<String>) {
    let vars = Env::from_pairs(Env::NAMES.iter().filter_map(|n| get_str(env, n).map(|v| (*n, v))));
    let secrets = vars.secrets();
    (vars, secrets)
}

async fn object_fetch(state: Shared, env: JsValue, storage: Option<JsValue>, req: Request) -> Response {
    let url = req.url();
    let path = url.split_once("://").and_then(|(_, r)| r.find('/').map(|i| r[i..].to_string())).unwrap_or_default();
    let header = |n: &str| req.headers().get(n).ok().flatten();
    let request_id = header("x-request-id").unwrap_or_default();
    if path == "/start" {
        let text = match req.text().map(JsFuture::from) {
            Ok(p) => p.await.ok().and_then(|v| v.as_string()).unwrap_or_default(),
            Err(_) => String::new(),
        };
        return match serde_json::from_str::<StartMsg>(&text) {
            Ok(msg) => begin(state, env, storage, msg).await,
            Err(e) => json_error(&ApiError::new(500, "internal", format!("bad start message: {e}")), &request_id),
        };
    }
    let owner: Option<Owner> = header(OWNER_HEADER).and_then(|o| serde_json::from_str(&o).ok());
    let missing = state.borrow().log.is_none();
    if let (true, Some(st)) = (missing, storage.as_ref()) {
        restore(&state, st).await; // the object left memory after the stream ended
    }
    let known = {
        let s = state.borrow();
        s.log.as_ref().is_some_and(|l| !l.expired(now_ms())) && owner.as_ref() == Some(&s.owner)
    };
    if !known {
        return json_error(&resume::stream_not_found(), &request_id);
    }
    if path == "/stop" {
        return stop(state, &request_id).await;
    }
    let after = path.strip_prefix("/events?after=").and_then(|n| n.parse::<u64>().ok());
    let Some(after) = after else {
        return json_error(&ApiError::new(404, "not_found", "no such stream route"), &request_id);
    };
    let (check, preamble) = {
        let s = state.borrow();
        let log = s.log.as_ref().expect("checked above");
        (log.after(after).map(|_| ()), log.settings().preamble())
    };
    if let Err(e) = check {
        return json_error(&e.api_error(after), &request_id);
    }
    subscribe(state, after, preamble)
}

/// A streaming response that replays the log after `after`, then follows it live until the stream ends.
fn subscribe(state: Shared, after: u64, preamble: String) -> Response {
    let headers = vec![
        ("content-type".to_string(), "text/event-stream; charset=utf-8".to_string()),
        ("cache-control".into(), "no-cache, no-transform".into()),
    ];
    let (resp, writer) = match stream_response(200, &headers) {
        Ok(x) => x,
        Err(_) => return json_error(&ApiError::internal(), ""),
    };
    let keepalive = state.borrow().keepalive_ms;
    spawn_local(serve(state, writer, after, preamble, keepalive));
    resp
}

async fn serve(state: Shared, mut writer: Writer, mut cursor: u64, preamble: String, keepalive_ms: u32) {
    if !writer.write(preamble.as_bytes()).await {
        return;
    }
    loop {
        let (bytes, wait) = {
            let mut s = state.borrow_mut();
            let Some(log) = s.log.as_ref() else { break };
            match log.after(cursor) {
                Err(_) => break,
                Ok(r) if !r.bytes.is_empty() => {
                    cursor = r.last_id;
                    (Some(r.bytes), None)
                }
                Ok(r) if r.finished => break,
                Ok(_) => (None, Some(s.changed())),
            }
        };
        if let Some(b) = bytes {
            if !writer.write(b.as_bytes()).await {
                return;
            }
        }
        if let Some(w) = wait {
            let ping = future_to_promise(async move {
                sleep(u64::from(keepalive_ms.max(1))).await;
                Ok(JsValue::FALSE)
            });
            let race = js_sys::Array::of3(&w, &writer.closed, &ping);
            let v = JsFuture::from(Promise::race(&race)).await.unwrap_or(JsValue::UNDEFINED);
            if v.is_undefined() {
                return; // the client went away; generation goes on
            }
            // Keep-alive comment while the stream is idle; it also finds clients that went away.
            if v == JsValue::FALSE && !writer.write(b": ping\n\n").await {
                return;
            }
        }
    }
    writer.close().await;
}

async fn stop(state: Shared, request_id: &str) -> Response {
    let (answer, id) = {
        let mut s = state.borrow_mut();
        let answer = s.stop.request_stop();
        if answer == StopAnswer::Stopped {
            if let Some(f) = s.stop_signal.take() {
                let _ = f.call0(&JsValue::NULL);
            }
        }
        (answer, s.stream_id.clone())
    };
    // Answer once the stream has ended, so the client can resume and read the final events at once.
    loop {
        let wait = {
            let mut s = state.borrow_mut();
            if s.log.as_ref().is_none_or(StreamLog::is_ended) {
                break;
            }
            s.changed()
        };
        let _ = JsFuture::from(wait).await;
    }
    let h = vec![("content-type".to_string(), "application/json".to_string()), ("x-request-id".into(), request_id.into())];
    response(200, &h, &answer.body(&id))
}

/// Context of one stream run inside the object.
struct Run {
    state: Shared,
    env: JsValue,
    storage: Option<JsValue>,
    config: Config,
    secrets: Vec<String>,
    msg: StartMsg,
    log: LogLine,
}

impl Run {
    fn scrub(&self, s: &str) -> String {
        scrub(s, &self.secrets)
    }

    fn write_log(&mut self) {
        self.log.duration_ms = now_ms().saturating_sub(self.msg.started_ms);
        console_log(&self.scrub(&self.log.to_json()));
    }

    async fn release(&self, tokens: u64, spend_usd: f64) {
        let key = self.msg.client.clone();
        let op = Op::Release { key: key.clone(), lease: self.msg.lease, tokens, spend_usd, now_ms: now_ms() };
        if let Err(e) = LimiterStore::from_env(&self.env).apply(&key, op).await {
            console_log(&format!("{{\"request_id\":\"{}\",\"limiter_error\":{:?}}}", self.msg.request_id, e));
        }
    }

    /// Appends one event to the log and wakes the clients.
    fn emit(&self, ev: &WidgetEvent) {
        let mut s = self.state.borrow_mut();
        if let Some(log) = s.log.as_mut() {
            if !log.push(ev.id, encode_sse(ev)) {
                console_log(&format!("{{\"request_id\":\"{}\",\"stream_log_refused\":{}}}", self.msg.request_id, ev.id));
            }
        }
        s.notify();
    }
}

/// `POST /start`: sends upstream (retries, fallback), then answers with the live stream while the pump runs on.
async fn begin(state: Shared, env: JsValue, storage: Option<JsValue>, msg: StartMsg) -> Response {
    let request_id = msg.request_id.clone();
    if state.borrow().log.is_some() {
        return json_error(&ApiError::new(500, "internal", "this stream was already started"), &request_id);
    }
    let (vars, secrets) = environment(&env);
    let ready = Config::from_env(&vars)
        .map_err(|e| ApiError::new(500, "internal", scrub(&e.to_string(), &secrets)))
        .and_then(|c| {
            let s = StreamSettings::from_var(get_str(&env, "EDGECHAT_STREAMS").as_deref())
                .map_err(|e| ApiError::new(500, "internal", e))?;
            let p = chat::prepare(&c, msg.body.as_bytes())?;
            Ok((c, s, p))
        });
    let (config, settings, prepared) = match ready {
        Ok(x) => x,
        Err(e) => {
            console_log(&format!("{{\"request_id\":\"{request_id}\",\"stream_start_error\":{:?}}}", e.message));
            let op = Op::Release { key: msg.client.clone(), lease: msg.lease, tokens: 0, spend_usd: 0.0, now_ms: now_ms() };
            let _ = LimiterStore::from_env(&env).apply(&msg.client, op).await;
            return json_error(&e, &request_id);
        }
    };
    let log = LogLine {
        request_id: request_id.clone(),
        route: "/api/chat".into(),
        client: msg.client.clone(),
        alias: Some(prepared.alias.clone()),
        cache: match msg.cache.as_str() {
            "miss" => "miss",
            _ => "bypass",
        },
        limiter: LimiterStore::from_env(&env).name(),
        outcome: "error",
        ..LogLine::default()
    };
    let mut run = Run { state: state.clone(), env, storage, config, secrets, msg, log };
    let chain = upstream::chain(&run.config, &prepared.alias);
    let mut stats = Stats::default();
    let config = run.config.clone();
    let result = upstream::send(&config, &chain, true, run.msg.started_ms, &mut stats, |entry| {
        build_request(&config.provider(entry.provider), &prepared.request_for(&config, entry)).ok()
    })
    .await;
    run.log.attempts = stats.attempts;
    run.log.ttfb_ms = stats.ttfb_ms;
    let up = match result {
        Ok(up) => up,
        Err(f) => {
            run.log.provider = Some(f.entry.provider.as_str().into());
            run.log.model = Some(f.entry.model.clone());
            run.log.error = Some(format!("{}:{}", f.error.status, run.scrub(&f.error.message)));
            let e = super::upstream_api_error(&f, &run.scrub(&f.error.message));
            run.log.status = e.status;
            run.release(0, 0.0).await;
            run.write_log();
            return json_error(&e, &request_id);
        }
    };
    run.log.provider = Some(up.entry.provider.as_str().into());
    run.log.model = Some(up.entry.model.clone());
    run.log.status = 200;
    let stop = {
        let mut s = state.borrow_mut();
        s.stream_id = run.msg.stream_id.clone();
        s.owner = run.msg.owner.clone();
        s.log = Some(StreamLog::new(settings.clone()));
        s.keepalive_ms = run.config.limits.keepalive_ms;
        let signal = &mut s.stop_signal;
        Promise::new(&mut |resolve, _| *signal = Some(resolve))
    };
    if let Some(st) = &run.storage {
        set_alarm(st, now_ms() + HEARTBEAT_MS).await;
    }
    spawn_local(pump(run, up, prepared, stop));
    subscribe(state, 0, settings.preamble())
}

/// What the read loop ended with.
enum Step {
    Continue,
    Stopped,
    Failed(ErrorInfo),
}

async fn pump(mut run: Run, up: Upstream, prepared: PreparedChat, stop: Promise) {
    let Upstream { abort, body, alias, entry, .. } = up;
    let mut producer = Producer::new();
    let mut decoder = StreamDecoder::new(entry.provider);
    let mut answer = CachedAnswer::new(entry.provider.as_str(), &entry.model);
    let mut start = producer.start(&run.msg.request_id, &run.msg.stream_id, &alias, entry.provider.as_str());
    start.data["resumable"] = Value::Bool(true);
    run.emit(&start);
    let (mut reader, first): (Option<ChunkReader>, Option<Vec<u8>>) = match body {
        Body::Stream { reader, first } => (Some(reader), first),
        Body::Full(b) => (None, Some(b)),
    };
    let mut step = Step::Continue;
    if let Some(chunk) = first.as_ref() {
        decoder.feed(chunk);
        step = drain(&run, &mut decoder, &mut producer, &mut answer);
    }
    let stall = run.config.limits.stall_timeout_ms;
    let mut ended = first.is_none() || reader.is_none();
    while matches!(step, Step::Continue) && !producer.is_done() && !ended {
        if run.state.borrow().stop.stopping() {
            step = Step::Stopped;
            break;
        }
        let reader = reader.as_mut().expect("checked by `ended`");
        match reader.read(stall, Some(&stop)).await {
            Read::Chunk(c) => {
                decoder.feed(&c);
                step = drain(&run, &mut decoder, &mut producer, &mut answer);
            }
            Read::Done | Read::Failed(_) => ended = true,
            Read::Timeout => step = Step::Failed(ErrorInfo::stalled(stall)),
            Read::Gone => step = Step::Stopped,
        }
    }
    if matches!(step, Step::Continue) && !producer.is_done() {
        decoder.finish();
        step = drain(&run, &mut decoder, &mut producer, &mut answer);
        if matches!(step, Step::Continue) && !producer.is_done() {
            step = Step::Failed(ErrorInfo::from_stream_error(&StreamError::Truncated, |s| scrub(s, &run.secrets)));
        }
    }
    if let Some(r) = &reader {
        r.cancel();
    }
    if !producer.is_done() {
        abort.abort(); // the upstream sees the connection close
    }
    let (usage, estimated) = producer.usage(prepared.prompt_chars);
    let cost = run.config.pricing.cost(&entry.model, &usage).map(round_usd);
    let (events, outcome) = match &step {
        Step::Failed(e) => {
            run.log.error = Some(e.kind.clone());
            (producer.fail(e, usage, estimated, cost), if e.truncated { Outcome::Truncated } else { Outcome::Error }.as_str())
        }
        Step::Continue => (producer.finish(usage, estimated, cost), Outcome::Complete.as_str()),
        Step::Stopped => {
            let saw_stop = answer.stop.is_some();
            let mut events = producer.finish(usage, estimated, cost);
            if let Some(done) = events.iter_mut().find(|e| e.name == "done") {
                done.data["stopped"] = Value::Bool(true);
                if !saw_stop {
                    done.data["stop_reason"] = Value::Null;
                }
            }
            (events, "stopped")
        }
    };
    for ev in &events {
        run.emit(ev);
    }
    let expires = {
        let mut s = run.state.borrow_mut();
        s.stop = StopState::Ended;
        s.stop_signal = None;
        let log = s.log.as_mut().expect("set by begin");
        log.end(now_ms());
        s.notify();
        s.log.as_ref().and_then(StreamLog::expires_at_ms)
    };
    if let (Some(storage), Some(at)) = (&run.storage, expires) {
        persist(&run, storage).await;
        // Wake up after the retention time to forget the stream (requests also check the time themselves).
        set_alarm(storage, at).await;
    }
    run.log.outcome = outcome;
    run.log.set_usage(&usage, estimated);
    run.log.cost_usd = cost;
    if matches!(step, Step::Continue) && (run.msg.cacheable || run.msg.semantic.is_some()) {
        save(&run, answer).await;
    }
    run.release(usage.total_input_tokens() + usage.output_tokens, cost.unwrap_or(0.0)).await;
    run.write_log();
}

fn drain(run: &Run, decoder: &mut StreamDecoder, producer: &mut Producer, answer: &mut CachedAnswer) -> Step {
    while let Some(item) = decoder.next_event() {
        match item {
            Ok(ev) => {
                answer.push(&ev);
                if let Some(we) = producer.push(&ev) {
                    run.emit(&we);
                }
            }
            Err(e) => return Step::Failed(ErrorInfo::from_stream_error(&e, |s| scrub(s, &run.secrets))),
        }
    }
    Step::Continue
}

/// Stores a complete answer in the response cache (as the stateless path does).
async fn save(run: &Run, answer: CachedAnswer) {
    let cache = CacheStore::from_env(&run.env);
    let ttl = run.config.cache.ttl_seconds;
    if !answer.complete {
        return;
    }
    let json = serde_json::to_string(&answer).unwrap_or_default();
    if let Err(e) = cache.put(&format!("ans:{}", run.msg.answer_key), &json, ttl).await {
        console_log(&format!("{{\"request_id\":\"{}\",\"cache_error\":{:?}}}", run.msg.request_id, e));
        return;
    }
    if let Some((vector, index_key, index)) = &run.msg.semantic {
        let mut index = index.clone();
        let entry = SemanticEntry { embedding: vector.clone(), key: run.msg.answer_key.clone() };
        index.insert(entry, run.config.cache.semantic.max_entries);
        let json = serde_json::to_string(&index).unwrap_or_default();
        if let Err(e) = cache.put(index_key, &json, ttl).await {
            console_log(&format!("{{\"request_id\":\"{}\",\"cache_error\":{:?}}}", run.msg.request_id, e));
        }
    }
}

async fn set_alarm(storage: &JsValue, at_ms: u64) {
    if let Err(e) = call_async(storage, "setAlarm", &[JsValue::from_f64(at_ms as f64)]).await {
        console_log(&format!("{{\"stream_alarm_error\":{e:?}}}"));
    }
}

/// Stores the finished stream (in pieces under the value size limit) so it outlives the object's memory.
async fn persist(run: &Run, storage: &JsValue) {
    let json = {
        let s = run.state.borrow();
        let Some(log) = s.log.as_ref() else { return };
        serde_json::to_string(&log.snapshot(&s.stream_id, &s.owner)).unwrap_or_default()
    };
    let pieces = resume::split_utf8(&json, STORAGE_PIECE);
    if pieces.len() > 120 {
        console_log(&format!("{{\"request_id\":\"{}\",\"stream_not_persisted\":{}}}", run.msg.request_id, json.len()));
        return;
    }
    let entries = Object::new();
    let _ = Reflect::set(&entries, &"meta".into(), &JsValue::from_f64(pieces.len() as f64));
    for (i, p) in pieces.iter().enumerate() {
        let _ = Reflect::set(&entries, &JsValue::from_str(&format!("p{i}")), &JsValue::from_str(p));
    }
    if let Err(e) = call_async(storage, "put", &[entries.into()]).await {
        console_log(&format!("{{\"request_id\":\"{}\",\"stream_persist_error\":{e:?}}}", run.msg.request_id));
    }
}

/// Loads a stored stream into memory, if there is one.
async fn restore(state: &Shared, storage: &JsValue) {
    let Ok(n) = call_async(storage, "get", &[JsValue::from_str("meta")]).await else { return };
    let Some(n) = n.as_f64().filter(|n| *n >= 1.0 && *n <= 120.0) else { return };
    let mut json = String::new();
    for i in 0..n as usize {
        match call_async(storage, "get", &[JsValue::from_str(&format!("p{i}"))]).await.ok().and_then(|v| v.as_string()) {
            Some(p) => json.push_str(&p),
            None => return,
        }
    }
    let Some(snap) = serde_json::from_str::<Snapshot>(&json).ok() else { return };
    let (stream_id, owner) = (snap.stream_id.clone(), snap.owner.clone());
    let Some(log) = StreamLog::restore(snap) else { return };
    let mut s = state.borrow_mut();
    if s.log.is_none() {
        s.stream_id = stream_id;
        s.owner = owner;
        s.stop = StopState::Ended;
        s.log = Some(log);
    }
}
