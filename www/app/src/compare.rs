//! `/compare`: one question to two models side by side, each answer streamed, rendered and inspected as in the
//! chat (two in-memory conversations of the shared model).

use std::rc::Rc;

use edgechat_www::api::ModelInfo;
use leptos::prelude::*;

use crate::chat::Answer;
use crate::ctx::use_app;
use crate::session::{Live, Session};

/// One run: the two conversations and their models.
#[derive(Clone)]
struct Run {
    sides: [(ModelInfo, Rc<Session>); 2],
}

/// `/compare`.
#[component]
pub fn CompareScreen() -> impl IntoView {
    let app = use_app();
    let models = Memo::new(move |_| {
        app.config.with(|c| c.as_ref().and_then(|c| c.as_ref().ok()).map(|c| c.models.clone()).unwrap_or_default())
    });
    let question = RwSignal::new(String::new());
    // What the user picked; until then the first two models.
    let (pick_a, pick_b) = (RwSignal::new(None::<String>), RwSignal::new(None::<String>));
    let a = Signal::derive(move || {
        pick_a.get().or_else(|| models.with(|m| m.first().map(|m| m.alias.clone()))).unwrap_or_default()
    });
    let b = Signal::derive(move || {
        pick_b.get().or_else(|| models.with(|m| m.get(1).or(m.first()).map(|m| m.alias.clone()))).unwrap_or_default()
    });
    let run = RwSignal::new_local(None::<Run>);
    on_cleanup(move || {
        if let Some(r) = run.try_get_untracked().flatten() {
            r.sides.iter().for_each(|(_, s)| s.close());
        }
    });
    let start = move || {
        let q = question.get_untracked();
        if q.trim().is_empty() {
            return;
        }
        let list = models.get_untracked();
        let info = |alias: String| {
            list.iter().find(|m| m.alias == alias).cloned().unwrap_or(ModelInfo {
                label: alias.clone(),
                alias,
                provider: String::new(),
                vision: false,
                documents: false,
            })
        };
        let side = |m: ModelInfo| {
            let s = Session::ephemeral();
            s.chat.set_model(m.alias.clone());
            s.chat.set_draft(q.clone());
            s.chat.send_draft();
            (m, s)
        };
        let next = Run { sides: [side(info(a.get_untracked())), side(info(b.get_untracked()))] };
        if let Some(old) = run.get_untracked() {
            old.sides.iter().for_each(|(_, s)| s.close());
        }
        run.set(Some(next));
    };
    let picker = move |label: &'static str,
                       class: &'static str,
                       value: Signal<String>,
                       pick: RwSignal<Option<String>>| {
        view! {
            <label class="field">{label}
                <select class=class prop:value=move || value.get() on:change=move |ev| pick.set(Some(event_target_value(&ev)))>
                    {move || models.get().into_iter().map(|m| {
                        let selected = m.alias == value.get_untracked();
                        let label = if m.label.is_empty() { m.alias.clone() } else { m.label.clone() };
                        view! { <option value=m.alias selected=selected>{label}</option> }
                    }).collect_view()}
                </select>
            </label>
        }
    };
    view! {
        <section class="screen compare" aria-labelledby="compare-title">
            <header class="screen-head">
                <button type="button" class="btn icon drawer-toggle" aria-label="Show threads" on:click=move |_| app.open_drawer()>"☰"</button>
                <h1 id="compare-title">"Compare models"</h1>
            </header>
            <form class="compare-form" on:submit=move |ev| { ev.prevent_default(); start() }>
                <label class="field wide">"Question"
                    <textarea class="compare-question" rows="3" prop:value=move || question.get()
                        on:input=move |ev| question.set(event_target_value(&ev))
                        on:keydown=move |ev| if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() { ev.prevent_default(); start() }></textarea>
                </label>
                {picker("Model A", "model-a", a, pick_a)}
                {picker("Model B", "model-b", b, pick_b)}
                <button type="submit" class="btn primary compare-run">"Compare"</button>
            </form>
            {move || run.get().map(|r| {
                let [(ma, sa), (mb, sb)] = r.sides;
                view! {
                    <div class="columns">
                        <Side model=ma session=sa/>
                        <Side model=mb session=sb/>
                    </div>
                }
            })}
        </section>
    }
}

/// One model's answer, with its figures open.
#[component]
fn Side(model: ModelInfo, session: Rc<Session>) -> impl IntoView {
    let live = Live::new(session);
    let answer = Memo::new(move |_| {
        live.read(|s| s.turns.last().filter(|t| t.role == edgechat::conversation::Role::Assistant).map(|t| t.id))
    });
    let title = if model.label.is_empty() { model.alias.clone() } else { model.label.clone() };
    let label = format!("Answer of {title}");
    view! {
        <section class="side" aria-label=label>
            <h2>{title}</h2>
            {move || answer.get().map(|id| view! { <Answer live id inspecting=true/> })}
        </section>
    }
}
