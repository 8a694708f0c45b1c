//! UTC calendar arithmetic for the admin API: RFC 3339 in, `2026-12-07T01:00:00Z` / `2026-12-07` out (Howard
//! Hinnant's `days_from_civil` / `civil_from_days`, proleptic Gregorian, no leap seconds).

/// One hour, ms.
pub const HOUR_MS: u64 = 3_600_000;
/// One day, ms.
pub const DAY_MS: u64 = 86_400_000;

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

/// `2026-12-07`.
pub fn day_string(ms: u64) -> String {
    let (y, m, d) = civil_from_days((ms / DAY_MS) as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `2026-12-07T01:00:00Z` (the start of `ms`'s hour).
pub fn hour_string(ms: u64) -> String {
    format!("{}T{:02}:00:00Z", day_string(ms), (ms % DAY_MS) / HOUR_MS)
}

/// A time as Unix ms (digits) or RFC 3339 (`2026-12-07T01:00:00Z`, `…T01:00:00.5+02:00`, or a date
/// `2026-12-07`, meaning its midnight UTC). `None` when it is neither.
pub fn parse_time(s: &str) -> Option<u64> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok();
    }
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<u32> {
        let part = s.get(from..from + len)?;
        part.bytes().all(|c| c.is_ascii_digit()).then(|| part.parse().ok())?
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, mo, d) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let days = days_from_civil(i64::from(y), mo, d);
    if days < 0 {
        return None;
    }
    let mut ms = days as u64 * DAY_MS;
    if b.len() == 10 {
        return Some(ms);
    }
    if b.len() < 20 || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (h, mi, sec) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    ms += u64::from(h) * HOUR_MS + u64::from(mi) * 60_000 + u64::from(sec) * 1000;
    let mut i = 19;
    if b[i] == b'.' {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
        let frac = &s[start..i.min(start + 3)];
        ms += u64::from(frac.parse::<u32>().ok()?) * 10u64.pow(3 - frac.len() as u32);
    }
    match &s[i..] {
        "Z" | "z" => Some(ms),
        off if off.len() == 6 && (off.starts_with('+') || off.starts_with('-')) && &off[3..4] == ":" => {
            let mins = u64::from(num(i + 1, 2)?) * 60 + u64::from(num(i + 4, 2)?);
            if off.starts_with('+') {
                ms.checked_sub(mins * 60_000)
            } else {
                Some(ms + mins * 60_000)
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_utc_times() {
        // 2026-12-07T01:30:00Z
        let t = 1_796_607_000_000;
        assert_eq!(hour_string(t), "2026-12-07T01:00:00Z");
        assert_eq!(day_string(t), "2026-12-07");
        assert_eq!(parse_time("2026-12-07T01:30:00Z"), Some(t));
        assert_eq!(parse_time("2026-12-07T03:30:00+02:00"), Some(t));
        assert_eq!(parse_time("2026-12-06T23:30:00-02:00"), Some(t));
        assert_eq!(parse_time("2026-12-07T01:30:00.250Z"), Some(t + 250));
        assert_eq!(parse_time("2026-12-07"), Some(t - 5_400_000));
        assert_eq!(parse_time("1796607000000"), Some(t));
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(day_string(0), "1970-01-01");
        assert_eq!(day_string(951_782_400_000), "2000-02-29");
        for bad in ["", "yesterday", "2026-13-01", "2026-12-07T25:00:00Z", "2026-12-07T01:00:00", "-5", "1.5"] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }
}
