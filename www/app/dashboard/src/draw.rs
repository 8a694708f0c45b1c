//! The dashboard's figures, charts and table rows, drawn into the page with plain DOM calls from
//! [`super::overview`]'s data (Leptos views of the same cost ~30 KB more wasm: each element type is generic
//! code). Every string from the edge is set as text (`textContent`, attribute values), never parsed as HTML.
//!
//! A time chart is an SVG stretched to the width of its box (`preserveAspectRatio="none"`): grid lines, stacked
//! bars, lines (`vector-effect: non-scaling-stroke`), and a hover column per bucket whose `<title>` lists its
//! values. The axis labels and the legend are HTML, so they keep their size on a phone. The plot is
//! `role="img"` with a summary in words as its name; colours are the app's CSS variables (`--c0` … `--c8`).

use wasm_bindgen::UnwrapThrowExt;
use web_sys::Element;

use super::chart::{css_percent, percent, Unit, H, W};
use super::model::Record;
use super::overview::{budget_lines, Chart, Key, Overview, Row, BAD};
use super::series::{moment, Step};
use crate::format;

/// The page's window.
pub fn window() -> web_sys::Window {
    web_sys::window().unwrap_throw()
}

/// The page's document.
pub fn document() -> web_sys::Document {
    window().document().unwrap_throw()
}

const SVG: &str = "http://www.w3.org/2000/svg";

/// Appends an HTML `<tag>` with `class` and `text` (either may be empty) to `parent`.
pub fn add(parent: &Element, tag: &str, class: &str, text: &str) -> Element {
    let e = document().create_element(tag).unwrap_throw();
    if !class.is_empty() {
        set(&e, "class", class);
    }
    if !text.is_empty() {
        e.set_text_content(Some(text));
    }
    let _ = parent.append_child(&e);
    e
}

/// Appends an SVG `<tag>` with these attributes to `parent`.
fn svg(parent: &Element, tag: &str, attrs: &[(&str, &str)]) -> Element {
    let e = document().create_element_ns(Some(SVG), tag).unwrap_throw();
    for (k, v) in attrs {
        set(&e, k, v);
    }
    let _ = parent.append_child(&e);
    e
}

/// Sets an attribute.
pub fn set(e: &Element, name: &str, value: &str) {
    let _ = e.set_attribute(name, value);
}

fn hidden(e: &Element) {
    set(e, "aria-hidden", "true");
}

fn colour(c: usize) -> String {
    format!("s{c}")
}

/// A `<figure class="chart">` with its caption: title and unit.
fn figure(parent: &Element, class: &str, title: &str, unit: &str) -> Element {
    let fig = add(parent, "figure", class, "");
    let cap = add(&fig, "figcaption", "", "");
    add(&cap, "span", "chart-title", title);
    add(&cap, "span", "unit", unit);
    fig
}

fn legend(parent: &Element, keys: &[Key]) {
    let ul = add(parent, "ul", "legend", "");
    for k in keys {
        let li = add(&ul, "li", "", "");
        hidden(&add(&li, "span", &format!("sw {}", colour(k.color)), ""));
        let _ = li.append_with_str_1(&format!("{} ", k.name));
        add(&li, "b", "", &k.value);
    }
}

/// A time chart: stacked bars and/or lines, the value axis (unit in the caption), the time axis, the legend.
fn time_chart(parent: &Element, c: &Chart) {
    let fig = figure(parent, "chart", c.title, c.unit.caption());
    let body = add(&fig, "div", "chart-body", "");
    set(&body, "role", "img");
    set(&body, "aria-label", &c.plot.summary);
    let plot = add(&body, "div", "plot", "");
    let y = add(&plot, "div", "y-axis", "");
    hidden(&y);
    for t in &c.plot.y {
        set(&add(&y, "span", "", &t.text), "style", &format!("top:{}", css_percent(t.at)));
    }
    let s = svg(
        &plot,
        "svg",
        &[
            ("viewBox", &format!("0 0 {W} {H}")),
            ("preserveAspectRatio", "none"),
            ("aria-hidden", "true"),
            ("focusable", "false"),
        ],
    );
    let w = W.to_string();
    for t in &c.plot.y {
        let y = (t.at * H as u32 / 1000).to_string();
        svg(&s, "line", &[("class", "grid"), ("x1", "0"), ("x2", &w), ("y1", &y), ("y2", &y)]);
    }
    for b in &c.plot.bars {
        svg(
            &s,
            "rect",
            &[
                ("class", &colour(b.color)),
                ("x", &b.x.to_string()),
                ("y", &b.y.to_string()),
                ("width", &b.w.to_string()),
                ("height", &b.h.to_string()),
            ],
        );
    }
    for l in &c.plot.lines {
        svg(&s, "polyline", &[("class", &format!("line {}", colour(l.color))), ("points", &l.points)]);
    }
    let h = H.to_string();
    for col in &c.plot.columns {
        let r = svg(
            &s,
            "rect",
            &[("class", "hit"), ("x", &col.x.to_string()), ("y", "0"), ("width", &col.w.to_string()), ("height", &h)],
        );
        svg(&r, "title", &[]).set_text_content(Some(&col.title));
    }
    let x = add(&body, "div", "x-axis", "");
    hidden(&x);
    for t in &c.plot.x {
        set(&add(&x, "span", "", &t.text), "style", &format!("left:{}", css_percent(t.at)));
    }
    legend(&fig, &c.keys);
}

/// A bar of `share` (0 to 1) of the width.
fn bar(parent: &Element, share: f64, color: usize) {
    let s = svg(
        parent,
        "svg",
        &[
            ("class", "hbar"),
            ("viewBox", &format!("0 0 {W} 10")),
            ("preserveAspectRatio", "none"),
            ("aria-hidden", "true"),
            ("focusable", "false"),
        ],
    );
    let w = W.to_string();
    svg(&s, "rect", &[("class", "track"), ("width", &w), ("height", "10")]);
    let filled = ((share.clamp(0.0, 1.0) * f64::from(W)).round() as i32).max(i32::from(share > 0.0));
    svg(&s, "rect", &[("class", &colour(color)), ("width", &filled.to_string()), ("height", "10")]);
}

/// A ranked list with a bar per row (outcomes, top site keys, top subjects).
fn bar_list(parent: &Element, title: &str, unit: &str, rows: &[Row]) {
    let fig = figure(parent, "chart bars", title, unit);
    if rows.is_empty() {
        add(&fig, "p", "note", "No requests in this range.");
        return;
    }
    let ol = add(&fig, "ol", "bar-list", "");
    for r in rows {
        let li = add(&ol, "li", "", "");
        set(&add(&li, "span", "name", &r.name), "title", &r.name);
        add(&li, "span", "value", &r.value);
        bar(&li, r.share, r.color);
    }
}

/// The headline figures, the charts, the top lists and the budget of `o`, into `host`.
pub fn figures(host: &Element, o: &Overview) {
    let t = &o.totals;
    let opt_ms = |v: Option<f64>| v.map_or_else(|| "–".to_string(), format::duration);
    let rate = |v: Option<f64>| v.map_or_else(|| "–".to_string(), percent);
    let dl = add(host, "dl", "kpis", "");
    for (id, label, value) in [
        ("requests", "Requests", format::count(t.requests)),
        (
            "tokens",
            "Tokens in / out",
            format!("{} / {}", format::count(t.input_tokens), format::count(t.output_tokens)),
        ),
        ("cost", "Cost", format::cost(t.cost_usd)),
        ("errors", "Errors", format!("{} ({})", format::count(t.errors), rate(t.error_rate()))),
        ("cache", "Cache hit rate", rate(t.cache_hit_rate())),
        ("ttfb", "Time to first byte p50 / p95", format!("{} / {}", opt_ms(t.ttfb_p50_ms), opt_ms(t.ttfb_p95_ms))),
    ] {
        let div = add(&dl, "div", &format!("kpi kpi-{id}"), "");
        add(&div, "dt", "", label);
        add(&div, "dd", "", &value);
    }
    let per = if o.step == Step::Hour { "hour" } else { "day" };
    add(host, "p", "note", &format!("Per {per} (UTC), stacked by model; hover a {per} for its figures."));
    let grid = add(host, "div", "charts", "");
    for c in &o.charts {
        time_chart(&grid, c);
    }
    bar_list(&grid, "Outcomes", "share of requests", &o.outcomes);
    bar_list(&grid, "Top site keys by cost", "US$", &o.sites);
    bar_list(&grid, "Top subjects by cost", "US$", &o.subjects);
    let fig = figure(&grid, "chart budget", "Daily budget", "today, UTC");
    for (label, text, used) in budget_lines(&o.budget) {
        let over = used.is_some_and(|u| u >= 0.9);
        let g = add(&fig, "div", if over { "gauge over" } else { "gauge" }, "");
        let head = add(&g, "div", "gauge-head", "");
        add(&head, "span", "", label);
        add(&head, "b", "", &text);
        if let Some(u) = used {
            bar(&g, u, if over { BAD } else { 0 });
        }
    }
}

/// The rows of the recent requests table, into `tbody`.
pub fn request_rows(tbody: &Element, records: &[Record]) {
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "–".into());
    for r in records {
        let tr = add(tbody, "tr", "", "");
        set(&tr, "data-id", &r.id);
        let mut model = if r.alias.is_empty() || r.alias == r.model {
            r.model.clone()
        } else {
            format!("{} → {}", r.alias, r.model)
        };
        if r.fallback {
            model += " (fallback)";
        }
        let mut outcome = r.outcome.clone();
        if let Some(e) = &r.error_type {
            outcome += &format!(": {e}");
        }
        let mut out = format::count(r.output_tokens);
        if r.estimated {
            out += " ≈";
        }
        for (class, text) in [
            ("nowrap", moment(r.time as i64)),
            ("", model),
            ("", dash(&r.site_key)),
            ("", dash(&r.subject)),
            (if r.outcome == "error" { "o-error" } else { "" }, outcome),
            ("num", r.status.to_string()),
            ("", dash(&r.cache)),
            ("num", r.ttfb_ms.map_or_else(|| "–".into(), format::duration)),
            ("num", format::duration(r.duration_ms)),
            ("num", format::count(r.input_tokens)),
            ("num", out),
            ("num", Unit::Usd.full(r.cost_usd)),
        ] {
            add(&tr, "td", class, &text);
        }
    }
}
