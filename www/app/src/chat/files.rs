//! Attached files in the app: the composer's attach button (a hidden file picker), paste and drop, the draft's
//! previews with Remove, and a question's files. Reading, downscaling and the checks are the shared model's
//! (`edgechat_www::state::attach`, the same as the widget's); this is only the view.

use edgechat_www::state::attach::{self, words};
use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};

use crate::session::Live;

/// What a preview shows of one file (plain data: signals hold it).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Shown {
    name: String,
    preview: Option<String>,
    kept: bool,
}

fn shown(files: &[JsValue]) -> Vec<Shown> {
    files
        .iter()
        .map(|f| Shown { name: attach::name(f), preview: attach::preview_url(f), kept: attach::kept(f) })
        .collect()
}

/// The `files` of a paste's `clipboardData` or a drop's `dataTransfer`, when it carries any.
pub fn carried(e: &JsValue, field: &str) -> Option<JsValue> {
    let transfer = js_sys::Reflect::get(e, &field.into()).ok().filter(JsValue::is_object)?;
    let files = js_sys::Reflect::get(&transfer, &"files".into()).ok()?;
    let n = js_sys::Reflect::get(&files, &"length".into()).ok()?.as_f64()?;
    (n > 0.0).then_some(files)
}

fn list(items: Vec<Shown>, remove: Option<Live>) -> impl IntoView {
    items
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            let label = format!("{} {}", words::REMOVE, f.name);
            let name = if f.kept { f.name.clone() } else { format!("{} ({})", f.name, words::NOT_KEPT) };
            view! {
                <span class="file">
                    {match f.preview {
                        Some(src) => view! { <img src=src alt=f.name.clone()/> }.into_any(),
                        None => view! { <span class="file-name">{name}</span> }.into_any(),
                    }}
                    {remove.map(|live| view! {
                        <button type="button" class="link file-remove" aria-label=label.clone() title=label
                            on:click=move |_| live.chat().remove_file(i)>"×"</button>
                    })}
                </span>
            }
        })
        .collect_view()
}

/// A question's files.
#[component]
pub fn QuestionFiles(live: Live, id: u32) -> impl IntoView {
    let items = Memo::new(move |_| live.turn(id, |t| shown(&t.files)).unwrap_or_default());
    move || (!items.with(Vec::is_empty)).then(|| view! { <div class="files">{list(items.get(), None)}</div> })
}

/// The composer's attach button, hidden picker and previews of the draft's files.
#[component]
pub fn DraftFiles(live: Live) -> impl IntoView {
    let picker = NodeRef::<html::Input>::new();
    let items = Memo::new(move |_| live.read(|s| shown(&s.files)));
    let accept = Memo::new(move |_| live.read(|s| s.accept_types()));
    view! {
        <div class="files draft-files">{move || list(items.get(), Some(live))}</div>
        <button type="button" class="btn attach" aria-label=words::ATTACH title=words::ATTACH
            hidden=move || accept.with(String::is_empty)
            on:click=move |_| {
                if let Some(p) = picker.get() {
                    // After this handler returns: the picker's own click is delegated to the same listener.
                    wasm_bindgen_futures::spawn_local(async move { p.click() });
                }
            }>"+"</button>
        <input type="file" multiple hidden tabindex="-1" class="file-input" node_ref=picker accept=move || accept.get()
            on:change=move |ev| {
                let input: web_sys::HtmlInputElement = event_target(&ev);
                if let Ok(files) = js_sys::Reflect::get(&input, &"files".into()) {
                    live.chat().attach(files);
                }
                input.set_value("");
            }/>
    }
}

/// Paste or drop handling for the composer: files go to the draft (a text paste goes on as usual).
pub fn take_files(live: Live, ev: &web_sys::Event, field: &str) {
    if live.read(|s| s.accepts()) == (false, false) {
        return;
    }
    let ev_js: &JsValue = ev.unchecked_ref();
    if field == "dataTransfer" {
        // A drag over the composer must be allowed for the drop to happen.
        ev.prevent_default();
    }
    if let Some(files) = carried(ev_js, field) {
        ev.prevent_default();
        live.chat().attach(files);
    }
}
