//! # edgechat playground
//!
//! The app's structured-output mode (www/README.md, "The app"): the JSON Schema checks shown as the schema is
//! typed ([`schema::check`]), and a finished answer parsed, validated against the schema ([`schema::validate`]) and
//! drawn as a tree ([`answer`], [`tree`]). A wasm module of its own that the app (`www/app/src/playground.rs`)
//! imports from `/playground/edgechat-playground.js` the first time a thread is in structured-output mode, so the
//! app's first load does not carry it; built by `www/scripts/build-module.sh` into `dist/playground/`.
//!
//! [`json`] is a JSON value read from what `JSON.parse` returns; [`schema`] checks a schema and validates a value
//! against it: plain Rust with native unit tests (`cargo test -p edgechat-playground`). [`answer`] and [`tree`]
//! draw with DOM calls. It shares the app's browser helpers (`www/app/src/js.rs`, the same file compiled into
//! both).
#![forbid(unsafe_code)]

pub mod answer;
#[allow(dead_code)]
#[path = "../../src/js.rs"]
mod js;
pub mod json;
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
