//! # edgechat widget
//!
//! A chat widget that streams answers from the edgechat edge (docs/protocol.md) and renders them as markdown
//! incrementally. The widget itself is written against the DOM (web-sys), so the embed build carries no UI
//! framework; Leptos apps get it as a component. Use it four ways:
//! - as a custom element: `<script type="module" src=".../edge-chat.js">` then
//!   `<edge-chat endpoint="https://edge.example" site-key="pk_..." title="Help" mode="inline|bubble"
//!   session-token="..." token-url="...">` (the loader,
//!   `loader/edge-chat.js`, calls [`mount_edge_chat`] inside the element's shadow root);
//! - as a Leptos component: `ChatWidget` with the cargo feature `leptos` (add [`STYLES`] to the page or shadow
//!   root yourself);
//! - from Rust without Leptos: [`Widget::mount`];
//! - the pieces: [`markdown`] (incremental renderer), [`api`] (protocol client), [`state`] (conversation model);
//!   the Leptos app (`www/app`) is built on these.
//!
//! The JavaScript exports the custom element's loader and the benchmark page call ([`mount_edge_chat`],
//! [`MarkdownStream`]) are the cargo feature `embed`, which only the embed build turns on: a Rust app that depends
//! on this crate does not carry them.
#![forbid(unsafe_code)]
// No `&s[a..b]` on a `str` (use `.get(..)` or `markdown::bytes::sub`): one such slice links the standard library's
// panic formatting (a char's `Debug`, the Unicode printable tables), ~3 KB brotli of the embed and the app.
#![cfg_attr(not(test), deny(clippy::string_slice))]

pub mod api;
#[cfg(feature = "byok")]
pub mod byok;
#[cfg(feature = "leptos")]
mod component;
mod json;
pub mod markdown;
pub mod session;
pub mod state;
mod widget;

#[cfg(feature = "embed")]
use wasm_bindgen::prelude::*;

#[cfg(feature = "leptos")]
pub use component::ChatWidget;
pub use widget::{Mode, Options, Strings, Widget, S, STRINGS};

/// The widget's stylesheet (the custom element loads the same file, `style/edgechat.css`, into its shadow root).
pub const STYLES: &str = include_str!("../style/edgechat.css");

#[cfg(feature = "embed")]
/// A mounted widget; dropping it (`free()` from JavaScript) removes the widget and its listeners. The element's
/// methods (`send`, `clear`, `open`, `close`) and its `tools` property call [`Mounted::act`].
#[wasm_bindgen]
pub struct Mounted {
    widget: Widget,
}

#[cfg(feature = "embed")]
#[wasm_bindgen]
impl Mounted {
    /// One export for every call (each export costs glue): `op` 0 sends the string `arg` as the user's message
    /// (`false` when it was not sent), 1 starts a new conversation, 2 opens (`arg` true) or closes the bubble's
    /// panel, 3 replaces the client tools (`arg`: `[{name, description, parameters, run, confirm?, timeout_ms?}]`).
    pub fn act(&self, op: u32, arg: JsValue) -> bool {
        let w = &self.widget;
        match op {
            0 => return w.send(&arg.as_string().unwrap_or_default()),
            1 => w.clear(),
            2 => w.set_open(arg.is_truthy()),
            3 => w.set_tools(tools_from_js(&arg)),
            _ => return false,
        }
        true
    }
}

/// The page's tool objects; entries without a name or a `run` function are left out.
#[cfg(feature = "embed")]
fn tools_from_js(v: &JsValue) -> Vec<state::Tool> {
    if !js_sys::Array::is_array(v) {
        return Vec::new();
    }
    js_sys::Array::from(v).iter().filter_map(|t| state::Tool::from_js(&t)).collect()
}

/// Mounts the widget into `container` (the custom element passes a div inside its shadow root). Before each
/// request the widget reads `element.sessionToken` (the element's property, which falls back to its
/// `session-token` attribute); without one it fetches tokens from `tokenUrl`, if given. `extra` carries the
/// element's settings as one object (each string argument would cost glue): `{endpoint, siteKey, title, mode,
/// tokenUrl, greeting, suggestions: [..], strings: {..}, tools: [..], toolTimeout}`. The widget's events are
/// dispatched on `element`.
#[cfg(feature = "embed")]
#[wasm_bindgen]
pub fn mount_edge_chat(container: web_sys::Element, element: web_sys::Element, extra: JsValue) -> Mounted {
    let text = |k: &str| json::string(&extra, k).unwrap_or_default();
    let options = Options {
        endpoint: text("endpoint"),
        site_key: Some(text("siteKey")),
        title: text("title"),
        mode: Mode::parse(&text("mode")),
        greeting: json::string(&extra, "greeting"),
        suggestions: json::array(&extra, "suggestions").iter().filter_map(|q| q.as_string()).collect(),
        strings: Strings::from_js(&json::get(&extra, "strings")),
        tools: tools_from_js(&json::get(&extra, "tools")),
        tool_timeout_ms: json::uint(&extra, "toolTimeout").map(|n| n.min(u64::from(u32::MAX)) as u32),
        ..Options::default()
    };
    let token_url = json::string(&extra, "tokenUrl").filter(|u| !u.is_empty());
    let session = session::Session::new(element.clone().into(), token_url);
    Mounted { widget: Widget::mount_with(&container, options, session, &element) }
}

/// Incremental markdown rendering for plain JavaScript (also what `bench/widget` measures):
/// `const md = new MarkdownStream(element); md.push(piece); …; md.finish();`
#[cfg(feature = "embed")]
#[wasm_bindgen]
pub struct MarkdownStream(markdown::dom::MarkdownDom);

#[cfg(feature = "embed")]
#[wasm_bindgen]
impl MarkdownStream {
    /// Takes over `root` (its children are replaced).
    #[wasm_bindgen(constructor)]
    pub fn new(root: web_sys::Element) -> Self {
        Self(markdown::dom::MarkdownDom::new(root))
    }

    /// Appends a piece of text and updates the DOM (final blocks once, the growing tail again).
    pub fn push(&mut self, piece: &str) {
        self.0.push(piece);
    }

    /// Renders the text as complete.
    pub fn finish(&mut self) {
        self.0.finish();
    }
}

/// The embed's global allocator: Talc is a few KB smaller than Rust's default (dlmalloc) in wasm.
#[cfg(all(feature = "embed", target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
