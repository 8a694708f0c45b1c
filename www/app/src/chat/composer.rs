//! The question box: Enter sends, Shift+Enter adds a line; Send becomes Stop while an answer streams. Files come
//! through the attach button, a paste or a drop ([`super::files`]).

use leptos::html;
use leptos::prelude::*;

use super::files::{take_files, DraftFiles};
use crate::session::Live;

/// The composer of a conversation; `blocked` says why nothing can be sent now (a broken schema).
#[component]
pub fn Composer(live: Live, #[prop(into)] blocked: Signal<Option<String>>) -> impl IntoView {
    let input = NodeRef::<html::Textarea>::new();
    let draft = Memo::new(move |_| live.read(|s| s.draft.clone()));
    let empty = Memo::new(move |_| live.read(|s| s.draft.trim().is_empty() && s.files.is_empty()));
    let busy = Memo::new(move |_| live.read(|s| s.busy));
    let problem = Memo::new(move |_| live.read(|s| s.problem.as_ref().map(|p| p.text())));
    let focus = Memo::new(move |_| live.read(|s| s.focus_input));
    Effect::new(move |seen: Option<u32>| {
        let now = focus.get();
        if seen.is_some_and(|s| s != now) {
            if let Some(i) = input.get() {
                let _ = i.focus();
            }
        }
        now
    });
    let send = move || {
        if blocked.get_untracked().is_none() {
            live.chat().send_draft();
        }
    };
    view! {
        <form class="composer" on:submit=move |ev| {
            ev.prevent_default();
            if busy.get_untracked() { live.chat().stop() } else { send() }
        }
            on:dragover=move |ev| take_files(live, &ev, "dataTransfer")
            on:drop=move |ev| take_files(live, &ev, "dataTransfer")>
            <label for="composer-input" class="sr-only">"Message"</label>
            <textarea id="composer-input" class="input" node_ref=input rows="2"
                placeholder="Ask anything (Enter sends, Shift+Enter adds a line)"
                aria-describedby="composer-note"
                prop:value=move || draft.get()
                on:paste=move |ev| take_files(live, &ev, "clipboardData")
                on:input=move |ev| live.chat().set_draft(event_target_value(&ev))
                on:keydown=move |ev| {
                    if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                        ev.prevent_default();
                        if !busy.get_untracked() {
                            send();
                        }
                    }
                }></textarea>
            <DraftFiles live/>
            <button type="submit" class=move || if busy.get() { "btn stop" } else { "btn primary send" }
                disabled=move || !busy.get() && (blocked.with(Option::is_some) || empty.get())>
                {move || if busy.get() { "Stop" } else { "Send" }}
            </button>
            <p id="composer-note" class="composer-note" aria-live="polite">
                {move || blocked.get().or_else(|| problem.get())}
            </p>
        </form>
    }
}
