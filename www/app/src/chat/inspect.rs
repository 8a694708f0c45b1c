//! The event inspector under an answer: its figures, then every SSE event with its id and time since the request.
//! Leptos owns the panel's element; its content is drawn with plain DOM calls (like the markdown renderer's):
//! the rows only grow, so a new event appends its row instead of re-rendering the table.

use leptos::html;
use leptos::prelude::*;
use web_sys::Element;

use crate::dom::add;
use crate::format;
use crate::inspector::{AnswerLog, Happened, Row};
use crate::session::Live;

/// Rows shown at most; a longer log shows its first and last rows.
const SHOWN: usize = 400;

/// Turn `id`'s inspector.
#[component]
pub fn InspectorPanel(live: Live, id: u32, panel_id: String) -> impl IntoView {
    let root = NodeRef::<html::Section>::new();
    let drawn = StoredValue::new_local(None::<Drawn>);
    Effect::new(move |_| {
        let Some(el) = root.get() else { return };
        live.log(id, |log| drawn.update_value(|d| d.get_or_insert_with(|| Drawn::new(el.into())).show(log)));
    });
    view! { <section class="inspector" id=panel_id aria-label="Event inspector" node_ref=root></section> }
}

/// What the panel shows so far.
struct Drawn {
    root: Element,
    /// The figures (`None` until the log exists: a note says why there is none).
    figures: Option<Element>,
    /// The table's body, once there is a row.
    rows: Option<Element>,
    /// Rows of the log drawn (all of them, or with a gap once there are more than [`SHOWN`]).
    count: usize,
    /// The note that no events were recorded is shown.
    noted: bool,
}

impl Drawn {
    fn new(root: Element) -> Self {
        Self { root, figures: None, rows: None, count: 0, noted: false }
    }

    fn show(&mut self, log: Option<&AnswerLog>) {
        let Some(log) = log else {
            if !self.noted {
                self.noted = true;
                add(
                    &self.root,
                    "p",
                    "note",
                    "No events were recorded for this answer in this tab (it streamed before the page was loaded).",
                );
            }
            return;
        };
        if self.figures.is_some() && log.rows.len() == self.count {
            return;
        }
        let figures = self.figures.get_or_insert_with(|| {
            self.root.set_text_content(None);
            add(&self.root, "dl", "figures", "")
        });
        figures.set_text_content(None);
        draw_figures(figures, log);
        if log.rows.is_empty() {
            return;
        }
        let tbody = self.rows.get_or_insert_with(|| {
            let wrap = add(&self.root, "div", "events-wrap", "");
            for (k, v) in [("tabindex", "0"), ("role", "region"), ("aria-label", "Stream events")] {
                let _ = wrap.set_attribute(k, v);
            }
            let table = add(&wrap, "table", "events", "");
            add(&table, "caption", "sr-only", "Every event of the answer's stream");
            let head = add(&add(&table, "thead", "", ""), "tr", "", "");
            for h in ["id", "event", "+ms", "data"] {
                let _ = add(&head, "th", "", h).set_attribute("scope", "col");
            }
            add(&table, "tbody", "", "")
        });
        let rows = &log.rows;
        if rows.len() <= SHOWN {
            rows[self.count..].iter().for_each(|r| draw_row(tbody, r));
        } else {
            // The first and last halves of SHOWN, and how many are left out between them.
            tbody.set_text_content(None);
            rows[..SHOWN / 2].iter().for_each(|r| draw_row(tbody, r));
            let gap = add(&add(tbody, "tr", "gap", ""), "td", "", "");
            let _ = gap.set_attribute("colspan", "4");
            gap.set_text_content(Some(&format!("… {} more events …", format::count((rows.len() - SHOWN) as u64))));
            rows[rows.len() - SHOWN / 2..].iter().for_each(|r| draw_row(tbody, r));
        }
        self.count = rows.len();
    }
}

fn draw_figures(dl: &Element, log: &AnswerLog) {
    let s = log.stats();
    let ms = |v: Option<f64>| v.map_or("–".to_string(), format::duration);
    let mut served = match (&s.served_by, &s.provider) {
        (Some(m), Some(p)) => format!("{m} ({p})"),
        (Some(m), None) => m.clone(),
        _ => "–".into(),
    };
    if s.fallback {
        served.push_str(" — fallback");
    }
    let figure = |wide: bool, term: &str, class: &str, value: &str| {
        let div = add(dl, "div", if wide { "wide" } else { "" }, "");
        add(&div, "dt", "", term);
        add(&div, "dd", class, value)
    };
    figure(false, "Time to first token", "ttft", &ms(s.first_token_ms));
    figure(false, "Tokens per second", "tps", &s.tokens_per_s.map_or("–".into(), format::one_decimal));
    figure(false, "Total", "total", &ms(s.total_ms));
    figure(false, "Events", "count", &s.events.to_string());
    figure(false, "Reconnects", "reconnects", &s.reconnects.to_string());
    figure(false, "Served by", "served", &served);
    let id = figure(true, "Request id", "", "");
    add(&id, "code", "request-id", s.request_id.as_deref().unwrap_or("–"));
}

fn draw_row(tbody: &Element, r: &Row) {
    let at = format::one_decimal(r.at.max(0.0));
    let (class, id, name, data) = match &r.what {
        Happened::Event { id, name, .. } => (format!("ev ev-{name}"), id.as_deref().unwrap_or(""), name.as_str(), None),
        Happened::Request { resume: true } => {
            ("ev ev-request".into(), "", "reconnect", Some("GET /api/chat/streams/{id} with Last-Event-ID".into()))
        }
        Happened::Request { resume: false } => ("ev ev-request".into(), "", "request", Some("POST /api/chat".into())),
        Happened::Broken { message, wait_ms } => {
            ("ev ev-broken".into(), "", "broken", Some(format!("{message}; reconnecting in {wait_ms} ms")))
        }
    };
    let tr = add(tbody, "tr", &class, "");
    add(&tr, "td", "", id);
    add(&tr, "td", "", name);
    add(&tr, "td", "num", &at);
    let cell = add(&tr, "td", "", "");
    match (data, &r.what) {
        (Some(text), _) => cell.set_text_content(Some(&text)),
        (None, Happened::Event { data, .. }) => {
            add(&cell, "code", "", data);
        }
        _ => {}
    }
}
