//! The in-process usage store: what serves without the `USAGE` Durable Object (on Node, `worker/node.mjs`; in
//! workerd without the binding, one per isolate). Bounded: at most `usage.memory_records` records (the oldest go
//! first) and roll-ups for `usage.rollup_days`. Single-process: several Node processes (or isolates) each count
//! only their own requests, and a restart forgets everything.

use std::collections::{BTreeMap, VecDeque};

use super::aggregate::{Listed, Row, Sums, Today};
use super::query::{RequestsQuery, UsageQuery};
use super::time::HOUR_MS;
use super::{ttfb_bucket, Record, Settings};

/// (hour, model, site key, subject, task, outcome, bucket).
type Key = (u64, Option<String>, Option<String>, Option<String>, Option<String>, String, i32);

struct Kept {
    time: u64,
    id: String,
    json: String,
    model: Option<String>,
    alias: Option<String>,
    outcome: &'static str,
    site_key: Option<String>,
}

/// Records and hourly roll-ups in memory.
#[derive(Default)]
pub struct MemoryStore {
    records: VecDeque<Kept>,
    rollups: BTreeMap<Key, Sums>,
}

impl MemoryStore {
    /// Keeps `r` (at `now`, Unix ms) and adds it to its hour's roll-up; drops what `settings` no longer keeps.
    pub fn write(&mut self, r: &Record, settings: &Settings, now: u64) {
        while self.records.len() >= settings.memory_records.max(1) {
            self.records.pop_front();
        }
        let keep_from = now.saturating_sub(settings.retention_ms());
        while self.records.front().is_some_and(|k| k.time < keep_from) {
            self.records.pop_front();
        }
        let cut = now.saturating_sub(settings.rollup_ms()) / HOUR_MS * HOUR_MS;
        if self.rollups.first_key_value().is_some_and(|(k, _)| k.0 < cut) {
            self.rollups = self.rollups.split_off(&(cut, None, None, None, None, String::new(), i32::MIN));
        }
        self.records.push_back(Kept {
            time: r.time,
            id: r.key(),
            json: r.to_json(),
            model: r.model.clone(),
            alias: r.alias.clone(),
            outcome: r.outcome,
            site_key: r.site_key.clone(),
        });
        let key = (
            r.time / HOUR_MS * HOUR_MS,
            r.model.clone(),
            r.site_key.clone(),
            r.subject.clone(),
            r.task.map(str::to_string),
            r.outcome.to_string(),
            ttfb_bucket(r.ttfb_ms),
        );
        self.rollups.entry(key).or_default().add(&Sums::of(r));
    }

    /// The roll-up rows in `q`'s range (not pre-summed: [`super::aggregate::usage_json`] groups them), and today's
    /// sums.
    pub fn usage(&self, q: &UsageQuery) -> (Vec<Row>, Today) {
        let mut today = Today::default();
        let mut rows = Vec::new();
        for (k, s) in &self.rollups {
            if k.0 >= q.today {
                today.usd += s.cost_usd;
                today.tokens += s.tokens();
            }
            if k.0 >= q.from && k.0 < q.to {
                rows.push(Row {
                    t: Some(k.0),
                    model: k.1.clone(),
                    site_key: k.2.clone(),
                    subject: k.3.clone(),
                    task: k.4.clone(),
                    outcome: k.5.clone(),
                    bucket: k.6,
                    sums: *s,
                });
            }
        }
        (rows, today)
    }

    /// The newest records matching `q` (one more than its limit), as a shard lists them.
    pub fn requests(&self, q: &RequestsQuery) -> Vec<Listed> {
        let mut out: Vec<&Kept> = self
            .records
            .iter()
            .filter(|k| q.before.as_ref().is_none_or(|(t, id)| (k.time, &k.id) < (*t, id)))
            .filter(|k| q.model.as_ref().is_none_or(|m| k.model.as_ref() == Some(m) || k.alias.as_ref() == Some(m)))
            .filter(|k| q.outcome.as_deref().is_none_or(|o| k.outcome == o))
            .filter(|k| q.site_key.as_ref().is_none_or(|s| k.site_key.as_ref() == Some(s)))
            .collect();
        out.sort_by(|a, b| (b.time, &b.id).cmp(&(a.time, &a.id)));
        out.truncate(q.limit as usize + 1);
        out.into_iter().map(|k| Listed { time: k.time, id: k.id.clone(), json: k.json.clone() }).collect()
    }

    /// Records held.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}
