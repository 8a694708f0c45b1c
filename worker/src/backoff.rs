//! Retry decision before the first byte reaches the client.
//!
//! TODO(core): switch to `edgechat::retry` once that module has its API (it was empty when this was written).

use crate::config::RetryConfig;

/// What to do after attempt `attempt` (1-based) failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Send the same request again after this many ms.
    RetryAfter(u64),
    /// Stop trying this model (not retryable, attempts used up, or the provider asked for too long a wait):
    /// fall back to the next model in the chain, if any.
    GiveUp,
}

/// Pure retry policy: honours the provider's `retry-after` (up to `max_retry_after_ms`), otherwise exponential
/// backoff with equal jitter. `jitter` is a caller-supplied value in `[0, 1)` (the edge passes `Math.random()`).
pub fn next(cfg: &RetryConfig, attempt: u32, retryable: bool, retry_after_ms: Option<u64>, jitter: f64) -> Next {
    if !retryable || attempt >= cfg.max_attempts {
        return Next::GiveUp;
    }
    if let Some(ms) = retry_after_ms {
        return if ms > cfg.max_retry_after_ms { Next::GiveUp } else { Next::RetryAfter(ms) };
    }
    let exp = cfg.base_delay_ms.saturating_mul(1u64 << (attempt - 1).min(20)).min(cfg.max_delay_ms);
    let j = jitter.clamp(0.0, 1.0);
    Next::RetryAfter(exp / 2 + ((exp / 2) as f64 * j) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> RetryConfig {
        RetryConfig { max_attempts: 3, base_delay_ms: 100, max_delay_ms: 300, max_retry_after_ms: 1000 }
    }

    #[test]
    fn backoff_grows_with_jitter_and_cap() {
        assert_eq!(next(&cfg(), 1, true, None, 0.0), Next::RetryAfter(50));
        assert_eq!(next(&cfg(), 1, true, None, 0.999_999), Next::RetryAfter(99));
        assert_eq!(next(&cfg(), 2, true, None, 0.0), Next::RetryAfter(100));
        assert_eq!(next(&cfg(), 3, true, None, 0.0), Next::GiveUp);
        let big = RetryConfig { max_attempts: 10, ..cfg() };
        assert_eq!(next(&big, 9, true, None, 1.0), Next::RetryAfter(300));
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_limit() {
        assert_eq!(next(&cfg(), 1, true, Some(700), 0.5), Next::RetryAfter(700));
        assert_eq!(next(&cfg(), 1, true, Some(5000), 0.5), Next::GiveUp);
        assert_eq!(next(&cfg(), 1, false, Some(10), 0.5), Next::GiveUp);
    }
}
