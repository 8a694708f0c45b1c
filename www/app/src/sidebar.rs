//! The sidebar: the screens, New thread, the search box (title and text), the thread list, Import, the theme.

use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};

use crate::ctx::use_app;
use crate::route::use_nav;
use crate::theme::ThemeSwitch;

/// The sidebar.
#[component]
pub fn Sidebar() -> impl IntoView {
    let app = use_app();
    let nav = use_nav();
    let search = NodeRef::<html::Input>::new();
    let file = NodeRef::<html::Input>::new();
    Effect::new(move |seen: Option<u32>| {
        let n = app.focus_search.get();
        if seen.is_some() {
            // After the drawer is shown (a hidden element takes no focus).
            request_animation_frame(move || {
                if let Some(s) = search.get_untracked() {
                    let _ = s.focus();
                }
            });
        }
        n
    });
    let found = Memo::new(move |_| {
        let q = app.search.get();
        app.threads.with(|t| t.search(&q).map(|t| (t.id.clone(), t.title.clone())).collect::<Vec<_>>())
    });
    let current = Memo::new(move |_| nav.path());
    let new_thread = move |_| {
        let id = app.new_thread();
        app.drawer.set(false);
        nav.go(&format!("/t/{id}"), false);
    };
    let import = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let Some(f) = input.files().and_then(|l| l.get(0)) else { return };
        input.set_value("");
        spawn_local(async move {
            let text = JsFuture::from(f.text()).await.ok().and_then(|t| t.as_string());
            let Some(text) = text else {
                app.notice.set(Some(crate::ctx::Notice::ImportRefused("The file could not be read.".into())));
                return;
            };
            if let Some(id) = app.import(&text) {
                nav.go(&format!("/t/{id}"), false);
            }
        });
    };
    view! {
        <nav class="sidebar" class:open=move || app.drawer.get() aria-label="Threads and screens">
            <div class="brand">
                <span class="logo" aria-hidden="true">"◆"</span>" edgechat"
                <button type="button" class="btn icon close" aria-label="Hide threads" on:click=move |_| app.drawer.set(false)>"✕"</button>
            </div>
            <ul class="screens">
                <li><a href="/compare" class="screen-link" on:click=move |_| app.drawer.set(false)
                    aria-current=move || (current.get() == "/compare").then_some("page")>"Compare models"</a></li>
                <li><a href="/usage" class="screen-link" on:click=move |_| app.drawer.set(false)
                    aria-current=move || (current.get() == "/usage").then_some("page")>"Usage"</a></li>
            </ul>
            <button type="button" class="btn primary new-thread" on:click=new_thread aria-keyshortcuts="Control+K">"New thread"<kbd>"Ctrl K"</kbd></button>
            <div class="search">
                <label for="thread-search" class="sr-only">"Search threads"</label>
                <input id="thread-search" type="search" placeholder="Search threads  ( / )" node_ref=search aria-keyshortcuts="/"
                    prop:value=move || app.search.get() on:input=move |ev| app.search.set(event_target_value(&ev))/>
            </div>
            <ul class="threads" aria-label="Threads">
                <For each=move || found.get() key=|t| t.clone() let:t>
                    {
                        let href = format!("/t/{}", t.0);
                        let here = href.clone();
                        view! {
                            <li>
                                <a href=href class="thread-link" on:click=move |_| app.drawer.set(false)
                                    aria-current=move || (current.get() == here).then_some("page")>{t.1}</a>
                            </li>
                        }
                    }
                </For>
            </ul>
            <Show when=move || app.loaded.get() && found.with(Vec::is_empty)>
                <p class="note">{move || if app.search.with(String::is_empty) { "No threads yet." } else { "No thread matches." }}</p>
            </Show>
            <div class="side-foot">
                <input type="file" accept=".json,application/json" class="sr-only" id="import-file" tabindex="-1" aria-hidden="true" node_ref=file on:change=import/>
                <button type="button" class="btn import" on:click=move |_| if let Some(f) = file.get_untracked() { f.unchecked_ref::<web_sys::HtmlElement>().click() }>"Import JSON…"</button>
                <ThemeSwitch/>
            </div>
        </nav>
        <div class="scrim" class:open=move || app.drawer.get() aria-hidden="true" on:click=move |_| app.drawer.set(false)></div>
    }
}
