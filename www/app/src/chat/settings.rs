//! A thread's settings: its system prompt (when the edge accepts one), temperature and max tokens, and the
//! structured-output mode with its JSON Schema editor. The panel is the playground module's
//! (`www/app/playground/src/panel.rs`), loaded when the settings first open; this is its place in the page.

use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use crate::ctx::{use_app, AppCtx};
use crate::dom;
use crate::playground::SettingsPanel;
use crate::session::Live;
use crate::threads::Settings;

/// What is wrong with the schema of structured-output mode (tracked; empty when it can be sent, or the mode is
/// off): its errors, or `Err` while the checker loads (`None`) or when it could not be loaded (why).
pub fn schema_errors(app: AppCtx, s: &Settings) -> Result<Vec<String>, Option<String>> {
    if !s.structured {
        return Ok(Vec::new());
    }
    match app.playground.get() {
        None => Err(None),
        Some(Err(why)) => Err(Some(why)),
        Some(Ok(m)) => Ok(m.check(&s.schema)),
    }
}

/// The settings of thread `id`.
#[component]
pub fn ThreadSettings(id: String, live: Live, #[prop(into)] settings: Signal<Settings>) -> impl IntoView {
    let app = use_app();
    let key = StoredValue::new(id);
    let config =
        Memo::new(move |_| live.read(|s| s.config.as_ref().map(|c| (c.allow_system_prompt, c.limits.max_tokens))));
    let host = NodeRef::<html::Section>::new();
    // The panel and what it calls after each change, while it is shown.
    let panel = StoredValue::new_local(None::<(SettingsPanel, Closure<dyn Fn(JsValue)>)>);
    Effect::new(move |_| {
        let (allow_system, max_tokens) = config.get().unwrap_or((false, None));
        let Some(root) = host.get() else { return };
        let root: web_sys::Element = root.into();
        match app.playground.get() {
            None => {}
            Some(Err(why)) => {
                root.set_text_content(None);
                let _ = dom::add(&root, "p", "check bad", &why).set_attribute("role", "alert");
            }
            Some(Ok(m)) => {
                if panel.with_value(Option::is_none) {
                    let changed = Closure::<dyn Fn(JsValue)>::new(move |v: JsValue| {
                        if let Ok(s) = Settings::from_js(&v) {
                            key.try_with_value(|id| app.set_settings(id, s));
                        }
                    });
                    let p =
                        m.mount_settings(&root, &settings.get_untracked().to_js(), changed.as_ref().unchecked_ref());
                    panel.set_value(Some((p, changed)));
                }
                panel.with_value(|p| p.as_ref().map(|(p, _)| p.set_config(allow_system, max_tokens)));
            }
        }
    });
    on_cleanup(move || {
        if let Some((p, _)) = panel.try_update_value(Option::take).flatten() {
            p.free();
        }
    });
    view! {
        <section id="thread-settings" class="settings" aria-label="Thread settings" node_ref=host>
            <p class="note">"Loading the settings…"</p>
        </section>
    }
}
