//! A small validating JSON reader for the streaming hot path (RFC 8259).
//!
//! OpenAI-style streams send one small JSON object per text delta; decoding them through generic `Deserialize`
//! structs spent most of its time moving large intermediate structs around. This reader walks the bytes once,
//! borrows strings that have no escapes, and skips what the caller does not ask for while still checking that it
//! is valid JSON (so malformed input is reported exactly as a full parser would).

use std::borrow::Cow;

/// Room for an unescaped object key (the keys this crate reads are all shorter).
pub(crate) type KeyBuf = [u8; 32];

/// Nesting deeper than this is rejected (serde_json's default recursion limit).
const MAX_DEPTH: u32 = 128;

/// Why the input is not valid JSON (or not the expected shape), and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JsonError {
    /// Byte offset.
    pub pos: usize,
    /// What was expected or found.
    pub what: &'static str,
}

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at byte {}", self.what, self.pos)
    }
}

type Result<T> = std::result::Result<T, JsonError>;

/// A cursor over one JSON text.
pub(crate) struct Reader<'a> {
    s: &'a str,
    pos: usize,
    depth: u32,
}

impl<'a> Reader<'a> {
    pub fn new(s: &'a str) -> Self {
        Self { s, pos: 0, depth: 0 }
    }

    /// The current byte offset.
    #[inline(always)]
    pub fn position(&self) -> usize {
        self.pos
    }

    #[inline(always)]
    fn bytes(&self) -> &'a [u8] {
        self.s.as_bytes()
    }

    #[inline(always)]
    fn err<T>(&self, what: &'static str) -> Result<T> {
        let what = if self.pos >= self.s.len() { "unexpected end of input" } else { what };
        Err(JsonError { pos: self.pos, what })
    }

    /// The next non-whitespace byte, not consumed.
    #[inline(always)]
    pub fn peek(&mut self) -> Option<u8> {
        let b = self.bytes();
        while let Some(&c) = b.get(self.pos) {
            if !matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                return Some(c);
            }
            self.pos += 1;
        }
        None
    }

    #[inline(always)]
    fn eat(&mut self, c: u8, what: &'static str) -> Result<()> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            self.err(what)
        }
    }

    /// Requires that only whitespace is left.
    pub fn end(&mut self) -> Result<()> {
        match self.peek() {
            None => Ok(()),
            Some(_) => self.err("trailing characters"),
        }
    }

    /// Consumes `null` if it is next.
    #[inline(always)]
    pub fn null(&mut self) -> Result<bool> {
        if self.peek() == Some(b'n') {
            self.literal("null")?;
            return Ok(true);
        }
        Ok(false)
    }

    fn literal(&mut self, word: &'static str) -> Result<()> {
        if self.bytes()[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(())
        } else {
            self.err("invalid literal")
        }
    }

    /// Enters an object (`{`); then call [`next_key`](Self::next_key) until it returns `None`.
    #[inline(always)]
    pub fn object(&mut self) -> Result<()> {
        self.eat(b'{', "expected an object")?;
        self.enter()
    }

    /// Enters an array (`[`); then call [`next_element`](Self::next_element) until it returns `false`.
    #[inline(always)]
    pub fn array(&mut self) -> Result<()> {
        self.eat(b'[', "expected an array")?;
        self.enter()
    }

    #[inline(always)]
    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.err("nesting too deep");
        }
        Ok(())
    }

    /// The next key of the current object (its value must be read or skipped next), `None` at its end.
    /// `first` tracks whether a separator is due; start it at `true`. A key with escapes is unescaped into `buf`;
    /// one longer than `buf` is no key this crate reads and comes back as `""`.
    #[inline(always)]
    pub fn next_key<'k>(&mut self, first: &mut bool, buf: &'k mut KeyBuf) -> Result<Option<&'k str>>
    where
        'a: 'k,
    {
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(None);
        }
        if !std::mem::take(first) {
            self.eat(b',', "expected ',' or '}'")?;
        }
        let key = self.key(buf)?;
        self.eat(b':', "expected ':'")?;
        Ok(Some(key))
    }

    /// Whether the current array has another element (read or skip it next).
    #[inline(always)]
    pub fn next_element(&mut self, first: &mut bool) -> Result<bool> {
        if self.peek() == Some(b']') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(false);
        }
        if !std::mem::take(first) {
            self.eat(b',', "expected ',' or ']'")?;
        }
        Ok(true)
    }

    /// An object key: short and without escapes in practice, so a plain byte loop finds its end; anything else
    /// takes the general path.
    #[inline(always)]
    fn key<'k>(&mut self, buf: &'k mut KeyBuf) -> Result<&'k str>
    where
        'a: 'k,
    {
        if self.peek() == Some(b'"') {
            let b = self.bytes();
            let start = self.pos + 1;
            let mut i = start;
            while let Some(&c) = b.get(i) {
                match c {
                    b'"' => {
                        self.pos = i + 1;
                        return Ok(&self.s[start..i]);
                    }
                    b'\\' | 0..=0x1f => break,
                    _ => i += 1,
                }
            }
        }
        let owned = self.string()?;
        let Some(dst) = buf.get_mut(..owned.len()) else { return Ok("") };
        dst.copy_from_slice(owned.as_bytes());
        Ok(std::str::from_utf8(dst).unwrap_or_default())
    }

    /// A string, borrowed when it has no escapes.
    pub fn string(&mut self) -> Result<Cow<'a, str>> {
        self.eat(b'"', "expected a string")?;
        let b = self.bytes();
        let start = self.pos;
        let end = self.scan(start)?;
        if b[end] == b'"' {
            self.pos = end + 1;
            return Ok(Cow::Borrowed(&self.s[start..end]));
        }
        let mut owned = String::with_capacity(end - start + 16);
        owned.push_str(&self.s[start..end]);
        self.pos = end;
        loop {
            // At a backslash.
            self.pos += 1;
            let Some(&e) = b.get(self.pos) else { return self.err("unterminated string") };
            self.pos += 1;
            match e {
                b'"' => owned.push('"'),
                b'\\' => owned.push('\\'),
                b'/' => owned.push('/'),
                b'b' => owned.push('\u{8}'),
                b'f' => owned.push('\u{c}'),
                b'n' => owned.push('\n'),
                b'r' => owned.push('\r'),
                b't' => owned.push('\t'),
                b'u' => owned.push(self.unicode_escape()?),
                _ => return self.err("invalid escape"),
            }
            let start = self.pos;
            let end = self.scan(start)?;
            owned.push_str(&self.s[start..end]);
            self.pos = end;
            if b[end] == b'"' {
                self.pos += 1;
                return Ok(Cow::Owned(owned));
            }
        }
    }

    /// The offset of the next `"` or `\\` at or after `from`; a raw control character or the end of input is an
    /// error. Eight bytes at a time while none of them can stop the scan.
    #[inline(always)]
    fn scan(&mut self, from: usize) -> Result<usize> {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGHS: u64 = 0x8080_8080_8080_8080;
        let b = self.bytes();
        let mut i = from;
        while let Some(w) = b.get(i..i + 8) {
            let w = u64::from_le_bytes(w.try_into().expect("8 bytes"));
            let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
            // A byte below 0x20, or equal to '"' or '\\'.
            if (w.wrapping_sub(ONES * 0x20) & !w & HIGHS) | zero(w ^ (ONES * 0x22)) | zero(w ^ (ONES * 0x5c)) != 0 {
                break;
            }
            i += 8;
        }
        while let Some(&c) = b.get(i) {
            match c {
                b'"' | b'\\' => return Ok(i),
                0..=0x1f => {
                    self.pos = i;
                    return self.err("control character in string");
                }
                _ => i += 1,
            }
        }
        self.pos = i;
        self.err("unterminated string")
    }

    fn hex4(&mut self) -> Result<u32> {
        let Some(h) = self.bytes().get(self.pos..self.pos + 4) else { return self.err("short unicode escape") };
        let mut v = 0;
        for &c in h {
            let d = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => return self.err("invalid unicode escape"),
            };
            v = v * 16 + u32::from(d);
        }
        self.pos += 4;
        Ok(v)
    }

    /// After `\u`: one escape, or a surrogate pair of two.
    fn unicode_escape(&mut self) -> Result<char> {
        let hi = self.hex4()?;
        let code = match hi {
            0xD800..=0xDBFF => {
                if !self.bytes()[self.pos..].starts_with(b"\\u") {
                    return self.err("lone leading surrogate");
                }
                self.pos += 2;
                let lo = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&lo) {
                    return self.err("invalid trailing surrogate");
                }
                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
            }
            0xDC00..=0xDFFF => return self.err("lone trailing surrogate"),
            _ => hi,
        };
        char::from_u32(code).map_or_else(|| self.err("invalid unicode escape"), Ok)
    }

    /// A string, or `None` for `null` or any other JSON type (skipped): how fields read as optional text are
    /// treated.
    #[inline(always)]
    pub fn text(&mut self) -> Result<Option<Cow<'a, str>>> {
        if self.peek() == Some(b'"') {
            return self.string().map(Some);
        }
        self.skip()?;
        Ok(None)
    }

    /// A non-negative integer, or `None` for `null`.
    pub fn u64_or_null(&mut self) -> Result<Option<u64>> {
        if self.null()? {
            return Ok(None);
        }
        let start = self.pos;
        self.skip_number()?;
        match self.s[start..self.pos].parse::<u64>() {
            Ok(v) => Ok(Some(v)),
            Err(_) => Err(JsonError { pos: start, what: "expected a non-negative integer" }),
        }
    }

    /// Skips one value of any type, checking that it is valid JSON.
    pub fn skip(&mut self) -> Result<()> {
        match self.peek() {
            Some(b'"') => self.skip_string(),
            Some(b'{') => {
                self.object()?;
                let (mut first, mut buf) = (true, KeyBuf::default());
                while self.next_key(&mut first, &mut buf)?.is_some() {
                    self.skip()?;
                }
                Ok(())
            }
            Some(b'[') => {
                self.array()?;
                let mut first = true;
                while self.next_element(&mut first)? {
                    self.skip()?;
                }
                Ok(())
            }
            Some(b't') => self.literal("true"),
            Some(b'f') => self.literal("false"),
            Some(b'n') => self.literal("null"),
            Some(b'-' | b'0'..=b'9') => self.skip_number(),
            Some(_) => self.err("expected a value"),
            None => self.err("unexpected end of input"),
        }
    }

    fn skip_string(&mut self) -> Result<()> {
        self.eat(b'"', "expected a string")?;
        let b = self.bytes();
        loop {
            let end = self.scan(self.pos)?;
            self.pos = end + 1;
            if b[end] == b'"' {
                return Ok(());
            }
            match b.get(self.pos) {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.pos += 1,
                Some(b'u') => {
                    self.pos += 1;
                    self.unicode_escape()?;
                }
                _ => return self.err("invalid escape"),
            }
        }
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn skip_number(&mut self) -> Result<()> {
        let b = self.bytes();
        let digits = |p: &mut usize| {
            let s = *p;
            while b.get(*p).is_some_and(u8::is_ascii_digit) {
                *p += 1;
            }
            *p > s
        };
        let mut p = self.pos;
        if b.get(p) == Some(&b'-') {
            p += 1;
        }
        match b.get(p) {
            Some(b'0') => p += 1,
            Some(b'1'..=b'9') => {
                digits(&mut p);
            }
            _ => return self.err("invalid number"),
        }
        if b.get(p) == Some(&b'.') {
            p += 1;
            if !digits(&mut p) {
                return self.err("invalid number");
            }
        }
        if matches!(b.get(p), Some(b'e' | b'E')) {
            p += 1;
            if matches!(b.get(p), Some(b'+' | b'-')) {
                p += 1;
            }
            if !digits(&mut p) {
                return self.err("invalid number");
            }
        }
        self.pos = p;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Skips `s` as one value and requires the end, like a full parse would.
    fn valid(s: &str) -> bool {
        let mut r = Reader::new(s);
        r.skip().and_then(|()| r.end()).is_ok()
    }

    #[test]
    fn accepts_exactly_what_serde_json_accepts() {
        let cases = [
            "{}",
            "[]",
            "[1,2,3]",
            "{\"a\":[true,false,null]}",
            "-0",
            "0.5e-3",
            "1E+2",
            "\"\\u00e9\\ud83d\\ude00\"",
            " { \"a\" : 1 } ",
            "{\"a\":1,}",
            "[1,]",
            "[,1]",
            "{,}",
            "01",
            "1.",
            ".5",
            "1e",
            "-",
            "tru",
            "nul",
            "\"\\x\"",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "\"a\u{1}b\"",
            "{\"a\" 1}",
            "{\"a\":1 \"b\":2}",
            "[1 2]",
            "\"abc",
            "",
            "{} x",
            "{\"a\":{\"b\":[{\"c\":\"d\\\"e\"}]}}",
            "1e5",
            "-12.75E-2",
            "\"\\/\\b\\f\\n\\r\\t\"",
        ];
        for c in cases {
            let expected = serde_json::from_str::<serde_json::Value>(c).is_ok();
            assert_eq!(valid(c), expected, "{c:?}");
        }
    }

    #[test]
    fn strings_unescape_like_serde_json() {
        for c in ["\"plain\"", "\"a\\nb\"", "\"\\u00e9 \\ud83d\\ude00 \\\"q\\\" \\\\\"", "\"caf\u{e9}\"", "\"\""] {
            let mut r = Reader::new(c);
            assert_eq!(r.string().unwrap(), serde_json::from_str::<String>(c).unwrap(), "{c}");
        }
        assert!(matches!(Reader::new("\"x\"").string().unwrap(), Cow::Borrowed("x")));
    }

    #[test]
    fn depth_is_limited() {
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(!valid(&deep));
        let ok = "[".repeat(100) + &"]".repeat(100);
        assert!(valid(&ok));
    }

    #[test]
    fn integers() {
        assert_eq!(Reader::new("42").u64_or_null().unwrap(), Some(42));
        assert_eq!(Reader::new("null").u64_or_null().unwrap(), None);
        assert!(Reader::new("-1").u64_or_null().is_err());
        assert!(Reader::new("1.5").u64_or_null().is_err());
    }
}
