//! # edgechat playground
//!
//! The app's thread settings and structured-output mode (www/README.md, "The app"): the settings panel
//! ([`panel`]: system prompt, temperature, max tokens, the mode and its JSON Schema editor, checked as the schema
//! is typed by [`schema::check`]), and a finished answer parsed, validated against the schema
//! ([`schema::validate`]) and drawn as a tree ([`answer`], [`tree`]). A wasm module of its own that the app
//! (`www/app/src/playground.rs`) imports from `/playground/edgechat-playground.js` the first time the settings
//! open or a thread is in structured-output mode, so the app's first load does not carry it; built by
//! `www/scripts/build-module.sh` into `dist/playground/`.
//!
//! [`json`] is a JSON value read from what `JSON.parse` returns; [`schema`] checks a schema and validates a value
//! against it: plain Rust with native unit tests (`cargo test -p edgechat-playground`). [`panel`], [`answer`] and
//! [`tree`] draw with DOM calls. It shares the app's browser and DOM helpers (`www/app/src/js.rs`, `dom.rs`: the same files
//! compiled into both).
#![forbid(unsafe_code)]

pub mod answer;
#[path = "../../src/dom.rs"]
mod dom;
#[allow(dead_code)]
#[path = "../../src/js.rs"]
mod js;
pub mod json;
pub mod panel;
pub mod schema;
pub mod tree;

use wasm_bindgen::prelude::wasm_bindgen;

/// What is wrong with the schema text of structured-output mode (empty when it can be sent), each message
/// starting with where (`#/properties/age`); JSON that does not parse is one message.
#[wasm_bindgen]
pub fn check(schema: &str) -> Vec<String> {
    match json::Json::parse(schema) {
        Err(e) => vec![format!("The schema is not JSON: {e}")],
        Ok(v) => schema::check(&v),
    }
}

/// Draws the finished structured answer `output` into `root` (emptied first): whether it matches `schema` (the
/// schema text) and its value as a tree, or why it is not JSON and its text.
#[wasm_bindgen(js_name = showAnswer)]
pub fn show_answer(root: &web_sys::Element, output: &str, schema: &str) {
    root.set_text_content(None);
    answer::draw(root, &answer::check(output, schema), output);
}

/// A thread's settings panel shown in the page ([`panel::Panel`]); `free()` removes its listeners.
#[wasm_bindgen]
pub struct SettingsPanel(std::rc::Rc<panel::Panel>);

#[wasm_bindgen]
impl SettingsPanel {
    /// The edge's config: whether it accepts a system prompt, and its most output tokens.
    #[wasm_bindgen(js_name = setConfig)]
    pub fn set_config(&self, allow_system: bool, max_tokens: Option<u32>) {
        self.0.set_config(allow_system, max_tokens);
    }
}

/// Draws a thread's settings panel into `root` (emptied first). `settings` is the app's stored form
/// (`{system, temperature, max_tokens, structured, schema}`), changed in place; `on_change` gets it after each
/// change.
#[wasm_bindgen(js_name = mountSettings)]
pub fn mount_settings(
    root: web_sys::Element,
    settings: wasm_bindgen::JsValue,
    on_change: js_sys::Function,
) -> SettingsPanel {
    SettingsPanel(panel::Panel::mount(root, settings, on_change))
}
