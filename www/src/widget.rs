//! The widget's views. State and actions live in [`crate::state::Chat`]; views read its signals and call it.

use std::cell::RefCell;
use std::rc::Rc;

use edgechat::conversation::Role;
#[cfg(feature = "byok")]
use edgechat::provider::ProviderKind;
use leptos::ev;
use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::api::{Endpoint, UsageInfo};
#[cfg(feature = "byok")]
use crate::byok::ByokSettings;
use crate::markdown::dom::MarkdownDom;
use crate::state::{Chat, Status, Turn};

/// How the widget sits on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// A panel in the page flow.
    #[default]
    Inline,
    /// A floating launcher button that opens the panel.
    Bubble,
}

impl Mode {
    /// `bubble` → [`Mode::Bubble`], anything else → [`Mode::Inline`].
    pub fn parse(s: &str) -> Self {
        if s.eq_ignore_ascii_case("bubble") {
            Self::Bubble
        } else {
            Self::Inline
        }
    }
}

/// The chat widget. Needs the stylesheet [`crate::STYLES`] in scope (the custom element adds it to its shadow root).
#[component]
pub fn ChatWidget(
    /// Base URL of the edge (`/api/...` is appended); empty for this page's origin.
    #[prop(into, optional)]
    endpoint: String,
    /// Publishable site key.
    #[prop(into, optional)]
    site_key: Option<String>,
    /// Title shown in the header.
    #[prop(into, default = "Chat".to_string())]
    title: String,
    /// Inline panel or floating bubble.
    #[prop(optional)]
    mode: Mode,
) -> impl IntoView {
    let chat = Chat::new(Endpoint { base: endpoint, site_key: site_key.filter(|k| !k.is_empty()) });
    provide_context(chat);
    chat.load_config();
    let open = RwSignal::new(mode == Mode::Inline);
    let launcher = NodeRef::<html::Button>::new();
    let bubble = mode == Mode::Bubble;
    let on_key = move |e: ev::KeyboardEvent| {
        if e.key() != "Escape" {
            return;
        }
        if chat.busy.get_untracked() {
            chat.stop();
        } else if bubble && open.get_untracked() {
            open.set(false);
            if let Some(b) = launcher.get() {
                let _ = b.focus();
            }
        }
    };
    let panel_title = title.clone();
    let panel = move || {
        view! {
            <section class="ec-panel" aria-label=panel_title.clone()>
                <Header title=panel_title.clone()/>
                <Notices/>
                <Log/>
                <Composer autofocus=bubble/>
            </section>
        }
    };
    view! {
        <div class="ec-widget" class:ec-bubble-mode=bubble class:ec-open=move || open.get() on:keydown=on_key>
            {bubble.then(|| view! {
                <button type="button" class="ec-launcher" node_ref=launcher aria-label=format!("Open {title}")
                    aria-expanded=move || open.get().to_string()
                    on:click=move |_| open.update(|o| *o = !*o)>
                    <span aria-hidden="true">{move || if open.get() { "×" } else { "💬" }}</span>
                </button>
            })}
            <Show when=move || open.get()>{panel.clone()}</Show>
        </div>
    }
}

#[component]
fn Header(title: String) -> impl IntoView {
    let chat = expect_context::<Chat>();
    view! {
        <header class="ec-header">
            <h2 class="ec-title">{title}</h2>
            <ModelPicker/>
            <div class="ec-tools">
                <button type="button" class="ec-btn ec-new" on:click=move |_| chat.new_conversation()
                    disabled=move || chat.turns.with(Vec::is_empty)>"New chat"</button>
                <button type="button" class="ec-btn ec-clear" on:click=move |_| chat.clear_all()
                    title="Delete the saved conversation, draft and key from this browser">"Clear all"</button>
            </div>
        </header>
        {byok_panel()}
    }
}

#[component]
fn ModelPicker() -> impl IntoView {
    let chat = expect_context::<Chat>();
    move || {
        let models = chat.config.with(|c| c.as_ref().map(|c| c.models.clone()).unwrap_or_default());
        (!models.is_empty() && !byok_active(chat)).then(|| {
            view! {
                <label class="ec-model">
                    <span class="ec-sr">"Model"</span>
                    <select on:change:target=move |e| { chat.model.set(e.target().value()); chat.persist(); }
                        prop:value=move || chat.model.get()>
                        {models.into_iter().map(|m| {
                            let label = if m.label.is_empty() { m.alias.clone() } else { m.label.clone() };
                            let selected = chat.model.get_untracked() == m.alias;
                            view! { <option value=m.alias selected=selected>{label}</option> }
                        }).collect_view()}
                    </select>
                </label>
            }
        })
    }
}

#[cfg(not(feature = "byok"))]
fn byok_panel() -> impl IntoView {}

#[cfg(not(feature = "byok"))]
fn byok_active(_chat: Chat) -> bool {
    false
}

#[cfg(feature = "byok")]
fn byok_active(chat: Chat) -> bool {
    chat.byok.with(Option::is_some)
}

#[cfg(feature = "byok")]
fn byok_panel() -> impl IntoView {
    view! { <Byok/> }
}

#[cfg(feature = "byok")]
#[component]
fn Byok() -> impl IntoView {
    let chat = expect_context::<Chat>();
    let provider = NodeRef::<html::Select>::new();
    let base = NodeRef::<html::Input>::new();
    let model = NodeRef::<html::Input>::new();
    let key = NodeRef::<html::Input>::new();
    let use_key = move |_| {
        let (Some(p), Some(b), Some(m), Some(k)) = (provider.get(), base.get(), model.get(), key.get()) else { return };
        let kind: ProviderKind = p.value().parse().unwrap_or(ProviderKind::OpenAiChat);
        let s = ByokSettings { provider: kind, base_url: b.value(), model: m.value(), api_key: k.value() };
        if s.model.trim().is_empty() || s.api_key.trim().is_empty() && kind != ProviderKind::OpenAiCompatible {
            return;
        }
        s.save();
        k.set_value("");
        chat.byok.set(Some(s));
    };
    let forget = move |_| {
        ByokSettings::clear();
        chat.byok.set(None);
    };
    view! {
        <details class="ec-byok">
            <summary>"Use your own API key"</summary>
            <p class="ec-warn">"Your key is sent from this browser straight to the provider and kept only in this tab \
                (sessionStorage); it never reaches this site's server. Anyone with access to this browser tab, or \
                script on this page, can read it. Use a key with a low spending limit."</p>
            <label>"Provider " <select node_ref=provider>
                <option value="openai-chat">"OpenAI Chat"</option>
                <option value="openai-responses">"OpenAI Responses"</option>
                <option value="anthropic">"Anthropic"</option>
                <option value="openai-compatible">"OpenAI-compatible"</option>
            </select></label>
            <label>"Base URL " <input node_ref=base type="url" placeholder="default"/></label>
            <label>"Model " <input node_ref=model type="text" placeholder="gpt-4o-mini"/></label>
            <label>"API key " <input node_ref=key type="password" autocomplete="off"/></label>
            <div class="ec-row">
                <button type="button" class="ec-btn" on:click=use_key>"Use my key"</button>
                <button type="button" class="ec-btn" on:click=forget disabled=move || chat.byok.with(Option::is_none)>
                    "Forget key"</button>
            </div>
        </details>
    }
}

#[component]
fn Notices() -> impl IntoView {
    let chat = expect_context::<Chat>();
    view! {
        <Show when=move || chat.config.with(|c| c.as_ref().is_some_and(|c| c.simulated)) && !byok_active(chat)>
            <p class="ec-note ec-simulated" role="note">
                "Answers are simulated: no real model is behind this demo."</p>
        </Show>
        {byok_notice(chat)}
        {move || chat.config_error.get().map(|e| view! {
            <p class="ec-note ec-error-note" role="alert">
                {format!("Could not load settings: {} ({}). ", e.summary(), e.message)}
                <button type="button" class="ec-btn" on:click=move |_| chat.load_config()>"Retry"</button>
            </p>
        })}
    }
}

#[cfg(not(feature = "byok"))]
fn byok_notice(_chat: Chat) -> impl IntoView {}

#[cfg(feature = "byok")]
fn byok_notice(chat: Chat) -> impl IntoView {
    move || chat.byok.get().map(|s| view! {
        <p class="ec-note ec-warn" role="note">{format!(
            "Using your own key: messages go directly from this browser to {} ({}).",
            s.provider, s.model)}</p>
    })
}

fn on_copy_click(e: ev::MouseEvent) {
    let Some(target) = e.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return };
    let Ok(Some(button)) = target.closest(".ec-copy") else { return };
    let code = button.closest(".ec-code").ok().flatten().and_then(|c| c.query_selector("code").ok().flatten());
    let text = code.and_then(|c| c.text_content()).unwrap_or_default();
    if let Some(w) = web_sys::window() {
        let _ = w.navigator().clipboard().write_text(&text);
        button.set_text_content(Some("Copied"));
    }
}

#[component]
fn Log() -> impl IntoView {
    let chat = expect_context::<Chat>();
    let last_user = Memo::new(move |_| chat.turns.with(|ts| ts.iter().rev().find(|t| t.role == Role::User).map(|t| t.id)));
    let last_id = Memo::new(move |_| chat.turns.with(|ts| ts.last().map(|t| t.id)));
    view! {
        <div class="ec-log" role="log" aria-live="polite" aria-label="Conversation"
            aria-busy=move || chat.busy.get().to_string() on:click=on_copy_click>
            <Show when=move || chat.turns.with(Vec::is_empty)>
                <p class="ec-empty">"Ask anything. Enter sends, Shift+Enter adds a line."</p>
            </Show>
            <For each=move || chat.turns.get() key=|t| t.id let:turn>
                <TurnView turn=turn last_user=last_user last_id=last_id/>
            </For>
        </div>
    }
}

#[component]
fn TurnView(turn: Turn, last_user: Memo<Option<u32>>, last_id: Memo<Option<u32>>) -> impl IntoView {
    let chat = expect_context::<Chat>();
    if turn.role == Role::User {
        let editable = move || last_user.get() == Some(turn.id) && !chat.busy.get();
        return view! {
            <div class="ec-turn ec-user">
                <div class="ec-bubble">{move || turn.text.get()}</div>
                <Show when=editable>
                    <button type="button" class="ec-btn ec-link ec-edit" on:click=move |_| chat.edit_last()>"Edit"</button>
                </Show>
            </div>
        }
        .into_any();
    }
    let node = NodeRef::<html::Div>::new();
    let md: Rc<RefCell<Option<MarkdownDom>>> = Rc::default();
    Effect::new(move |_| {
        let Some(el) = node.get() else { return };
        let complete = turn.status.get() != Status::Streaming;
        let mut slot = md.borrow_mut();
        let dom = slot.get_or_insert_with(|| MarkdownDom::new(el.into()));
        turn.text.with(|t| dom.sync(t, complete));
    });
    let status = move || turn.status.get();
    let is_last = move || last_id.get() == Some(turn.id);
    view! {
        <div class="ec-turn ec-assistant" data-status=move || status().as_str()>
            <div class="ec-md" node_ref=node></div>
            <Show when=move || status() == Status::Streaming && turn.text.with(String::is_empty)>
                <p class="ec-thinking"><span class="ec-dots" aria-hidden="true"></span>"Thinking…"</p>
            </Show>
            {move || turn.reconnecting.get().then(|| view! { <p class="ec-reconnecting" role="status">"Reconnecting…"</p> })}
            <Show when=move || status() == Status::Stopped>
                <p class="ec-badge ec-stopped">"Stopped"</p>
            </Show>
            {move || turn.error.get().map(|e| view! {
                <div class="ec-error" role="alert" data-kind=e.kind.as_str()>
                    <strong>{e.summary()}</strong>" "<span>{e.message.clone()}</span>
                    <Show when=move || is_last() && !chat.busy.get()>
                        <button type="button" class="ec-btn ec-retry" on:click=move |_| chat.regenerate()>"Retry"</button>
                    </Show>
                </div>
            })}
            <div class="ec-meta">
                {move || turn.usage.get().map(usage_note)}
                {move || (is_last() && !chat.busy.get() && turn.can_continue() && !byok_active(chat)).then(|| view! {
                    <button type="button" class="ec-btn ec-link ec-continue" on:click=move |_| chat.continue_last()
                        aria-label="Continue this answer from where it stopped">"Continue"</button>
                })}
                <Show when=move || is_last() && !chat.busy.get() && status() != Status::Failed>
                    <button type="button" class="ec-btn ec-link ec-regen" on:click=move |_| chat.regenerate()>"Regenerate"</button>
                </Show>
            </div>
        </div>
    }
    .into_any()
}

/// `$0.0012`-style, `places` decimals, without pulling float formatting into the wasm.
fn dollars(c: f64, places: u32) -> String {
    let scale = 10u64.pow(places);
    let n = (c.max(0.0) * scale as f64 + 0.5) as u64;
    format!("${}.{:0width$}", n / scale, n % scale, width = places as usize)
}

fn usage_note(u: UsageInfo) -> impl IntoView {
    let cost = u.cost_usd.map(|c| format!(" · {}", dollars(c, 4))).unwrap_or_default();
    let est = if u.estimated { " (estimated)" } else { "" };
    let short = format!("{} in · {} out{cost}{est}", u.input_tokens, u.output_tokens);
    let long = format!(
        "Input tokens: {}, cached: {}, output tokens: {}, cost: {}{est}",
        u.input_tokens,
        u.cache_read_input_tokens,
        u.output_tokens,
        u.cost_usd.map_or("unknown".to_string(), |c| dollars(c, 6))
    );
    view! { <small class="ec-usage" title=long>{short}</small> }
}

#[component]
fn Composer(
    /// Focus the input when it appears (the bubble's panel opening).
    autofocus: bool,
) -> impl IntoView {
    let chat = expect_context::<Chat>();
    let input = NodeRef::<html::Textarea>::new();
    let problem = RwSignal::new(None::<String>);
    let send = move || problem.set(chat.send_draft().err());
    // Focus the input when asked (after send, stop, edit, new chat) or on first appearance with `autofocus`;
    // a request made before the element exists is kept until it does.
    Effect::new(move |prev: Option<(u32, bool)>| {
        let n = chat.focus_input.get();
        let el = input.get();
        let want = prev.map_or(autofocus, |(p, pending)| pending || p != n);
        match el {
            Some(i) if want => {
                let _ = i.focus();
                (n, false)
            }
            _ => (n, want),
        }
    });
    view! {
        <form class="ec-composer" on:submit=move |e: ev::SubmitEvent| { e.prevent_default(); send(); }>
            <textarea aria-label="Message" class="ec-input" node_ref=input rows="2" placeholder="Message…"
                prop:value=move || chat.draft.get()
                on:input:target=move |e| chat.set_draft(e.target().value())
                on:keydown=move |e: ev::KeyboardEvent| {
                    if e.key() == "Enter" && !e.shift_key() && !e.is_composing() {
                        e.prevent_default();
                        send();
                    }
                }></textarea>
            <Show when=move || chat.busy.get()
                fallback=move || view! {
                    <button type="submit" class="ec-btn ec-primary ec-send"
                        disabled=move || chat.draft.with(|d| d.trim().is_empty())>"Send"</button>
                }>
                <button type="button" class="ec-btn ec-primary ec-stop" on:click=move |_| chat.stop()>"Stop"</button>
            </Show>
            {move || problem.get().map(|p| view! { <p class="ec-problem" role="alert">{p}</p> })}
        </form>
    }
}
