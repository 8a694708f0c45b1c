//! How numbers are shown: dollars, token counts, durations.

/// `$0.0012`-style with `places` decimals.
pub fn dollars(c: f64, places: u32) -> String {
    let scale = 10u64.pow(places);
    let n = (c.max(0.0) * scale as f64 + 0.5) as u64;
    format!("${}.{:0width$}", n / scale, n % scale, width = places as usize)
}

/// A cost: `$0.0123`, and small ones with the digits that show them (`$0.000042`); `$0` for nothing.
pub fn cost(c: f64) -> String {
    if c <= 0.0 {
        "$0".into()
    } else if c < 0.0001 {
        dollars(c, 6)
    } else {
        dollars(c, 4)
    }
}

/// `12,345`
pub fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `840 ms`, `1.2 s`
pub fn duration(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{} ms", ms.round() as u64)
    } else {
        format!("{}.{} s", (ms / 1000.0) as u64, ((ms % 1000.0) / 100.0) as u64)
    }
}

/// `123.4`
pub fn one_decimal(x: f64) -> String {
    let tenths = (x * 10.0).round() as u64;
    format!("{}.{}", tenths / 10, tenths % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(dollars(0.000123, 4), "$0.0001");
        assert_eq!(dollars(1.5, 2), "$1.50");
        assert_eq!(cost(0.0), "$0");
        assert_eq!(cost(0.000042), "$0.000042");
        assert_eq!(cost(0.01234), "$0.0123");
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(duration(12.4), "12 ms");
        assert_eq!(duration(1234.0), "1.2 s");
        assert_eq!(one_decimal(41.26), "41.3");
        use crate::js::parse_number;
        assert_eq!(parse_number(" 0.7 "), Some(0.7));
        assert_eq!(parse_number("2"), Some(2.0));
        assert_eq!(parse_number("-.5"), Some(-0.5));
        assert_eq!(parse_number("1e3"), None);
        assert_eq!(parse_number("."), None);
        assert_eq!(parse_number(""), None);
    }
}
