//! Retry policy: a pure decision from attempt, failure and a caller-supplied jitter value.
//!
//! The core reads no clock and draws no random numbers: the caller passes the attempt number, what went wrong,
//! the server's hint and a jitter value in `[0, 1)`, and gets back how long to wait (in milliseconds) or why to
//! stop. The caller does the waiting.
//!
//! # The rules, in order
//! 1. A failure after the first byte of the response reached the client is never retried
//!    ([`GiveUpReason::AfterFirstByte`]): the person already saw part of an answer; offer "continue" instead.
//! 2. Only retryable failures are retried: HTTP statuses in [`RetryPolicy::retryable_statuses`] (default 408,
//!    429, 500, 502, 503, 504, 529), provider errors whose status is listed or whose [`ErrorKind`] is retryable,
//!    connection errors and timeouts before the first byte. 400, 401, 403, 404 and 413 are never retried, even if
//!    configured ([`NEVER_RETRIED`]).
//! 3. At most [`RetryPolicy::max_attempts`] attempts in all, the first included.
//! 4. A server hint (`retry-after-ms` / `retry-after`) longer than [`RetryPolicy::max_retry_after_ms`] gives up
//!    ([`GiveUpReason::RetryAfterTooLong`]) rather than hold the request open absurdly long (or retry early and
//!    be refused again).
//! 5. Otherwise wait `max(backoff, hint)`, where backoff is exponential with "equal jitter":
//!    `cap = min(max_delay_ms, base_delay_ms * 2^(attempt - 1))`, `backoff = cap/2 + floor(jitter * (cap - cap/2))`.
//!    The wait is always between half and all of the capped exponential step, so retries spread out without
//!    ever collapsing to zero.
//!
//! ```
//! use edgechat::retry::{Failure, RetryDecision, RetryPolicy};
//!
//! let policy = RetryPolicy::default(); // 3 attempts, 500 ms base, 8 s cap
//! assert_eq!(policy.decide(1, Failure::Status(503), None, 0.0), RetryDecision::RetryAfter { delay_ms: 250 });
//! assert_eq!(policy.decide(2, Failure::Status(503), None, 0.5), RetryDecision::RetryAfter { delay_ms: 750 });
//! assert_eq!(policy.decide(1, Failure::Status(429), Some(2_000), 0.0), RetryDecision::RetryAfter { delay_ms: 2_000 });
//! assert!(!policy.decide(3, Failure::Status(503), None, 0.0).is_retry());
//! assert!(!policy.decide(1, Failure::Status(401), None, 0.0).is_retry());
//! assert!(!policy.decide(1, Failure::AfterFirstByte, None, 0.0).is_retry());
//! ```

use serde::{Deserialize, Serialize};

use crate::error::{ErrorKind, ProviderError};

/// Statuses that are never retried, whatever the configuration says: the same request will fail the same way.
pub const NEVER_RETRIED: [u16; 5] = [400, 401, 403, 404, 413];

/// What went wrong with one attempt. Serializes externally tagged: `{"status": 503}`, `"connection"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Failure {
    /// The provider answered with a non-2xx HTTP status, before anything was forwarded to the client.
    Status(u16),
    /// A provider error (a decoded error response, or an error event before anything was forwarded).
    Provider {
        /// Its HTTP status (for a mid-stream error, the status its type maps to).
        status: u16,
        /// Its normalized kind.
        kind: ErrorKind,
    },
    /// The connection failed (DNS, TCP, TLS, reset) before a response arrived.
    Connection,
    /// No response byte arrived within the caller's first-byte timeout.
    TimeoutBeforeFirstByte,
    /// Any failure after the first byte of the response reached the client.
    AfterFirstByte,
}

impl From<&ProviderError> for Failure {
    fn from(e: &ProviderError) -> Self {
        Self::Provider { status: e.status, kind: e.kind }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
#[must_use = "the caller must either wait and retry or give up"]
pub enum RetryDecision {
    /// Wait `delay_ms` milliseconds, then send the same request again.
    RetryAfter {
        /// Milliseconds to wait.
        delay_ms: u64,
    },
    /// Stop and report the failure.
    GiveUp {
        /// Why.
        reason: GiveUpReason,
    },
}

impl RetryDecision {
    /// True for [`RetryDecision::RetryAfter`].
    pub fn is_retry(&self) -> bool {
        matches!(self, Self::RetryAfter { .. })
    }

    /// The wait, for [`RetryDecision::RetryAfter`].
    pub fn delay_ms(&self) -> Option<u64> {
        match self {
            Self::RetryAfter { delay_ms } => Some(*delay_ms),
            Self::GiveUp { .. } => None,
        }
    }
}

/// Why a [`RetryPolicy`] gave up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum GiveUpReason {
    /// The failure is not one a retry can fix (e.g. 400, 401). Report it as is.
    NotRetryable {
        /// The HTTP status, when the failure had one.
        status: Option<u16>,
    },
    /// The last allowed attempt failed. Report the failure (the edge answers `upstream_error`).
    AttemptsExhausted {
        /// Attempts made.
        attempts: u32,
    },
    /// Part of the response already reached the client. Report the error mid-stream; offer "continue".
    AfterFirstByte,
    /// The server asked to wait longer than the policy allows. Report it with the hint (HTTP 429/503 with
    /// `Retry-After`).
    RetryAfterTooLong {
        /// The server's hint.
        retry_after_ms: u64,
        /// The policy's limit.
        max_ms: u64,
    },
}

/// Retry configuration. Deserializes from partial JSON (missing fields take the defaults) and rejects unknown
/// fields; check it with [`RetryPolicy::validate`] (or load it with [`RetryPolicy::from_json`], which does).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryPolicy {
    /// Most attempts in all, the first included (default 3). 1 disables retries.
    pub max_attempts: u32,
    /// First backoff step in ms (default 500).
    pub base_delay_ms: u64,
    /// Cap of the exponential backoff in ms (default 8000). A server hint may exceed it, up to
    /// `max_retry_after_ms`.
    pub max_delay_ms: u64,
    /// Longest server hint the policy waits for, in ms (default 30000); a longer one gives up.
    pub max_retry_after_ms: u64,
    /// HTTP statuses worth retrying (default 408, 429, 500, 502, 503, 504, 529). [`NEVER_RETRIED`] statuses are
    /// ignored here.
    pub retryable_statuses: Vec<u16>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay_ms: 500,
            max_delay_ms: 8_000,
            max_retry_after_ms: 30_000,
            retryable_statuses: vec![408, 429, 500, 502, 503, 504, 529],
        }
    }
}

/// A [`RetryPolicy`] that makes no sense.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RetryConfigError {
    /// The JSON could not be read (syntax, wrong type or unknown field).
    #[error("invalid retry policy JSON: {0}")]
    Json(String),
    /// `max_attempts` is 0; use 1 to disable retries.
    #[error("max_attempts must be at least 1")]
    ZeroAttempts,
    /// `base_delay_ms` is larger than `max_delay_ms`.
    #[error("base_delay_ms ({base}) exceeds max_delay_ms ({max})")]
    BaseAboveMax {
        /// `base_delay_ms`.
        base: u64,
        /// `max_delay_ms`.
        max: u64,
    },
    /// A status in `retryable_statuses` is never retried or is not an HTTP status.
    #[error("status {0} cannot be retryable")]
    BadStatus(u16),
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        Self { max_attempts: 1, ..Self::default() }
    }

    /// Parses and validates a policy from JSON (missing fields take the defaults).
    pub fn from_json(json: &str) -> Result<Self, RetryConfigError> {
        let policy: Self = serde_json::from_str(json).map_err(|e| RetryConfigError::Json(e.to_string()))?;
        policy.validate()?;
        Ok(policy)
    }

    /// Checks that the fields are consistent.
    pub fn validate(&self) -> Result<(), RetryConfigError> {
        if self.max_attempts == 0 {
            return Err(RetryConfigError::ZeroAttempts);
        }
        if self.base_delay_ms > self.max_delay_ms {
            return Err(RetryConfigError::BaseAboveMax { base: self.base_delay_ms, max: self.max_delay_ms });
        }
        match self.retryable_statuses.iter().find(|s| NEVER_RETRIED.contains(s) || !(100..=599).contains(*s)) {
            Some(&s) => Err(RetryConfigError::BadStatus(s)),
            None => Ok(()),
        }
    }

    /// Whether `failure` is worth retrying at all (rules 1 and 2 of the [module docs](self)).
    pub fn is_retryable(&self, failure: Failure) -> bool {
        let status_ok = |s: u16| !NEVER_RETRIED.contains(&s) && self.retryable_statuses.contains(&s);
        match failure {
            Failure::Status(s) => status_ok(s),
            Failure::Provider { status, kind } => {
                !NEVER_RETRIED.contains(&status) && (status_ok(status) || kind.is_retryable())
            }
            Failure::Connection | Failure::TimeoutBeforeFirstByte => true,
            Failure::AfterFirstByte => false,
        }
    }

    /// Decides what to do after attempt number `attempt` (1 for the first request) failed with `failure`.
    ///
    /// `retry_after_ms` is the server's hint, if any; `jitter` is a uniformly random value in `[0, 1)` from the
    /// caller (out-of-range values are clamped, NaN counts as 0). `attempt` 0 counts as 1.
    pub fn decide(&self, attempt: u32, failure: Failure, retry_after_ms: Option<u64>, jitter: f64) -> RetryDecision {
        let give_up = |reason| RetryDecision::GiveUp { reason };
        if failure == Failure::AfterFirstByte {
            return give_up(GiveUpReason::AfterFirstByte);
        }
        if !self.is_retryable(failure) {
            let status = match failure {
                Failure::Status(s) | Failure::Provider { status: s, .. } => Some(s),
                _ => None,
            };
            return give_up(GiveUpReason::NotRetryable { status });
        }
        let attempt = attempt.max(1);
        if attempt >= self.max_attempts.max(1) {
            return give_up(GiveUpReason::AttemptsExhausted { attempts: attempt });
        }
        if let Some(hint) = retry_after_ms.filter(|&h| h > self.max_retry_after_ms) {
            return give_up(GiveUpReason::RetryAfterTooLong { retry_after_ms: hint, max_ms: self.max_retry_after_ms });
        }
        let delay_ms = self.backoff_ms(attempt, jitter).max(retry_after_ms.unwrap_or(0));
        RetryDecision::RetryAfter { delay_ms }
    }

    /// [`RetryPolicy::decide`] for a [`ProviderError`], using its own `retry_after_ms` as the hint.
    pub fn decide_provider_error(&self, attempt: u32, error: &ProviderError, jitter: f64) -> RetryDecision {
        self.decide(attempt, Failure::from(error), error.retry_after_ms, jitter)
    }

    /// The backoff after attempt `attempt` (≥ 1) with `jitter`, ignoring any hint (rule 5 of the
    /// [module docs](self)).
    pub fn backoff_ms(&self, attempt: u32, jitter: f64) -> u64 {
        let step = 1u64.checked_shl(attempt.max(1) - 1).unwrap_or(u64::MAX);
        let cap = self.base_delay_ms.saturating_mul(step).min(self.max_delay_ms);
        let jitter = if jitter.is_nan() { 0.0 } else { jitter.clamp(0.0, 1.0) };
        let half = cap / 2;
        let spread = ((cap - half) as f64 * jitter).floor() as u64; // `as` saturates
        half.saturating_add(spread).min(cap)
    }
}
