//! The widget as a Leptos component (cargo feature `leptos`): [`ChatWidget`] mounts the same DOM widget that the
//! `<edge-chat>` element uses into a `<div>` of the Leptos view and removes it when the view is disposed. The
//! embed build leaves Leptos out (it would add ~48 KB brotli to every page that embeds the widget).

use leptos::html;
use leptos::prelude::*;

use crate::widget::{Mode, Options, Widget};

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
    let host = NodeRef::<html::Div>::new();
    let mounted = StoredValue::new_local(None::<Widget>);
    let options = Options { endpoint, site_key, title, mode };
    Effect::new(move |_| {
        if let Some(el) = host.get() {
            if mounted.with_value(Option::is_none) {
                mounted.set_value(Some(Widget::mount(&el, options.clone())));
            }
        }
    });
    // Cleanups run before the owner's stored values are disposed.
    on_cleanup(move || mounted.update_value(|w| drop(w.take())));
    view! { <div class="ec-host" node_ref=host></div> }
}
