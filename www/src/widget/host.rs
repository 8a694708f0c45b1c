//! The page's side of the widget: what happens in the chat as DOM events on the host element (the `<edge-chat>`
//! element, or the container [`Widget::mount`](super::Widget::mount) was given). Each is a `CustomEvent` that
//! bubbles and is `composed` (it crosses shadow roots), with a plain-object `detail`:
//! - `edgechat:message` `{id, role, text, status}`: a message was sent, or an answer (or a tool step) ended;
//! - `edgechat:usage` `{input_tokens, output_tokens, cache_read_input_tokens, cost_usd, estimated, total, steps}`:
//!   one request's usage (`cost_usd` absent when the price is unknown), and `total` (same fields) over the `steps` of the question's tool loop so far;
//! - `edgechat:error` `{kind, code, message, retryable, retry_after_ms}`: an answer failed or was cut off;
//! - `edgechat:tool-call` `{id, name, arguments, result, is_error}`: a tool call ended (`arguments` and `result`
//!   are JSON text; an error result when it threw, timed out, was declined or not run).

use std::rc::Rc;

use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CustomEvent, EventTarget};

use crate::json::Obj;
use crate::state::{Chat, ChatEvent};

/// Dispatches `chat`'s events on `target` from now on.
pub(super) fn forward(chat: &Chat, target: EventTarget) {
    chat.on_event(Some(Rc::new(move |ev: &ChatEvent<'_>| {
        let (name, detail) = match ev {
            ChatEvent::Message(t) => (
                "message",
                Obj::new()
                    .set("id", t.id)
                    .set("role", if t.role == edgechat::conversation::Role::User { "user" } else { "assistant" })
                    .set("text", t.text.as_str())
                    .set("status", t.status.as_str())
                    .build(),
            ),
            ChatEvent::Usage { step, total, steps } => {
                let d = step.to_json();
                let _ = Reflect::set(&d, &"total".into(), &total.to_json());
                let _ = Reflect::set(&d, &"steps".into(), &(*steps as u32).into());
                ("usage", d)
            }
            ChatEvent::Error(e) => ("error", e.to_json()),
            ChatEvent::ToolCall { call, result } => (
                "tool-call",
                Obj::new()
                    .set("id", call.id.as_str())
                    .set("name", call.name.as_str())
                    .set("arguments", call.arguments.as_str())
                    .set("result", result.content.as_str())
                    .set("is_error", result.is_error)
                    .build(),
            ),
        };
        dispatch(&target, name, &detail);
    })));
}

fn dispatch(target: &EventTarget, name: &str, detail: &JsValue) {
    let init = Obj::new().set("bubbles", true).set("composed", true).set("detail", detail).build();
    if let Ok(ev) = CustomEvent::new_with_event_init_dict(&["edgechat:", name].concat(), init.unchecked_ref()) {
        let _ = super::call(target, "dispatchEvent", &ev);
    }
}
