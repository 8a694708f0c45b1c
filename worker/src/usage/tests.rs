use serde_json::Value;

use super::aggregate::{requests_json, usage_json, Row, Today};
use super::memory::MemoryStore;
use super::query::{Dim, RequestsQuery, UsageQuery};
use super::time::{DAY_MS, HOUR_MS};
use super::*;
use crate::config::Limits;

const T0: u64 = 1_796_607_000_000; // 2026-12-07T01:30:00Z

fn record(id: &str, time: u64, model: &str, outcome: &'static str, ttfb: Option<u64>, cost: f64) -> Record {
    Record {
        id: id.into(),
        time,
        route: "/api/chat".into(),
        kind: "chat",
        model: Some(model.into()),
        outcome,
        ttfb_ms: ttfb,
        input_tokens: 10,
        output_tokens: 5,
        cache_read_tokens: 2,
        cost_usd: Some(cost),
        ..Record::default()
    }
}

#[test]
fn a_record_is_the_log_lines_fields() {
    let line = LogLine {
        request_id: "abc".into(),
        time: T0,
        route: "/v1/messages".into(),
        cache: "hit",
        cache_kind: Some("semantic"),
        error: Some("429:too many requests from sk-…".into()),
        outcome: "error",
        site_key: Some("pk_site".into()),
        subject: Some("00ff".into()),
        fallback: true,
        input_tokens: 3,
        cache_creation_input_tokens: 4,
        ..LogLine::default()
    };
    let r = Record::from_log(&line);
    assert_eq!((r.id.as_str(), r.time, r.kind, r.cache), ("abc", T0, "chat", Some("semantic")));
    assert_eq!((r.error_type.as_deref(), r.fallback, r.cache_write_tokens), (Some("429"), true, 4));
    assert!(r.cached());
    let v: Value = serde_json::from_str(&r.to_json()).unwrap();
    for k in [
        "id",
        "time",
        "route",
        "kind",
        "site_key",
        "subject",
        "alias",
        "model",
        "task",
        "status",
        "outcome",
        "attempts",
        "fallback",
        "cache",
        "ttfb_ms",
        "duration_ms",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "estimated",
        "cost_usd",
        "error_type",
    ] {
        assert!(v.get(k).is_some(), "record JSON lacks {k}");
    }
    let summary = Record::from_log(&LogLine { kind: Some("summary"), cache: "bypass", ..line });
    assert_eq!((summary.kind, summary.cache), ("summary", None));
    assert_eq!(error_type("rate_limited"), "rate_limited");
    assert_eq!(Record::from_log(&LogLine { cache: "refresh", ..LogLine::default() }).cache, Some("miss"));
}

#[test]
fn shards_spread_random_ids_evenly() {
    let mut counts = [0u32; 16];
    let mut x = 0x1234_5678_u64;
    for _ in 0..16_000 {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        counts[shard_of(&format!("{:016x}", x >> 1), 16) as usize] += 1;
    }
    assert!(counts.iter().all(|&c| (800..1200).contains(&c)), "{counts:?}");
    assert_eq!(shard_of("anything", 1), 0);
}

#[test]
fn ttfb_buckets_hold_their_values_within_the_stated_error() {
    assert_eq!((ttfb_bucket(None), ttfb_bucket(Some(0)), ttfb_bucket(Some(1))), (-1, 0, 1));
    for ms in [1u64, 2, 7, 10, 99, 100, 101, 999, 1000, 12_345, 600_000] {
        let v = bucket_value(ttfb_bucket(Some(ms)));
        let err = (v - ms as f64).abs() / ms as f64;
        assert!(err <= 0.123, "{ms} ms reads as {v} ({err})");
    }
}

#[test]
fn subjects_are_hashed_with_the_salt_and_secrets_compare_whole() {
    let a = hash_subject(b"salt", "user-1");
    assert_eq!(a.len(), 16);
    assert_eq!(a, hash_subject(b"salt", "user-1"));
    assert_ne!(a, hash_subject(b"other", "user-1"));
    assert!(!a.contains("user"));
    assert!(secret_eq("token-abc", "token-abc"));
    assert!(!secret_eq("token-abc", "token-abd"));
    assert!(!secret_eq("token-abc", "token-ab"));
    assert!(!secret_eq("", "x"));
}

fn err_param(r: Result<impl std::fmt::Debug, crate::error::ApiError>) -> &'static str {
    let e = r.expect_err("a 400");
    assert_eq!(e.status, 400);
    e.param.expect("names the param")
}

#[test]
fn usage_queries_parse_with_defaults_and_name_bad_params() {
    let q = UsageQuery::parse("https://e/api/admin/usage", T0).unwrap();
    assert_eq!(q.dims, vec![Dim::Day]);
    assert_eq!(q.to, T0.div_ceil(HOUR_MS) * HOUR_MS);
    assert_eq!(q.to - q.from, 30 * DAY_MS);
    assert_eq!(q.today, T0 / DAY_MS * DAY_MS);
    let q = UsageQuery::parse("/x?group_by=hour%2Cmodel&to=2026-12-07T02%3A00%3A00Z", T0).unwrap();
    assert_eq!((q.dims.clone(), q.to - q.from), (vec![Dim::Hour, Dim::Model], DAY_MS));
    let q = UsageQuery::parse(&format!("/x?from={}&to={}", T0 - 10, T0 + 10), T0).unwrap();
    assert_eq!((q.from, q.to), (T0 / HOUR_MS * HOUR_MS, T0.div_ceil(HOUR_MS) * HOUR_MS));
    assert_eq!(err_param(UsageQuery::parse("/x?from=yesterday", T0)), "from");
    assert_eq!(err_param(UsageQuery::parse("/x?to=soon", T0)), "to");
    assert_eq!(err_param(UsageQuery::parse("/x?from=2026-12-08&to=2026-12-07", T0)), "from");
    assert_eq!(err_param(UsageQuery::parse("/x?from=2026-01-01&to=2026-12-07", T0)), "from");
    for g in ["week", "hour,day", "model,model", "model,task,outcome", ""] {
        assert_eq!(err_param(UsageQuery::parse(&format!("/x?group_by={g}"), T0)), "group_by", "{g}");
    }
    assert_eq!(err_param(UsageQuery::parse("/x?colour=red", T0)), "query");
    assert_eq!(err_param(UsageQuery::parse("/x?from=1&from=2", T0)), "from");
    assert_eq!(err_param(UsageQuery::parse("/x?from=%ZZ", T0)), "from");
}

#[test]
fn requests_queries_parse_and_name_bad_params() {
    let q = RequestsQuery::parse("/x").unwrap();
    assert_eq!((q.limit, q.before.clone()), (50, None));
    let q = RequestsQuery::parse("/x?limit=500&before=123.abc&model=gpt-4o&outcome=error&site_key=pk%20x").unwrap();
    assert_eq!((q.limit, q.before.clone()), (500, Some((123, "abc".to_string()))));
    assert_eq!(
        (q.model.as_deref(), q.outcome.as_deref(), q.site_key.as_deref()),
        (Some("gpt-4o"), Some("error"), Some("pk x"))
    );
    for (query, param) in [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=ten", "limit"),
        ("before=abc", "before"),
        ("before=1.a/b", "before"),
        ("model=", "model"),
        ("x=1", "query"),
    ] {
        assert_eq!(err_param(RequestsQuery::parse(&format!("/x?{query}"))), param, "{query}");
    }
}

#[test]
fn the_memory_store_answers_aggregates_and_pages() {
    let settings = Settings { memory_records: 100, ..Settings::default() };
    let mut store = MemoryStore::default();
    let recs = [
        record("a1", T0, "m1", "complete", Some(100), 0.5),
        record("a2", T0 + 1, "m1", "error", None, 0.0),
        record("a3", T0 + HOUR_MS, "m2", "complete", Some(10), 0.25),
        record("a4", T0 + HOUR_MS, "m2", "stopped", Some(1000), 0.125),
    ];
    for r in &recs {
        store.write(r, &settings, T0 + HOUR_MS);
    }
    let q = UsageQuery::parse(
        &format!("/x?group_by=hour,model&from={}&to={}", T0 - HOUR_MS, T0 + 2 * HOUR_MS),
        T0 + HOUR_MS,
    )
    .unwrap();
    let (rows, today) = store.usage(&q);
    assert_eq!((today.usd, today.tokens), (0.875, 4 * 17));
    let limits = Limits { daily_spend_usd: 5.0, daily_tokens: 0, ..Limits::default() };
    let v: Value = serde_json::from_str(&usage_json(&q, &rows, today, &limits)).unwrap();
    let groups = v["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "{v}");
    assert_eq!((groups[0]["hour"].as_str(), groups[0]["model"].as_str()), (Some("2026-12-07T01:00:00Z"), Some("m1")));
    assert_eq!((groups[0]["requests"].as_u64(), groups[0]["errors"].as_u64()), (Some(2), Some(1)));
    assert_eq!(groups[0]["ttfb_p50_ms"].as_f64(), Some(bucket_value(ttfb_bucket(Some(100)))));
    assert_eq!(groups[1]["outcomes"], serde_json::json!({ "complete": 1, "stopped": 1 }));
    assert_eq!(v["totals"]["requests"], 4);
    assert_eq!(v["totals"]["input_tokens"], 40);
    assert_eq!(v["totals"]["cost_usd"], 0.875);
    assert_eq!(
        v["budget"],
        serde_json::json!({ "daily_spend_usd": 5.0, "daily_tokens": null, "spent_today_usd": 0.875, "tokens_today": 68 })
    );
    assert_eq!(v["group_by"], serde_json::json!(["hour", "model"]));

    // Paging: newest first, a cursor while more remain, filters.
    let page = |query: &str| -> Value {
        let q = RequestsQuery::parse(query).unwrap();
        serde_json::from_str(&requests_json(store.requests(&q), q.limit as usize)).unwrap()
    };
    let p1 = page("/x?limit=3");
    let ids: Vec<&str> = p1["requests"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["a4", "a3", "a2"]);
    let p2 = page(&format!("/x?limit=3&before={}", p1["next"].as_str().unwrap()));
    assert_eq!((p2["requests"][0]["id"].as_str(), p2["next"].is_null()), (Some("a1"), true));
    assert_eq!(page("/x?model=m2&outcome=stopped")["requests"].as_array().unwrap().len(), 1);

    // Bounded: the oldest record goes first; roll-ups past rollup_days go on the next write.
    let small = Settings { memory_records: 2, rollup_days: 1, ..Settings::default() };
    let mut s = MemoryStore::default();
    for r in &recs {
        s.write(r, &small, T0 + HOUR_MS);
    }
    assert_eq!(s.len(), 2);
    s.write(&record("late", T0 + 3 * DAY_MS, "m1", "complete", None, 0.0), &small, T0 + 3 * DAY_MS);
    let (rows, _) = s.usage(&UsageQuery::parse(&format!("/x?from={T0}&to={}", T0 + 3 * DAY_MS + HOUR_MS), T0).unwrap());
    assert_eq!(rows.len(), 1);
}

#[test]
fn rows_from_shards_merge_like_memory_rows() {
    // Two shards' pre-summed rows for one day and model merge into one group.
    let q = UsageQuery::parse(&format!("/x?group_by=day&from={T0}&to={}", T0 + HOUR_MS), T0).unwrap();
    let shard_rows: Vec<Row> = [
        r#"{"t": 1796601600000, "outcome": "complete", "bucket": 21, "requests": 3, "cached": 1, "input_tokens": 30, "cost_usd": 0.5}"#,
        r#"{"t": 1796605200000, "outcome": "complete", "bucket": 21, "requests": 1, "input_tokens": 10, "cost_usd": 0.25}"#,
        r#"{"t": 1796605200000, "outcome": "error", "bucket": -1, "requests": 2}"#,
    ]
    .iter()
    .map(|s| Row::from_value(&serde_json::from_str(s).unwrap()).unwrap())
    .collect();
    let v: Value = serde_json::from_str(&usage_json(&q, &shard_rows, Today::default(), &Limits::default())).unwrap();
    let g = &v["groups"][0];
    assert_eq!(
        (g["day"].as_str(), g["requests"].as_u64(), g["errors"].as_u64()),
        (Some("2026-12-07"), Some(6), Some(2))
    );
    assert_eq!(
        (g["cached"].as_u64(), g["input_tokens"].as_u64(), g["cost_usd"].as_f64()),
        (Some(1), Some(40), Some(0.75))
    );
    assert_eq!(g["ttfb_p95_ms"].as_f64(), Some(bucket_value(21)));
    assert_eq!(v["groups"].as_array().unwrap().len(), 1);
    assert!(Row::from_value(&serde_json::json!({ "requests": 1 })).is_none(), "a row without an outcome is refused");
}
