//! Retry hints and rate-limit headers, and the date/duration formats they use. No clock: the caller passes `now`.
//!
//! References: OpenAI rate limits <https://platform.openai.com/docs/guides/rate-limits#rate-limits-in-headers>;
//! Anthropic rate limits <https://docs.anthropic.com/en/api/rate-limits#response-headers>; `Retry-After`
//! (RFC 9110 §10.2.3) with IMF-fixdate (RFC 9110 §5.6.7); RFC 3339 timestamps.

use crate::error::RateLimitInfo;
use crate::http::header_value;

/// How long to wait before retrying, in ms: `retry-after-ms` (OpenAI), else `retry-after` as (possibly fractional)
/// seconds, else `retry-after` as an HTTP date relative to `now_unix_ms` (ignored when `now_unix_ms` is `None`).
pub(crate) fn retry_after_ms(headers: &[(String, String)], now_unix_ms: Option<u64>) -> Option<u64> {
    if let Some(ms) = header_value(headers, "retry-after-ms").and_then(parse_number_ms(1.0)) {
        return Some(ms);
    }
    let v = header_value(headers, "retry-after")?.trim();
    if let Some(ms) = parse_number_ms(1000.0)(v) {
        return Some(ms);
    }
    let at = parse_http_date(v)?;
    Some(at.saturating_sub(now_unix_ms?))
}

/// Parses a non-negative decimal number and scales it to ms.
fn parse_number_ms(scale: f64) -> impl Fn(&str) -> Option<u64> {
    move |v: &str| {
        let v = v.trim();
        if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return None;
        }
        let n: f64 = v.parse().ok()?;
        Some((n * scale).round() as u64)
    }
}

/// Rate-limit state from OpenAI `x-ratelimit-*` or Anthropic `anthropic-ratelimit-*` headers.
pub(crate) fn rate_limit(headers: &[(String, String)], now_unix_ms: Option<u64>) -> RateLimitInfo {
    let num = |name: &str| header_value(headers, name).and_then(|v| v.trim().parse::<u64>().ok());
    let reset = |name: &str| {
        let v = header_value(headers, name)?.trim();
        parse_duration_ms(v).or_else(|| Some(parse_rfc3339(v)?.saturating_sub(now_unix_ms?)))
    };
    let mut info = RateLimitInfo {
        limit_requests: num("x-ratelimit-limit-requests"),
        remaining_requests: num("x-ratelimit-remaining-requests"),
        limit_tokens: num("x-ratelimit-limit-tokens"),
        remaining_tokens: num("x-ratelimit-remaining-tokens"),
        reset_requests_ms: reset("x-ratelimit-reset-requests"),
        reset_tokens_ms: reset("x-ratelimit-reset-tokens"),
    };
    let a = RateLimitInfo {
        limit_requests: num("anthropic-ratelimit-requests-limit"),
        remaining_requests: num("anthropic-ratelimit-requests-remaining"),
        limit_tokens: num("anthropic-ratelimit-tokens-limit"),
        remaining_tokens: num("anthropic-ratelimit-tokens-remaining"),
        reset_requests_ms: reset("anthropic-ratelimit-requests-reset"),
        reset_tokens_ms: reset("anthropic-ratelimit-tokens-reset"),
    };
    info.limit_requests = info.limit_requests.or(a.limit_requests);
    info.remaining_requests = info.remaining_requests.or(a.remaining_requests);
    info.limit_tokens = info.limit_tokens.or(a.limit_tokens);
    info.remaining_tokens = info.remaining_tokens.or(a.remaining_tokens);
    info.reset_requests_ms = info.reset_requests_ms.or(a.reset_requests_ms);
    info.reset_tokens_ms = info.reset_tokens_ms.or(a.reset_tokens_ms);
    info
}

/// A Go-style duration as OpenAI sends it (`6m0s`, `1s`, `20ms`, `1h2m3.5s`, `0.5s`) in ms; a bare number is
/// seconds.
pub fn parse_duration_ms(v: &str) -> Option<u64> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    if let Some(ms) = parse_number_ms(1000.0)(v) {
        return Some(ms);
    }
    let mut total = 0f64;
    let mut rest = v;
    while !rest.is_empty() {
        let num_len = rest.bytes().take_while(|b| b.is_ascii_digit() || *b == b'.').count();
        if num_len == 0 {
            return None;
        }
        let n: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest.bytes().take_while(|b| b.is_ascii_alphabetic() || *b == 0xc2 || *b == 0xb5).count();
        let scale = match &rest[..unit_len] {
            "h" => 3_600_000.0,
            "m" => 60_000.0,
            "s" => 1000.0,
            "ms" => 1.0,
            "us" | "µs" => 0.001,
            "ns" => 0.000_001,
            _ => return None,
        };
        total += n * scale;
        rest = &rest[unit_len..];
    }
    Some(total.round() as u64)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn unix_ms(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32, ms: u64) -> Option<u64> {
    let dim = match mo {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => return None,
    };
    if d == 0 || d > dim || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let secs = days_from_civil(y, mo, d) * 86_400 + i64::from(h * 3600 + mi * 60 + s);
    u64::try_from(secs).ok().map(|s| s * 1000 + ms)
}

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110 §5.6.7) as Unix ms.
pub fn parse_http_date(v: &str) -> Option<u64> {
    let parts: Vec<&str> = v.split_ascii_whitespace().collect();
    let [wd, day, mon, year, time, "GMT"] = parts.as_slice() else { return None };
    if !wd.ends_with(',') || wd.len() != 4 || day.len() != 2 || year.len() != 4 {
        return None;
    }
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let mo = MONTHS.iter().position(|m| m == mon)? as u32 + 1;
    let t: Vec<&str> = time.split(':').collect();
    let [h, mi, s] = t.as_slice() else { return None };
    if h.len() != 2 || mi.len() != 2 || s.len() != 2 {
        return None;
    }
    unix_ms(i64::from(digits(year)?), mo, digits(day)?, digits(h)?, digits(mi)?, digits(s)?, 0)
}

/// An RFC 3339 timestamp (`2026-11-26T23:59:30Z`, `…T23:59:30.250+01:00`) as Unix ms.
pub fn parse_rfc3339(v: &str) -> Option<u64> {
    let b = v.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' {
        return None;
    }
    if b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (digits(&v[0..4])?, digits(&v[5..7])?, digits(&v[8..10])?);
    let (h, mi, s) = (digits(&v[11..13])?, digits(&v[14..16])?, digits(&v[17..19])?);
    let mut rest = &v[19..];
    let mut ms = 0u64;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        let f = &frac[..n];
        ms = f.bytes().chain(std::iter::repeat(b'0')).take(3).fold(0, |a, c| a * 10 + u64::from(c - b'0'));
        rest = &frac[n..];
    }
    let offset_min: i64 = match rest {
        "Z" | "z" => 0,
        o if o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) && &o[3..4] == ":" => {
            let m = i64::from(digits(&o[1..3])? * 60 + digits(&o[4..6])?);
            if o.starts_with('-') {
                -m
            } else {
                m
            }
        }
        _ => return None,
    };
    let local = unix_ms(i64::from(y), mo, d, h, mi, s, ms)?;
    u64::try_from(local as i64 - offset_min * 60_000).ok()
}
