//! The charts as SVG, drawn from [`super::chart`]'s plain shapes: the plot is an SVG stretched to the width of
//! its box (bars, lines, grid, a hover column per bucket whose `<title>` lists its values); the axis labels and
//! the legend are HTML, so they keep their size on a phone. Each chart has an accessible name that says what it
//! shows (the plot is `role="img"`); colours come from the app's CSS variables (`--c0` … `--c8`), light and dark.

use leptos::prelude::*;

use super::chart::{css_percent, H, W};
use super::overview::{Chart, Key, Row};

fn view_box() -> String {
    format!("0 0 {W} {H}")
}

fn colour(c: usize) -> String {
    format!("s{c}")
}

/// The legend of a chart: a swatch, the name and its figure over the range.
#[component]
pub fn Legend(keys: Vec<Key>) -> impl IntoView {
    view! {
        <ul class="legend">
            {keys.into_iter().map(|k| view! {
                <li><span class=format!("sw {}", colour(k.color)) aria-hidden="true"></span>{k.name}" "<b>{k.value}</b></li>
            }).collect_view()}
        </ul>
    }
}

/// A time chart: stacked bars and/or lines with a value axis (unit in the caption), a time axis and a legend.
#[component]
pub fn TimeChart(chart: Chart) -> impl IntoView {
    let Chart { title, unit, plot, keys } = chart;
    let grid = plot.y.iter().map(|t| (t.at * H as u32 / 1000).to_string()).collect::<Vec<_>>();
    view! {
        <figure class="chart">
            <figcaption><span class="chart-title">{title}</span>" "<span class="unit">{unit.caption()}</span></figcaption>
            <div class="chart-body" role="img" aria-label=plot.summary>
                <div class="plot">
                    <div class="y-axis" aria-hidden="true">
                        {plot.y.into_iter().map(|t| view! { <span style=format!("top:{}", css_percent(t.at))>{t.text}</span> }).collect_view()}
                    </div>
                    <svg viewBox=view_box() preserveAspectRatio="none" aria-hidden="true" focusable="false">
                        {grid.into_iter().map(|y| view! {
                            <line class="grid" x1="0" x2=W.to_string() y1=y.clone() y2=y vector-effect="non-scaling-stroke"/>
                        }).collect_view()}
                        {plot.bars.into_iter().map(|b| view! {
                            <rect class=colour(b.color) x=b.x.to_string() y=b.y.to_string() width=b.w.to_string() height=b.h.to_string()/>
                        }).collect_view()}
                        {plot.lines.into_iter().map(|l| view! {
                            <polyline class=format!("line {}", colour(l.color)) points=l.points vector-effect="non-scaling-stroke"/>
                        }).collect_view()}
                        {plot.columns.into_iter().map(|c| view! {
                            <rect class="hit" x=c.x.to_string() y="0" width=c.w.to_string() height=H.to_string()><title>{c.title}</title></rect>
                        }).collect_view()}
                    </svg>
                </div>
                <div class="x-axis" aria-hidden="true">
                    {plot.x.into_iter().map(|t| view! { <span style=format!("left:{}", css_percent(t.at))>{t.text}</span> }).collect_view()}
                </div>
            </div>
            <Legend keys=keys/>
        </figure>
    }
}

/// A bar of `share` (0 to 1) of the width.
fn bar(share: f64, color: usize) -> impl IntoView {
    let w = (share.clamp(0.0, 1.0) * f64::from(W)).round() as i32;
    view! {
        <svg class="hbar" viewBox=format!("0 0 {W} 10") preserveAspectRatio="none" aria-hidden="true" focusable="false">
            <rect class="track" x="0" y="0" width=W.to_string() height="10"/>
            <rect class=colour(color) x="0" y="0" width=w.max(i32::from(share > 0.0)).to_string() height="10"/>
        </svg>
    }
}

/// A ranked list with a bar per row (top site keys, subjects, outcomes).
#[component]
pub fn BarList(title: &'static str, unit: &'static str, rows: Vec<Row>, empty: &'static str) -> impl IntoView {
    let none = rows.is_empty();
    view! {
        <figure class="chart bars">
            <figcaption><span class="chart-title">{title}</span>" "<span class="unit">{unit}</span></figcaption>
            <Show when=move || none><p class="note">{empty}</p></Show>
            <ol class="bar-list">
                {rows.into_iter().map(|r| { let tip = r.name.clone(); view! {
                    <li>
                        <span class="name" title=tip>{r.name}</span>
                        <span class="value">{r.value}</span>
                        {bar(r.share, r.color)}
                    </li>
                }}).collect_view()}
            </ol>
        </figure>
    }
}

/// A gauge of how much of a limit is used (`None`: no limit, no bar).
pub fn gauge(label: &'static str, text: String, used: Option<f64>) -> impl IntoView {
    let over = used.is_some_and(|u| u >= 0.9);
    view! {
        <div class="gauge" class:over=over>
            <div class="gauge-head"><span>{label}</span><b>{text}</b></div>
            {used.map(|u| bar(u, if over { super::overview::BAD } else { 0 }))}
        </div>
    }
}
