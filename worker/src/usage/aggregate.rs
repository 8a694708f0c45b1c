//! Merging roll-up rows into the admin API's `usage` answer. A row is a partial sum for one combination of the
//! requested dimensions, the outcome and the time-to-first-byte bucket; the `USAGE` shards pre-sum theirs in SQL
//! (`GROUP BY`), the in-process store hands over its roll-ups as they are, and this one function groups both (sums
//! are associative, so a pre-summed row and many small ones merge the same).

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::query::{Dim, UsageQuery};
use super::time::{day_string, hour_string, DAY_MS};
use super::{bucket_value, Record};
use crate::stream::round_usd;

/// Summed metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sums {
    /// Requests.
    pub requests: u64,
    /// Answered from a cache.
    pub cached: u64,
    /// Input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Cache-read tokens.
    pub cache_read_tokens: u64,
    /// Cache-write tokens.
    pub cache_write_tokens: u64,
    /// Cost, USD.
    pub cost_usd: f64,
}

impl Sums {
    /// One record's contribution.
    pub fn of(r: &Record) -> Self {
        Self {
            requests: 1,
            cached: u64::from(r.cached()),
            input_tokens: r.input_tokens,
            output_tokens: r.output_tokens,
            cache_read_tokens: r.cache_read_tokens,
            cache_write_tokens: r.cache_write_tokens,
            cost_usd: r.cost_usd.unwrap_or(0.0),
        }
    }

    /// Adds `o`.
    pub fn add(&mut self, o: &Sums) {
        self.requests += o.requests;
        self.cached += o.cached;
        self.input_tokens += o.input_tokens;
        self.output_tokens += o.output_tokens;
        self.cache_read_tokens += o.cache_read_tokens;
        self.cache_write_tokens += o.cache_write_tokens;
        self.cost_usd += o.cost_usd;
    }

    /// All four token counts.
    pub fn tokens(&self) -> u64 {
        self.input_tokens + self.output_tokens + self.cache_read_tokens + self.cache_write_tokens
    }
}

/// A partial sum (see the module docs). Dimensions not asked for are `None` and ignored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    /// Start of the row's hour (or day), Unix ms, when grouping by time.
    pub t: Option<u64>,
    /// Provider model.
    pub model: Option<String>,
    /// Site key.
    pub site_key: Option<String>,
    /// Hashed subject.
    pub subject: Option<String>,
    /// Task.
    pub task: Option<String>,
    /// Outcome.
    pub outcome: String,
    /// Time-to-first-byte bucket ([`super::ttfb_bucket`]).
    pub bucket: i32,
    /// The sums.
    pub sums: Sums,
}

impl Row {
    /// A row as a shard answers it (JSON object; `""` and absent are both "none").
    pub fn from_value(v: &Value) -> Option<Self> {
        let s = |k: &str| v.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
        let n = |k: &str| v.get(k).and_then(Value::as_f64).unwrap_or(0.0).max(0.0) as u64;
        Some(Self {
            t: v.get("t").and_then(Value::as_u64),
            model: s("model"),
            site_key: s("site_key"),
            subject: s("subject"),
            task: s("task"),
            outcome: s("outcome")?,
            bucket: v.get("bucket").and_then(Value::as_i64).unwrap_or(-1) as i32,
            sums: Sums {
                requests: n("requests"),
                cached: n("cached"),
                input_tokens: n("input_tokens"),
                output_tokens: n("output_tokens"),
                cache_read_tokens: n("cache_read_tokens"),
                cache_write_tokens: n("cache_write_tokens"),
                cost_usd: v.get("cost_usd").and_then(Value::as_f64).unwrap_or(0.0),
            },
        })
    }

    fn dim(&self, d: Dim) -> Option<String> {
        match d {
            Dim::Hour => self.t.map(hour_string),
            Dim::Day => self.t.map(|t| day_string(t / DAY_MS * DAY_MS)),
            Dim::Model => self.model.clone(),
            Dim::SiteKey => self.site_key.clone(),
            Dim::Subject => self.subject.clone(),
            Dim::Outcome => Some(self.outcome.clone()),
            Dim::Task => self.task.clone(),
        }
    }
}

#[derive(Default)]
struct Group {
    sums: Sums,
    outcomes: BTreeMap<String, u64>,
    ttfb: BTreeMap<i32, u64>,
}

impl Group {
    fn add(&mut self, r: &Row) {
        self.sums.add(&r.sums);
        *self.outcomes.entry(r.outcome.clone()).or_default() += r.sums.requests;
        if r.bucket >= 0 {
            *self.ttfb.entry(r.bucket).or_default() += r.sums.requests;
        }
    }

    /// The `p` quantile of the time to first byte, from the histogram (the bucket's midpoint).
    fn percentile(&self, p: f64) -> Option<f64> {
        let n: u64 = self.ttfb.values().sum();
        if n == 0 {
            return None;
        }
        let rank = ((p * n as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (b, c) in &self.ttfb {
            seen += c;
            if seen >= rank {
                return Some(bucket_value(*b));
            }
        }
        None
    }

    fn metrics(&self, into: &mut Map<String, Value>) {
        let s = &self.sums;
        into.insert("requests".into(), s.requests.into());
        into.insert("errors".into(), self.outcomes.get("error").copied().unwrap_or(0).into());
        into.insert("cached".into(), s.cached.into());
        into.insert("input_tokens".into(), s.input_tokens.into());
        into.insert("output_tokens".into(), s.output_tokens.into());
        into.insert("cache_read_tokens".into(), s.cache_read_tokens.into());
        into.insert("cache_write_tokens".into(), s.cache_write_tokens.into());
        into.insert("cost_usd".into(), round_usd(s.cost_usd).into());
        into.insert("ttfb_p50_ms".into(), self.percentile(0.5).into());
        into.insert("ttfb_p95_ms".into(), self.percentile(0.95).into());
        into.insert("outcomes".into(), json!(self.outcomes));
    }
}

/// The daily limits and what was spent today, for `budget`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Today {
    /// USD spent since midnight UTC, over every client.
    pub usd: f64,
    /// Tokens (all four counts) since midnight UTC.
    pub tokens: u64,
}

/// The admin API's `usage` answer for `q` from `rows` (of every shard), `today`'s sums and the configured limits.
pub fn usage_json(q: &UsageQuery, rows: &[Row], today: Today, limits: &crate::config::Limits) -> String {
    let mut groups: BTreeMap<Vec<Option<String>>, Group> = BTreeMap::new();
    let mut totals = Group::default();
    for r in rows {
        let key = q.dims.iter().map(|d| r.dim(*d)).collect();
        groups.entry(key).or_default().add(r);
        totals.add(r);
    }
    let groups: Vec<Value> = groups
        .into_iter()
        .map(|(key, g)| {
            let mut m = Map::new();
            for (d, v) in q.dims.iter().zip(key) {
                m.insert(d.as_str().into(), v.into());
            }
            g.metrics(&mut m);
            Value::Object(m)
        })
        .collect();
    let mut t = Map::new();
    totals.metrics(&mut t);
    let dims: Vec<&str> = q.dims.iter().map(|d| d.as_str()).collect();
    json!({
        "from": q.from,
        "to": q.to,
        "group_by": dims,
        "groups": groups,
        "totals": t,
        "budget": {
            "daily_spend_usd": (limits.daily_spend_usd > 0.0).then_some(limits.daily_spend_usd),
            "daily_tokens": (limits.daily_tokens > 0).then_some(limits.daily_tokens),
            "spent_today_usd": round_usd(today.usd),
            "tokens_today": today.tokens,
        },
    })
    .to_string()
}

/// One listed record as a shard answers it: its time, id and JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    /// Unix ms.
    pub time: u64,
    /// Request id.
    pub id: String,
    /// The record's JSON ([`Record::to_json`]).
    pub json: String,
}

/// The admin API's `requests` answer: every shard's newest `limit` merged, newest first (ties by id), with the
/// cursor of the last one when there may be more.
pub fn requests_json(mut listed: Vec<Listed>, limit: usize) -> String {
    listed.sort_by(|a, b| (b.time, &b.id).cmp(&(a.time, &a.id)));
    let more = listed.len() > limit;
    listed.truncate(limit);
    let next = match (more, listed.last()) {
        (true, Some(l)) => Value::from(super::query::cursor(l.time, &l.id)),
        _ => Value::Null,
    };
    let items: Vec<&str> = listed.iter().map(|l| l.json.as_str()).collect();
    format!("{{\"requests\":[{}],\"next\":{}}}", items.join(","), next)
}
