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
pub use widget::{Mode, Options, Widget};

/// The widget's stylesheet (the custom element loads the same file, `style/edgechat.css`, into its shadow root).
pub const STYLES: &str = include_str!("../style/edgechat.css");

#[cfg(feature = "embed")]
/// A mounted widget; dropping it (or calling [`Mounted::unmount`]) removes the widget and its listeners.
#[wasm_bindgen]
pub struct Mounted {
    _widget: Widget,
}

#[cfg(feature = "embed")]
#[wasm_bindgen]
impl Mounted {
    /// Removes the widget.
    pub fn unmount(self) {}
}

/// Mounts the widget into `container` (the custom element passes a div inside its shadow root). Before each
/// request the widget reads `element.sessionToken` (the element's property, which falls back to its
/// `session-token` attribute); without one it fetches tokens from `token_url`, if given.
#[cfg(feature = "embed")]
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn mount_edge_chat(
    container: web_sys::HtmlElement,
    endpoint: String,
    site_key: String,
    title: String,
    mode: String,
    element: JsValue,
    token_url: Option<String>,
) -> Mounted {
    let options = Options { endpoint, site_key: Some(site_key), title, mode: Mode::parse(&mode), ..Options::default() };
    Mounted { _widget: Widget::mount_with(&container, options, session::Session::new(element, token_url)) }
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
