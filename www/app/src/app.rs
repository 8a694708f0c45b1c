//! The app: the sidebar and one screen at a time ([`crate::route`]): `/` opens the newest thread, `/t/{id}` a
//! thread, `/compare` the side-by-side compare, `/usage` the usage. Keyboard: Ctrl+K (or ⌘K) new thread, `/`
//! search, Esc stops an answer (the chat screen) or closes the sidebar.

use leptos::ev;
use leptos::prelude::*;

use crate::chat::ThreadScreen;
use crate::compare::CompareScreen;
use crate::ctx::{use_app, AppCtx, Notice};
use crate::route::{use_nav, Nav, Screen};
use crate::sidebar::Sidebar;
use crate::usage::UsageScreen;

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    provide_context(AppCtx::start());
    Nav::provide();
    view! { <Shell/> }
}

#[component]
fn Shell() -> impl IntoView {
    let app = use_app();
    let nav = use_nav();
    let keys = window_event_listener(ev::keydown, move |e| {
        let typing =
            e.target().and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok()).is_some_and(|el| {
                matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT") || el.has_attribute("contenteditable")
            });
        if (e.ctrl_key() || e.meta_key()) && e.key().eq_ignore_ascii_case("k") {
            e.prevent_default();
            let id = app.new_thread();
            nav.go(&format!("/t/{id}"), false);
        } else if e.key() == "Escape" && app.drawer.get_untracked() {
            app.drawer.set(false);
        } else if e.key() == "/" && !typing && !e.ctrl_key() && !e.meta_key() {
            e.prevent_default();
            app.open_drawer();
        }
    });
    on_cleanup(move || keys.remove());
    // The kind of screen: moving from one thread to another keeps the thread screen (it follows `thread`).
    let screen = Memo::new(move |_| match nav.screen() {
        Screen::Thread(_) => Screen::Thread(String::new()),
        s => s,
    });
    let thread = Signal::derive(move || match nav.screen() {
        Screen::Thread(id) => id,
        _ => String::new(),
    });
    view! {
        <a class="skip" href="#main">"Skip to the conversation"</a>
        <div class="app">
            <Sidebar/>
            <main id="main" class="main">
                {move || match screen.get() {
                    Screen::Home => view! { <Home/> }.into_any(),
                    Screen::Thread(_) => view! { <ThreadScreen id=thread/> }.into_any(),
                    Screen::Compare => view! { <CompareScreen/> }.into_any(),
                    Screen::Usage => view! { <UsageScreen/> }.into_any(),
                    Screen::NotFound => view! {
                        <section class="screen"><h1>"Not found"</h1><p><a href="/">"Back to your threads"</a></p></section>
                    }.into_any(),
                }}
            </main>
            <NoticeBar/>
        </div>
    }
}

/// `/`: opens the newest thread, or a new one when there is none.
#[component]
fn Home() -> impl IntoView {
    let app = use_app();
    let nav = use_nav();
    Effect::new(move |_| {
        if !app.loaded.get() {
            return;
        }
        let newest = app.threads.with_untracked(|t| t.list.first().map(|t| t.id.clone()));
        let id = newest.unwrap_or_else(|| app.new_thread());
        nav.go(&format!("/t/{id}"), true);
    });
    view! { <p class="loading">"Loading your threads…"</p> }
}

/// The notice: a deleted thread's Undo, an import, a storage failure.
#[component]
fn NoticeBar() -> impl IntoView {
    let app = use_app();
    let nav = use_nav();
    let undo = move |_| {
        if let Some(id) = app.undo() {
            nav.go(&format!("/t/{id}"), false);
        }
    };
    view! {
        <div class="notices" role="status" aria-live="polite">
            {move || app.notice.get().map(|n| {
                let (class, text, can_undo, can_retry) = match n {
                    Notice::Deleted(t) => ("notice", format!("Deleted “{t}”."), true, false),
                    Notice::Imported(t) => ("notice", format!("Imported “{t}”."), false, false),
                    Notice::ImportRefused(e) => ("notice bad import-error", format!("Import refused, nothing was changed. {e}"), false, false),
                    Notice::Storage(e) => ("notice bad storage-error", e, false, true),
                };
                view! {
                    <div class=class>
                        <span>{text}</span>
                        <Show when=move || can_undo><button type="button" class="btn undo" on:click=undo>"Undo"</button></Show>
                        <Show when=move || can_retry><button type="button" class="btn retry-save" on:click=move |_| app.retry_saving()>"Try again"</button></Show>
                        <button type="button" class="btn icon dismiss" aria-label="Dismiss" on:click=move |_| app.notice.set(None)>"✕"</button>
                    </div>
                }
            })}
        </div>
    }
}
