//! The chat screen (`/t/{id}`): the thread's header (title, rename, export, delete, model, usage, settings),
//! the log of turns and the composer. Everything a question does is the shared model's: send, stop, regenerate,
//! edit, retry, continue, resume.

mod composer;
mod files;
pub mod inspect;
mod settings;
pub mod turn;

use edgechat::conversation::Role;
use leptos::ev;
use leptos::html;
use leptos::prelude::*;

use crate::ctx::use_app;
use crate::format;
use crate::js;
use crate::route::use_nav;
use crate::session::Live;
use crate::threads::{file, Usage};
pub use composer::Composer;
use settings::{schema_errors, ThreadSettings};
pub use turn::{Answer, Question};

/// `/t/{id}`.
#[component]
pub fn ThreadScreen(#[prop(into)] id: Signal<String>) -> impl IntoView {
    let app = use_app();
    let exists = Memo::new(move |_| app.threads.with(|t| t.get(&id.get()).is_some()));
    move || {
        // Read here, not in the component's props (those are read untracked): a new id is a new view.
        let id = id.get();
        if !app.loaded.get() {
            view! { <p class="loading">"Loading your threads…"</p> }.into_any()
        } else if exists.get() {
            view! { <ThreadView id/> }.into_any()
        } else {
            view! {
                <section class="screen">
                    <h1>"Thread not found"</h1>
                    <p>"It may have been deleted. "<a href="/">"Back to your threads"</a></p>
                </section>
            }
            .into_any()
        }
    }
}

/// An open thread.
#[component]
fn ThreadView(id: String) -> impl IntoView {
    let app = use_app();
    let live = Live::new(app.session(&id));
    let key = StoredValue::new(id.clone());
    let settings = Memo::new(move |_| {
        key.with_value(|id| app.threads.with(|t| t.get(id).map(|t| t.settings.clone()).unwrap_or_default()))
    });
    let blocked = Signal::derive(move || match settings.with(|s| schema_errors(app, s)) {
        Ok(errors) => {
            (!errors.is_empty()).then(|| "Fix the JSON Schema in the thread settings before sending.".to_string())
        }
        Err(None) => Some("Loading the schema checker…".to_string()),
        Err(why) => why,
    });
    let structured = Signal::derive(move || settings.with(|s| s.structured.then(|| s.schema.clone())));
    let settings_open = RwSignal::new(false);
    // The config arrives after the thread opened: the settings that depend on it (system prompt) apply then.
    let config_loaded = Memo::new(move |_| live.read(|s| s.config.is_some()));
    Effect::new(move |_| {
        if config_loaded.get() {
            key.with_value(|id| app.apply_settings(id, &app.session(id)));
        }
    });
    // Escape stops the answer (anywhere on the page).
    let busy = Memo::new(move |_| live.read(|s| s.busy));
    let esc = window_event_listener(ev::keydown, move |e| {
        if e.key() == "Escape" && busy.get_untracked() {
            live.chat().stop();
        }
    });
    on_cleanup(move || esc.remove());
    view! {
        <section class="chat" aria-labelledby="thread-title">
            <ThreadHeader id=id.clone() live settings_open/>
            <Show when=move || settings_open.get()>
                <ThreadSettings id=key.get_value() live settings/>
            </Show>
            <Log live structured/>
            <Composer live blocked/>
        </section>
    }
}

#[component]
fn ThreadHeader(id: String, live: Live, settings_open: RwSignal<bool>) -> impl IntoView {
    let app = use_app();
    let nav = use_nav();
    let key = StoredValue::new(id);
    let title = Memo::new(move |_| {
        key.with_value(|id| app.threads.with(|t| t.get(id).map(|t| t.title.clone()).unwrap_or_default()))
    });
    let renaming = RwSignal::new(false);
    let name_input = NodeRef::<html::Input>::new();
    Effect::new(move |_| {
        if renaming.get() {
            if let Some(i) = name_input.get() {
                let _ = i.focus();
                i.select();
            }
        }
    });
    let finish_rename = move |save: bool| {
        if let (true, Some(i)) = (save, name_input.get_untracked()) {
            key.with_value(|id| app.rename(id, &i.value()));
        }
        renaming.set(false);
    };
    let export = move |ev: leptos::ev::MouseEvent, markdown: bool| {
        // The menu closes once a format is chosen.
        let menu = ev
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
            .and_then(|e| e.closest("details").ok().flatten());
        if let Some(menu) = menu {
            let _ = menu.remove_attribute("open");
        }
        key.with_value(|id| {
            let Some(t) = app.threads.with_untracked(|l| l.get(id).cloned()) else { return };
            if markdown {
                js::download(&js::file_name(&t.title, "md"), "text/markdown", &file::to_markdown(&t));
            } else {
                js::download(&js::file_name(&t.title, "json"), "application/json", &file::to_json(&t));
            }
        });
    };
    let delete = move |_| {
        key.with_value(|id| app.delete(id));
        nav.go("/", false);
    };
    view! {
        <header class="chat-head">
            <button type="button" class="btn icon drawer-toggle" aria-label="Show threads" on:click=move |_| app.open_drawer()>"☰"</button>
            {move || if renaming.get() {
                view! {
                    <form class="rename" on:submit=move |ev| { ev.prevent_default(); finish_rename(true) }>
                        <label for="rename-input" class="sr-only">"Thread title"</label>
                        <input id="rename-input" node_ref=name_input value=title.get_untracked()
                            on:keydown=move |ev| if ev.key() == "Escape" { ev.stop_propagation(); finish_rename(false) }/>
                        <button type="submit" class="btn">"Save"</button>
                        <button type="button" class="btn" on:click=move |_| finish_rename(false)>"Cancel"</button>
                    </form>
                }.into_any()
            } else {
                view! { <h1 id="thread-title" class="title">{move || title.get()}</h1> }.into_any()
            }}
            <div class="tools">
                <ModelPicker live/>
                <button type="button" class="btn settings-toggle" aria-controls="thread-settings"
                    aria-expanded=move || settings_open.get().to_string() on:click=move |_| settings_open.update(|o| *o = !*o)>"Settings"</button>
                <button type="button" class="btn rename-btn" on:click=move |_| renaming.set(true)>"Rename"</button>
                <details class="menu">
                    <summary class="btn">"Export"</summary>
                    <div class="menu-list">
                        <button type="button" class="btn export-md" on:click=move |ev| export(ev, true)>"Markdown (.md)"</button>
                        <button type="button" class="btn export-json" on:click=move |ev| export(ev, false)>"JSON (.json)"</button>
                    </div>
                </details>
                <button type="button" class="btn danger delete" on:click=delete>"Delete"</button>
            </div>
            <ThreadUsage live/>
        </header>
    }
}

/// The model picker, with the edge's labels.
#[component]
fn ModelPicker(live: Live) -> impl IntoView {
    let models = Memo::new(move |_| live.read(|s| s.config.as_ref().map(|c| c.models.clone()).unwrap_or_default()));
    let model = Memo::new(move |_| live.read(|s| s.model.clone()));
    let busy = Memo::new(move |_| live.read(|s| s.busy));
    view! {
        <label class="model">
            <span class="sr-only">"Model"</span>
            <select class="model-select" disabled=move || busy.get() prop:value=move || model.get()
                on:change=move |ev| live.chat().set_model(event_target_value(&ev))>
                {move || models.get().into_iter().map(|m| {
                    let label = if m.label.is_empty() { m.alias.clone() } else { m.label.clone() };
                    let selected = m.alias == model.get_untracked();
                    view! { <option value=m.alias selected=selected>{label}</option> }
                }).collect_view()}
            </select>
        </label>
    }
}

/// The thread's tokens and cost so far.
#[component]
fn ThreadUsage(live: Live) -> impl IntoView {
    let usage = Memo::new(move |_| {
        live.read(|s| {
            let mut u = Usage::default();
            s.turns.iter().filter_map(|t| t.usage.as_ref()).for_each(|x| u.add(x));
            u
        })
    });
    view! {
        <p class="thread-usage" aria-label="Usage of this thread">
            {move || {
                let u = usage.get();
                let cost = if u.answers > u.unpriced { format!(" · {}", format::cost(u.cost)) } else { String::new() };
                let answers = if u.answers == 1 { "answer" } else { "answers" };
                format!("{} {answers} · {} tokens in · {} out{cost}", u.answers, format::count(u.input), format::count(u.output))
            }}
        </p>
    }
}

/// The conversation; it follows a streaming answer while the reader is at its bottom.
#[component]
fn Log(live: Live, #[prop(into)] structured: Signal<Option<String>>) -> impl IntoView {
    let turns =
        Memo::new(move |_| live.read(|s| s.turns.iter().map(|t| (t.id, t.role == Role::User)).collect::<Vec<_>>()));
    let busy = Memo::new(move |_| live.read(|s| s.busy));
    let config_error =
        Memo::new(move |_| live.read(|s| s.config_error.as_ref().map(|e| format!("{}: {}", e.summary(), e.message))));
    let simulated = Memo::new(move |_| live.read(|s| s.config.as_ref().is_some_and(|c| c.simulated)));
    let log = NodeRef::<html::Div>::new();
    let follow = StoredValue::new(true);
    let framed = StoredValue::new(false);
    Effect::new(move |asked: Option<usize>| {
        // A new question brings the end of the log back into view (and following it).
        let questions = live.read(|s| s.turns.iter().filter(|t| t.role == Role::User).count());
        if asked.is_some_and(|n| n != questions) {
            follow.set_value(true);
        }
        if follow.get_value() && !framed.get_value() {
            framed.set_value(true);
            request_animation_frame(move || {
                framed.set_value(false);
                if let Some(l) = log.get_untracked() {
                    l.set_scroll_top(l.scroll_height());
                }
            });
        }
        questions
    });
    let on_scroll = move |_| {
        if let Some(l) = log.get_untracked() {
            follow.set_value(l.scroll_top() + l.client_height() >= l.scroll_height() - 24);
        }
    };
    view! {
        <div class="log" role="log" aria-label="Conversation" aria-busy=move || busy.get().to_string() tabindex="0" node_ref=log on:scroll=on_scroll>
            {move || config_error.get().map(|e| view! { <p class="error" role="alert">"The edge's configuration could not be loaded. "{e}</p> })}
            <Show when=move || simulated.get()><p class="note simulated">"Answers are simulated (the edge runs a mock model)."</p></Show>
            <Show when=move || turns.with(Vec::is_empty)>
                <p class="empty">"Ask a question to start. Enter sends, Shift+Enter adds a line, Esc stops an answer."</p>
            </Show>
            <For each=move || turns.get() key=|t| t.0 let:t>
                {if t.1 {
                    view! { <Question live id=t.0/> }.into_any()
                } else {
                    view! { <Answer live id=t.0 structured/> }.into_any()
                }}
            </For>
        </div>
    }
}
