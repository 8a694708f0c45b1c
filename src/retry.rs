//! Retry policy: a pure decision from attempt, failure and a caller-supplied jitter value.
