//! The edge's admin API bodies (`GET /api/admin/usage`, `GET /api/admin/requests`; docs/admin-api.md) read into
//! plain structs. A body that is not the documented shape is an error naming what is missing, never a panic.

use crate::json::Json;

/// The metrics of a group (or of all groups: the totals).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metrics {
    /// Requests.
    pub requests: u64,
    /// Requests that ended in an error.
    pub errors: u64,
    /// Requests answered from the cache (exact or semantic).
    pub cached: u64,
    /// Input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Input tokens read from the provider's prompt cache.
    pub cache_read_tokens: u64,
    /// Input tokens written to the provider's prompt cache.
    pub cache_write_tokens: u64,
    /// Estimated cost in US dollars.
    pub cost_usd: f64,
    /// Time to first byte, median (ms); `None` when no request had one.
    pub ttfb_p50_ms: Option<f64>,
    /// Time to first byte, 95th percentile (ms).
    pub ttfb_p95_ms: Option<f64>,
    /// Requests per outcome (`complete`, `stopped`, `error`, …), as the edge listed them.
    pub outcomes: Vec<(String, u64)>,
}

fn count(j: &Json, key: &str) -> u64 {
    j.get(key).and_then(Json::as_f64).map_or(0, |n| n.max(0.0) as u64)
}

fn opt_num(j: &Json, key: &str) -> Option<f64> {
    j.get(key).and_then(Json::as_f64)
}

/// A string member; `null` or absent is `None`.
fn opt_str(j: &Json, key: &str) -> Option<String> {
    j.get(key).and_then(Json::as_str).map(str::to_string)
}

impl Metrics {
    /// Reads the metric members of a group or of `totals`.
    pub fn from_json(j: &Json) -> Result<Self, String> {
        if j.get("requests").and_then(Json::as_f64).is_none() {
            return Err("a group has no `requests` count".into());
        }
        let outcomes = match j.get("outcomes") {
            Some(Json::Obj(m)) => {
                m.iter().map(|(k, v)| (k.clone(), v.as_f64().map_or(0, |n| n.max(0.0) as u64))).collect()
            }
            _ => Vec::new(),
        };
        Ok(Self {
            requests: count(j, "requests"),
            errors: count(j, "errors"),
            cached: count(j, "cached"),
            input_tokens: count(j, "input_tokens"),
            output_tokens: count(j, "output_tokens"),
            cache_read_tokens: count(j, "cache_read_tokens"),
            cache_write_tokens: count(j, "cache_write_tokens"),
            cost_usd: opt_num(j, "cost_usd").unwrap_or(0.0),
            ttfb_p50_ms: opt_num(j, "ttfb_p50_ms"),
            ttfb_p95_ms: opt_num(j, "ttfb_p95_ms"),
            outcomes,
        })
    }

    /// Input and output tokens.
    pub fn tokens(&self) -> u64 {
        self.input_tokens + self.output_tokens
    }

    /// Share of requests answered from the cache, 0 to 1 (`None` without requests).
    pub fn cache_hit_rate(&self) -> Option<f64> {
        (self.requests > 0).then(|| self.cached as f64 / self.requests as f64)
    }

    /// Share of requests that ended in an error, 0 to 1 (`None` without requests).
    pub fn error_rate(&self) -> Option<f64> {
        (self.requests > 0).then(|| self.errors as f64 / self.requests as f64)
    }
}

/// The daily budget and what today used of it (UTC day).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Budget {
    /// The daily spend limit in US dollars, if one is set.
    pub daily_spend_usd: Option<f64>,
    /// The daily token limit, if one is set.
    pub daily_tokens: Option<u64>,
    /// Spent today.
    pub spent_today_usd: f64,
    /// Tokens used today.
    pub tokens_today: u64,
}

/// One group: its dimension values (`hour`, `model`, … in the order asked; `None` for a request without one,
/// such as no site key) and its metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// `(dimension, value)` per dimension asked for.
    pub keys: Vec<(String, Option<String>)>,
    /// The group's metrics.
    pub metrics: Metrics,
}

impl Group {
    /// The value of dimension `dim`.
    pub fn key(&self, dim: &str) -> Option<&str> {
        self.keys.iter().find(|(d, _)| d == dim).and_then(|(_, v)| v.as_deref())
    }
}

/// `GET /api/admin/usage`.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Start of the range (unix ms).
    pub from: f64,
    /// End of the range (unix ms).
    pub to: f64,
    /// The dimensions, in order.
    pub group_by: Vec<String>,
    /// The groups.
    pub groups: Vec<Group>,
    /// All requests of the range.
    pub totals: Metrics,
    /// The daily budget.
    pub budget: Budget,
}

impl Report {
    /// Reads the body.
    pub fn from_json(j: &Json) -> Result<Self, String> {
        let group_by: Vec<String> = match j.get("group_by") {
            Some(Json::Arr(a)) => a.iter().filter_map(|d| d.as_str().map(str::to_string)).collect(),
            _ => return Err("the usage report has no `group_by`".into()),
        };
        let Some(Json::Arr(groups)) = j.get("groups") else { return Err("the usage report has no `groups`".into()) };
        let groups = groups
            .iter()
            .map(|g| {
                let keys = group_by.iter().map(|d| (d.clone(), opt_str(g, d))).collect();
                Ok(Group { keys, metrics: Metrics::from_json(g)? })
            })
            .collect::<Result<_, String>>()?;
        let totals = Metrics::from_json(j.get("totals").ok_or("the usage report has no `totals`")?)?;
        let b = j.get("budget").unwrap_or(&Json::Null);
        Ok(Self {
            from: opt_num(j, "from").unwrap_or(0.0),
            to: opt_num(j, "to").unwrap_or(0.0),
            group_by,
            groups,
            totals,
            budget: Budget {
                daily_spend_usd: opt_num(b, "daily_spend_usd"),
                daily_tokens: opt_num(b, "daily_tokens").map(|n| n.max(0.0) as u64),
                spent_today_usd: opt_num(b, "spent_today_usd").unwrap_or(0.0),
                tokens_today: count(b, "tokens_today"),
            },
        })
    }
}

/// One recorded request (`GET /api/admin/requests`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Record {
    /// The request's id.
    pub id: String,
    /// When it arrived (unix ms).
    pub time: f64,
    /// `chat` or `summary`.
    pub kind: String,
    /// The site key it came with.
    pub site_key: Option<String>,
    /// The signed-in subject.
    pub subject: Option<String>,
    /// The model alias asked for.
    pub alias: String,
    /// The model that answered.
    pub model: String,
    /// HTTP status.
    pub status: u64,
    /// `complete`, `stopped`, `error`, …
    pub outcome: String,
    /// Provider attempts.
    pub attempts: u64,
    /// Answered by a fallback model.
    pub fallback: bool,
    /// `miss`, `exact`, `semantic`, or `None` (not cacheable).
    pub cache: Option<String>,
    /// Time to first byte (ms).
    pub ttfb_ms: Option<f64>,
    /// Whole duration (ms).
    pub duration_ms: f64,
    /// Input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// The token counts were estimated (the provider sent none).
    pub estimated: bool,
    /// Estimated cost.
    pub cost_usd: f64,
    /// The error's type, for an error.
    pub error_type: Option<String>,
}

impl Record {
    fn from_json(j: &Json) -> Result<Self, String> {
        let id = opt_str(j, "id").ok_or("a request record has no `id`")?;
        let flag = |k: &str| matches!(j.get(k), Some(Json::Bool(true)));
        Ok(Self {
            id,
            time: opt_num(j, "time").unwrap_or(0.0),
            kind: opt_str(j, "kind").unwrap_or_default(),
            site_key: opt_str(j, "site_key"),
            subject: opt_str(j, "subject"),
            alias: opt_str(j, "alias").unwrap_or_default(),
            model: opt_str(j, "model").unwrap_or_default(),
            status: count(j, "status"),
            outcome: opt_str(j, "outcome").unwrap_or_default(),
            attempts: count(j, "attempts"),
            fallback: flag("fallback"),
            cache: opt_str(j, "cache"),
            ttfb_ms: opt_num(j, "ttfb_ms"),
            duration_ms: opt_num(j, "duration_ms").unwrap_or(0.0),
            input_tokens: count(j, "input_tokens"),
            output_tokens: count(j, "output_tokens"),
            estimated: flag("estimated"),
            cost_usd: opt_num(j, "cost_usd").unwrap_or(0.0),
            error_type: opt_str(j, "error_type"),
        })
    }
}

/// A page of recent requests, newest first, and the cursor of the next (older) page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    /// The records.
    pub requests: Vec<Record>,
    /// `before=` for the next page; `None` at the end.
    pub next: Option<String>,
}

impl Page {
    /// Reads the body.
    pub fn from_json(j: &Json) -> Result<Self, String> {
        let Some(Json::Arr(list)) = j.get("requests") else { return Err("the request list has no `requests`".into()) };
        Ok(Self { requests: list.iter().map(Record::from_json).collect::<Result<_, _>>()?, next: opt_str(j, "next") })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::json::obj;

    pub fn n(x: f64) -> Json {
        Json::Num(x)
    }

    pub fn s(x: &str) -> Json {
        Json::Str(x.into())
    }

    /// A group with these dimension members and metrics (`requests`, `cost`, `input`, `output`).
    pub fn group(dims: &[(&str, Json)], requests: f64, cost: f64, input: f64, output: f64) -> Json {
        let mut members: Vec<(&str, Json)> = dims.to_vec();
        members.extend([
            ("requests", n(requests)),
            ("errors", n(0.0)),
            ("cached", n(0.0)),
            ("input_tokens", n(input)),
            ("output_tokens", n(output)),
            ("cache_read_tokens", n(0.0)),
            ("cache_write_tokens", n(0.0)),
            ("cost_usd", n(cost)),
            ("ttfb_p50_ms", Json::Null),
            ("ttfb_p95_ms", Json::Null),
            ("outcomes", obj(&[("complete", n(requests))])),
        ]);
        obj(&members)
    }

    /// A report body grouped by `dims`.
    pub fn report(dims: &[&str], groups: Vec<Json>, totals: Json) -> Json {
        obj(&[
            ("from", n(0.0)),
            ("to", n(86_400_000.0)),
            ("group_by", Json::Arr(dims.iter().map(|d| s(d)).collect())),
            ("groups", Json::Arr(groups)),
            ("totals", totals),
            (
                "budget",
                obj(&[
                    ("daily_spend_usd", n(5.0)),
                    ("daily_tokens", Json::Null),
                    ("spent_today_usd", n(1.25)),
                    ("tokens_today", n(4200.0)),
                ]),
            ),
        ])
    }

    #[test]
    fn reads_a_usage_report() {
        let mut g = group(&[("hour", s("2026-12-07T01:00:00Z")), ("model", s("fast"))], 3.0, 0.0123, 100.0, 50.0);
        if let Json::Obj(m) = &mut g {
            m.retain(|(k, _)| k != "ttfb_p50_ms");
            m.push(("ttfb_p50_ms".into(), n(412.5)));
            m.retain(|(k, _)| k != "cached");
            m.push(("cached".into(), n(1.0)));
            m.retain(|(k, _)| k != "outcomes");
            m.push(("outcomes".into(), obj(&[("complete", n(2.0)), ("error", n(1.0))])));
        }
        let body = report(&["hour", "model"], vec![g], group(&[], 3.0, 0.0123, 100.0, 50.0));
        let r = Report::from_json(&body).unwrap();
        assert_eq!(r.group_by, ["hour", "model"]);
        let g = &r.groups[0];
        assert_eq!(g.key("hour"), Some("2026-12-07T01:00:00Z"));
        assert_eq!(g.key("model"), Some("fast"));
        assert_eq!(g.metrics.requests, 3);
        assert_eq!(g.metrics.tokens(), 150);
        assert_eq!(g.metrics.ttfb_p50_ms, Some(412.5));
        assert_eq!(g.metrics.ttfb_p95_ms, None);
        assert_eq!(g.metrics.outcomes, [("complete".to_string(), 2), ("error".to_string(), 1)]);
        assert_eq!(g.metrics.cache_hit_rate(), Some(1.0 / 3.0));
        assert_eq!(r.totals.cost_usd, 0.0123);
        assert_eq!(
            r.budget,
            Budget { daily_spend_usd: Some(5.0), daily_tokens: None, spent_today_usd: 1.25, tokens_today: 4200 }
        );
    }

    #[test]
    fn a_null_dimension_is_none_and_a_bad_body_is_an_error() {
        let body = report(
            &["site_key"],
            vec![group(&[("site_key", Json::Null)], 1.0, 0.0, 0.0, 0.0)],
            group(&[], 1.0, 0.0, 0.0, 0.0),
        );
        assert_eq!(Report::from_json(&body).unwrap().groups[0].key("site_key"), None);
        assert_eq!(Report::from_json(&obj(&[("error", s("x"))])).unwrap_err(), "the usage report has no `group_by`");
        let no_totals = obj(&[("group_by", Json::Arr(vec![])), ("groups", Json::Arr(vec![]))]);
        assert_eq!(Report::from_json(&no_totals).unwrap_err(), "the usage report has no `totals`");
        let bad_group = report(&["day"], vec![obj(&[("day", s("2026-12-07"))])], group(&[], 0.0, 0.0, 0.0, 0.0));
        assert_eq!(Report::from_json(&bad_group).unwrap_err(), "a group has no `requests` count");
        assert_eq!(Metrics::default().cache_hit_rate(), None);
    }

    #[test]
    fn reads_a_page_of_requests() {
        let rec = obj(&[
            ("id", s("r1")),
            ("time", n(1_796_000_000_000.0)),
            ("route", s("/api/chat")),
            ("kind", s("chat")),
            ("site_key", s("pk_a")),
            ("subject", Json::Null),
            ("alias", s("flaky")),
            ("model", s("smart")),
            ("task", Json::Null),
            ("status", n(200.0)),
            ("outcome", s("complete")),
            ("attempts", n(2.0)),
            ("fallback", Json::Bool(true)),
            ("cache", s("miss")),
            ("ttfb_ms", n(120.0)),
            ("duration_ms", n(900.0)),
            ("input_tokens", n(10.0)),
            ("output_tokens", n(20.0)),
            ("cache_read_tokens", n(0.0)),
            ("cache_write_tokens", n(0.0)),
            ("estimated", Json::Bool(false)),
            ("cost_usd", n(0.0001)),
            ("error_type", Json::Null),
        ]);
        let p = Page::from_json(&obj(&[("requests", Json::Arr(vec![rec])), ("next", s("c1"))])).unwrap();
        assert_eq!(p.next.as_deref(), Some("c1"));
        let r = &p.requests[0];
        assert_eq!((r.id.as_str(), r.site_key.as_deref(), r.subject.as_deref()), ("r1", Some("pk_a"), None));
        assert!(r.fallback && !r.estimated);
        assert_eq!((r.attempts, r.status, r.ttfb_ms), (2, 200, Some(120.0)));
        let end = Page::from_json(&obj(&[("requests", Json::Arr(vec![])), ("next", Json::Null)])).unwrap();
        assert_eq!(end.next, None);
        assert!(Page::from_json(&obj(&[("requests", Json::Arr(vec![obj(&[])]))])).is_err());
    }
}
