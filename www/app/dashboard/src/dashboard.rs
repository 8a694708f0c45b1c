//! The edge's dashboard: every request the edge recorded (all users, all sites), from its admin API. It asks for
//! the admin token once per tab ([`super::admin`]); then a range (24 h by hour, 7 or 30 days by day), the
//! headline figures, the charts, the top site keys and subjects by cost, the daily budget, and the recent
//! requests with filters and "Load more". It refreshes every 30 s while the tab is visible (pausable).
//!
//! A small controller on the DOM (the state in a `RefCell`, the page drawn by [`super::draw`]), as the widget is.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{Element, Event, HtmlInputElement, HtmlSelectElement};

use crate::admin::{self, AdminError, Filters, Range};
use crate::draw::{self, add, set};
use crate::js;
use crate::model::Record;
use crate::overview::Overview;
use crate::series::moment;

/// Seconds between automatic refreshes.
const REFRESH_S: i32 = 30;
/// Rows per page of the table (the admin API's `limit`).
const PAGE: usize = 50;

#[derive(Default)]
struct State {
    token: Option<String>,
    range: Option<Range>,
    filters: Filters,
    overview: Option<Overview>,
    rows: Vec<Record>,
    next: Option<String>,
    paused: bool,
    loading: bool,
    updated: Option<i64>,
    /// Why the token was refused or the figures could not be read.
    error: Option<String>,
    /// Why the table could not be read.
    table_error: Option<String>,
    /// The latest figures and table requests: an older answer arriving late is dropped.
    turns: (u32, u32),
}

struct Ui {
    form: Element,
    input: HtmlInputElement,
    error: Element,
    board: Element,
    ranges: Vec<Element>,
    auto: HtmlInputElement,
    status: Element,
    figures: Element,
    selects: [HtmlSelectElement; 3],
    table_error: Element,
    tbody: Element,
    empty: Element,
    more: Element,
}

/// An event listener kept while the dashboard lives.
type Listener = Closure<dyn FnMut(Event)>;

/// The dashboard: its state, its page, its listeners and timer.
pub struct Dash {
    state: RefCell<State>,
    ui: Ui,
    listeners: RefCell<Vec<Listener>>,
    timer: Cell<Option<i32>>,
    tick: RefCell<Option<Closure<dyn FnMut()>>>,
    stopped: Cell<bool>,
}

fn show(e: &Element, on: bool) {
    let _ = if on { e.remove_attribute("hidden") } else { e.set_attribute("hidden", "") };
}

fn text(e: &Element, t: Option<&str>) {
    e.set_text_content(t);
    show(e, t.is_some());
}

fn button(parent: &Element, class: &str, label: &str) -> Element {
    let b = add(parent, "button", class, label);
    set(&b, "type", "button");
    b
}

/// A `<label>` for `id` and its field (`tag`), in `parent`.
fn field(parent: &Element, tag: &str, id: &str, label: &str) -> Element {
    set(&add(parent, "label", "", label), "for", id);
    let f = add(parent, tag, "", "");
    set(&f, "id", id);
    f
}

impl Dash {
    /// Builds the dashboard in `root` and starts it (with the token of this tab, if there is one).
    pub fn mount(root: &Element) -> Rc<Self> {
        root.set_text_content(None);
        set(&add(root, "h2", "", "All requests on the edge"), "id", "edge-usage-title");
        let form = add(root, "form", "token-form", "");
        let row = add(&form, "div", "token-row", "");
        let input = field(&row, "input", "admin-token", "Admin token");
        for (k, v) in [("type", "password"), ("autocomplete", "off"), ("spellcheck", "false")] {
            set(&input, k, v);
        }
        set(&input, "aria-describedby", "admin-token-note");
        set(&add(&row, "button", "btn primary", "Show usage"), "type", "submit");
        set(
            &add(
                &form,
                "p",
                "note",
                "The edge's ADMIN_TOKEN. It is kept in this tab only (sessionStorage) and sent to this edge's \
                 /api/admin/ routes; closing the tab forgets it.",
            ),
            "id",
            "admin-token-note",
        );
        let error = add(root, "p", "error admin-error", "");
        set(&error, "role", "alert");

        let board = add(root, "div", "board", "");
        let controls = add(&board, "div", "dash-controls", "");
        let ranges = add(&controls, "div", "range", "");
        set(&ranges, "role", "group");
        set(&ranges, "aria-label", "Range");
        let range_buttons: Vec<Element> = Range::ALL
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let b = button(&ranges, "btn", r.label());
                set(&b, "data-range", &i.to_string());
                b
            })
            .collect();
        let label = add(&controls, "label", "check-field", "");
        let auto = add(&label, "input", "auto-refresh", "");
        set(&auto, "type", "checkbox");
        let _ = label.append_with_str_1(&format!("Refresh every {REFRESH_S} s"));
        let refresh = button(&controls, "btn refresh", "Refresh now");
        let sign_out = button(&controls, "btn sign-out", "Sign out");
        let status = add(&controls, "p", "note dash-status", "");
        let figures = add(&board, "div", "figures-host", "");

        let recent = add(&board, "section", "recent", "");
        set(&recent, "aria-labelledby", "recent-title");
        set(&add(&recent, "h2", "", "Recent requests"), "id", "recent-title");
        let filters = add(&recent, "div", "row filters", "");
        let selects = [("filter-model", "Model"), ("filter-outcome", "Outcome"), ("filter-site", "Site key")].map(
            |(id, label)| {
                let s = field(&add(&filters, "div", "field", ""), "select", id, label);
                set(&add(&s, "option", "", "Any"), "value", "");
                s.unchecked_into::<HtmlSelectElement>()
            },
        );
        let table_error = add(&recent, "p", "error", "");
        set(&table_error, "role", "alert");
        let wrap = add(&recent, "div", "table-wrap", "");
        for (k, v) in [("tabindex", "0"), ("role", "region"), ("aria-label", "Recent requests")] {
            set(&wrap, k, v);
        }
        let table = add(&wrap, "table", "usage-table requests-table", "");
        let head = add(&add(&table, "thead", "", ""), "tr", "", "");
        for (h, num) in [
            ("Time (UTC)", false),
            ("Model", false),
            ("Site key", false),
            ("Subject", false),
            ("Outcome", false),
            ("Status", true),
            ("Cache", false),
            ("First byte", true),
            ("Duration", true),
            ("In", true),
            ("Out", true),
            ("Cost", true),
        ] {
            set(&add(&head, "th", if num { "num" } else { "" }, h), "scope", "col");
        }
        let tbody = add(&table, "tbody", "", "");
        let empty = add(&recent, "p", "note", "No request matches.");
        let more = button(&recent, "btn load-more", "Load more");

        let dash = Rc::new(Self {
            state: RefCell::new(State { token: admin::token(), ..State::default() }),
            ui: Ui {
                form: form.clone(),
                input: input.unchecked_into(),
                error,
                board,
                ranges: range_buttons,
                auto: auto.unchecked_into(),
                status,
                figures,
                selects: selects.clone(),
                table_error,
                tbody,
                empty,
                more: more.clone(),
            },
            listeners: RefCell::new(Vec::new()),
            timer: Cell::new(None),
            tick: RefCell::new(None),
            stopped: Cell::new(false),
        });
        dash.on(&form, "submit", Self::sign_in);
        dash.on(&ranges, "click", Self::pick_range);
        dash.on(&dash.ui.auto, "change", |d, _| {
            d.state.borrow_mut().paused = !d.ui.auto.checked();
        });
        dash.on(&refresh, "click", |d, _| d.refresh(true));
        dash.on(&sign_out, "click", |d, _| {
            admin::set_token(None);
            *d.state.borrow_mut() = State::default();
            d.redraw();
            let _ = d.ui.input.focus();
        });
        for s in &selects {
            dash.on(s, "change", Self::filter);
        }
        dash.on(&more, "click", |d, _| d.load_rows(true));
        dash.start_timer();
        dash.redraw();
        dash.refresh(true);
        dash
    }

    /// Calls `f` on each `event` at `target` while the dashboard lives.
    fn on(self: &Rc<Self>, target: &Element, event: &str, f: fn(&Rc<Self>, &Event)) {
        let weak: Weak<Self> = Rc::downgrade(self);
        let c = Listener::new(move |e: Event| {
            if let Some(d) = weak.upgrade() {
                f(&d, &e);
            }
        });
        let _ = target.add_event_listener_with_callback(event, c.as_ref().unchecked_ref());
        self.listeners.borrow_mut().push(c);
    }

    /// Every 30 s: the figures, and the table while it shows its first page; not while paused, signed out or
    /// hidden (another tab, a minimised window).
    fn start_timer(self: &Rc<Self>) {
        let weak = Rc::downgrade(self);
        let tick = Closure::<dyn FnMut()>::new(move || {
            if let Some(d) = weak.upgrade() {
                if !d.state.borrow().paused && !draw::document().hidden() {
                    let first_page = d.state.borrow().rows.len() <= PAGE;
                    d.refresh(first_page);
                }
            }
        });
        self.timer.set(
            draw::window()
                .set_interval_with_callback_and_timeout_and_arguments_0(tick.as_ref().unchecked_ref(), REFRESH_S * 1000)
                .ok(),
        );
        *self.tick.borrow_mut() = Some(tick);
    }

    /// Stops the timer and the listeners (the screen is closed).
    pub fn stop(&self) {
        self.stopped.set(true);
        if let Some(t) = self.timer.take() {
            draw::window().clear_interval_with_handle(t);
        }
        self.tick.borrow_mut().take();
        self.listeners.borrow_mut().clear();
    }

    fn sign_in(self: &Rc<Self>, e: &Event) {
        e.prevent_default();
        let t = self.ui.input.value().trim().to_string();
        if t.is_empty() {
            return;
        }
        self.ui.input.set_value("");
        admin::set_token(Some(&t));
        {
            let mut s = self.state.borrow_mut();
            s.token = Some(t);
            s.error = None;
        }
        self.redraw();
        self.refresh(true);
    }

    fn pick_range(self: &Rc<Self>, e: &Event) {
        let picked = e
            .target()
            .and_then(|t| t.dyn_into::<Element>().ok())
            .and_then(|b| b.get_attribute("data-range"))
            .and_then(|i| Range::ALL.get(i.parse::<usize>().ok()?).copied());
        if let Some(r) = picked {
            self.state.borrow_mut().range = Some(r);
            self.redraw();
            self.refresh(false);
        }
    }

    fn filter(self: &Rc<Self>, _: &Event) {
        let [m, o, s] = &self.ui.selects;
        self.state.borrow_mut().filters = Filters { model: m.value(), outcome: o.value(), site_key: s.value() };
        self.load_rows(false);
    }

    /// Reads the figures again, and the table's first page with `table`.
    fn refresh(self: &Rc<Self>, table: bool) {
        self.load();
        if table {
            self.load_rows(false);
        }
    }

    /// A refused token (or no admin API) signs out; any other failure is shown with what was there.
    fn failed(&self, e: &AdminError) {
        {
            let mut s = self.state.borrow_mut();
            if matches!(e, AdminError::Refused | AdminError::NotEnabled) {
                admin::set_token(None);
                *s = State::default();
            }
            s.loading = false;
            s.error = Some(e.message());
        }
        self.redraw();
    }

    fn load(self: &Rc<Self>) {
        let (token, range, turn) = {
            let mut s = self.state.borrow_mut();
            let Some(t) = s.token.clone() else { return };
            s.turns.0 += 1;
            s.loading = true;
            (t, s.range.unwrap_or(Range::Day), s.turns.0)
        };
        self.draw_status();
        let me = self.clone();
        spawn_local(async move {
            let now = js::now() as i64;
            let from = range.starts(now)[0];
            let dim = range.buckets().0.dim();
            let result = async {
                let by_model = admin::usage(&token, from, now, &format!("{dim},model")).await?;
                let by_time = admin::usage(&token, from, now, dim).await?;
                let sites = admin::usage(&token, from, now, "site_key").await?;
                let subjects = admin::usage(&token, from, now, "subject").await?;
                Ok::<_, AdminError>(Overview::of(range, now, &by_model, &by_time, &sites, &subjects))
            }
            .await;
            if me.stopped.get() || me.state.borrow().turns.0 != turn {
                return;
            }
            match result {
                Ok(o) => {
                    {
                        let mut s = me.state.borrow_mut();
                        s.overview = Some(o);
                        s.loading = false;
                        s.error = None;
                        s.updated = Some(now);
                    }
                    me.redraw();
                }
                Err(e) => me.failed(&e),
            }
        });
    }

    fn load_rows(self: &Rc<Self>, more: bool) {
        let (token, filters, before, turn) = {
            let mut s = self.state.borrow_mut();
            let Some(t) = s.token.clone() else { return };
            if more && s.next.is_none() {
                return;
            }
            s.turns.1 += 1;
            (t, s.filters.clone(), if more { s.next.clone() } else { None }, s.turns.1)
        };
        let me = self.clone();
        spawn_local(async move {
            let page = admin::requests(&token, &filters, before.as_deref()).await;
            if me.stopped.get() || me.state.borrow().turns.1 != turn {
                return;
            }
            match page {
                Ok(p) => {
                    {
                        let mut s = me.state.borrow_mut();
                        if !more {
                            s.rows.clear();
                        }
                        s.rows.extend(p.requests);
                        s.next = p.next;
                        s.table_error = None;
                    }
                    me.draw_rows();
                }
                Err(e @ (AdminError::Refused | AdminError::NotEnabled)) => me.failed(&e),
                Err(e) => {
                    me.state.borrow_mut().table_error = Some(e.message());
                    me.draw_rows();
                }
            }
        });
    }

    /// Everything from the state.
    fn redraw(&self) {
        let s = self.state.borrow();
        let signed_in = s.token.is_some();
        show(&self.ui.form, !signed_in);
        show(&self.ui.board, signed_in);
        text(&self.ui.error, s.error.as_deref());
        let range = s.range.unwrap_or(Range::Day);
        for (b, r) in self.ui.ranges.iter().zip(Range::ALL) {
            set(b, "aria-pressed", if r == range { "true" } else { "false" });
        }
        self.ui.auto.set_checked(!s.paused);
        self.ui.figures.set_text_content(None);
        if let Some(o) = &s.overview {
            draw::figures(&self.ui.figures, o);
            // The filters offer what the range holds (and keep a choice it no longer holds).
            let choices = [&o.models, &o.outcome_names, &o.site_keys];
            for (select, list) in self.ui.selects.iter().zip(choices) {
                let current = select.value();
                while select.length() > 1 {
                    select.remove_with_index(1);
                }
                let extra = (!current.is_empty() && !list.contains(&current)).then_some(&current);
                for v in list.iter().chain(extra) {
                    set(&add(select, "option", "", v), "value", v);
                }
                select.set_value(&current);
            }
        }
        drop(s);
        self.draw_status();
        self.draw_rows();
    }

    fn draw_status(&self) {
        let s = self.state.borrow();
        let status = if s.loading {
            "Loading…".to_string()
        } else {
            s.updated.map(|t| format!("Updated {} UTC", moment(t))).unwrap_or_default()
        };
        self.ui.status.set_text_content(Some(&status));
    }

    fn draw_rows(&self) {
        let s = self.state.borrow();
        self.ui.tbody.set_text_content(None);
        draw::request_rows(&self.ui.tbody, &s.rows);
        text(&self.ui.table_error, s.table_error.as_deref());
        show(&self.ui.empty, s.rows.is_empty());
        show(&self.ui.more, s.next.is_some());
    }
}
