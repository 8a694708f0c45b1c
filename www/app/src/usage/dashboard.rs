//! The edge's dashboard: every request the edge recorded (all users, all sites), from its admin API. The admin
//! token is asked for once per tab ([`super::admin`]); then a range (24 h by hour, 7 or 30 days by day), the
//! headline figures, the charts, the top site keys and subjects by cost, the daily budget, and the recent
//! requests with filters and "Load more". It refreshes every 30 s while the tab is visible (pausable).

use leptos::html;
use leptos::prelude::*;
use wasm_bindgen_futures::spawn_local;

use super::admin::{self, AdminError, Filters, Range};
use super::chart::{percent, Unit};
use super::draw::{gauge, BarList, TimeChart};
use super::model::{Metrics, Record};
use super::overview::{budget_lines, Overview};
use super::series::{moment, Step};
use crate::{format, js};

/// Seconds between automatic refreshes.
const REFRESH_S: u64 = 30;

/// The dashboard (asks for the admin token first).
#[component]
pub fn Dashboard() -> impl IntoView {
    let token = RwSignal::new(admin::token());
    let error = RwSignal::new(None::<AdminError>);
    let range = RwSignal::new(Range::Day);
    let data = RwSignal::new(None::<Overview>);
    let loading = RwSignal::new(false);
    let updated = RwSignal::new(None::<i64>);
    let auto = RwSignal::new(true);
    let filters = RwSignal::new(Filters::default());
    let rows = RwSignal::new(Vec::<Record>::new());
    let next = RwSignal::new(None::<String>);
    let table_error = RwSignal::new(None::<String>);
    let turn = StoredValue::new((0u32, 0u32));

    // A refused token is forgotten; the form shows why.
    let failed = move |e: AdminError| {
        if matches!(e, AdminError::Refused | AdminError::NotEnabled) {
            admin::set_token(None);
            token.set(None);
            data.set(None);
            rows.set(Vec::new());
        }
        error.set(Some(e));
    };
    let load = move || {
        let Some(t) = token.get_untracked() else { return };
        let n = turn.with_value(|t| t.0) + 1;
        turn.update_value(|t| t.0 = n);
        let r = range.get_untracked();
        let now = js::now() as i64;
        let from = r.starts(now)[0];
        loading.set(true);
        spawn_local(async move {
            let dim = r.buckets().0.dim();
            let result = async {
                let by_model = admin::usage(&t, from, now, &format!("{dim},model")).await?;
                let by_time = admin::usage(&t, from, now, dim).await?;
                let sites = admin::usage(&t, from, now, "site_key").await?;
                let subjects = admin::usage(&t, from, now, "subject").await?;
                Ok::<_, AdminError>(Overview::of(r, now, &by_model, &by_time, &sites, &subjects))
            }
            .await;
            if turn.with_value(|t| t.0) != n {
                return;
            }
            loading.set(false);
            match result {
                Ok(o) => {
                    data.set(Some(o));
                    error.set(None);
                    updated.set(Some(now));
                }
                Err(e) => failed(e),
            }
        });
    };
    let load_rows = move |more: bool| {
        let Some(t) = token.get_untracked() else { return };
        let before = if more { next.get_untracked() } else { None };
        if more && before.is_none() {
            return;
        }
        let f = filters.get_untracked();
        let n = turn.with_value(|t| t.1) + 1;
        turn.update_value(|t| t.1 = n);
        spawn_local(async move {
            let page = admin::requests(&t, &f, before.as_deref()).await;
            if turn.with_value(|t| t.1) != n {
                return;
            }
            match page {
                Ok(p) => {
                    if more {
                        rows.update(|r| r.extend(p.requests));
                    } else {
                        rows.set(p.requests);
                    }
                    next.set(p.next);
                    table_error.set(None);
                }
                Err(e @ (AdminError::Refused | AdminError::NotEnabled)) => failed(e),
                Err(e) => table_error.set(Some(e.message())),
            }
        });
    };
    Effect::new(move |_| {
        token.track();
        range.track();
        load();
    });
    Effect::new(move |_| {
        token.track();
        filters.track();
        load_rows(false);
    });
    // Every 30 s while on, signed in and the tab is visible; the table only while it shows its first page.
    if let Ok(h) = set_interval_with_handle(
        move || {
            if auto.get_untracked() && token.with_untracked(Option::is_some) && !document().hidden() {
                load();
                if rows.with_untracked(|r| r.len() <= 50) {
                    load_rows(false);
                }
            }
        },
        std::time::Duration::from_secs(REFRESH_S),
    ) {
        on_cleanup(move || h.clear());
    }

    let input = NodeRef::<html::Input>::new();
    let sign_in = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(i) = input.get_untracked() else { return };
        let t = i.value().trim().to_string();
        if t.is_empty() {
            return;
        }
        i.set_value("");
        admin::set_token(Some(&t));
        error.set(None);
        token.set(Some(t));
    };
    let sign_out = move |_| {
        admin::set_token(None);
        token.set(None);
        data.set(None);
        rows.set(Vec::new());
        next.set(None);
        error.set(None);
    };

    view! {
        <section class="dashboard" aria-labelledby="edge-usage-title">
            <h2 id="edge-usage-title">"All requests on the edge"</h2>
            <Show when=move || token.with(Option::is_none)>
                <form class="token-form" on:submit=sign_in>
                    <label for="admin-token">"Admin token"</label>
                    <div class="token-row">
                        <input id="admin-token" type="password" autocomplete="off" spellcheck="false" node_ref=input
                            aria-describedby="admin-token-note"/>
                        <button type="submit" class="btn primary">"Show usage"</button>
                    </div>
                    <p class="note" id="admin-token-note">"The edge's ADMIN_TOKEN. It is kept in this tab only (sessionStorage) and sent to this edge's /api/admin/ routes; closing the tab forgets it."</p>
                </form>
            </Show>
            {move || error.get().map(|e| view! { <p class="error admin-error" role="alert">{e.message()}</p> })}
            <Show when=move || token.with(Option::is_some)>
                <div class="dash-controls">
                    <div class="range" role="group" aria-label="Range">
                        {Range::ALL.map(|r| view! {
                            <button type="button" class="btn" aria-pressed=move || (range.get() == r).to_string()
                                on:click=move |_| range.set(r)>{r.label()}</button>
                        })}
                    </div>
                    <label class="check-field"><input type="checkbox" class="auto-refresh" prop:checked=move || auto.get()
                        on:change=move |ev| auto.set(event_target_checked(&ev))/>{format!("Refresh every {REFRESH_S} s")}</label>
                    <button type="button" class="btn refresh" on:click=move |_| { load(); load_rows(false); }>"Refresh now"</button>
                    <button type="button" class="btn sign-out" on:click=sign_out>"Sign out"</button>
                    <p class="note dash-status" role="status">{move || if loading.get() {
                        "Loading…".to_string()
                    } else {
                        updated.get().map(|t| format!("Updated {} UTC", moment(t))).unwrap_or_default()
                    }}</p>
                </div>
                {move || data.get().map(|o| view! { <Figures o=o/> })}
                <Requests rows=rows next=next filters=filters error=table_error data=data more=move || load_rows(true)/>
            </Show>
        </section>
    }
}

/// The headline figures, the charts, the top lists and the budget.
#[component]
fn Figures(o: Overview) -> impl IntoView {
    let t: Metrics = o.totals.clone();
    let opt_ms = |v: Option<f64>| v.map_or_else(|| "–".to_string(), format::duration);
    let rate = |v: Option<f64>| v.map_or_else(|| "–".to_string(), percent);
    let per = if o.step == Step::Hour { "hour" } else { "day" };
    let figures = [
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
    ];
    view! {
        <dl class="kpis">
            {figures.into_iter().map(|(id, label, value)| view! {
                <div class=format!("kpi kpi-{id}")><dt>{label}</dt><dd>{value}</dd></div>
            }).collect_view()}
        </dl>
        <p class="note">{format!("Bars per {per} (UTC), stacked by model; hover a {per} for its figures.")}</p>
        <div class="charts">
            {o.charts.into_iter().map(|c| view! { <TimeChart chart=c/> }).collect_view()}
            <BarList title="Outcomes" unit="share of requests" rows=o.outcomes empty="No requests in this range."/>
            <BarList title="Top site keys by cost" unit="US$" rows=o.sites empty="No requests in this range."/>
            <BarList title="Top subjects by cost" unit="US$" rows=o.subjects empty="No requests in this range."/>
            <figure class="chart budget">
                <figcaption><span class="chart-title">"Daily budget"</span>" "<span class="unit">"today, UTC"</span></figcaption>
                {budget_lines(&o.budget).into_iter().map(|(label, text, used)| gauge(label, text, used)).collect_view()}
            </figure>
        </div>
    }
}

/// A `<select>` of a filter: "any" and the values seen.
fn filter_select(
    id: &'static str,
    label: &'static str,
    filters: RwSignal<Filters>,
    get: fn(&Filters) -> &String,
    set: fn(&mut Filters, String),
    choices: Signal<Vec<String>>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <select id=id on:change=move |ev| {
                let v = event_target_value(&ev);
                filters.update(|f| set(f, v));
            }>
                <option value="" selected=move || filters.with(|f| get(f).is_empty())>"Any"</option>
                {move || {
                    let current = filters.with(|f| get(f).clone());
                    let mut list = choices.get();
                    if !current.is_empty() && !list.contains(&current) {
                        list.push(current.clone());
                    }
                    list.into_iter().map(|v| {
                        let (on, value) = (v == current, v.clone());
                        view! { <option value=value selected=on>{v}</option> }
                    }).collect_view()
                }}
            </select>
        </div>
    }
}

/// The recent requests, newest first, with filters and "Load more".
#[component]
fn Requests(
    rows: RwSignal<Vec<Record>>,
    next: RwSignal<Option<String>>,
    filters: RwSignal<Filters>,
    error: RwSignal<Option<String>>,
    data: RwSignal<Option<Overview>>,
    more: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let choices = |f: fn(&Overview) -> &Vec<String>| {
        Signal::derive(move || data.with(|d| d.as_ref().map(|o| f(o).clone()).unwrap_or_default()))
    };
    let dash = |v: Option<String>| v.unwrap_or_else(|| "–".into());
    view! {
        <section class="recent" aria-labelledby="recent-title">
            <h2 id="recent-title">"Recent requests"</h2>
            <div class="row filters">
                {filter_select("filter-model", "Model", filters, |f| &f.model, |f, v| f.model = v, choices(|o| &o.models))}
                {filter_select("filter-outcome", "Outcome", filters, |f| &f.outcome, |f, v| f.outcome = v, choices(|o| &o.outcome_names))}
                {filter_select("filter-site", "Site key", filters, |f| &f.site_key, |f, v| f.site_key = v, choices(|o| &o.site_keys))}
            </div>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <div class="table-wrap" tabindex="0" role="region" aria-label="Recent requests">
                <table class="usage-table requests-table">
                    <thead><tr>
                        <th scope="col">"Time (UTC)"</th><th scope="col">"Model"</th><th scope="col">"Site key"</th>
                        <th scope="col">"Subject"</th><th scope="col">"Outcome"</th><th scope="col" class="num">"Status"</th>
                        <th scope="col">"Cache"</th><th scope="col" class="num">"First byte"</th><th scope="col" class="num">"Duration"</th>
                        <th scope="col" class="num">"In"</th><th scope="col" class="num">"Out"</th><th scope="col" class="num">"Cost"</th>
                    </tr></thead>
                    <tbody>
                        <For each=move || rows.get() key=|r| r.id.clone() let:r>
                            <tr data-id=r.id.clone()>
                                <td class="nowrap">{moment(r.time as i64)}</td>
                                <td>{if r.alias.is_empty() || r.alias == r.model { r.model.clone() } else { format!("{} → {}", r.alias, r.model) }}
                                    {r.fallback.then_some(" (fallback)")}</td>
                                <td>{dash(r.site_key.clone())}</td>
                                <td>{dash(r.subject.clone())}</td>
                                <td class=format!("outcome o-{}", r.outcome)>{r.outcome.clone()}
                                    {r.error_type.clone().map(|e| format!(": {e}"))}</td>
                                <td class="num">{r.status}</td>
                                <td>{dash(r.cache.clone())}</td>
                                <td class="num">{r.ttfb_ms.map_or_else(|| "–".into(), format::duration)}</td>
                                <td class="num">{format::duration(r.duration_ms)}</td>
                                <td class="num">{format::count(r.input_tokens)}</td>
                                <td class="num">{format::count(r.output_tokens)}{r.estimated.then_some(" ≈")}</td>
                                <td class="num">{Unit::Usd.full(r.cost_usd)}</td>
                            </tr>
                        </For>
                    </tbody>
                </table>
            </div>
            <Show when=move || rows.with(Vec::is_empty)><p class="note">"No request matches."</p></Show>
            <Show when=move || next.with(Option::is_some)>
                <button type="button" class="btn load-more" on:click=move |_| more()>"Load more"</button>
            </Show>
        </section>
    }
}
