//! The widget as a Leptos component (cargo feature `leptos`): [`ChatWidget`] mounts the same DOM widget that the
//! `<edge-chat>` element uses into a `<div>` of the Leptos view and removes it when the view is disposed. The
//! embed build leaves Leptos out (it would add ~48 KB brotli to every page that embeds the widget).

use leptos::html;
use leptos::prelude::*;

use crate::state::Tool;
use crate::widget::{Mode, Options, Strings, Widget};

/// The chat widget. Needs the stylesheet [`crate::STYLES`] in scope (the custom element adds it to its shadow root).
/// Props may be plain values or signals; when one changes the widget is mounted anew with it (as the custom element
/// does when an attribute changes): the conversation is kept, an answer in progress on a resumable edge resumes. A
/// new `session_token` is handed to the mounted widget instead (a signed-in user's refreshed token). `tools` are
/// the page's client tools (Rust functions: [`Tool::new`]); the widget's DOM events (`edgechat:message`, …) are
/// dispatched on the component's `<div class="ec-host">`.
#[component]
pub fn ChatWidget(
    /// Base URL of the edge (`/api/...` is appended); empty for this page's origin.
    #[prop(into, optional)]
    endpoint: Signal<String>,
    /// Publishable site key.
    #[prop(into, optional)]
    site_key: Signal<Option<String>>,
    /// Title shown in the header.
    #[prop(into, default = Signal::stored("Chat".to_string()))]
    title: Signal<String>,
    /// Inline panel or floating bubble.
    #[prop(into, optional)]
    mode: Signal<Mode>,
    /// The signed-in user's session token, sent to the edge as `Authorization: Bearer`.
    #[prop(into, optional)]
    session_token: Signal<Option<String>>,
    /// The host site's session token endpoint (`{"token", "expires_at"}`), instead of `session_token`.
    #[prop(into, optional)]
    token_url: Signal<Option<String>>,
    /// The assistant's first words in an empty conversation (never sent).
    #[prop(into, optional)]
    greeting: Signal<Option<String>>,
    /// Starter questions offered in an empty conversation.
    #[prop(into, optional)]
    suggestions: Signal<Vec<String>>,
    /// Replacements for the widget's texts (see [`crate::STRINGS`]).
    #[prop(into, optional)]
    strings: Signal<Strings>,
    /// Client tools the model may call (the edge must allow them for the site key).
    #[prop(optional)]
    tools: Vec<Tool>,
    /// A tool call's time limit when its tool sets none (default 30 s).
    #[prop(optional)]
    tool_timeout_ms: Option<u32>,
) -> impl IntoView {
    let host = NodeRef::<html::Div>::new();
    let mounted = StoredValue::new_local(None::<Widget>);
    let tools = StoredValue::new_local(tools);
    Effect::new(move |_| {
        let options = Options {
            endpoint: endpoint.get(),
            site_key: site_key.get(),
            title: title.get(),
            mode: mode.get(),
            session_token: session_token.get_untracked(),
            token_url: token_url.get(),
            greeting: greeting.get(),
            suggestions: suggestions.get(),
            strings: strings.get(),
            tools: tools.get_value(),
            tool_timeout_ms,
        };
        if let Some(el) = host.get() {
            // The old widget goes first: it lets go of the conversation the new one restores.
            mounted.update_value(|w| drop(w.take()));
            mounted.set_value(Some(Widget::mount(&el, options)));
        }
    });
    Effect::new(move |_| {
        let token = session_token.get();
        mounted.with_value(|w| w.as_ref().map(|w| w.set_session_token(token)));
    });
    // Cleanups run before the owner's stored values are disposed.
    on_cleanup(move || mounted.update_value(|w| drop(w.take())));
    view! { <div class="ec-host" node_ref=host></div> }
}
