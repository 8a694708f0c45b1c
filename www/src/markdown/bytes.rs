//! Byte loops for the ASCII searches of the parser. The `str` pattern API (`contains`, `trim_matches`, `find` with a
//! char or an array of chars) brings a searcher into the wasm per pattern type; these loops are a few bytes each,
//! and the texts searched (a line, a link, a cell) are short. Every byte searched for is ASCII, so each cut falls on
//! a char boundary.

use std::slice::SliceIndex;

/// `&s[range]` without the standard library's panic path: a range off a char boundary (which the parser never
/// makes: every cut is at an ASCII byte or a whole char) gives `""`. Slicing with `[]` links the panic message's
/// formatting (a char's `Debug`, the Unicode printable tables: ~1.5 KB brotli of the embed) for a panic that cannot
/// happen.
pub(crate) fn sub<R: SliceIndex<str, Output = str>>(s: &str, range: R) -> &str {
    s.get(range).unwrap_or_default()
}

/// Whether `s` holds the byte `b`.
pub(crate) fn has(s: &str, b: u8) -> bool {
    s.bytes().any(|c| c == b)
}

/// How many times `s` holds the byte `b`.
pub(crate) fn count(s: &str, b: u8) -> usize {
    s.bytes().filter(|&c| c == b).count()
}

/// `s` without the bytes of `set` at its start.
pub(crate) fn trim_start<'a>(s: &'a str, set: &[u8]) -> &'a str {
    let mut n = 0;
    while s.as_bytes().get(n).is_some_and(|b| set.contains(b)) {
        n += 1;
    }
    sub(s, n..)
}

/// `s` without the bytes of `set` at its end.
pub(crate) fn trim_end<'a>(s: &'a str, set: &[u8]) -> &'a str {
    let mut n = s.len();
    while n > 0 && set.contains(&s.as_bytes()[n - 1]) {
        n -= 1;
    }
    sub(s, ..n)
}

/// How many bytes `c` start `s` (a run of `#`, backticks, emphasis delimiters …).
pub(crate) fn run(s: &[u8], c: u8) -> usize {
    s.iter().take_while(|&&b| b == c).count()
}
