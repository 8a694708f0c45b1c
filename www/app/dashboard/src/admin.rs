//! The edge's admin API from the browser: the admin token (kept in `sessionStorage` only, so it goes away with
//! the tab and is never written to disk-backed `localStorage`), the two `GET`s with `Authorization: Bearer`, and
//! what a refusal means in words.

use edgechat_www::api::{self, Failure};

use super::model::{Page, Report};
use super::series::Step;
use crate::json::Json;

const KEY: &str = "edgechat-app:admin-token";

fn session() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

/// The admin token of this tab, if one was entered.
pub fn token() -> Option<String> {
    session()?.get_item(KEY).ok().flatten().filter(|t| !t.is_empty())
}

/// Keeps `token` for this tab (`None` signs out).
pub fn set_token(token: Option<&str>) {
    if let Some(s) = session() {
        let _ = match token {
            Some(t) => s.set_item(KEY, t),
            None => s.remove_item(KEY),
        };
    }
}

/// Why a call failed.
#[derive(Debug, Clone, PartialEq)]
pub enum AdminError {
    /// 404: the edge has no `ADMIN_TOKEN`, so no admin API.
    NotEnabled,
    /// 401: the token is missing or wrong.
    Refused,
    /// Any other failure, in words.
    Failed(String),
}

impl AdminError {
    /// What the user reads.
    pub fn message(&self) -> String {
        match self {
            Self::NotEnabled => {
                "The admin API is not enabled on this edge (404): set its ADMIN_TOKEN secret to use the dashboard."
                    .into()
            }
            Self::Refused => "The edge refused this admin token (401). Check it and enter it again.".into(),
            Self::Failed(m) => m.clone(),
        }
    }
}

/// The time range shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    /// The last 24 hours, by hour.
    Day,
    /// The last 7 days, by day.
    Week,
    /// The last 30 days, by day.
    Month,
}

impl Range {
    /// All, in the picker's order.
    pub const ALL: [Self; 3] = [Self::Day, Self::Week, Self::Month];

    /// The picker's label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Day => "24 h",
            Self::Week => "7 d",
            Self::Month => "30 d",
        }
    }

    /// The bucket width and the number of buckets.
    pub fn buckets(self) -> (Step, usize) {
        match self {
            Self::Day => (Step::Hour, 24),
            Self::Week => (Step::Day, 7),
            Self::Month => (Step::Day, 30),
        }
    }

    /// The bucket starts of the range ending now (the last bucket is the current one).
    pub fn starts(self, now: i64) -> Vec<i64> {
        let (step, n) = self.buckets();
        step.buckets(now, n)
    }
}

/// `/api/admin/usage` for `[from, to)` grouped by `group_by`.
pub fn usage_path(from: i64, to: i64, group_by: &str) -> String {
    format!("/api/admin/usage?from={from}&to={to}&group_by={group_by}")
}

/// Filters of the recent requests table (empty = any).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    /// Model alias.
    pub model: String,
    /// Outcome.
    pub outcome: String,
    /// Site key.
    pub site_key: String,
}

/// `/api/admin/requests` with the filters that are set, after cursor `before`.
pub fn requests_path(limit: u32, filters: &Filters, before: Option<&str>) -> String {
    let mut path = format!("/api/admin/requests?limit={limit}");
    for (name, value) in
        [("model", filters.model.as_str()), ("outcome", &filters.outcome), ("site_key", &filters.site_key)]
            .into_iter()
            .chain(before.map(|b| ("before", b)))
    {
        if !value.is_empty() {
            path += &format!("&{name}={}", encode(value));
        }
    }
    path
}

fn encode(v: &str) -> String {
    #[cfg(target_arch = "wasm32")]
    return String::from(js_sys::encode_uri_component(v));
    #[cfg(not(target_arch = "wasm32"))]
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `GET path` with the token; the parsed JSON body of a 200, or why not.
async fn get(path: &str, token: &str) -> Result<Json, AdminError> {
    let headers = web_sys::Headers::new().map_err(|_| AdminError::Failed("no Headers".into()))?;
    let _ = headers.set("authorization", &format!("Bearer {token}"));
    let resp = match api::send("GET", path, &headers, None, None).await {
        Ok(r) => r,
        Err(Failure::Error(e)) => {
            return Err(AdminError::Failed(format!("The edge could not be reached: {}", e.message)))
        }
        Err(Failure::Aborted) => return Err(AdminError::Failed("Stopped.".into())),
    };
    match resp.status() {
        200 => {}
        401 => return Err(AdminError::Refused),
        404 => return Err(AdminError::NotEnabled),
        _ => {
            let e = api::edge_error(&resp).await;
            return Err(AdminError::Failed(format!("The edge answered {}: {}", resp.status(), e.message)));
        }
    }
    let body = api::text(&resp).await.map_err(|_| AdminError::Failed("The answer could not be read.".into()))?;
    Json::parse(&body).map_err(|e| AdminError::Failed(format!("The answer is not JSON: {e}")))
}

/// A usage report.
pub async fn usage(token: &str, from: i64, to: i64, group_by: &str) -> Result<Report, AdminError> {
    let j = get(&usage_path(from, to, group_by), token).await?;
    Report::from_json(&j).map_err(|e| AdminError::Failed(format!("Unexpected answer: {e}.")))
}

/// A page of recent requests.
pub async fn requests(token: &str, filters: &Filters, before: Option<&str>) -> Result<Page, AdminError> {
    let j = get(&requests_path(50, filters, before), token).await?;
    Page::from_json(&j).map_err(|e| AdminError::Failed(format!("Unexpected answer: {e}.")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_carry_the_range_and_the_filters() {
        assert_eq!(usage_path(1, 2, "hour,model"), "/api/admin/usage?from=1&to=2&group_by=hour,model");
        assert_eq!(requests_path(50, &Filters::default(), None), "/api/admin/requests?limit=50");
        let f = Filters { model: "fast".into(), outcome: String::new(), site_key: "pk a&b".into() };
        assert_eq!(
            requests_path(50, &f, Some("c/1")),
            "/api/admin/requests?limit=50&model=fast&site_key=pk%20a%26b&before=c%2F1"
        );
    }

    #[test]
    fn ranges_end_with_the_current_bucket() {
        let now = crate::series::key_ms("2026-12-07T13:00:00Z").unwrap() + 5 * 60_000;
        let day = Range::Day.starts(now);
        assert_eq!((day.len(), *day.last().unwrap()), (24, now - 5 * 60_000));
        let week = Range::Week.starts(now);
        assert_eq!(week.len(), 7);
        assert_eq!(*week.last().unwrap(), crate::series::key_ms("2026-12-07").unwrap());
        assert_eq!(Range::Month.starts(now).len(), 30);
        assert!(AdminError::NotEnabled.message().contains("not enabled"));
    }
}
