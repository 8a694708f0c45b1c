//! Property tests for the retry decision.
#![cfg(not(target_arch = "wasm32"))]

use edgechat::retry::{Failure, GiveUpReason, RetryDecision, RetryPolicy, NEVER_RETRIED};
use proptest::prelude::*;

fn failure() -> impl Strategy<Value = Failure> {
    prop_oneof![
        (0u16..1000).prop_map(Failure::Status),
        Just(Failure::Connection),
        Just(Failure::TimeoutBeforeFirstByte),
        Just(Failure::AfterFirstByte),
    ]
}

fn policy() -> impl Strategy<Value = RetryPolicy> {
    (1u32..8, 0u64..5_000, 0u64..60_000, 0u64..120_000).prop_map(|(max_attempts, base, extra, max_retry_after_ms)| {
        RetryPolicy {
            max_attempts,
            base_delay_ms: base,
            max_delay_ms: base + extra,
            max_retry_after_ms,
            ..RetryPolicy::default()
        }
    })
}

/// Naive reference for the backoff: the documented formula with plain u128 arithmetic.
fn reference_backoff(p: &RetryPolicy, attempt: u32, jitter: f64) -> u64 {
    let cap = (u128::from(p.base_delay_ms) << (attempt - 1).min(100)).min(u128::from(p.max_delay_ms)) as u64;
    cap / 2 + ((cap - cap / 2) as f64 * jitter).floor() as u64
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn decision_follows_the_rules(
        p in policy(), attempt in 1u32..12, f in failure(), hint in proptest::option::of(0u64..200_000), jitter in 0.0f64..1.0
    ) {
        let d = p.decide(attempt, f, hint, jitter);
        match d {
            RetryDecision::RetryAfter { delay_ms } => {
                prop_assert!(f != Failure::AfterFirstByte);
                if let Failure::Status(s) = f {
                    prop_assert!(!NEVER_RETRIED.contains(&s));
                    prop_assert!(p.retryable_statuses.contains(&s));
                }
                prop_assert!(attempt < p.max_attempts);
                prop_assert!(hint.is_none_or(|h| h <= p.max_retry_after_ms && delay_ms >= h));
                prop_assert_eq!(delay_ms, reference_backoff(&p, attempt, jitter).max(hint.unwrap_or(0)));
                prop_assert!(delay_ms <= p.max_delay_ms.max(p.max_retry_after_ms));
            }
            RetryDecision::GiveUp { reason } => match reason {
                GiveUpReason::AfterFirstByte => prop_assert_eq!(f, Failure::AfterFirstByte),
                GiveUpReason::NotRetryable { .. } => prop_assert!(!p.is_retryable(f)),
                GiveUpReason::AttemptsExhausted { attempts } => prop_assert!(attempts >= p.max_attempts),
                GiveUpReason::RetryAfterTooLong { retry_after_ms, max_ms } => {
                    prop_assert_eq!(Some(retry_after_ms), hint);
                    prop_assert!(retry_after_ms > max_ms);
                }
                other => prop_assert!(false, "unexpected {:?}", other),
            },
        }
    }

    #[test]
    fn backoff_never_shrinks_with_more_attempts(p in policy(), attempt in 1u32..40, jitter in 0.0f64..1.0) {
        prop_assert!(p.backoff_ms(attempt + 1, jitter) >= p.backoff_ms(attempt, jitter));
    }
}
