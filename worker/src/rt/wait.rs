//! Waiting without a promise per wait: a one-shot [`Signal`] (client gone, stop) and a deadline [`Timer`] whose
//! callback is made once, both polled from Rust futures. A stream's read loop keeps one of each for its whole life,
//! so an upstream chunk costs one `reader.read()` and one `setTimeout`, and no `Promise.race` or closure
//! allocation.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::task::{Context, Waker};

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    pub(super) fn set_timeout(cb: &js_sys::Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
}

/// Milliseconds since the Unix epoch, as the runtime's clock reports them.
pub fn now() -> f64 {
    js_sys::Date::now()
}

/// A flag that is set once (the client went away, a stop was asked) and wakes the task waiting on it.
#[derive(Clone, Default)]
pub struct Signal(Rc<SignalInner>);

#[derive(Default)]
struct SignalInner {
    set: Cell<bool>,
    waker: RefCell<Option<Waker>>,
    /// The request signal whose `abort` sets this one, and its listener (removed when the last clone goes).
    source: RefCell<Option<AbortSource>>,
}

type AbortSource = (web_sys::AbortSignal, Closure<dyn FnMut()>);

impl Drop for SignalInner {
    fn drop(&mut self) {
        if let Some((abort, _)) = self.source.get_mut() {
            abort.set_onabort(None);
        }
    }
}

impl Signal {
    /// A signal that is set when `abort` aborts (or already is).
    pub fn from_abort(abort: web_sys::AbortSignal) -> Signal {
        let signal = Signal::default();
        if abort.aborted() {
            signal.fire();
            return signal;
        }
        let weak = Rc::downgrade(&signal.0);
        let listener = Closure::<dyn FnMut()>::new(move || {
            if let Some(s) = weak.upgrade() {
                Signal(s).fire();
            }
        });
        abort.set_onabort(Some(listener.as_ref().unchecked_ref()));
        *signal.0.source.borrow_mut() = Some((abort, listener));
        signal
    }

    /// Sets the flag and wakes the waiting task.
    pub fn fire(&self) {
        self.0.set.set(true);
        if let Some(w) = self.0.waker.borrow_mut().take() {
            w.wake();
        }
    }

    /// Whether [`Signal::fire`] was called.
    pub fn is_set(&self) -> bool {
        self.0.set.get()
    }

    /// `true` once set; otherwise wakes `cx`'s task when it is.
    pub fn poll_set(&self, cx: &Context<'_>) -> bool {
        if self.is_set() {
            return true;
        }
        *self.0.waker.borrow_mut() = Some(cx.waker().clone());
        false
    }
}

/// One pending `setTimeout` at a time, re-armed lazily: moving the deadline later costs nothing (the timer fires
/// early, once, and is set again for the rest); only a deadline earlier than the armed one replaces it. Dropping it
/// clears the pending timeout.
pub struct Timer {
    inner: Rc<TimerInner>,
    callback: Closure<dyn FnMut()>,
}

struct TimerInner {
    /// When the pending timeout fires (ms since the epoch); NaN when none is pending.
    armed_for: Cell<f64>,
    id: RefCell<JsValue>,
    waker: RefCell<Option<Waker>>,
}

impl Default for Timer {
    fn default() -> Self {
        let inner = Rc::new(TimerInner {
            armed_for: Cell::new(f64::NAN),
            id: RefCell::new(JsValue::UNDEFINED),
            waker: RefCell::default(),
        });
        let fired = inner.clone();
        let callback = Closure::<dyn FnMut()>::new(move || {
            fired.armed_for.set(f64::NAN);
            if let Some(w) = fired.waker.borrow_mut().take() {
                w.wake();
            }
        });
        Timer { inner, callback }
    }
}

impl Timer {
    /// `true` once `at` (ms since the epoch) has passed; otherwise makes sure a timeout wakes `cx`'s task by then.
    pub fn poll_until(&self, at: f64, cx: &Context<'_>) -> bool {
        let now = now();
        if now >= at {
            return true;
        }
        let armed = self.inner.armed_for.get();
        if armed.is_nan() || armed > at {
            if !armed.is_nan() {
                clear_timeout(&self.inner.id.borrow());
            }
            *self.inner.id.borrow_mut() = set_timeout(self.callback.as_ref().unchecked_ref(), at - now);
            self.inner.armed_for.set(at);
        }
        *self.inner.waker.borrow_mut() = Some(cx.waker().clone());
        false
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        // The callback is freed with `self`: the runtime must not call it afterwards.
        if !self.inner.armed_for.get().is_nan() {
            clear_timeout(&self.inner.id.borrow());
        }
    }
}
