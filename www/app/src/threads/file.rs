//! A thread as a file: exported as Markdown (to read) or JSON (to import again), and imported from JSON after
//! checking every field the chat will read, so a bad file is refused with what is wrong and changes nothing.
//!
//! The JSON is `{"format": "edgechat-thread", "version": 1, "title", "created", "settings", "model", "turns"}`,
//! `turns` in the shared model's saved shape (`role`, `text`, `status`, `reasoning`, `tool_calls`, `error`,
//! `usage`) without a stream position.

use wasm_bindgen::{JsCast, JsValue};

use super::{Settings, Thread};
use crate::js;

const FORMAT: &str = "edgechat-thread";
const STATUSES: [&str; 5] = ["done", "stopped", "truncated", "failed", "streaming"];

/// The thread as Markdown: a heading, then each question and answer.
pub fn to_markdown(t: &Thread) -> String {
    let mut out = format!("# {}\n", t.title);
    let saved = js::parse(&t.chat).unwrap_or(JsValue::NULL);
    let model = js::get(&saved, "model").as_string().unwrap_or_default();
    if !model.is_empty() {
        out.push_str(&format!("\nModel: {model}\n"));
    }
    for turn in turns(&saved) {
        let who = if js::get(&turn, "role").as_string().as_deref() == Some("user") { "You" } else { "Assistant" };
        out.push_str(&format!("\n## {who}\n\n{}\n", js::get(&turn, "text").as_string().unwrap_or_default().trim_end()));
        match js::get(&turn, "status").as_string().as_deref() {
            Some("stopped") => out.push_str("\n_(stopped)_\n"),
            Some("truncated") => out.push_str("\n_(cut off)_\n"),
            Some("failed") => out.push_str("\n_(failed)_\n"),
            _ => {}
        }
    }
    out
}

fn turns(saved: &JsValue) -> Vec<JsValue> {
    let t = js::get(saved, "turns");
    if js_sys::Array::is_array(&t) {
        js_sys::Array::from(&t).iter().collect()
    } else {
        Vec::new()
    }
}

/// The thread as JSON for [`import`].
pub fn to_json(t: &Thread) -> String {
    let saved = js::parse(&t.chat).unwrap_or(JsValue::NULL);
    let out = js_sys::Object::new();
    js::set(&out, "format", &FORMAT.into());
    js::set(&out, "version", &1.into());
    js::set(&out, "title", &t.title.as_str().into());
    js::set(&out, "created", &t.created.into());
    js::set(&out, "settings", &t.settings.to_js());
    js::set(&out, "model", &js::get(&saved, "model"));
    let list = js_sys::Array::new();
    for turn in turns(&saved) {
        // A stream position is only good in the tab that started it.
        let _ = js_sys::Reflect::delete_property(turn.unchecked_ref::<js_sys::Object>(), &"stream".into());
        list.push(&turn);
    }
    js::set(&out, "turns", &list);
    js::stringify(&out, 2)
}

/// Reads an exported thread: a new thread with id `id`, or why the file is refused.
pub fn import(text: &str, id: String, now: f64) -> Result<Thread, String> {
    let v = js::parse(text).map_err(|e| format!("The file is not JSON ({e})."))?;
    if !v.is_object() || js_sys::Array::is_array(&v) {
        return Err("The file is not an edgechat thread: expected a JSON object.".into());
    }
    if js::get(&v, "format").as_string().as_deref() != Some(FORMAT) {
        return Err(format!("The file is not an edgechat thread: \"format\" must be \"{FORMAT}\"."));
    }
    if js::get(&v, "version").as_f64() != Some(1.0) {
        return Err("This thread file has a version this app does not read (expected 1).".into());
    }
    let title = optional_string(&v, "title")?.unwrap_or_default();
    let model = optional_string(&v, "model")?.unwrap_or_default();
    let list = js::get(&v, "turns");
    if !js_sys::Array::is_array(&list) {
        return Err("The file is not an edgechat thread: \"turns\" must be a list.".into());
    }
    let checked = js_sys::Array::new();
    for (i, turn) in js_sys::Array::from(&list).iter().enumerate() {
        checked.push(&check_turn(&turn).map_err(|e| format!("turns[{i}]: {e}"))?);
    }
    let settings = match js::get(&v, "settings") {
        s if s.is_undefined() || s.is_null() => Settings::default(),
        s => Settings::from_js(&s).map_err(|e| format!("\"settings\": {e}."))?,
    };
    let chat = js_sys::Object::new();
    js::set(&chat, "turns", &checked);
    js::set(&chat, "model", &model.as_str().into());
    let mut t = Thread::new(id, now);
    t.created = js::get(&v, "created").as_f64().filter(|c| c.is_finite()).unwrap_or(now);
    t.settings = settings;
    t.chat = js::stringify(&chat, 0);
    t.refresh();
    if !title.trim().is_empty() && title != t.title {
        t.title = title.chars().take(120).collect();
        t.named = true;
    }
    Ok(t)
}

fn optional_string(o: &JsValue, key: &str) -> Result<Option<String>, String> {
    match js::get(o, key) {
        v if v.is_undefined() || v.is_null() => Ok(None),
        v => v.as_string().map(Some).ok_or_else(|| format!("\"{key}\" must be a string.")),
    }
}

/// One turn, as the shared model will restore it: a copy with only the fields it reads, each of the right type.
fn check_turn(t: &JsValue) -> Result<JsValue, String> {
    if !t.is_object() || js_sys::Array::is_array(t) {
        return Err("each turn must be an object".into());
    }
    let out = js_sys::Object::new();
    let role = js::get(t, "role").as_string().filter(|r| r == "user" || r == "assistant");
    let role = role.ok_or("\"role\" must be \"user\" or \"assistant\"")?;
    js::set(&out, "role", &role.as_str().into());
    js::set(&out, "text", &js::get(t, "text").as_string().ok_or("\"text\" must be a string")?.into());
    let status = optional_string(t, "status")?.unwrap_or_else(|| "done".into());
    if !STATUSES.contains(&status.as_str()) {
        return Err(format!("\"status\" must be one of {}", STATUSES.join(", ")));
    }
    // An answer that was streaming when exported has no stream to resume here: it is cut off.
    js::set(&out, "status", &if status == "streaming" { "truncated" } else { status.as_str() }.into());
    if let Some(r) = optional_string(t, "reasoning")? {
        js::set(&out, "reasoning", &r.into());
    }
    let calls = js::get(t, "tool_calls");
    if !calls.is_undefined() {
        if !js_sys::Array::is_array(&calls) {
            return Err("\"tool_calls\" must be a list".into());
        }
        for c in js_sys::Array::from(&calls).iter() {
            for k in ["id", "name", "arguments"] {
                if js::get(&c, k).as_string().is_none() {
                    return Err(format!("each tool call needs a string \"{k}\""));
                }
            }
        }
        js::set(&out, "tool_calls", &calls);
    }
    for k in ["usage", "error"] {
        let v = js::get(t, k);
        if v.is_undefined() || v.is_null() {
            continue;
        }
        if !v.is_object() {
            return Err(format!("\"{k}\" must be an object"));
        }
        js::set(&out, k, &v);
    }
    let usage = js::get(t, "usage");
    for k in ["input_tokens", "output_tokens"] {
        if usage.is_object() && !js::get(&usage, k).as_f64().is_some_and(|n| n >= 0.0) {
            return Err(format!("\"usage.{k}\" must be a number ≥ 0"));
        }
    }
    Ok(out.into())
}
