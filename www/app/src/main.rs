//! # edgechat app
//!
//! The front end a team runs next to its edge to chat with its models, try them and see what they cost: threads
//! kept in IndexedDB, the chat (streaming markdown, stop, regenerate, edit, retry, continue, resume), the
//! playground tools (structured output with a JSON Schema, an event inspector per answer, compare on two
//! models) and usage. Leptos 0.8 (CSR) on the shared pieces of `edgechat-www`: the conversation model
//! (`state`), the protocol client (`api`) and the incremental markdown renderer (`markdown`) — the same code the
//! `<edge-chat>` widget runs, so there is one implementation of the conversation actions and the renderer.
//!
//! Layout: [`app`] the shell, [`route`] screens by URL, [`ctx`] the shared state (threads, storage, open conversations),
//! [`threads`] the thread model, its IndexedDB store and files, [`session`] an open conversation,
//! [`chat`] the chat screen, [`compare`], [`usage`], [`sidebar`]; [`playground`] loads the structured-output
//! checks (a wasm module of their own, `www/app/playground/`), [`inspector`] records an answer's events.
#![forbid(unsafe_code)]

mod app;
mod chat;
mod compare;
mod ctx;
mod dom;
mod format;
mod inspector;
mod js;
mod markdown;
mod playground;
mod route;
mod session;
mod sidebar;
mod theme;
mod threads;
mod usage;

fn main() {
    leptos::mount::mount_to_body(app::App);
}
