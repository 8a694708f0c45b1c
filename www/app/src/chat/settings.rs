//! A thread's settings: its system prompt (when the edge accepts one), temperature and max tokens, and the
//! structured-output mode with its JSON Schema editor, whose errors are shown as the schema is typed.

use leptos::prelude::*;

use crate::ctx::{use_app, AppCtx};
use crate::js;
use crate::session::Live;
use crate::threads::Settings;

/// A starting schema for the editor.
const EXAMPLE: &str = r#"{
  "type": "object",
  "properties": {
    "city": { "type": "string" },
    "population": { "type": "integer", "minimum": 0 },
    "landmarks": { "type": "array", "items": { "type": "string" } }
  },
  "required": ["city", "population", "landmarks"],
  "additionalProperties": false
}"#;

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
    let save = StoredValue::new(id);
    let update = move |f: &dyn Fn(&mut Settings)| {
        let mut s = settings.get_untracked();
        f(&mut s);
        save.with_value(|id| app.set_settings(id, s));
    };
    let config =
        Memo::new(move |_| live.read(|s| s.config.as_ref().map(|c| (c.allow_system_prompt, c.limits.max_tokens))));
    let allow_system = move || config.get().is_some_and(|c| c.0);
    let max_limit = move || config.get().and_then(|c| c.1);
    let problem = RwSignal::new(None::<String>);
    let errors = Memo::new(move |_| settings.with(|s| schema_errors(app, s)));
    view! {
        <section id="thread-settings" class="settings" aria-label="Thread settings">
            {move || if allow_system() {
                view! {
                    <label class="field">"System prompt"
                        <textarea rows="3" placeholder="Optional: instructions for this thread"
                            prop:value=move || settings.with(|s| s.system.clone())
                            on:change=move |ev| { let v = event_target_value(&ev); update(&|s| s.system = v.clone()); }></textarea>
                    </label>
                }.into_any()
            } else {
                view! { <p class="note">"Instructions and page context come from the edge; it does not accept a system prompt from the app."</p> }.into_any()
            }}
            <div class="row">
                <label class="field">"Temperature"
                    <input type="number" min="0" max="2" step="0.1" inputmode="decimal" placeholder="default"
                        prop:value=move || settings.with(|s| s.temperature.map(js::number).unwrap_or_default())
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            match js::parse_number(&v) {
                                _ if v.trim().is_empty() => { problem.set(None); update(&|s| s.temperature = None) }
                                Some(t) if (0.0..=2.0).contains(&t) => { problem.set(None); update(&|s| s.temperature = Some(t)) }
                                _ => problem.set(Some("Temperature is a number from 0 to 2.".into())),
                            }
                        }/>
                </label>
                <label class="field">"Max tokens"
                    <input type="number" min="1" step="1" inputmode="numeric"
                        max=move || max_limit().map(|m| m.to_string())
                        placeholder=move || max_limit().map_or("default".to_string(), |m| format!("up to {m}"))
                        prop:value=move || settings.with(|s| s.max_tokens.map(|t| t.to_string()).unwrap_or_default())
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            let limit = max_limit().unwrap_or(u32::MAX);
                            match v.trim().parse::<u32>() {
                                _ if v.trim().is_empty() => { problem.set(None); update(&|s| s.max_tokens = None) }
                                Ok(n) if n >= 1 && n <= limit => { problem.set(None); update(&|s| s.max_tokens = Some(n)) }
                                _ => problem.set(Some(format!("Max tokens is a whole number from 1 to {limit}."))),
                            }
                        }/>
                </label>
            </div>
            {move || problem.get().map(|p| view! { <p class="problem" role="alert">{p}</p> })}
            <label class="check-field">
                <input type="checkbox" class="structured-toggle" prop:checked=move || settings.with(|s| s.structured)
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        update(&|s| {
                            s.structured = on;
                            if on && s.schema.trim().is_empty() {
                                s.schema = EXAMPLE.to_string();
                            }
                        });
                    }/>
                " Structured output: answers are JSON checked against a schema"
            </label>
            <Show when=move || settings.with(|s| s.structured)>
                <label class="field" for="schema-editor">"JSON Schema"</label>
                <textarea id="schema-editor" class="mono schema" rows="10" spellcheck="false" aria-describedby="schema-check"
                    prop:value=move || settings.with(|s| s.schema.clone())
                    on:input=move |ev| { let v = event_target_value(&ev); update(&|s| s.schema = v.clone()); }></textarea>
                <div id="schema-check" aria-live="polite">
                    {move || match errors.get() {
                        Ok(list) if list.is_empty() => view! { <p class="check ok">"✓ The schema is valid"</p> }.into_any(),
                        Ok(list) => view! { <ul class="check bad schema-errors">{list.into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}</ul> }.into_any(),
                        Err(None) => view! { <p class="note">"Loading the schema checker…"</p> }.into_any(),
                        Err(Some(why)) => view! { <p class="check bad" role="alert">{why}</p> }.into_any(),
                    }}
                </div>
            </Show>
        </section>
    }
}
