//! One turn of the log: the user's question with Edit, or the answer — its reasoning, its text (markdown, or in
//! structured-output mode the parsed JSON as a tree with its validation), tool calls, status and error, usage and
//! the actions (Retry, Continue, Regenerate), and its event inspector.

use edgechat::conversation::Role;
use edgechat::ToolCall;
use edgechat_www::api::{ChatError, UsageInfo};
use edgechat_www::state::{State, Status};
use leptos::html;
use leptos::prelude::*;

use crate::chat::inspect::InspectorPanel;
use crate::ctx::use_app;
use crate::markdown::Markdown;
use crate::session::Live;
use crate::{dom, format};

/// A question.
#[component]
pub fn Question(live: Live, id: u32) -> impl IntoView {
    let text = Memo::new(move |_| live.turn(id, |t| t.text.clone()).unwrap_or_default());
    // Edit is offered on the last question while nothing streams.
    let editable = Memo::new(move |_| {
        live.read(|s| {
            !s.busy && s.turns.iter().rposition(|t| t.role == Role::User).is_some_and(|i| s.turns[i].id == id)
        })
    });
    view! {
        <article class="turn question" aria-label="You">
            <super::files::QuestionFiles live id/>
            <Show when=move || !text.with(String::is_empty)>
                <div class="bubble">{text}</div>
            </Show>
            <Show when=move || editable.get()>
                <button type="button" class="link edit" on:click=move |_| live.chat().edit_last()>"Edit"</button>
            </Show>
        </article>
    }
}

/// What an answer shows besides its text; its parts re-render only when this changes.
#[derive(Debug, Clone, PartialEq)]
struct Look {
    status: Status,
    empty: bool,
    reconnecting: bool,
    usage: Option<UsageInfo>,
    error: Option<ChatError>,
    /// The last turn, nothing streaming: Retry and Regenerate.
    last_idle: bool,
    /// Continue is offered.
    cont: bool,
}

fn look(s: &State, id: u32) -> Option<Look> {
    let i = s.turns.iter().rposition(|t| t.id == id)?;
    let t = &s.turns[i];
    let last_idle = i + 1 == s.turns.len() && !s.busy;
    Some(Look {
        status: t.status,
        empty: t.text.is_empty(),
        reconnecting: t.reconnecting,
        usage: t.usage,
        error: t.error.clone(),
        last_idle,
        cont: last_idle && t.can_continue(),
    })
}

/// An answer. `structured` is the schema text of structured-output mode.
#[component]
pub fn Answer(
    live: Live,
    id: u32,
    #[prop(optional, into)] structured: Signal<Option<String>>,
    /// The event inspector starts open.
    #[prop(optional)]
    inspecting: bool,
) -> impl IntoView {
    let look = Memo::new(move |_| live.read(|s| look(s, id)));
    let l = move || {
        look.get().unwrap_or(Look {
            status: Status::Done,
            empty: true,
            reconnecting: false,
            usage: None,
            error: None,
            last_idle: false,
            cont: false,
        })
    };
    let inspect = RwSignal::new(inspecting);
    let panel_id = crate::js::unique_id("inspect");
    let panel = panel_id.clone();
    let structured_mode = Memo::new(move |_| structured.get());
    view! {
        <article class="turn answer" aria-label="Answer" data-status=move || look.with(|l| l.as_ref().map_or("done", |l| l.status.as_str()))>
            <Reasoning live id/>
            {move || match structured_mode.get() {
                Some(schema) => view! { <StructuredAnswer live id schema/> }.into_any(),
                None => view! { <Markdown live id/> }.into_any(),
            }}
            <ToolCalls live id/>
            {move || {
                let l = l();
                let streaming = l.status == Status::Streaming;
                view! {
                    <Show when=move || streaming && l.empty><p class="thinking"><span class="dots" aria-hidden="true"></span>"Thinking…"</p></Show>
                    <Show when=move || l.reconnecting><p class="reconnecting" role="status">"Reconnecting…"</p></Show>
                    <Show when=move || l.status == Status::Stopped><p class="badge stopped">"Stopped"</p></Show>
                    {l.error.clone().map(|e| view! { <ErrorNote error=e retry=l.last_idle live/> })}
                }
            }}
            <footer class="meta">
                {move || l().usage.map(|u| {
                    let (short, long) = usage_note(&u);
                    view! { <small class="usage" title=long.clone()>{short}<span class="sr-only">{format!(" ({long})")}</span></small> }
                })}
                <Show when=move || l().cont>
                    <button type="button" class="link continue" aria-label="Continue this answer from where it stopped" on:click=move |_| live.chat().continue_last()>"Continue"</button>
                </Show>
                <Show when=move || { let l = l(); l.last_idle && l.status != Status::Failed }>
                    <button type="button" class="link regenerate" on:click=move |_| live.chat().regenerate()>"Regenerate"</button>
                </Show>
                <button type="button" class="link inspect" aria-expanded=move || inspect.get().to_string() aria-controls=panel_id.clone()
                    on:click=move |_| inspect.update(|o| *o = !*o)>
                    {move || if inspect.get() { "Hide events" } else { "Inspect" }}
                </button>
            </footer>
            <Show when=move || inspect.get()>
                <InspectorPanel live id panel_id=panel.clone()/>
            </Show>
        </article>
    }
}

#[component]
fn ErrorNote(error: ChatError, retry: bool, live: Live) -> impl IntoView {
    view! {
        <div class="error" role="alert" data-kind=error.kind.as_str()>
            <strong>{error.summary()}</strong>" "<span>{error.message.clone()}</span>
            <Show when=move || retry>
                " "<button type="button" class="btn retry" on:click=move |_| live.chat().regenerate()>"Retry"</button>
            </Show>
        </div>
    }
}

/// The reasoning, collapsed above the answer: a text node that grows (nothing is re-rendered per token).
#[component]
fn Reasoning(live: Live, id: u32) -> impl IntoView {
    let len = Memo::new(move |_| live.turn(id, |t| t.reasoning.len()).unwrap_or(0));
    let body = NodeRef::<html::Div>::new();
    let shown = StoredValue::new_local(None::<(web_sys::Text, usize)>);
    Effect::new(move |_| {
        let n = len.get();
        let Some(el) = body.get() else { return };
        let chat = live.chat();
        let state = chat.state();
        let Some(t) = state.turns.iter().rev().find(|t| t.id == id) else { return };
        shown.update_value(|s| {
            let (node, at) = s.get_or_insert_with(|| {
                let node = document().create_text_node("");
                let _ = el.append_child(&node);
                (node, 0)
            });
            if n >= *at && t.reasoning.is_char_boundary(*at) {
                let _ = node.append_data(t.reasoning.get(*at..).unwrap_or_default());
            } else {
                node.set_data(&t.reasoning);
            }
            *at = n;
        });
    });
    view! {
        <details class="reasoning" class:hidden=move || len.get() == 0>
            <summary>"Reasoning"</summary>
            <div class="reasoning-text" node_ref=body></div>
        </details>
    }
}

#[component]
fn ToolCalls(live: Live, id: u32) -> impl IntoView {
    let calls = Memo::new(move |_| live.turn(id, |t| t.tool_calls.clone()).unwrap_or_default());
    view! {
        <Show when=move || calls.with(|c| !c.is_empty())>
            <ul class="calls" aria-label="Tool calls">
                {move || calls.get().into_iter().map(|c: ToolCall| view! {
                    <li>"Tool call "<code class="call-name">{c.name}</code>" "<code class="call-args">{c.arguments}</code></li>
                }).collect_view()}
            </ul>
        </Show>
    }
}

/// The output of a structured answer: its text, or (providers without a JSON mode) the arguments of the tool call
/// that carried it.
fn structured_output(text: &str, calls: &[ToolCall]) -> String {
    if !text.trim().is_empty() {
        return text.to_string();
    }
    calls.iter().find(|c| c.name == "answer").or(calls.first()).map(|c| c.arguments.clone()).unwrap_or_default()
}

/// A structured-output answer: the raw JSON while it streams; then, drawn by the playground module, whether the
/// parsed value matches the schema and the value as a tree (the raw JSON while the module loads, and why if it
/// cannot be loaded).
#[component]
fn StructuredAnswer(live: Live, id: u32, schema: String) -> impl IntoView {
    let app = use_app();
    let output = Memo::new(move |_| {
        live.turn(id, |t| (t.status == Status::Streaming, t.status, structured_output(&t.text, &t.tool_calls)))
    });
    let host = NodeRef::<html::Div>::new();
    Effect::new(move |_| {
        let Some(root) = host.get() else { return };
        let root: web_sys::Element = root.into();
        root.set_text_content(None);
        let Some((streaming, status, out)) = output.get() else { return };
        if !(streaming || out.is_empty() || status == Status::Failed) {
            match app.playground.get() {
                Some(Ok(m)) => return m.show_answer(&root, &out, &schema),
                Some(Err(why)) => {
                    let _ = dom::add(&root, "p", "check bad", &why).set_attribute("role", "alert");
                }
                None => {}
            }
        }
        dom::add(&root, "pre", "raw", &out);
    });
    view! { <div class="structured" node_ref=host></div> }
}

/// The usage footnote and its long form.
pub fn usage_note(u: &UsageInfo) -> (String, String) {
    let cost = u.cost_usd.map(|c| format!(" · {}", format::cost(c))).unwrap_or_default();
    let est = if u.estimated { " (estimated)" } else { "" };
    let short = format!("{} in · {} out{cost}{est}", format::count(u.input_tokens), format::count(u.output_tokens));
    let long = format!(
        "Input tokens: {}, cached: {}, output tokens: {}, cost: {}{est}",
        u.input_tokens,
        u.cache_read_input_tokens,
        u.output_tokens,
        u.cost_usd.map_or("unknown".to_string(), |c| format::dollars(c, 6))
    );
    (short, long)
}
