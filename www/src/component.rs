//! The widget as a Leptos component (cargo feature `leptos`): [`ChatWidget`] mounts the same DOM widget that the
//! `<edge-chat>` element uses into a `<div>` of the Leptos view and removes it when the view is disposed. The
//! embed build leaves Leptos out (it would add ~48 KB brotli to every page that embeds the widget).

use leptos::html;
use leptos::prelude::*;

use crate::widget::{Mode, Options, Widget};

/// The chat widget. Needs the stylesheet [`crate::STYLES`] in scope (the custom element adds it to its shadow root).
/// Props may be plain values or signals; when one changes the widget is mounted anew with it (as the custom element
/// does when an attribute changes): the conversation is kept, an answer in progress on a resumable edge resumes. A
/// new `session_token` is handed to the mounted widget instead (a signed-in user's refreshed token).
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
) -> impl IntoView {
    let host = NodeRef::<html::Div>::new();
    let mounted = StoredValue::new_local(None::<Widget>);
    Effect::new(move |_| {
        let options = Options {
            endpoint: endpoint.get(),
            site_key: site_key.get(),
            title: title.get(),
            mode: mode.get(),
            session_token: session_token.get_untracked(),
            token_url: token_url.get(),
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
