//! Retry policy: the pure decision table.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use edgechat::provider::ProviderKind;
use edgechat::retry::{Failure, GiveUpReason, RetryConfigError, RetryDecision, RetryPolicy, NEVER_RETRIED};
use edgechat::{ErrorKind, ProviderError, RateLimitInfo};

fn retry(ms: u64) -> RetryDecision {
    RetryDecision::RetryAfter { delay_ms: ms }
}

fn give_up(reason: GiveUpReason) -> RetryDecision {
    RetryDecision::GiveUp { reason }
}

fn provider_error(status: u16, kind: ErrorKind, retry_after_ms: Option<u64>) -> ProviderError {
    ProviderError {
        provider: ProviderKind::Anthropic,
        status,
        kind,
        code: None,
        message: "x".into(),
        retry_after_ms,
        rate_limit: RateLimitInfo::default(),
    }
}

#[test]
fn exponential_backoff_with_equal_jitter() {
    let p = RetryPolicy { max_attempts: 10, base_delay_ms: 100, max_delay_ms: 1_000, ..RetryPolicy::default() };
    // cap = min(1000, 100 * 2^(n-1)); delay in [cap/2, cap].
    assert_eq!(p.decide(1, Failure::Status(500), None, 0.0), retry(50));
    assert_eq!(p.decide(1, Failure::Status(500), None, 0.999_999), retry(99));
    assert_eq!(p.decide(2, Failure::Status(500), None, 0.0), retry(100));
    assert_eq!(p.decide(3, Failure::Status(500), None, 0.5), retry(300));
    assert_eq!(p.decide(4, Failure::Status(500), None, 0.0), retry(400));
    assert_eq!(p.decide(5, Failure::Status(500), None, 0.0), retry(500)); // capped at 1000
    assert_eq!(p.decide(9, Failure::Status(500), None, 0.0), retry(500));
}

#[test]
fn retryable_set() {
    let p = RetryPolicy::default();
    for s in [408, 429, 500, 502, 503, 504, 529] {
        assert!(p.decide(1, Failure::Status(s), None, 0.0).is_retry(), "{s}");
    }
    assert!(p.decide(1, Failure::Connection, None, 0.0).is_retry());
    assert!(p.decide(1, Failure::TimeoutBeforeFirstByte, None, 0.0).is_retry());
    for s in [400, 401, 403, 404, 413, 422, 501, 200, 0] {
        assert_eq!(p.decide(1, Failure::Status(s), None, 0.0), give_up(GiveUpReason::NotRetryable { status: Some(s) }));
    }
}

#[test]
fn never_retried_statuses_stay_unretried_even_if_configured() {
    let p = RetryPolicy { retryable_statuses: NEVER_RETRIED.to_vec(), ..RetryPolicy::default() };
    for s in NEVER_RETRIED {
        assert!(!p.decide(1, Failure::Status(s), None, 0.0).is_retry(), "{s}");
        assert!(!p.is_retryable(Failure::Provider { status: s, kind: ErrorKind::ServerError }));
    }
    assert_eq!(p.validate(), Err(RetryConfigError::BadStatus(400)));
}

#[test]
fn never_retries_after_first_byte() {
    let p = RetryPolicy::default();
    assert_eq!(p.decide(1, Failure::AfterFirstByte, Some(10), 0.0), give_up(GiveUpReason::AfterFirstByte));
}

#[test]
fn attempts_are_capped() {
    let p = RetryPolicy { max_attempts: 3, ..RetryPolicy::default() };
    assert!(p.decide(1, Failure::Status(503), None, 0.0).is_retry());
    assert!(p.decide(2, Failure::Status(503), None, 0.0).is_retry());
    assert_eq!(p.decide(3, Failure::Status(503), None, 0.0), give_up(GiveUpReason::AttemptsExhausted { attempts: 3 }));
    assert_eq!(p.decide(99, Failure::Connection, None, 0.0), give_up(GiveUpReason::AttemptsExhausted { attempts: 99 }));
    let none = RetryPolicy::none();
    assert!(!none.decide(1, Failure::Status(503), None, 0.0).is_retry());
}

#[test]
fn server_hint_wins_when_larger_and_gives_up_beyond_limit() {
    let p = RetryPolicy::default(); // base 500, max 8000, max hint 30000
    assert_eq!(p.decide(1, Failure::Status(429), Some(2_000), 0.0), retry(2_000));
    assert_eq!(p.decide(1, Failure::Status(429), Some(10), 0.0), retry(250)); // backoff larger
    assert_eq!(p.decide(1, Failure::Status(429), Some(0), 0.0), retry(250));
    assert_eq!(p.decide(1, Failure::Status(429), Some(20_000), 0.0), retry(20_000)); // above max_delay, allowed
    assert_eq!(p.decide(1, Failure::Status(429), Some(30_000), 0.0), retry(30_000));
    assert_eq!(
        p.decide(1, Failure::Status(429), Some(30_001), 0.0),
        give_up(GiveUpReason::RetryAfterTooLong { retry_after_ms: 30_001, max_ms: 30_000 })
    );
}

#[test]
fn provider_errors_use_kind_status_and_their_own_hint() {
    let p = RetryPolicy::default();
    let overloaded = provider_error(529, ErrorKind::Overloaded, Some(3_000));
    assert_eq!(p.decide_provider_error(1, &overloaded, 0.0), retry(3_000));
    // A 5xx outside the configured list still retries when its kind is retryable.
    assert!(p.decide_provider_error(1, &provider_error(599, ErrorKind::ServerError, None), 0.0).is_retry());
    let auth = provider_error(401, ErrorKind::Authentication, None);
    assert_eq!(p.decide_provider_error(1, &auth, 0.0), give_up(GiveUpReason::NotRetryable { status: Some(401) }));
    let bad = provider_error(400, ErrorKind::InvalidRequest, Some(5));
    assert!(!p.decide_provider_error(1, &bad, 0.0).is_retry());
}

#[test]
fn odd_inputs_do_not_panic() {
    let p = RetryPolicy {
        max_attempts: u32::MAX,
        base_delay_ms: u64::MAX,
        max_delay_ms: u64::MAX,
        ..RetryPolicy::default()
    };
    assert!(p.decide(200, Failure::Status(503), None, 0.5).is_retry());
    assert_eq!(p.backoff_ms(u32::MAX, 1.0), u64::MAX);
    let d = RetryPolicy::default();
    assert_eq!(d.decide(0, Failure::Status(503), None, f64::NAN), retry(250)); // attempt 0 counts as 1; NaN as 0
    assert_eq!(d.decide(1, Failure::Status(503), None, -3.0), retry(250));
    assert_eq!(d.decide(1, Failure::Status(503), None, 7.0), retry(500));
    let zero = RetryPolicy { max_attempts: 0, ..RetryPolicy::default() };
    assert!(!zero.decide(1, Failure::Status(503), None, 0.0).is_retry());
    let flat = RetryPolicy { base_delay_ms: 0, ..RetryPolicy::default() };
    assert_eq!(flat.decide(1, Failure::Status(503), None, 0.9), retry(0));
}

#[test]
fn decision_helpers() {
    assert_eq!(retry(5).delay_ms(), Some(5));
    assert_eq!(give_up(GiveUpReason::AfterFirstByte).delay_ms(), None);
}

#[test]
fn policy_serde_defaults_validation_and_round_trip() {
    let p = RetryPolicy::from_json(r#"{"max_attempts": 5}"#).unwrap();
    assert_eq!(p, RetryPolicy { max_attempts: 5, ..RetryPolicy::default() });
    let back: RetryPolicy = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
    assert_eq!(back, p);
    assert!(matches!(RetryPolicy::from_json(r#"{"max_attemps": 5}"#), Err(RetryConfigError::Json(_))));
    assert!(matches!(RetryPolicy::from_json(r#"{"max_attempts": -1}"#), Err(RetryConfigError::Json(_))));
    assert_eq!(RetryPolicy::from_json(r#"{"max_attempts": 0}"#), Err(RetryConfigError::ZeroAttempts));
    assert_eq!(
        RetryPolicy::from_json(r#"{"base_delay_ms": 9000, "max_delay_ms": 100}"#),
        Err(RetryConfigError::BaseAboveMax { base: 9000, max: 100 })
    );
    assert_eq!(RetryPolicy::from_json(r#"{"retryable_statuses": [700]}"#), Err(RetryConfigError::BadStatus(700)));
    assert_eq!(RetryPolicy::default().validate(), Ok(()));
}

#[test]
fn decisions_and_failures_serialize() {
    let d = give_up(GiveUpReason::RetryAfterTooLong { retry_after_ms: 1, max_ms: 0 });
    let v = serde_json::to_value(d).unwrap();
    assert_eq!(v["decision"], "give_up");
    assert_eq!(serde_json::from_value::<RetryDecision>(v).unwrap(), d);
    let f = Failure::Provider { status: 529, kind: ErrorKind::Overloaded };
    assert_eq!(serde_json::from_str::<Failure>(&serde_json::to_string(&f).unwrap()).unwrap(), f);
}
