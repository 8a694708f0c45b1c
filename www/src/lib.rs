//! # edgechat widget
//!
//! A Leptos (client-side rendered) chat widget that streams answers from the edgechat edge (docs/protocol.md) and
//! renders them as markdown incrementally. Use it three ways:
//! - as a custom element: `<script type="module" src=".../edge-chat.js">` then
//!   `<edge-chat endpoint="https://edge.example" site-key="pk_..." title="Help" mode="inline|bubble">` (the loader,
//!   `loader/edge-chat.js`, calls [`mount_edge_chat`] inside the element's shadow root);
//! - as a Leptos component: [`ChatWidget`] (add [`STYLES`] to the page or shadow root yourself);
//! - the pieces: [`markdown`] (incremental renderer), [`api`] (protocol client), [`state`] (conversation model).
#![forbid(unsafe_code)]

pub mod api;
#[cfg(feature = "byok")]
pub mod byok;
mod json;
pub mod markdown;
pub mod state;
mod widget;

use wasm_bindgen::prelude::*;

pub use widget::{ChatWidget, Mode};

/// The widget's stylesheet (the custom element loads the same file, `style/edgechat.css`, into its shadow root).
pub const STYLES: &str = include_str!("../style/edgechat.css");

/// A mounted widget; dropping it (or calling [`Mounted::unmount`]) removes the widget and its listeners.
#[wasm_bindgen]
pub struct Mounted {
    _handle: Box<dyn std::any::Any>,
}

#[wasm_bindgen]
impl Mounted {
    /// Removes the widget.
    pub fn unmount(self) {}
}

/// Mounts the widget into `container` (the custom element passes a div inside its shadow root).
#[wasm_bindgen]
pub fn mount_edge_chat(container: web_sys::HtmlElement, endpoint: String, site_key: String, title: String, mode: String) -> Mounted {
    let mode = Mode::parse(&mode);
    let title = if title.trim().is_empty() { "Chat".to_string() } else { title };
    let handle = leptos::mount::mount_to(container, move || {
        leptos::view! { <ChatWidget endpoint=endpoint site_key=site_key title=title mode=mode/> }
    });
    Mounted { _handle: Box::new(handle) }
}

/// Incremental markdown rendering for plain JavaScript (also what `bench/widget` measures):
/// `const md = new MarkdownStream(element); md.push(piece); …; md.finish();`
#[wasm_bindgen]
pub struct MarkdownStream(markdown::dom::MarkdownDom);

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
