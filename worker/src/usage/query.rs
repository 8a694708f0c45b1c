//! The admin API's query strings: `GET /api/admin/usage` ([`UsageQuery`]) and `GET /api/admin/requests`
//! ([`RequestsQuery`]). Every bad parameter is a `400` naming it (`param` in the error JSON).

use super::time::{self, DAY_MS, HOUR_MS};
use crate::error::ApiError;

/// Longest `to - from` of an aggregate query.
pub const MAX_RANGE_MS: u64 = 90 * DAY_MS;

/// A dimension of `group_by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim {
    /// The UTC hour (`2026-12-07T01:00:00Z`).
    Hour,
    /// The UTC day (`2026-12-07`).
    Day,
    /// The provider model.
    Model,
    /// The site key.
    SiteKey,
    /// The hashed session subject.
    Subject,
    /// The outcome.
    Outcome,
    /// The task `auto` routed as.
    Task,
}

impl Dim {
    /// All dimensions, by name.
    pub const ALL: [Dim; 7] = [Dim::Hour, Dim::Day, Dim::Model, Dim::SiteKey, Dim::Subject, Dim::Outcome, Dim::Task];

    /// Its name in `group_by` and in the groups.
    pub fn as_str(self) -> &'static str {
        match self {
            Dim::Hour => "hour",
            Dim::Day => "day",
            Dim::Model => "model",
            Dim::SiteKey => "site_key",
            Dim::Subject => "subject",
            Dim::Outcome => "outcome",
            Dim::Task => "task",
        }
    }
}

/// `GET /api/admin/usage`.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageQuery {
    /// Start, Unix ms, floored to its hour (the roll-ups' grain).
    pub from: u64,
    /// End (exclusive), Unix ms, raised to the end of its hour.
    pub to: u64,
    /// One or two dimensions.
    pub dims: Vec<Dim>,
    /// Start of the current UTC day (for `budget`).
    pub today: u64,
}

/// `GET /api/admin/requests`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RequestsQuery {
    /// 1 to 500.
    pub limit: u32,
    /// Only records before this one (time, id), from a `next` cursor.
    pub before: Option<(u64, String)>,
    /// Only this provider model or alias.
    pub model: Option<String>,
    /// Only this outcome.
    pub outcome: Option<String>,
    /// Only this site key.
    pub site_key: Option<String>,
}

/// Percent-decodes a query component (`+` is a space); `None` for a bad escape or bytes that are not UTF-8.
pub fn decode_component(s: &str) -> Option<String> {
    percent_decode(s, true)
}

/// Percent-decodes `s` (`+` is a space when `plus_is_space`).
pub fn percent_decode(s: &str, plus_is_space: bool) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' if plus_is_space => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The `name=value` pairs of a URL's query, decoded; a pair that does not decode is a `400` naming it.
pub fn pairs(url: &str) -> Result<Vec<(String, String)>, ApiError> {
    let q = url.split_once('?').map_or("", |(_, q)| q);
    let q = q.split('#').next().unwrap_or("");
    let mut out = Vec::new();
    for part in q.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let name = decode_component(k).ok_or_else(|| ApiError::bad_param("query", "a parameter name is not valid"))?;
        let value = decode_component(v).ok_or_else(|| bad(&name, "is not valid percent-encoded UTF-8"))?;
        if out.iter().any(|(n, _): &(String, String)| *n == name) {
            return Err(bad(&name, "is given twice"));
        }
        out.push((name, value));
    }
    Ok(out)
}

fn bad(param: &str, what: &str) -> ApiError {
    let known = ["from", "to", "group_by", "limit", "before", "model", "outcome", "site_key"];
    let p = known.iter().copied().find(|k| *k == param).unwrap_or("query");
    ApiError::bad_param(p, format!("`{param}` {what}"))
}

fn unknown(name: &str, known: &[&str]) -> ApiError {
    let shown: String = name.chars().take(40).collect();
    ApiError::bad_param("query", format!("unknown parameter `{shown}`; expected one of: {}", known.join(", ")))
}

impl UsageQuery {
    /// Parses the query of `url` at `now` (Unix ms).
    pub fn parse(url: &str, now: u64) -> Result<Self, ApiError> {
        const KNOWN: &[&str] = &["from", "to", "group_by"];
        let (mut from, mut to, mut dims) = (None, None, None);
        for (k, v) in pairs(url)? {
            match k.as_str() {
                "from" => from = Some(time::parse_time(&v).ok_or_else(|| bad("from", TIME))?),
                "to" => to = Some(time::parse_time(&v).ok_or_else(|| bad("to", TIME))?),
                "group_by" => dims = Some(parse_dims(&v)?),
                _ => return Err(unknown(&k, KNOWN)),
            }
        }
        let dims = dims.unwrap_or_else(|| vec![Dim::Day]);
        let to = to.unwrap_or(now).div_ceil(HOUR_MS) * HOUR_MS;
        let span = if dims.contains(&Dim::Hour) { DAY_MS } else { 30 * DAY_MS };
        let from = from.unwrap_or_else(|| to.saturating_sub(span)) / HOUR_MS * HOUR_MS;
        if from >= to {
            return Err(bad("from", "must be before `to`"));
        }
        if to - from > MAX_RANGE_MS {
            return Err(bad("from", "is more than 90 days before `to`"));
        }
        Ok(Self { from, to, dims, today: now / DAY_MS * DAY_MS })
    }

    /// The query a shard answers (JSON): the range, the dimensions to group by (besides the outcome and the
    /// time-to-first-byte bucket, which every row carries) and the start of today.
    pub fn shard_json(&self) -> String {
        let dims: Vec<&str> = self.dims.iter().map(|d| d.as_str()).collect();
        serde_json::json!({ "from": self.from, "to": self.to, "dims": dims, "today": self.today }).to_string()
    }
}

const TIME: &str = "must be Unix milliseconds or an RFC 3339 time (2026-12-07T01:00:00Z)";

fn parse_dims(v: &str) -> Result<Vec<Dim>, ApiError> {
    let mut dims = Vec::new();
    for name in v.split(',').map(str::trim) {
        let d = Dim::ALL.iter().copied().find(|d| d.as_str() == name).ok_or_else(|| {
            bad(
                "group_by",
                "must be one or two of hour, day, model, site_key, subject, outcome, task (comma-separated)",
            )
        })?;
        if dims.contains(&d) {
            return Err(bad("group_by", "names a dimension twice"));
        }
        dims.push(d);
    }
    if dims.len() > 2 {
        return Err(bad("group_by", "takes at most two dimensions"));
    }
    if dims.contains(&Dim::Hour) && dims.contains(&Dim::Day) {
        return Err(bad("group_by", "cannot group by both hour and day"));
    }
    Ok(dims)
}

/// The opaque `next` cursor: `<time>.<id>` of the last record listed.
pub fn cursor(time: u64, id: &str) -> String {
    format!("{time}.{id}")
}

impl RequestsQuery {
    /// Parses the query of `url`.
    pub fn parse(url: &str) -> Result<Self, ApiError> {
        const KNOWN: &[&str] = &["limit", "before", "model", "outcome", "site_key"];
        let mut q = Self { limit: 50, ..Self::default() };
        for (k, v) in pairs(url)? {
            match k.as_str() {
                "limit" => {
                    q.limit = v
                        .parse()
                        .ok()
                        .filter(|n| (1..=500).contains(n))
                        .ok_or_else(|| bad("limit", "must be an integer from 1 to 500"))?;
                }
                "before" => {
                    let c = v.split_once('.').and_then(|(t, id)| {
                        let ok = !id.is_empty()
                            && id.len() <= 80
                            && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
                        Some((t.parse().ok()?, id.to_string())).filter(|_| ok)
                    });
                    q.before = Some(c.ok_or_else(|| bad("before", "is not a cursor this API gave (`next`)"))?);
                }
                "model" | "outcome" | "site_key" => {
                    if v.is_empty() || v.len() > 200 {
                        return Err(bad(&k, "must be 1 to 200 characters"));
                    }
                    let slot = match k.as_str() {
                        "model" => &mut q.model,
                        "outcome" => &mut q.outcome,
                        _ => &mut q.site_key,
                    };
                    *slot = Some(v);
                }
                _ => return Err(unknown(&k, KNOWN)),
            }
        }
        Ok(q)
    }

    /// The query a shard answers (JSON): one more than `limit`, so the merge knows whether more remain.
    pub fn shard_json(&self) -> String {
        serde_json::json!({
            "limit": self.limit + 1,
            "before_time": self.before.as_ref().map(|b| b.0),
            "before_id": self.before.as_ref().map(|b| b.1.as_str()),
            "model": self.model,
            "outcome": self.outcome,
            "site_key": self.site_key,
        })
        .to_string()
    }
}
