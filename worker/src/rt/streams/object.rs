//! The stream object (`EdgechatStream`): state, internal routes, clients (replay then live), stop, storage.

use std::cell::RefCell;
use std::rc::Rc;

use std::task::{Context, Poll, Waker};

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, spawn_local, JsFuture};
use web_sys::{Request, Response};

use super::{StartMsg, HEARTBEAT_MS, OWNER_HEADER};
use crate::config::Env;
use crate::error::ApiError;
use crate::resume::{self, Owner, Snapshot, StopAnswer, StopState, StreamLog};
use crate::rt::js::{call_async, client_gone, console_log, get_obj, get_str, now_ms, response, stream_response, Writer, WRITE_GIVE_UP_MS};
use crate::rt::wait::{now, Signal, Timer};

#[derive(Default)]
pub(super) struct State {
    pub(super) stream_id: String,
    pub(super) log: Option<StreamLog>,
    pub(super) owner: Owner,
    pub(super) stop: StopState,
    /// Tasks waiting for the log to change (clients, stop requests).
    pub(super) waiters: Vec<Waker>,
    /// Bumped on every change of the log.
    pub(super) version: u64,
    /// Set to stop the pump (its upstream read then ends with `Read::Gone`).
    pub(super) stop_signal: Option<Signal>,
    /// Idle time after which a client gets a `: ping` comment (not part of the log).
    pub(super) keepalive_ms: u32,
}

impl State {
    pub(super) fn notify(&mut self) {
        self.version += 1;
        for w in self.waiters.drain(..) {
            w.wake();
        }
    }
}

/// `true` once the log changed after `seen` ([`State::version`]); otherwise wakes `cx`'s task when it does.
fn poll_changed(state: &Shared, seen: u64, cx: &Context<'_>) -> bool {
    let mut s = state.borrow_mut();
    if s.version != seen {
        return true;
    }
    if !s.waiters.iter().any(|w| w.will_wake(cx.waker())) {
        s.waiters.push(cx.waker().clone());
    }
    false
}

pub(super) type Shared = Rc<RefCell<State>>;

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

pub(super) fn json_error(e: &ApiError, request_id: &str) -> Response {
    let mut h = vec![("content-type".to_string(), "application/json".to_string())];
    if let Some(s) = e.retry_after_s {
        h.push(("retry-after".into(), s.to_string()));
    }
    response(e.status, &h, &e.body(request_id))
}

pub(super) fn environment(env: &JsValue) -> (Env, Vec<String>) {
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
            Ok(msg) => super::run::begin(state, env, storage, msg, client_gone(&req)).await,
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
        s.log.as_ref().is_some_and(|l| !l.expired(now_ms())) && owner.as_ref().is_some_and(|o| s.owner.admits(o))
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
    subscribe(state, after, preamble, client_gone(&req), request_id)
}

/// A streaming response that replays the log after `after`, then follows it live until the stream ends or the
/// client goes away. `request_id` (of the request that opened it) names the relay in its log line.
pub(super) fn subscribe(state: Shared, after: u64, preamble: String, gone: Signal, request_id: String) -> Response {
    let headers = vec![
        ("content-type".to_string(), "text/event-stream; charset=utf-8".to_string()),
        ("cache-control".into(), "no-cache, no-transform".into()),
    ];
    let (resp, writer) = match stream_response(200, &headers, &gone) {
        Ok(x) => x,
        Err(_) => return json_error(&ApiError::internal(), ""),
    };
    let keepalive = state.borrow().keepalive_ms;
    spawn_local(serve(state, writer, after, preamble, keepalive, request_id));
    resp
}

async fn serve(state: Shared, mut writer: Writer, mut cursor: u64, preamble: String, keepalive_ms: u32, request_id: String) {
    if !writer.write(preamble.as_bytes()) {
        return;
    }
    let timer = Timer::default();
    let keepalive = f64::from(keepalive_ms.max(1));
    let mut ping_at = now() + keepalive;
    loop {
        let (bytes, seen) = {
            let s = state.borrow();
            let Some(log) = s.log.as_ref() else { break };
            match log.after(cursor) {
                Err(_) => break,
                Ok(r) if !r.bytes.is_empty() => {
                    cursor = r.last_id;
                    (Some(r.bytes), s.version)
                }
                Ok(r) if r.finished => break,
                Ok(_) => (None, s.version),
            }
        };
        if let Some(b) = bytes {
            if !deliver(&mut writer, b.as_bytes(), keepalive, &timer, &state, &request_id, cursor).await {
                return; // the writer is dropped: aborted, as the client is gone
            }
            ping_at = now() + keepalive;
            continue;
        }
        // Wait for the next event, the client leaving, or the keep-alive time (one timer, re-armed lazily).
        let woke = std::future::poll_fn(|cx| {
            if poll_changed(&state, seen, cx) {
                Poll::Ready(Wake::Changed)
            } else if writer.gone.poll_set(cx) {
                Poll::Ready(Wake::Gone)
            } else if timer.poll_until(ping_at, cx) {
                Poll::Ready(Wake::Ping)
            } else {
                Poll::Pending
            }
        })
        .await;
        match woke {
            Wake::Changed => {}
            Wake::Gone => return, // the client went away; generation goes on
            // Keep-alive comment while the stream is idle; it also finds clients that went away.
            Wake::Ping => {
                if !deliver(&mut writer, b": ping\n\n", keepalive, &timer, &state, &request_id, cursor).await {
                    return;
                }
                ping_at = now() + keepalive;
            }
        }
    }
    writer.close();
}

/// Writes `bytes` (events or a ping) and waits until the client has taken them; `false` when it is gone. A client
/// that takes nothing of a write for WRITE_GIVE_UP_MS counts as gone, as in the stateless pumps: workerd may leave
/// the write to a client that closed pending forever, firing nothing, and the relay would stay parked on it (that
/// give-up is logged). Generation goes on; a live client resumes from its Last-Event-ID.
async fn deliver(writer: &mut Writer, bytes: &[u8], keepalive: f64, timer: &Timer, state: &Shared, request_id: &str, cursor: u64) -> bool {
    let give_up_at = now() + f64::from(WRITE_GIVE_UP_MS);
    if !writer.write(bytes) {
        return false;
    }
    if writer.ready((now() + keepalive).min(give_up_at), give_up_at, timer).await {
        return true;
    }
    if now() >= give_up_at {
        let id = state.borrow().stream_id.clone();
        console_log(&crate::log::RelayGone { request_id, stream_id: &id, relay: "client_gone", written_through: cursor }.to_json());
    }
    false
}

enum Wake {
    Changed,
    Gone,
    Ping,
}

async fn stop(state: Shared, request_id: &str) -> Response {
    let (answer, id) = {
        let mut s = state.borrow_mut();
        let answer = s.stop.request_stop();
        if answer == StopAnswer::Stopped {
            if let Some(f) = s.stop_signal.take() {
                f.fire();
            }
        }
        (answer, s.stream_id.clone())
    };
    // Answer once the stream has ended, so the client can resume and read the final events at once.
    loop {
        let seen = {
            let s = state.borrow();
            if s.log.as_ref().is_none_or(StreamLog::is_ended) {
                break;
            }
            s.version
        };
        std::future::poll_fn(|cx| if poll_changed(&state, seen, cx) { Poll::Ready(()) } else { Poll::Pending }).await;
    }
    let h = vec![("content-type".to_string(), "application/json".to_string()), ("x-request-id".into(), request_id.into())];
    response(200, &h, &answer.body(&id))
}

/// Context of one stream run inside the object.
pub(super) async fn set_alarm(storage: &JsValue, at_ms: u64) {
    if let Err(e) = call_async(storage, "setAlarm", &[JsValue::from_f64(at_ms as f64)]).await {
        console_log(&crate::log::incident("", "stream_alarm_error", e));
    }
}

/// Stores the finished stream (in pieces under the value size limit) so it outlives the object's memory.
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
