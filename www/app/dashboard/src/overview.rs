//! What the dashboard shows for a range, computed from the edge's four usage reports (by time and model, by
//! time, by site key, by subject): the headline figures, the charts, the top lists, the outcomes and the budget.
//! Plain data (unit-tested natively); the view only draws it.

use super::admin::Range;
use super::chart::{self, Plot, Unit};
use super::model::{Budget, Metrics, Report};
use super::series::{self, Step, OTHER};

/// Colour of the models past the first few (and of `other`).
pub const GREY: usize = 6;
/// Colour of errors.
pub const BAD: usize = 7;
/// Colour of complete answers.
pub const GOOD: usize = 8;

/// A legend entry: name, value, colour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// What it is.
    pub name: String,
    /// Its figure over the whole range.
    pub value: String,
    /// Its colour.
    pub color: usize,
}

/// A chart and its legend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chart {
    /// Heading.
    pub title: &'static str,
    /// The unit of the value axis.
    pub unit: Unit,
    /// The shapes.
    pub plot: Plot,
    /// The legend.
    pub keys: Vec<Key>,
}

/// A row of a top list: name, figure, share of the largest (0 to 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Site key, subject or outcome.
    pub name: String,
    /// `$0.0123 · 42 req`.
    pub value: String,
    /// Bar length relative to the first row.
    pub share: f64,
    /// Colour.
    pub color: usize,
}

/// Everything the dashboard draws for one range.
#[derive(Debug, Clone, PartialEq)]
pub struct Overview {
    /// Bucket width.
    pub step: Step,
    /// Every model that appears (filter choices), most requests first.
    pub models: Vec<String>,
    /// Every outcome that appears.
    pub outcome_names: Vec<String>,
    /// Every site key that appears.
    pub site_keys: Vec<String>,
    /// Totals of the range.
    pub totals: Metrics,
    /// The daily budget.
    pub budget: Budget,
    /// Requests, tokens and cost over time stacked by model; time to first byte; cache and error rates.
    pub charts: Vec<Chart>,
    /// Outcomes, most first, with their share of all requests.
    pub outcomes: Vec<Row>,
    /// Top site keys by cost.
    pub sites: Vec<Row>,
    /// Top subjects by cost.
    pub subjects: Vec<Row>,
}

/// How many rows a top list shows.
pub const TOP: usize = 5;

fn color_of(name: &str, i: usize) -> usize {
    if name == OTHER || i >= GREY {
        GREY
    } else {
        i
    }
}

fn outcome_color(name: &str, i: usize) -> usize {
    match name {
        "complete" => GOOD,
        "error" => BAD,
        _ => [1, 3, 4, 5, 0].get(i).copied().unwrap_or(GREY),
    }
}

fn top_rows(report: &Report, dim: &str, none: &str) -> Vec<Row> {
    let rows = series::top(report, dim, TOP, none);
    let first = rows.first().map_or(0.0, |r| r.1);
    rows.into_iter()
        .map(|(name, cost, requests)| Row {
            value: format!("{} · {}", Unit::Usd.full(cost), Unit::Requests.full(requests as f64)),
            share: if first > 0.0 { cost / first } else { 0.0 },
            name,
            color: 0,
        })
        .collect()
}

impl Overview {
    /// Builds the overview of `range` ending at `now` from the reports grouped by `(step, model)`, `step`,
    /// `site_key` and `subject`.
    pub fn of(range: Range, now: i64, by_model: &Report, by_time: &Report, sites: &Report, subjects: &Report) -> Self {
        let (step, _) = range.buckets();
        let starts = range.starts(now);
        let names = series::models(by_model);
        let per = if step == Step::Hour { "per hour" } else { "per day" };
        let stack = |title: &'static str, unit: Unit, metric: fn(&Metrics) -> f64| {
            let s = series::stacked(by_model, step, &starts, &names, metric);
            let mut plot = chart::stacked_bars(&format!("{title} {per}"), step, &starts, &s, unit);
            for b in &mut plot.bars {
                b.color = color_of(&names[b.color], b.color);
            }
            let keys = s
                .iter()
                .enumerate()
                .map(|(i, s)| Key { name: s.name.clone(), value: unit.full(s.total()), color: color_of(&s.name, i) })
                .collect();
            Chart { title, unit, plot, keys }
        };
        let t = &by_model.totals;
        let ttfb = series::per_bucket(by_time, step, &starts, |m| m.ttfb_p50_ms);
        let ttfb95 = series::per_bucket(by_time, step, &starts, |m| m.ttfb_p95_ms);
        let cache = series::per_bucket(by_time, step, &starts, Metrics::cache_hit_rate);
        let errors = series::per_bucket(by_time, step, &starts, Metrics::error_rate);
        let opt = |u: Unit, v: Option<f64>| v.map_or_else(|| "–".into(), |v| u.full(v));
        let mut ttfb_plot =
            chart::lines("Time to first byte", step, &starts, &[("p50", ttfb), ("p95", ttfb95)], Unit::Ms);
        ttfb_plot.lines.iter_mut().for_each(|l| l.color = if l.color == 0 { 0 } else { 1 });
        let mut rates_plot = chart::lines(
            "Cache hits and errors",
            step,
            &starts,
            &[("cache hits", cache), ("errors", errors)],
            Unit::Share,
        );
        rates_plot.lines.iter_mut().for_each(|l| l.color = if l.color == 0 { 5 } else { BAD });
        let charts = vec![
            stack("Requests", Unit::Requests, |m| m.requests as f64),
            stack("Tokens", Unit::Tokens, |m| m.tokens() as f64),
            stack("Cost", Unit::Usd, |m| m.cost_usd),
            Chart {
                title: "Time to first byte",
                unit: Unit::Ms,
                plot: ttfb_plot,
                keys: vec![
                    Key { name: "p50 (median)".into(), value: opt(Unit::Ms, t.ttfb_p50_ms), color: 0 },
                    Key { name: "p95".into(), value: opt(Unit::Ms, t.ttfb_p95_ms), color: 1 },
                ],
            },
            Chart {
                title: "Cache hit rate and error rate",
                unit: Unit::Share,
                plot: rates_plot,
                keys: vec![
                    Key { name: "cache hits".into(), value: opt(Unit::Share, t.cache_hit_rate()), color: 5 },
                    Key { name: "errors".into(), value: opt(Unit::Share, t.error_rate()), color: BAD },
                ],
            },
        ];
        let outcomes = series::outcomes(t)
            .into_iter()
            .enumerate()
            .map(|(i, (name, n))| Row {
                value: format!(
                    "{} · {}",
                    Unit::Requests.full(n as f64),
                    chart::percent(n as f64 / t.requests.max(1) as f64)
                ),
                share: n as f64 / t.requests.max(1) as f64,
                color: outcome_color(&name, i),
                name,
            })
            .collect();
        // Every model, in the charts' order, then those folded into `other`.
        let mut models: Vec<String> = names.iter().filter(|n| *n != OTHER).cloned().collect();
        for g in &by_model.groups {
            if let Some(m) = g.key("model") {
                if !models.iter().any(|x| x == m) {
                    models.push(m.to_string());
                }
            }
        }
        Self {
            step,
            models,
            outcome_names: t.outcomes.iter().map(|(k, _)| k.clone()).collect(),
            site_keys: sites.groups.iter().filter_map(|g| g.key("site_key").map(str::to_string)).collect(),
            totals: t.clone(),
            budget: by_model.budget.clone(),
            charts,
            outcomes,
            sites: top_rows(sites, "site_key", "(no site key)"),
            subjects: top_rows(subjects, "subject", "(not signed in)"),
        }
    }
}

/// The budget lines: `(label, what was used, share of the limit)` (`None` without a limit). The limits are per
/// client (site key + user, or + IP) while today's figures are every client's together (docs/admin-api.md), so
/// the share says how much of one client's allowance the whole edge spent.
pub fn budget_lines(b: &Budget) -> Vec<(&'static str, String, Option<f64>)> {
    let line = |used: f64, limit: Option<f64>, unit: Unit| match limit {
        Some(limit) if limit > 0.0 => (
            format!("{} of one client's {} ({})", unit.full(used), unit.full(limit), chart::percent(used / limit)),
            Some(used / limit),
        ),
        _ => (format!("{} (no daily limit)", unit.full(used)), None),
    };
    let spend = line(b.spent_today_usd, b.daily_spend_usd, Unit::Usd);
    let tokens = line(b.tokens_today as f64, b.daily_tokens.map(|t| t as f64), Unit::Tokens);
    vec![("Spent today, all clients", spend.0, spend.1), ("Tokens today, all clients", tokens.0, tokens.1)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::Json;
    use crate::model::tests::{group, report, s};
    use crate::series::key_ms;

    #[test]
    fn an_overview_of_a_day() {
        let now = key_ms("2026-12-07T13:00:00Z").unwrap() + 60_000;
        let by_model = Report::from_json(&report(
            &["hour", "model"],
            vec![
                group(&[("hour", s("2026-12-07T12:00:00Z")), ("model", s("smart"))], 2.0, 0.2, 100.0, 200.0),
                group(&[("hour", s("2026-12-07T13:00:00Z")), ("model", s("fast"))], 5.0, 0.01, 50.0, 50.0),
            ],
            group(&[], 7.0, 0.21, 150.0, 250.0),
        ))
        .unwrap();
        let by_time = Report::from_json(&report(
            &["hour"],
            vec![group(&[("hour", s("2026-12-07T13:00:00Z"))], 7.0, 0.21, 150.0, 250.0)],
            group(&[], 7.0, 0.21, 150.0, 250.0),
        ))
        .unwrap();
        let sites = Report::from_json(&report(
            &["site_key"],
            vec![
                group(&[("site_key", s("pk_small"))], 5.0, 0.01, 0.0, 0.0),
                group(&[("site_key", s("pk_big"))], 2.0, 0.2, 0.0, 0.0),
            ],
            group(&[], 7.0, 0.21, 0.0, 0.0),
        ))
        .unwrap();
        let subjects = Report::from_json(&report(
            &["subject"],
            vec![group(&[("subject", Json::Null)], 7.0, 0.21, 0.0, 0.0)],
            group(&[], 7.0, 0.21, 0.0, 0.0),
        ))
        .unwrap();
        let o = Overview::of(Range::Day, now, &by_model, &by_time, &sites, &subjects);
        assert_eq!(o.step, Step::Hour);
        assert_eq!(o.models, ["fast", "smart"]);
        assert_eq!(o.charts.len(), 5);
        let req = &o.charts[0];
        assert_eq!(
            req.keys,
            [
                Key { name: "fast".into(), value: "5 req".into(), color: 0 },
                Key { name: "smart".into(), value: "2 req".into(), color: 1 }
            ]
        );
        assert_eq!(req.plot.columns.len(), 24);
        assert!(req.plot.summary.starts_with("Requests per hour: 7 req in all"), "{}", req.plot.summary);
        assert_eq!(o.charts[2].keys[1].value, "$0.2000");
        assert_eq!(o.sites[0].name, "pk_big");
        assert!((o.sites[1].share - 0.05).abs() < 1e-12);
        assert_eq!(o.subjects[0].name, "(not signed in)");
        assert_eq!(o.outcomes[0].name, "complete");
        assert_eq!(o.outcomes[0].value, "7 req · 100%");
        assert_eq!(o.outcomes[0].color, GOOD);
        assert_eq!(o.site_keys, ["pk_small", "pk_big"]);
        assert_eq!(o.totals.requests, 7);
        assert_eq!(o.charts[3].keys[0].value, "–", "no time to first byte recorded");
        let b = budget_lines(&o.budget);
        assert_eq!(b[0], ("Spent today, all clients", "$1.2500 of one client's $5.0000 (25%)".to_string(), Some(0.25)));
        assert_eq!(b[1].1, "4,200 tokens (no daily limit)");
    }
}
