//! From usage reports to what the charts show: UTC time buckets with the gaps filled, series stacked by model
//! (the same order and colours in every chart), per-bucket figures, outcome shares and top-N lists.

use super::model::{Metrics, Report};

/// The width of a time bucket (the edge buckets by UTC hour or day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// An hour.
    Hour,
    /// A UTC day.
    Day,
}

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

impl Step {
    /// The `group_by` dimension.
    pub fn dim(self) -> &'static str {
        match self {
            Self::Hour => "hour",
            Self::Day => "day",
        }
    }

    /// Milliseconds in a bucket.
    pub fn ms(self) -> i64 {
        match self {
            Self::Hour => HOUR,
            Self::Day => DAY,
        }
    }

    /// The start of the bucket holding `t` (unix ms).
    pub fn floor(self, t: i64) -> i64 {
        t - t.rem_euclid(self.ms())
    }

    /// The starts of the `n` buckets ending with the one that holds `now`.
    pub fn buckets(self, now: i64, n: usize) -> Vec<i64> {
        let last = self.floor(now);
        (0..n as i64).rev().map(|i| last - i * self.ms()).collect()
    }

    /// A bucket's axis label: `13:00` or `7 Dec`.
    pub fn label(self, t: i64) -> String {
        let (_, month, day, hour) = civil(t);
        match self {
            Self::Hour => format!("{hour:02}:00"),
            Self::Day => format!("{day} {}", MONTHS[month as usize - 1]),
        }
    }

    /// A bucket named in full, for tooltips: `7 Dec 13:00–14:00 UTC` or `7 Dec 2026 (UTC)`.
    pub fn long_label(self, t: i64) -> String {
        let (year, month, day, hour) = civil(t);
        let m = MONTHS[month as usize - 1];
        match self {
            Self::Hour => format!("{day} {m} {hour:02}:00–{:02}:00 UTC", (hour + 1) % 24),
            Self::Day => format!("{day} {m} {year} (UTC)"),
        }
    }
}

/// A moment to the second, UTC: `7 Dec 13:02:11`.
pub fn moment(t: i64) -> String {
    let (_, month, day, hour) = civil(t);
    let secs = t.rem_euclid(HOUR) / 1000;
    format!("{day} {} {hour:02}:{:02}:{:02}", MONTHS[month as usize - 1], secs / 60, secs % 60)
}

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// Days since 1970-01-01 of a civil date (proleptic Gregorian; H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `(year, month, day, hour)` in UTC of unix ms `t`.
fn civil(t: i64) -> (i64, i64, i64, i64) {
    let z = t.div_euclid(DAY) + 719_468;
    let hour = t.rem_euclid(DAY) / HOUR;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day, hour)
}

/// Unix ms of a bucket key: `2026-12-07` (a day) or `2026-12-07T01:00:00Z` (an hour).
pub fn key_ms(key: &str) -> Option<i64> {
    let b = key.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = b.get(r)?;
        s.iter().all(u8::is_ascii_digit).then(|| s.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
    };
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let hour = match b.get(10) {
        None => 0,
        Some(b'T') => num(11..13)?,
        Some(_) => return None,
    };
    Some(days_from_civil(y, m, d) * DAY + hour * HOUR)
}

/// Sorts a short list (stable insertion sort: `before(a, b)` puts `a` first). The lists here have a few dozen
/// entries; the standard library's sort would add kilobytes of wasm per element type.
pub fn sort<T>(v: &mut [T], before: impl Fn(&T, &T) -> bool) {
    for i in 1..v.len() {
        let mut j = i;
        while j > 0 && before(&v[j], &v[j - 1]) {
            v.swap(j, j - 1);
            j -= 1;
        }
    }
}

/// Most first, ties by name.
fn rank(v: &mut [(String, u64)]) {
    sort(v, |a, b| a.1 > b.1 || (a.1 == b.1 && a.0 < b.0));
}

/// A named row of values, one per bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The model (or `other`).
    pub name: String,
    /// One value per bucket.
    pub values: Vec<f64>,
}

impl Series {
    /// The sum of the values.
    pub fn total(&self) -> f64 {
        self.values.iter().sum()
    }
}

/// At most this many models get a colour of their own; the rest are stacked together as `other`.
pub const MAX_MODELS: usize = 6;

/// Name of the stack of the models past [`MAX_MODELS`].
pub const OTHER: &str = "other";

/// The models of a report grouped by `(time, model)`, most requests first (ties by name); past
/// [`MAX_MODELS`] − 1 the rest become [`OTHER`]. Every chart stacks in this order, so a model keeps its colour.
pub fn models(report: &Report) -> Vec<String> {
    let mut per: Vec<(String, u64)> = Vec::new();
    for g in &report.groups {
        let name = g.key("model").unwrap_or("?").to_string();
        match per.iter_mut().find(|(n, _)| *n == name) {
            Some((_, r)) => *r += g.metrics.requests,
            None => per.push((name, g.metrics.requests)),
        }
    }
    rank(&mut per);
    let mut names: Vec<String> = per.into_iter().map(|(n, _)| n).collect();
    if names.len() > MAX_MODELS {
        names.truncate(MAX_MODELS - 1);
        names.push(OTHER.into());
    }
    names
}

/// The bucket index of a group's time key among `starts`.
fn bucket(report_step: Step, key: Option<&str>, starts: &[i64]) -> Option<usize> {
    let t = report_step.floor(key_ms(key?)?);
    starts.iter().position(|s| *s == t)
}

/// `metric` per model and bucket of a report grouped by `(step, model)`, in the order of `models` (a bucket
/// without requests is 0).
pub fn stacked(
    report: &Report,
    step: Step,
    starts: &[i64],
    models: &[String],
    metric: fn(&Metrics) -> f64,
) -> Vec<Series> {
    let mut out: Vec<Series> =
        models.iter().map(|m| Series { name: m.clone(), values: vec![0.0; starts.len()] }).collect();
    for g in &report.groups {
        let Some(i) = bucket(step, g.key(step.dim()), starts) else { continue };
        let name = g.key("model").unwrap_or("?");
        let row = out.iter().position(|s| s.name == name).or_else(|| out.iter().position(|s| s.name == OTHER));
        if let Some(row) = row {
            out[row].values[i] += metric(&g.metrics);
        }
    }
    out
}

/// `metric` per bucket of a report grouped by `step` alone; `None` where a bucket has no requests or no value.
pub fn per_bucket(
    report: &Report,
    step: Step,
    starts: &[i64],
    metric: fn(&Metrics) -> Option<f64>,
) -> Vec<Option<f64>> {
    let mut out = vec![None; starts.len()];
    for g in &report.groups {
        if let Some(i) = bucket(step, g.key(step.dim()), starts) {
            out[i] = metric(&g.metrics);
        }
    }
    out
}

/// The `n` groups of a report grouped by `dim` that cost the most: `(name, cost, requests)`; a group without a
/// value (no site key, no subject) is named `none`.
pub fn top(report: &Report, dim: &str, n: usize, none: &str) -> Vec<(String, f64, u64)> {
    let mut rows: Vec<(String, f64, u64)> = report
        .groups
        .iter()
        .map(|g| (g.key(dim).unwrap_or(none).to_string(), g.metrics.cost_usd, g.metrics.requests))
        .collect();
    sort(&mut rows, |a, b| a.1 > b.1 || (a.1 == b.1 && (a.2 > b.2 || (a.2 == b.2 && a.0 < b.0))));
    rows.truncate(n);
    rows
}

/// Requests per outcome, most first.
pub fn outcomes(m: &Metrics) -> Vec<(String, u64)> {
    let mut rows: Vec<(String, u64)> = m.outcomes.iter().filter(|(_, n)| *n > 0).cloned().collect();
    rank(&mut rows);
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::Json;
    use crate::model::tests::{group, report, s};

    #[test]
    fn bucket_keys_and_labels_are_utc() {
        let t = key_ms("2026-12-07T13:00:00Z").unwrap();
        assert_eq!(t, 1_796_648_400_000);
        assert_eq!(key_ms("2026-12-07"), Some(t - 13 * HOUR));
        assert_eq!(key_ms("1970-01-01"), Some(0));
        assert_eq!(key_ms("2024-02-29T00:00:00Z"), Some(1_709_164_800_000));
        assert_eq!(key_ms("2026-13-01"), None);
        assert_eq!(key_ms("2026-12-07 13:00"), None);
        assert_eq!(key_ms("soon"), None);
        assert_eq!(Step::Hour.label(t + 59 * 60_000), "13:00");
        assert_eq!(moment(t + 62_345), "7 Dec 13:01:02");
        assert_eq!(Step::Day.label(t), "7 Dec");
        assert_eq!(Step::Hour.long_label(t + 10 * HOUR), "7 Dec 23:00–00:00 UTC");
        assert_eq!(Step::Day.long_label(key_ms("2024-02-29").unwrap()), "29 Feb 2024 (UTC)");
        let b = Step::Hour.buckets(t + 1_234, 3);
        assert_eq!(b, [t - 2 * HOUR, t - HOUR, t]);
        assert_eq!(Step::Day.buckets(t, 2), [t - 13 * HOUR - DAY, t - 13 * HOUR]);
    }

    #[test]
    fn stacks_by_model_with_gaps_filled() {
        let t = key_ms("2026-12-07T10:00:00Z").unwrap();
        let starts = Step::Hour.buckets(t + 2 * HOUR, 4); // 09:00 .. 12:00
        let g = |h: &str, m: &str, r: f64, c: f64| group(&[("hour", s(h)), ("model", s(m))], r, c, r * 10.0, r * 20.0);
        let body = report(
            &["hour", "model"],
            vec![
                g("2026-12-07T10:00:00Z", "fast", 3.0, 0.03),
                g("2026-12-07T10:00:00Z", "smart", 5.0, 0.5),
                g("2026-12-07T12:00:00Z", "fast", 4.0, 0.04),
                // Outside the buckets: left out.
                g("2026-12-06T10:00:00Z", "fast", 99.0, 9.0),
            ],
            group(&[], 12.0, 0.57, 120.0, 240.0),
        );
        let r = crate::model::Report::from_json(&body).unwrap();
        let models = models(&r);
        assert_eq!(models, ["fast", "smart"], "most requests first");
        let req = stacked(&r, Step::Hour, &starts, &models, |m| m.requests as f64);
        assert_eq!(req[0].values, [0.0, 3.0, 0.0, 4.0]);
        assert_eq!(req[1].values, [0.0, 5.0, 0.0, 0.0]);
        let cost = stacked(&r, Step::Hour, &starts, &models, |m| m.cost_usd);
        assert_eq!(cost[1].total(), 0.5);
        let tok = stacked(&r, Step::Hour, &starts, &models, |m| m.tokens() as f64);
        assert_eq!(tok[0].values[3], 120.0);
    }

    #[test]
    fn many_models_share_an_other_stack() {
        let groups = (0..8)
            .map(|i| {
                group(&[("day", s("2026-12-07")), ("model", s(&format!("m{i}")))], f64::from(10 - i), 0.0, 0.0, 0.0)
            })
            .collect();
        let r = crate::model::Report::from_json(&report(&["day", "model"], groups, group(&[], 0.0, 0.0, 0.0, 0.0)))
            .unwrap();
        let names = models(&r);
        assert_eq!(names, ["m0", "m1", "m2", "m3", "m4", OTHER]);
        let starts = [key_ms("2026-12-07").unwrap()];
        let req = stacked(&r, Step::Day, &starts, &names, |m| m.requests as f64);
        assert_eq!(req[5].values, [5.0 + 4.0 + 3.0], "m5, m6 and m7 in other");
        assert_eq!(req.iter().map(Series::total).sum::<f64>(), (3..=10).sum::<i32>() as f64);
    }

    #[test]
    fn per_bucket_top_and_outcomes() {
        let mut g1 = group(&[("hour", s("2026-12-07T10:00:00Z"))], 4.0, 0.0, 0.0, 0.0);
        if let Json::Obj(m) = &mut g1 {
            m.push(("ttfb_p95_ms".into(), Json::Num(800.0)));
            m.retain(|(k, v)| k != "ttfb_p95_ms" || *v != Json::Null);
        }
        let r = crate::model::Report::from_json(&report(&["hour"], vec![g1], group(&[], 4.0, 0.0, 0.0, 0.0))).unwrap();
        let starts = Step::Hour.buckets(key_ms("2026-12-07T11:00:00Z").unwrap(), 2);
        assert_eq!(per_bucket(&r, Step::Hour, &starts, |m| m.ttfb_p95_ms), [Some(800.0), None]);

        let sites = crate::model::Report::from_json(&report(
            &["site_key"],
            vec![
                group(&[("site_key", s("pk_b"))], 2.0, 0.2, 0.0, 0.0),
                group(&[("site_key", Json::Null)], 9.0, 0.5, 0.0, 0.0),
                group(&[("site_key", s("pk_a"))], 1.0, 0.2, 0.0, 0.0),
                group(&[("site_key", s("pk_c"))], 1.0, 0.01, 0.0, 0.0),
            ],
            group(&[], 13.0, 0.91, 0.0, 0.0),
        ))
        .unwrap();
        let t = top(&sites, "site_key", 3, "(no site key)");
        assert_eq!(
            t,
            [("(no site key)".to_string(), 0.5, 9), ("pk_b".to_string(), 0.2, 2), ("pk_a".to_string(), 0.2, 1)]
        );
        let m = Metrics {
            outcomes: vec![("complete".into(), 5), ("error".into(), 7), ("stopped".into(), 0)],
            ..Metrics::default()
        };
        assert_eq!(outcomes(&m), [("error".to_string(), 7), ("complete".to_string(), 5)]);
    }
}
