//! The stream object's in-memory state, shared by its routes, the run and the relays.

use std::cell::RefCell;
use std::rc::Rc;
use std::task::{Context, Waker};

use wasm_bindgen::JsValue;
use web_sys::Response;

use crate::error::ApiError;
use crate::resume::{Owner, StopState, StreamLog};
use crate::rt::js::{call_async, console_log, response};
use crate::rt::wait::Signal;

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
pub(super) fn poll_changed(state: &Shared, seen: u64, cx: &Context<'_>) -> bool {
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

pub(super) fn json_error(e: &ApiError, request_id: &str) -> Response {
    let mut h = vec![("content-type".to_string(), "application/json".to_string())];
    if let Some(s) = e.retry_after_s {
        h.push(("retry-after".into(), s.to_string()));
    }
    response(e.status, &h, &e.body(request_id))
}

/// Sets the object's alarm (heartbeat, or the end of retention).
pub(super) async fn set_alarm(storage: &JsValue, at_ms: u64) {
    if let Err(e) = call_async(storage, "setAlarm", &[JsValue::from_f64(at_ms as f64)]).await {
        console_log(&crate::log::incident("", "stream_alarm_error", e));
    }
}
