//! Per-client limits: requests per minute (sliding window), concurrent streams (leases), and a daily token and
//! spend budget. Pure state machine; the runtime keeps one per isolate, or one global instance inside a Durable
//! Object (exact across isolates). Time comes in as `now_ms`.

use std::collections::{HashMap, VecDeque};

use crate::config::Limits;

/// A stream lease expires after this long even if never released (a crashed isolate must not hold a slot forever).
pub const LEASE_TTL_MS: u64 = 15 * 60 * 1000;
const MINUTE_MS: u64 = 60_000;
const DAY_MS: u64 = 86_400_000;

/// The limits that apply to one client.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    /// Requests per minute (0 = unlimited).
    pub rpm: u32,
    /// Concurrent streams (0 = unlimited).
    pub concurrent: u32,
    /// Tokens per UTC day (0 = unlimited).
    pub daily_tokens: u64,
    /// USD per UTC day (0 = unlimited).
    pub daily_spend_usd: f64,
}

impl From<&Limits> for Rule {
    fn from(l: &Limits) -> Self {
        Self {
            rpm: l.requests_per_minute,
            concurrent: l.concurrent_streams,
            daily_tokens: l.daily_tokens,
            daily_spend_usd: l.daily_spend_usd,
        }
    }
}

/// The answer to an acquire.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Go ahead; release `lease` when the stream ends.
    Allowed {
        /// Lease id.
        lease: u64,
        /// What is left of the daily budget when the request starts (the stream ends when it runs out).
        left: Left,
    },
    /// Refused.
    Limited {
        /// `rate_limited` or `budget_exceeded`.
        kind: String,
        /// Client-facing reason.
        message: String,
        /// Seconds until a retry can succeed.
        retry_after_s: u64,
    },
}

/// What is left of a client's daily budget (`None`: no such budget).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Left {
    /// Tokens.
    pub tokens: Option<u64>,
    /// USD.
    pub usd: Option<f64>,
}

/// A message to the limiter (the Durable Object's request body, in the line format of [`Op::encode`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Count a request and take a stream slot.
    Acquire {
        /// Client identity.
        key: String,
        /// Limits.
        rule: Rule,
        /// Current time.
        now_ms: u64,
    },
    /// Admit one request to a model under the provider account's own limits, counted across all clients (the
    /// key names the model): `rpm` requests and `tpm` tokens per minute (0: not limited).
    Provider {
        /// `provider:<model>`.
        key: String,
        /// Requests per minute.
        rpm: u32,
        /// Tokens per minute.
        tpm: u64,
        /// Tokens this request may use (its prompt estimate plus its output cap).
        tokens: u64,
        /// Current time.
        now_ms: u64,
    },
    /// Give back the slot and record what the request used.
    Release {
        /// Client identity.
        key: String,
        /// The lease from [`Decision::Allowed`].
        lease: u64,
        /// Tokens used.
        tokens: u64,
        /// Cost in USD.
        spend_usd: f64,
        /// Current time.
        now_ms: u64,
    },
}

// The Durable Object protocol is a single `|`-separated line each way (the client key last, as it may contain
// `|`); money travels as integer micro-dollars. Hand-written rather than serde: it keeps the wasm smaller.
fn usd_to_micros(usd: f64) -> u64 {
    if usd.is_finite() && usd > 0.0 {
        (usd * 1e6).round() as u64
    } else {
        0
    }
}

impl Op {
    /// `acquire|rpm|concurrent|daily_tokens|daily_spend_micros|now_ms|key` or
    /// `release|lease|tokens|spend_micros|now_ms|key`.
    pub fn encode(&self) -> String {
        match self {
            Op::Acquire { key, rule, now_ms } => format!(
                "acquire|{}|{}|{}|{}|{now_ms}|{key}",
                rule.rpm,
                rule.concurrent,
                rule.daily_tokens,
                usd_to_micros(rule.daily_spend_usd)
            ),
            Op::Release { key, lease, tokens, spend_usd, now_ms } => {
                format!("release|{lease}|{tokens}|{}|{now_ms}|{key}", usd_to_micros(*spend_usd))
            }
            Op::Provider { key, rpm, tpm, tokens, now_ms } => format!("provider|{rpm}|{tpm}|{tokens}|{now_ms}|{key}"),
        }
    }

    /// Parses [`Op::encode`]'s format; `None` for anything else.
    pub fn decode(line: &str) -> Option<Op> {
        let (verb, rest) = line.split_once('|')?;
        let n = if verb == "acquire" { 5 } else { 4 };
        let mut parts = rest.splitn(n + 1, '|');
        let mut nums = [0u64; 5];
        for slot in nums.iter_mut().take(n) {
            *slot = parts.next()?.parse().ok()?;
        }
        let key = parts.next()?.to_string();
        match verb {
            "acquire" => Some(Op::Acquire {
                key,
                rule: Rule {
                    rpm: u32::try_from(nums[0]).ok()?,
                    concurrent: u32::try_from(nums[1]).ok()?,
                    daily_tokens: nums[2],
                    daily_spend_usd: nums[3] as f64 / 1e6,
                },
                now_ms: nums[4],
            }),
            "release" => Some(Op::Release {
                key,
                lease: nums[0],
                tokens: nums[1],
                spend_usd: nums[2] as f64 / 1e6,
                now_ms: nums[3],
            }),
            "provider" => Some(Op::Provider {
                key,
                rpm: u32::try_from(nums[0]).ok()?,
                tpm: nums[1],
                tokens: nums[2],
                now_ms: nums[3],
            }),
            _ => None,
        }
    }
}

impl Decision {
    /// `allowed|lease` or `limited|retry_after_s|kind|message`.
    pub fn encode(&self) -> String {
        match self {
            Decision::Allowed { lease, left } => {
                let tokens = left.tokens.map_or("-".to_string(), |t| t.to_string());
                let usd = left.usd.map_or("-".to_string(), |u| usd_to_micros(u).to_string());
                format!("allowed|{lease}|{tokens}|{usd}")
            }
            Decision::Limited { kind, message, retry_after_s } => format!("limited|{retry_after_s}|{kind}|{message}"),
        }
    }

    /// Parses [`Decision::encode`]'s format.
    pub fn decode(line: &str) -> Option<Decision> {
        let (verb, rest) = line.split_once('|')?;
        match verb {
            "allowed" => {
                let mut p = rest.split('|');
                let lease = p.next()?.parse().ok()?;
                let num = |s: Option<&str>| s.filter(|s| *s != "-").and_then(|s| s.parse::<u64>().ok());
                let tokens = num(p.next());
                let usd = num(p.next()).map(|m| m as f64 / 1e6);
                Some(Decision::Allowed { lease, left: Left { tokens, usd } })
            }
            "limited" => {
                let mut p = rest.splitn(3, '|');
                let retry_after_s = p.next()?.parse().ok()?;
                let kind = p.next()?.to_string();
                let message = p.next()?.to_string();
                Some(Decision::Limited { kind, message, retry_after_s })
            }
            _ => None,
        }
    }
}

#[derive(Debug, Default)]
struct ClientState {
    requests: VecDeque<u64>,
    leases: Vec<(u64, u64)>,
    day: u64,
    tokens: u64,
    spend_usd: f64,
}

/// The limiter state.
#[derive(Debug, Default)]
pub struct Limiter {
    clients: HashMap<String, ClientState>,
    next_lease: u64,
    ops: u64,
    /// Per model: the last minute's admitted requests and their tokens ([`Limiter::admit_provider`]).
    windows: HashMap<String, VecDeque<(u64, u64)>>,
}

impl Limiter {
    /// An empty limiter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one [`Op`]; `Release` answers `Allowed` with the released lease.
    pub fn apply(&mut self, op: Op) -> Decision {
        match op {
            Op::Provider { key, rpm, tpm, tokens, now_ms } => match self.admit_provider(&key, rpm, tpm, tokens, now_ms)
            {
                Ok(()) => Decision::Allowed { lease: 0, left: Left::default() },
                Err(wait_ms) => limited(
                    "rate_limited",
                    "the provider's per-minute limit for this model is reached".into(),
                    wait_ms.div_ceil(1000).max(1),
                ),
            },
            Op::Acquire { key, rule, now_ms } => self.acquire(&key, &rule, now_ms),
            Op::Release { key, lease, tokens, spend_usd, now_ms } => {
                self.release(&key, lease, tokens, spend_usd, now_ms);
                Decision::Allowed { lease, left: Left::default() }
            }
        }
    }

    /// Counts a request by `key` and takes a stream slot, or says why not.
    pub fn acquire(&mut self, key: &str, rule: &Rule, now_ms: u64) -> Decision {
        self.ops += 1;
        if self.ops.is_multiple_of(1024) {
            self.prune(now_ms);
        }
        let st = self.clients.entry(key.to_string()).or_default();
        roll(st, now_ms);
        if rule.daily_tokens > 0 && st.tokens >= rule.daily_tokens {
            return limited(
                "budget_exceeded",
                format!("daily token budget of {} is used up", rule.daily_tokens),
                until_next_day(now_ms),
            );
        }
        if rule.daily_spend_usd > 0.0 && st.spend_usd >= rule.daily_spend_usd {
            return limited(
                "budget_exceeded",
                format!("daily spend budget of {} micro-USD is used up", usd_to_micros(rule.daily_spend_usd)),
                until_next_day(now_ms),
            );
        }
        if rule.rpm > 0 && st.requests.len() >= rule.rpm as usize {
            let oldest = st.requests.front().copied().unwrap_or(now_ms);
            let wait = (oldest + MINUTE_MS).saturating_sub(now_ms);
            return limited("rate_limited", format!("more than {} requests per minute", rule.rpm), wait.div_ceil(1000));
        }
        if rule.concurrent > 0 && st.leases.len() >= rule.concurrent as usize {
            return limited("rate_limited", format!("more than {} streams at once", rule.concurrent), 1);
        }
        st.requests.push_back(now_ms);
        self.next_lease += 1;
        let lease = self.next_lease;
        st.leases.push((lease, now_ms + LEASE_TTL_MS));
        let left = Left {
            tokens: (rule.daily_tokens > 0).then(|| rule.daily_tokens.saturating_sub(st.tokens)),
            usd: (rule.daily_spend_usd > 0.0).then(|| (rule.daily_spend_usd - st.spend_usd).max(0.0)),
        };
        Decision::Allowed { lease, left }
    }

    /// Admits one request under a model's provider limits (a sliding minute of requests and their tokens), or
    /// says how long until it would fit, ms. A request larger than the whole `tpm` is admitted when the window is
    /// empty (it could never fit otherwise).
    pub fn admit_provider(&mut self, key: &str, rpm: u32, tpm: u64, tokens: u64, now_ms: u64) -> Result<(), u64> {
        let w = self.windows.entry(key.to_string()).or_default();
        while w.front().is_some_and(|&(t, _)| t + MINUTE_MS <= now_ms) {
            w.pop_front();
        }
        let used: u64 = w.iter().map(|&(_, n)| n).sum();
        let over_rpm = rpm > 0 && w.len() >= rpm as usize;
        let over_tpm = tpm > 0 && !w.is_empty() && used + tokens > tpm;
        if over_rpm || over_tpm {
            // The wait until enough of the window has expired.
            let mut freed = 0;
            let mut wait = MINUTE_MS;
            for (i, &(t, n)) in w.iter().enumerate() {
                freed += n;
                let rpm_ok = !over_rpm || w.len() - (i + 1) < rpm as usize;
                let tpm_ok = !over_tpm || used - freed + tokens <= tpm;
                if rpm_ok && tpm_ok {
                    wait = (t + MINUTE_MS).saturating_sub(now_ms);
                    break;
                }
            }
            return Err(wait.max(1));
        }
        w.push_back((now_ms, tokens));
        Ok(())
    }

    /// Gives back `lease` and adds the request's usage to the day's budget.
    pub fn release(&mut self, key: &str, lease: u64, tokens: u64, spend_usd: f64, now_ms: u64) {
        let st = self.clients.entry(key.to_string()).or_default();
        roll(st, now_ms);
        st.leases.retain(|(l, _)| *l != lease);
        st.tokens += tokens;
        if spend_usd.is_finite() && spend_usd > 0.0 {
            st.spend_usd += spend_usd;
        }
    }

    /// The daily budgets used so far, one `key|day|tokens|spend_micros` line per client (the key last), for a
    /// Durable Object to persist so budgets survive its eviction from memory.
    pub fn export_budgets(&self) -> String {
        let mut out = String::new();
        for (key, st) in &self.clients {
            if st.tokens > 0 || st.spend_usd > 0.0 {
                out.push_str(&format!("{}|{}|{}|{key}\n", st.day, st.tokens, usd_to_micros(st.spend_usd)));
            }
        }
        out
    }

    /// Restores [`Limiter::export_budgets`] output (unreadable lines are skipped; a past day resets on use).
    pub fn import_budgets(&mut self, text: &str) {
        for line in text.lines() {
            let mut p = line.splitn(4, '|');
            let (Some(day), Some(tokens), Some(micros), Some(key)) = (p.next(), p.next(), p.next(), p.next()) else {
                continue;
            };
            let (Ok(day), Ok(tokens), Ok(micros)) = (day.parse(), tokens.parse(), micros.parse::<u64>()) else {
                continue;
            };
            let st = self.clients.entry(key.to_string()).or_default();
            st.day = day;
            st.tokens = tokens;
            st.spend_usd = micros as f64 / 1e6;
        }
    }

    /// Number of clients tracked (for tests).
    pub fn len(&self) -> usize {
        self.clients.len()
    }

    /// Whether no client is tracked.
    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }

    fn prune(&mut self, now_ms: u64) {
        self.clients.retain(|_, st| {
            roll(st, now_ms);
            !st.requests.is_empty() || !st.leases.is_empty() || st.tokens > 0 || st.spend_usd > 0.0
        });
    }
}

fn roll(st: &mut ClientState, now_ms: u64) {
    while st.requests.front().is_some_and(|&t| t + MINUTE_MS <= now_ms) {
        st.requests.pop_front();
    }
    st.leases.retain(|&(_, exp)| exp > now_ms);
    let day = now_ms / DAY_MS;
    if day != st.day {
        st.day = day;
        st.tokens = 0;
        st.spend_usd = 0.0;
    }
}

fn until_next_day(now_ms: u64) -> u64 {
    ((now_ms / DAY_MS + 1) * DAY_MS - now_ms).div_ceil(1000)
}

fn limited(kind: &str, message: String, retry_after_s: u64) -> Decision {
    Decision::Limited { kind: kind.into(), message, retry_after_s: retry_after_s.max(1) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(rpm: u32, concurrent: u32, daily_tokens: u64) -> Rule {
        Rule { rpm, concurrent, daily_tokens, daily_spend_usd: 0.0 }
    }

    fn lease(d: Decision) -> u64 {
        match d {
            Decision::Allowed { lease, .. } => lease,
            other => panic!("expected allowed, got {other:?}"),
        }
    }

    #[test]
    fn requests_per_minute_slide() {
        let mut l = Limiter::new();
        let r = rule(2, 0, 0);
        lease(l.acquire("a", &r, 0));
        lease(l.acquire("a", &r, 10_000));
        match l.acquire("a", &r, 20_000) {
            Decision::Limited { kind, retry_after_s, .. } => {
                assert_eq!((kind.as_str(), retry_after_s), ("rate_limited", 40))
            }
            d => panic!("{d:?}"),
        }
        lease(l.acquire("b", &r, 20_000));
        lease(l.acquire("a", &r, 60_000));
    }

    #[test]
    fn concurrent_streams_free_on_release_or_expiry() {
        let mut l = Limiter::new();
        let r = rule(0, 1, 0);
        let first = lease(l.acquire("a", &r, 0));
        assert!(matches!(l.acquire("a", &r, 1), Decision::Limited { .. }));
        l.release("a", first, 0, 0.0, 2);
        let second = lease(l.acquire("a", &r, 3));
        assert_ne!(first, second);
        lease(l.acquire("a", &r, 3 + LEASE_TTL_MS));
    }

    #[test]
    fn daily_budget_resets_at_utc_midnight() {
        let mut l = Limiter::new();
        let r = rule(0, 0, 100);
        let x = lease(l.acquire("a", &r, 1000));
        l.release("a", x, 150, 0.0, 2000);
        match l.acquire("a", &r, 3000) {
            Decision::Limited { kind, retry_after_s, .. } => {
                assert_eq!(kind, "budget_exceeded");
                assert_eq!(retry_after_s, 86_397);
            }
            d => panic!("{d:?}"),
        }
        lease(l.acquire("a", &r, DAY_MS + 1));
    }

    #[test]
    fn budgets_survive_export_and_import() {
        let mut l = Limiter::new();
        let r = rule(0, 0, 100);
        let now = 5 * DAY_MS + 10;
        let x = lease(l.acquire("a|b", &r, now));
        l.release("a|b", x, 150, 0.25, now);
        let saved = l.export_budgets();
        let mut fresh = Limiter::new();
        fresh.import_budgets(&saved);
        fresh.import_budgets("garbage\n1|x|2|k");
        assert!(matches!(fresh.acquire("a|b", &r, now + 1), Decision::Limited { .. }));
        assert!(matches!(fresh.acquire("a|b", &r, 6 * DAY_MS), Decision::Allowed { .. }));
    }

    #[test]
    fn wire_format_round_trips() {
        let ops = [
            Op::Release { key: "site:pk|ip:1.2.3.4".into(), lease: 3, tokens: 4, spend_usd: 0.5, now_ms: 9 },
            Op::Acquire {
                key: "k|x".into(),
                rule: Rule { rpm: 1, concurrent: 2, daily_tokens: 3, daily_spend_usd: 0.25 },
                now_ms: 7,
            },
        ];
        for op in ops {
            assert_eq!(Op::decode(&op.encode()), Some(op));
        }
        for d in [
            Decision::Allowed { lease: 5, left: Left::default() },
            Decision::Allowed { lease: 6, left: Left { tokens: Some(12), usd: Some(0.25) } },
            limited("rate_limited", "a | b".into(), 3),
        ] {
            assert_eq!(Decision::decode(&d.encode()), Some(d));
        }
        assert_eq!(Op::decode("acquire|1|2"), None);
        assert_eq!(Op::decode("steal|1|2|3|4|k"), None);
        assert_eq!(Decision::decode("{}"), None);
    }

    #[test]
    fn provider_limits_count_requests_and_tokens_across_clients() {
        let mut l = Limiter::new();
        assert!(l.admit_provider("provider:m", 2, 0, 10, 1_000).is_ok());
        assert!(l.admit_provider("provider:m", 2, 0, 10, 2_000).is_ok());
        assert_eq!(l.admit_provider("provider:m", 2, 0, 10, 3_000), Err(58_000), "until the first leaves the minute");
        assert!(l.admit_provider("provider:other", 2, 0, 10, 3_000).is_ok(), "per model");
        assert!(l.admit_provider("provider:m", 2, 0, 10, 61_000).is_ok());

        let mut l = Limiter::new();
        assert!(l.admit_provider("p", 0, 100, 60, 0).is_ok());
        assert_eq!(l.admit_provider("p", 0, 100, 60, 10_000), Err(50_000));
        assert!(l.admit_provider("p", 0, 100, 40, 10_000).is_ok(), "what fits is admitted");
        assert!(Limiter::new().admit_provider("p", 0, 100, 500, 0).is_ok(), "an oversized request alone");
        let op = Op::Provider { key: "provider:gpt|x".into(), rpm: 3, tpm: 9, tokens: 4, now_ms: 7 };
        assert_eq!(Op::decode(&op.encode()), Some(op.clone()));
        match l.apply(Op::Provider { key: "p".into(), rpm: 0, tpm: 100, tokens: 50, now_ms: 10_001 }) {
            Decision::Limited { kind, retry_after_s, .. } => {
                assert_eq!((kind.as_str(), retry_after_s), ("rate_limited", 50))
            }
            d => panic!("{d:?}"),
        }
    }
}
