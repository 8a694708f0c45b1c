//! Light, dark, or as the system says: the choice is kept in `localStorage` and set as `data-theme` on `<html>`.

use leptos::prelude::*;

const KEY: &str = "edgechat-app:theme";

fn apply(theme: &str) {
    if let Some(root) = document().document_element() {
        let _ =
            if theme == "auto" { root.remove_attribute("data-theme") } else { root.set_attribute("data-theme", theme) };
    }
}

/// The theme selector.
#[component]
pub fn ThemeSwitch() -> impl IntoView {
    let stored = window().local_storage().ok().flatten().and_then(|s| s.get_item(KEY).ok().flatten());
    let theme = RwSignal::new(stored.unwrap_or_else(|| "auto".into()));
    Effect::new(move |_| {
        let t = theme.get();
        apply(&t);
        if let Some(s) = window().local_storage().ok().flatten() {
            let _ = s.set_item(KEY, &t);
        }
    });
    view! {
        <label class="theme">"Theme "
            <select class="theme-select" on:change=move |ev| theme.set(event_target_value(&ev))>
                {[("auto", "System"), ("light", "Light"), ("dark", "Dark")].map(|(value, label)| view! {
                    <option value=value selected=move || theme.get() == value>{label}</option>
                })}
            </select>
        </label>
    }
}
