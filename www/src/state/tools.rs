//! Client tools: functions of the page the model may call (docs/protocol.md, "Client tools"). The widget drives the
//! loop: an answer that ends asking for tools (its `tool_call`s, `done` with `stop_reason: "tool_use"`) has its
//! calls run here, one after the other — each asked for first when its tool wants confirmation, each within its
//! timeout — and their results become the turn's [`ToolResult`]s; then the next step is a new request with the
//! results appended (a new answer turn). At most the edge's `max_steps` steps follow a question; calls beyond are
//! not run. A call that is not run (the limit, a Stop, the user's no, a tool the page does not have, a page closed
//! meanwhile) still gets an error result, so the history always answers every call and the next question can go.
//! On a page without tools nothing runs and the calls stay out of the history, as before client tools.

use std::rc::Rc;

use edgechat::ToolCall;
use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{AbortController, AbortSignal};

use super::events::ChatEvent;
use super::{Chat, Live, Status, Turn};
use crate::api::aborted;
use crate::json::{self, Obj};

/// How long a call may run when its tool sets no `timeout_ms`.
pub const DEFAULT_TIMEOUT_MS: u32 = 30_000;

/// Steps after a question when the edge says none (`client_tools.max_steps` of `GET /api/config`).
pub const DEFAULT_MAX_STEPS: u32 = 5;

/// A tool the page registers: what the model is told (`name`, `description`, the JSON Schema `parameters`) and
/// the function that runs it.
#[derive(Clone)]
pub struct Tool {
    /// Function name (`a-z A-Z 0-9 _ -`, at most 64).
    pub name: String,
    /// What it does, for the model.
    pub description: String,
    /// JSON Schema of the arguments object (`{"type": "object", ...}`).
    pub parameters: JsValue,
    /// Ask the user before each call.
    pub confirm: bool,
    /// How long a call may take (default [`DEFAULT_TIMEOUT_MS`], or the widget's `tool_timeout_ms`).
    pub timeout_ms: Option<u32>,
    /// Called with the parsed arguments; returns the result or a promise of it (JSON-serialized for the model).
    pub run: Function,
}

impl std::fmt::Debug for Tool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tool").field("name", &self.name).field("confirm", &self.confirm).finish_non_exhaustive()
    }
}

impl Tool {
    /// A tool run by a Rust function: `parameters` is the JSON Schema as text, `run` gets the arguments object and
    /// returns a promise of the result (`wasm_bindgen_futures::future_to_promise`).
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        parameters: &str,
        run: impl Fn(JsValue) -> Promise + 'static,
    ) -> Self {
        let run = Closure::<dyn Fn(JsValue) -> Promise>::new(run).into_js_value().unchecked_into();
        let parameters = json::parse(parameters).unwrap_or(JsValue::NULL);
        Self { name: name.into(), description: description.into(), parameters, confirm: false, timeout_ms: None, run }
    }

    /// The page's object `{name, description, parameters, run, confirm?, timeout_ms?}`; `None` without a name or a
    /// `run` function.
    pub fn from_js(v: &JsValue) -> Option<Self> {
        Some(Self {
            name: json::string(v, "name")?,
            description: json::string(v, "description").unwrap_or_default(),
            parameters: json::get(v, "parameters"),
            confirm: json::get(v, "confirm").is_truthy(),
            timeout_ms: json::uint(v, "timeout_ms").map(|n| n.min(u64::from(u32::MAX)) as u32),
            run: json::get(v, "run").dyn_into().ok()?,
        })
    }

    /// What the request's `tools` carries for it.
    pub(super) fn spec(&self) -> JsValue {
        Obj::new()
            .set("name", self.name.as_str())
            .set("description", self.description.as_str())
            .set("parameters", self.parameters.clone())
            .build()
    }
}

/// What came back for one call (a tool turn of the history).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolResult {
    /// The call it answers.
    pub call_id: String,
    /// The result as JSON text; for an error `{"error": "..."}`.
    pub content: String,
    /// The tool failed (threw, timed out, was declined, not run).
    pub is_error: bool,
}

impl ToolResult {
    fn error(call_id: &str, message: &str) -> Self {
        let content = json::stringify(&Obj::new().set("error", message).build());
        Self { call_id: call_id.to_string(), content, is_error: true }
    }

    /// Saved form (`{"id","content","error"}`).
    pub(super) fn to_json(&self) -> JsValue {
        Obj::new()
            .set("id", self.call_id.as_str())
            .set("content", self.content.as_str())
            .set("error", self.is_error)
            .build()
    }

    pub(super) fn from_json(v: &JsValue) -> Option<Self> {
        Some(Self {
            call_id: json::string(v, "id")?,
            content: json::string(v, "content")?,
            is_error: json::flag(v, "error"),
        })
    }

    /// A tool turn for the request body (the core's `Message` shape).
    pub(super) fn message(&self) -> JsValue {
        let o = Obj::new().set("role", "tool").set("tool_call_id", self.call_id.as_str());
        let o = o.set("content", self.content.as_str());
        if self.is_error { o.set("is_error", true) } else { o }.build()
    }
}

impl Turn {
    /// A finished answer whose calls the page's tools took up: they go back with their results. The calls of an
    /// interrupted answer, and of one on a page without tools, are shown but never sent (only the text goes).
    pub fn sends_calls(&self) -> bool {
        self.status == Status::Done && !self.tool_calls.is_empty() && !self.tool_results.is_empty()
    }

    /// The result of call `id`, once it is in.
    pub fn result_of(&self, id: &str) -> Option<&ToolResult> {
        self.tool_results.iter().find(|r| r.call_id == id)
    }

    /// Error results for every call without one (`why`), so the history answers them all (once any call has a
    /// result: calls none of which ran are not sent at all).
    pub(super) fn answer_open_calls(&mut self, why: &str) {
        if !self.sends_calls() {
            return;
        }
        for c in &self.tool_calls {
            if self.tool_results.iter().all(|r| r.call_id != c.id) {
                self.tool_results.push(ToolResult::error(&c.id, why));
            }
        }
    }
}

impl Chat {
    /// Replaces the page's tools (sent with every request from now on; calls already asked for use the new set).
    pub fn set_tools(&self, tools: Vec<Tool>) {
        *self.0.tools.borrow_mut() = Rc::new(tools);
    }

    /// How long a call may run when its tool sets no `timeout_ms` (default [`DEFAULT_TIMEOUT_MS`]).
    pub fn set_tool_timeout(&self, ms: u32) {
        self.0.tool_timeout_ms.set(ms.max(1));
    }

    /// The request's `tools`, when the page has any (the bring-your-own-key mode sends none).
    pub(super) fn tool_specs(&self) -> Option<js_sys::Array> {
        let tools = self.0.tools.borrow();
        (!tools.is_empty()).then(|| tools.iter().map(Tool::spec).collect())
    }

    /// Answers the confirmation the view shows ([`super::State::confirm`]): run the call, or not.
    pub fn confirm_tool(&self, run: bool) {
        let resolve = self.0.confirm.borrow_mut().take();
        self.update(|s| s.confirm = None);
        if let Some(f) = resolve {
            let _ = f.call1(&JsValue::NULL, &JsValue::from_bool(run));
        }
    }

    /// After answer `id` ended: when it asks for tools, runs them and asks again with the results — unless the
    /// question already had its `max_steps` steps, or the page has no tools (the calls then get error results).
    pub(super) fn tool_step(&self, id: u32) {
        let (calls, steps) = {
            let s = self.state();
            let Some(i) = s.turns.iter().position(|t| t.id == id) else { return };
            let t = &s.turns[i];
            if t.status != Status::Done || t.tool_calls.is_empty() || !t.tool_results.is_empty() {
                return;
            }
            // Answers since the question that asked for tools: this one and the steps before it.
            let steps = s.turns[..=i].iter().rev().take_while(|t| t.role == edgechat::conversation::Role::Assistant);
            (s.turns[i].tool_calls.clone(), steps.count() as u32)
        };
        let max = self.state().config.as_ref().and_then(|c| c.max_tool_steps).unwrap_or(DEFAULT_MAX_STEPS);
        // A page without tools leaves the calls unanswered and unsent (structured output's forced tool, say).
        if self.0.tools.borrow().is_empty() {
            return;
        }
        let blocked = (steps > max).then_some("tool step limit reached");
        let Ok(ctl) = AbortController::new() else { return };
        *self.0.live.borrow_mut() = Live { abort: Some(ctl.clone()), ..Live::default() };
        self.update(|s| s.busy = true);
        let this = self.clone();
        spawn_local(async move {
            let signal = crate::api::signal(&ctl);
            for call in &calls {
                let result = match blocked {
                    Some(why) => ToolResult::error(&call.id, why),
                    None if aborted(&signal) => ToolResult::error(&call.id, STOPPED),
                    None => this.run_call(call, &signal).await,
                };
                this.update_turn(id, |t| t.tool_results.push(result.clone()));
                this.persist();
                this.emit(ChatEvent::ToolCall { call, result: &result });
            }
            *this.0.live.borrow_mut() = Live::default();
            this.update(|s| {
                s.busy = false;
                s.confirm = None;
            });
            if blocked.is_none() && !aborted(&signal) {
                this.answer();
            }
        });
    }

    /// Runs one call: asks first when its tool wants confirmation, then calls it within its timeout.
    async fn run_call(&self, call: &ToolCall, signal: &AbortSignal) -> ToolResult {
        let tool = self.0.tools.borrow().iter().find(|t| t.name == call.name).cloned();
        let Some(tool) = tool else { return ToolResult::error(&call.id, &["no tool named ", &call.name].concat()) };
        if tool.confirm {
            let asked = Promise::new(&mut |resolve, _| *self.0.confirm.borrow_mut() = Some(resolve));
            self.update(|s| s.confirm = Some(call.id.clone()));
            let answer = race(&asked, signal, None).await;
            self.update(|s| s.confirm = None);
            if !matches!(answer, Ok(v) if v.is_truthy()) {
                let why = if aborted(signal) { STOPPED } else { "the user declined to run this tool" };
                return ToolResult::error(&call.id, why);
            }
        }
        let timeout = tool.timeout_ms.unwrap_or(self.0.tool_timeout_ms.get());
        match invoke(&tool, &call.arguments, signal, timeout).await {
            Ok(content) => ToolResult { call_id: call.id.clone(), content, is_error: false },
            Err(why) => ToolResult::error(&call.id, &why),
        }
    }
}

/// Calls the tool with the call's arguments; `Ok` with the result's JSON, or why it failed.
async fn invoke(tool: &Tool, arguments: &str, signal: &AbortSignal, timeout_ms: u32) -> Result<String, String> {
    let args = if arguments.trim().is_empty() { "{}" } else { arguments };
    let args = json::parse(args).ok_or("the arguments are not JSON")?;
    let out = tool.run.call1(&JsValue::NULL, &args).map_err(|e| message(&e))?;
    match race(&out, signal, Some(timeout_ms)).await {
        Ok(v) if v.is_undefined() => Ok("null".into()),
        Ok(v) => Some(json::stringify(&v)).filter(|s| !s.is_empty()).ok_or_else(|| "the result is not JSON".into()),
        Err(e) if crate::api::timed_out(&e) => {
            Err(["timed out after ", &crate::api::decimal(timeout_ms.into()), " ms"].concat())
        }
        Err(_) if aborted(signal) => Err(STOPPED.into()),
        Err(e) => Err(message(&e)),
    }
}

const STOPPED: &str = "stopped by the user";

/// `work`, unless `signal` aborts or `timeout_ms` passes first (then an error: the abort event, or a time-out:
/// [`crate::api::timed_out`]).
async fn race(work: &JsValue, signal: &AbortSignal, timeout_ms: Option<u32>) -> Result<JsValue, JsValue> {
    let (end, _) = crate::api::deadline(timeout_ms, Some(signal));
    let r = JsFuture::from(crate::api::race(work, &end)).await;
    signal.set_onabort(None);
    r
}

/// A thrown value's message (an `Error`'s, or the value as text).
fn message(e: &JsValue) -> String {
    crate::api::thrown(e).unwrap_or_else(|| json::stringify(e))
}
