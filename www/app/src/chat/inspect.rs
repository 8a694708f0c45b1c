//! The event inspector under an answer: its figures, then every SSE event with its id and time since the request.

use leptos::prelude::*;

use crate::format;
use crate::inspector::{AnswerLog, Happened, Row, Stats};
use crate::session::Live;

/// Rows shown at most; a longer log shows its first and last rows.
const SHOWN: usize = 400;

/// Turn `id`'s inspector.
#[component]
pub fn InspectorPanel(live: Live, id: u32, panel_id: String) -> impl IntoView {
    let stats = Memo::new(move |_| live.log(id, |l| l.map(AnswerLog::stats)));
    let rows = Memo::new(move |_| live.log(id, |l| l.map(|l| sample(&l.rows)).unwrap_or_default()));
    view! {
        <section class="inspector" id=panel_id aria-label="Event inspector">
            {move || match stats.get() {
                None => view! { <p class="note">"No events were recorded for this answer in this tab (it streamed before the page was loaded)."</p> }.into_any(),
                Some(s) => view! { <Figures s/> }.into_any(),
            }}
            <Show when=move || rows.with(|(r, _)| !r.is_empty())>
                <div class="events-wrap" tabindex="0" role="region" aria-label="Stream events">
                    <table class="events">
                        <caption class="sr-only">"Every event of the answer's stream"</caption>
                        <thead><tr><th scope="col">"id"</th><th scope="col">"event"</th><th scope="col">"+ms"</th><th scope="col">"data"</th></tr></thead>
                        <tbody>
                            {move || {
                                let (list, hidden) = rows.get();
                                list.into_iter().enumerate().map(|(i, r)| {
                                    let gap = (hidden > 0 && i == SHOWN / 2).then(|| view! {
                                        <tr class="gap"><td colspan="4">{format!("… {} more events …", format::count(hidden as u64))}</td></tr>
                                    });
                                    view! { {gap} <EventRow r/> }
                                }).collect_view()
                            }}
                        </tbody>
                    </table>
                </div>
            </Show>
        </section>
    }
}

/// The rows to show (the first and last halves of [`SHOWN`]) and how many are left out.
fn sample(rows: &[Row]) -> (Vec<Row>, usize) {
    if rows.len() <= SHOWN {
        return (rows.to_vec(), 0);
    }
    let mut out = rows[..SHOWN / 2].to_vec();
    out.extend_from_slice(&rows[rows.len() - SHOWN / 2..]);
    (out, rows.len() - SHOWN)
}

#[component]
fn Figures(s: Stats) -> impl IntoView {
    let ms = |v: Option<f64>| v.map_or("–".to_string(), format::duration);
    let served = match (&s.served_by, &s.provider) {
        (Some(m), Some(p)) => format!("{m} ({p})"),
        (Some(m), None) => m.clone(),
        _ => "–".into(),
    };
    view! {
        <dl class="figures">
            <div><dt>"Time to first token"</dt><dd class="ttft">{ms(s.first_token_ms)}</dd></div>
            <div><dt>"Tokens per second"</dt><dd class="tps">{s.tokens_per_s.map_or("–".into(), format::one_decimal)}</dd></div>
            <div><dt>"Total"</dt><dd class="total">{ms(s.total_ms)}</dd></div>
            <div><dt>"Events"</dt><dd class="count">{s.events}</dd></div>
            <div><dt>"Reconnects"</dt><dd class="reconnects">{s.reconnects}</dd></div>
            <div><dt>"Served by"</dt><dd class="served">{served}{s.fallback.then_some(" — fallback")}</dd></div>
            <div class="wide"><dt>"Request id"</dt><dd><code class="request-id">{s.request_id.unwrap_or_else(|| "–".into())}</code></dd></div>
        </dl>
    }
}

#[component]
fn EventRow(r: Row) -> impl IntoView {
    let at = format::one_decimal(r.at.max(0.0));
    match r.what {
        Happened::Event { id, name, data } => {
            let class = format!("ev ev-{name}");
            view! {
            <tr class=class><td>{id.unwrap_or_default()}</td><td>{name}</td><td class="num">{at}</td><td><code>{data}</code></td></tr>
            }
            .into_any()
        }
        Happened::Request { resume } => view! {
            <tr class="ev ev-request"><td></td><td>{if resume { "reconnect" } else { "request" }}</td><td class="num">{at}</td>
                <td>{if resume { "GET /api/chat/streams/{id} with Last-Event-ID" } else { "POST /api/chat" }}</td></tr>
        }
        .into_any(),
        Happened::Broken { message, wait_ms } => view! {
            <tr class="ev ev-broken"><td></td><td>"broken"</td><td class="num">{at}</td><td>{format!("{message}; reconnecting in {wait_ms} ms")}</td></tr>
        }
        .into_any(),
    }
}
