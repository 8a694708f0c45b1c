//! An answer's text through the shared incremental renderer (`edgechat_www::markdown::dom::MarkdownDom`, the one
//! the widget uses): final blocks are rendered once, only the growing tail again, so a long answer costs the same
//! per token at its end as at its start. The renderer owns the element's children; Leptos only owns the element.

use edgechat_www::markdown::dom::MarkdownDom;
use edgechat_www::state::Status;
use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::session::Live;

/// Turn `id`'s text as markdown.
#[component]
pub fn Markdown(live: Live, id: u32) -> impl IntoView {
    let root = NodeRef::<html::Div>::new();
    let dom = StoredValue::new_local(None::<MarkdownDom>);
    // Changes when text arrives or the answer ends: nothing else re-renders it.
    let synced =
        Memo::new(move |_| live.turn(id, |t| (t.text.len(), t.status != Status::Streaming)).unwrap_or_default());
    Effect::new(move |_| {
        let (_, complete) = synced.get();
        let Some(el) = root.get() else { return };
        let chat = live.chat();
        let state = chat.state();
        let Some(turn) = state.turns.iter().rev().find(|t| t.id == id) else { return };
        dom.update_value(|d| d.get_or_insert_with(|| MarkdownDom::new(el.into())).sync_appended(&turn.text, complete));
    });
    view! { <div class="md" node_ref=root on:click=copy_code></div> }
}

/// The renderer's code blocks have a Copy button (`.ec-copy`): it copies the block's code.
fn copy_code(ev: leptos::ev::MouseEvent) {
    let Some(button) = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return };
    if !button.class_list().contains("ec-copy") {
        return;
    }
    let code = button.closest(".ec-code").ok().flatten().and_then(|c| c.query_selector("pre").ok().flatten());
    if let Some(code) = code {
        let text = code.text_content().unwrap_or_default();
        let _ = window().navigator().clipboard().write_text(&text);
        button.set_text_content(Some("Copied"));
    }
}
