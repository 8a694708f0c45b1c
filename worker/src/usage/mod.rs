//! The usage store's Rust side: one [`Record`] per request, built from its [`LogLine`] (the log line and the record
//! are one set of fields), its settings, and the hashing of subjects. The rest is JavaScript (`store.mjs` here,
//! imported through wasm-bindgen by `rt/usage.rs`), which costs the edge's wasm nothing: which shard keeps a
//! record, its hourly roll-up, the in-process store, and the admin API's parameters, fan-out and merge.
//!
//! Where records live: with the `USAGE` binding, in `usage.shards` SQLite Durable Objects (`EdgechatUsage` in
//! `worker/entry.mjs`), the shard chosen by a hash of the request id; without it, in the isolate's (on Node: the
//! process's) bounded in-memory store (`MemoryShard` in `store.mjs`). docs/admin-api.md has the whole design.

use serde::Serialize;

use crate::jsonread::Obj;
use crate::log::LogLine;

/// `usage` in `EDGECHAT_CONFIG`.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Keep records (off: none are written; the admin API answers from what is there).
    pub enabled: bool,
    /// Durable Objects the records are spread over (writes by a hash of the request id; reads ask all).
    pub shards: u32,
    /// Days raw records are kept (the `requests` listing).
    pub retention_days: u32,
    /// Days hourly roll-ups are kept (the `usage` aggregates).
    pub rollup_days: u32,
    /// Most records the in-process store keeps (without the `USAGE` binding); the oldest go first.
    pub memory_records: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self { enabled: true, shards: 16, retention_days: 30, rollup_days: 400, memory_records: 10_000 }
    }
}

impl Settings {
    /// Reads the `usage` object.
    pub fn read(v: &serde_json::Value, path: &str) -> Result<Self, String> {
        let o = Obj::new(v, path, &["enabled", "shards", "retention_days", "rollup_days", "memory_records"])?;
        let d = Self::default();
        let s = Self {
            enabled: o.bool("enabled")?.unwrap_or(d.enabled),
            shards: o.u32("shards")?.unwrap_or(d.shards),
            retention_days: o.u32("retention_days")?.unwrap_or(d.retention_days),
            rollup_days: o.u32("rollup_days")?.unwrap_or(d.rollup_days),
            memory_records: o.u64("memory_records")?.map_or(d.memory_records, |n| n as usize),
        };
        if !(1..=256).contains(&s.shards) {
            return Err(format!("{} must be 1 to 256", o.path("shards")));
        }
        if s.retention_days == 0 || s.rollup_days == 0 {
            return Err(format!("{} and {} must be at least 1", o.path("retention_days"), o.path("rollup_days")));
        }
        Ok(s)
    }

    /// What `store.mjs` needs to know (JSON), with the daily limits the admin API's `budget` shows.
    pub fn to_json(&self, limits: &crate::config::Limits) -> String {
        const DAY_MS: u64 = 86_400_000;
        format!(
            "{{\"shards\":{},\"retention_ms\":{},\"rollup_ms\":{},\"memory_records\":{},\"daily_spend_usd\":{},\"daily_tokens\":{}}}",
            self.shards,
            u64::from(self.retention_days) * DAY_MS,
            u64::from(self.rollup_days) * DAY_MS,
            self.memory_records,
            limits.daily_spend_usd,
            limits.daily_tokens
        )
    }
}

/// The routes whose requests are recorded: the ones that can spend tokens (`/api/config`, preflights, stream resume
/// and stop, and the admin API itself are not).
pub const RECORDED_ROUTES: &[&str] = &["/api/chat", "/v1/chat/completions", "/v1/responses", "/v1/messages"];

/// One request's stored record (the admin API's `requests` items; docs/admin-api.md).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Record {
    /// Request id (`x-request-id`).
    pub id: String,
    /// When the request arrived, Unix ms.
    pub time: u64,
    /// Route.
    pub route: String,
    /// `chat` (the request), or a call the edge made for it: `summary` (the summarizer), `classify` (`auto`'s
    /// classifier).
    pub kind: &'static str,
    /// The site key used.
    pub site_key: Option<String>,
    /// The session subject, salted and hashed ([`LogLine::subject`]).
    pub subject: Option<String>,
    /// Alias requested.
    pub alias: Option<String>,
    /// Provider model that served (or last failed).
    pub model: Option<String>,
    /// Its provider (`openai-chat`, `anthropic`, …).
    pub provider: Option<String>,
    /// Task `auto` routed the request as.
    pub task: Option<&'static str>,
    /// HTTP status sent.
    pub status: u16,
    /// How it ended (the log line's outcome).
    pub outcome: &'static str,
    /// Upstream attempts.
    pub attempts: u32,
    /// A fallback model served (or last failed).
    pub fallback: bool,
    /// `miss`, `exact`, `semantic`, or `null` (the cache was not consulted).
    pub cache: Option<&'static str>,
    /// Time to first byte, ms.
    pub ttfb_ms: Option<u64>,
    /// Whole request, ms.
    pub duration_ms: u64,
    /// Input tokens at the normal rate.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Cache-read input tokens.
    pub cache_read_tokens: u64,
    /// Cache-write input tokens.
    pub cache_write_tokens: u64,
    /// Usage counted from text (the provider reported none).
    pub estimated: bool,
    /// Cost in USD (`null`: the model's price is unknown).
    pub cost_usd: Option<f64>,
    /// Error type (an HTTP status for a provider failure, else the edge's error type).
    pub error_type: Option<String>,
}

impl Record {
    /// The record of a request (or summary) from its log line: the one place the two meet.
    pub fn from_log(l: &LogLine) -> Self {
        Self {
            id: l.request_id.clone(),
            time: l.time,
            route: l.route.clone(),
            kind: l.kind.unwrap_or("chat"),
            site_key: l.site_key.clone(),
            subject: l.subject.clone(),
            alias: l.alias.clone(),
            model: l.model.clone(),
            provider: l.provider.clone(),
            task: l.task,
            status: l.status,
            outcome: l.outcome,
            attempts: l.attempts,
            fallback: l.fallback,
            cache: match l.cache {
                "hit" => Some(l.cache_kind.unwrap_or("exact")),
                "miss" | "refresh" => Some("miss"),
                _ => None,
            },
            ttfb_ms: l.ttfb_ms,
            duration_ms: l.duration_ms,
            input_tokens: l.input_tokens,
            output_tokens: l.output_tokens,
            cache_read_tokens: l.cache_read_input_tokens,
            cache_write_tokens: l.cache_creation_input_tokens,
            estimated: l.usage_estimated,
            cost_usd: l.cost_usd,
            error_type: l.error.as_deref().map(error_type),
        }
    }

    /// The JSON the store keeps and the admin API lists.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A low-cardinality error type from the log line's `error`: `"502:the provider failed …"` becomes `"502"`, an
/// edge error type (`rate_limited`) stays as it is, anything long is cut.
pub fn error_type(e: &str) -> String {
    match e.split_once(':') {
        Some((status, _)) if !status.is_empty() && status.bytes().all(|b| b.is_ascii_digit()) => status.to_string(),
        _ => e.chars().take(64).collect(),
    }
}

/// The session subject as stored and logged: HMAC-SHA256 keyed by the edge's salt (derived from its secrets), first
/// The session subject as stored and logged: HMAC-SHA256 of it keyed by `salt`, the first 16 hex digits. The same
/// user groups together; the id itself is not kept.
pub fn hash_subject(salt: &[u8], subject: &str) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let mut m = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(salt).expect("any key length");
    m.update(subject.as_bytes());
    m.finalize().into_bytes().iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// [`hash_subject`] with the edge's salt: derived from `SESSION_SECRET` (a subject only exists with session tokens,
/// which need it).
pub fn subject_of(config: &crate::config::Config, subject: &str) -> String {
    let salt = format!("edgechat-usage:{}", config.session_secret.as_deref().unwrap_or(""));
    hash_subject(salt.as_bytes(), subject)
}

/// Constant-time equality of two secrets (compares their SHA-256 digests byte by byte, all of them): how long it
/// takes says nothing about where they differ, nor about the length of either.
pub fn secret_eq(a: &str, b: &str) -> bool {
    use sha2::{Digest, Sha256};
    let (x, y) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    x.iter().zip(y.iter()).fold(0u8, |acc, (p, q)| acc | (p ^ q)) == 0
}

#[cfg(test)]
mod tests;
