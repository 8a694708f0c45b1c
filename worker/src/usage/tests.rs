use serde_json::Value;

use super::*;

const T0: u64 = 1_796_607_000_000; // 2026-12-07T01:30:00Z

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

#[test]
fn settings_read_and_reach_the_store() {
    let s = Settings::read(&serde_json::json!({ "shards": 4, "retention_days": 2 }), "usage").unwrap();
    assert_eq!((s.shards, s.retention_days, s.rollup_days), (4, 2, 400));
    let limits = crate::config::Limits { daily_spend_usd: 2.5, daily_tokens: 0, ..Default::default() };
    let v: Value = serde_json::from_str(&s.to_json(&limits)).unwrap();
    assert_eq!(v["retention_ms"], 2 * 86_400_000u64);
    assert_eq!((v["shards"].as_u64(), v["daily_spend_usd"].as_f64()), (Some(4), Some(2.5)));
    for bad in
        [serde_json::json!({ "shards": 0 }), serde_json::json!({ "retention_days": 0 }), serde_json::json!({ "x": 1 })]
    {
        assert!(Settings::read(&bad, "usage").is_err(), "{bad}");
    }
}
