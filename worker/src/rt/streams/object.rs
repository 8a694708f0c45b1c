//! The stream object (`EdgechatStream`): state, internal routes, clients (replay then live), stop, storage.

use std::rc::Rc;

use std::task::Poll;

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use web_sys::{Request, Response};

use super::relay::subscribe;
use super::state::{json_error, poll_changed, set_alarm, Shared};
use super::{StartMsg, HEARTBEAT_MS, OWNER_HEADER};
use crate::error::ApiError;
use crate::resume::{self, Owner, Snapshot, StopAnswer, StopState, StreamLog};
use crate::rt::js::{call_async, client_gone, get_obj, now_ms, response};

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
    let h =
        vec![("content-type".to_string(), "application/json".to_string()), ("x-request-id".into(), request_id.into())];
    response(200, &h, &answer.body(&id))
}

/// Stores the finished stream (in pieces under the value size limit) so it outlives the object's memory.
/// Loads a stored stream into memory, if there is one.
async fn restore(state: &Shared, storage: &JsValue) {
    let Ok(n) = call_async(storage, "get", &[JsValue::from_str("meta")]).await else { return };
    let Some(n) = n.as_f64().filter(|n| *n >= 1.0 && *n <= 120.0) else { return };
    let mut json = String::new();
    for i in 0..n as usize {
        match call_async(storage, "get", &[JsValue::from_str(&format!("p{i}"))]).await.ok().and_then(|v| v.as_string())
        {
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
