//! Inline markdown: code spans, emphasis, strikethrough, links, autolinks, entities, hard breaks.
//!
//! Model output is untrusted: nothing here produces markup. Raw HTML stays text, links are kept only with an
//! `http`, `https` or `mailto` scheme (anything else is shown as the literal source text), and images become
//! links (never loaded).

/// One piece of inline content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inline {
    /// Plain text (never interpreted as markup).
    Text(String),
    /// `code`
    Code(String),
    /// `**strong**`
    Strong(Vec<Inline>),
    /// `*emphasis*`
    Em(Vec<Inline>),
    /// `~~deleted~~`
    Del(Vec<Inline>),
    /// A link whose `href` passed [`safe_href`].
    Link {
        /// The URL, scheme checked.
        href: String,
        /// The label.
        children: Vec<Inline>,
    },
    /// A link whose URL is still arriving (only while streaming): shown as link text, not clickable.
    PendingLink(Vec<Inline>),
    /// A hard line break.
    Break,
}

/// `url` if its scheme is `http`, `https` or `mailto` and it has no whitespace, control characters, quotes,
/// angle brackets, backticks or backslashes (none of which a valid URL contains unescaped).
pub fn safe_href(url: &str) -> Option<&str> {
    let u = url.trim();
    let head: String = u.chars().take(8).collect::<String>().to_ascii_lowercase();
    let scheme_ok = head.starts_with("http://") || head.starts_with("https://") || head.starts_with("mailto:");
    let bad = |c: char| c.is_control() || c.is_whitespace() || matches!(c, '"' | '<' | '>' | '`' | '\\');
    (scheme_ok && !u.chars().any(bad)).then_some(u)
}

/// Parses inline content. `partial` means the text is still growing: unclosed emphasis and code are shown as
/// formatted already, a link whose URL is incomplete as [`Inline::PendingLink`], and lone trailing delimiters are
/// hidden, so nothing flips from raw markup to formatting as more text arrives.
pub fn parse_inlines(s: &str, partial: bool) -> Vec<Inline> {
    let mut p = Parser { s, b: s.as_bytes(), partial, out: Vec::new(), buf: String::new() };
    p.run(0, s.len());
    p.flush();
    p.out
}

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    partial: bool,
    out: Vec<Inline>,
    buf: String,
}

fn run_len(b: &[u8], i: usize, c: u8) -> usize {
    b[i..].iter().take_while(|&&x| x == c).count()
}

impl Parser<'_> {
    fn flush(&mut self) {
        if !self.buf.is_empty() {
            self.out.push(Inline::Text(std::mem::take(&mut self.buf)));
        }
    }

    fn push(&mut self, node: Inline) {
        self.flush();
        self.out.push(node);
    }

    fn sub(&self, from: usize, to: usize, partial: bool) -> Vec<Inline> {
        parse_inlines(&self.s[from..to], partial)
    }

    /// Parses `s[from..to]`, appending to `out`.
    fn run(&mut self, from: usize, to: usize) {
        let (s, b) = (self.s, self.b);
        let mut i = from;
        while i < to {
            let c = b[i];
            let next = b.get(i + 1).copied();
            let consumed = match c {
                b'\\' if next.is_some_and(|n| n.is_ascii_punctuation()) => {
                    self.buf.push(next.unwrap_or(b'\\') as char);
                    2
                }
                b'\\' if next == Some(b'\n') => {
                    self.push(Inline::Break);
                    2
                }
                b'\n' => {
                    if self.buf.ends_with("  ") {
                        let t = self.buf.trim_end_matches(' ').len();
                        self.buf.truncate(t);
                        self.push(Inline::Break);
                    } else {
                        self.buf.push('\n');
                    }
                    1
                }
                b'`' => self.code_span(i, to),
                b'*' | b'_' => self.emphasis(i, to, c),
                b'~' if next == Some(b'~') => self.delimited(i, to, "~~", Inline::Del),
                b'!' if next == Some(b'[') => self.link(i + 1, to, true).map_or(1, |n| n + 1),
                b'[' => self.link(i, to, false).unwrap_or(1),
                b'<' => self.autolink(i, to),
                b'h' | b'H' if self.at_word_start(i) => self.bare_url(i, to),
                b'&' => self.entity(i, to),
                _ => 0,
            };
            if consumed == 0 {
                let ch = s[i..].chars().next().unwrap_or('\u{fffd}');
                self.buf.push(ch);
                i += ch.len_utf8();
            } else {
                i += consumed;
            }
        }
    }

    fn at_word_start(&self, i: usize) -> bool {
        i == 0 || !self.b[i - 1].is_ascii_alphanumeric()
    }

    fn literal(&mut self, from: usize, len: usize) -> usize {
        self.buf.push_str(&self.s[from..from + len]);
        len
    }

    fn code_span(&mut self, i: usize, to: usize) -> usize {
        let n = run_len(&self.b[..to], i, b'`');
        let mut j = i + n;
        while j < to {
            if self.b[j] == b'`' {
                let m = run_len(&self.b[..to], j, b'`');
                if m == n {
                    self.push(Inline::Code(trim_code(&self.s[i + n..j])));
                    return j + m - i;
                }
                j += m;
            } else {
                j += 1;
            }
        }
        if self.partial {
            let rest = &self.s[i + n..to];
            if !rest.is_empty() {
                self.push(Inline::Code(trim_code(rest)));
            }
            return to - i;
        }
        self.literal(i, n)
    }

    /// Finds the closing `delim` for an opener ending at `from`, skipping code spans and escapes.
    fn closer(&self, from: usize, to: usize, delim: &str) -> Option<usize> {
        let (b, c) = (self.b, delim.as_bytes()[0]);
        let mut j = from;
        while j < to {
            match b[j] {
                b'\\' => j += 2,
                b'`' => {
                    let n = run_len(&b[..to], j, b'`');
                    let close = self.s[j + n..to].find(&self.s[j..j + n]).map(|k| j + n + k);
                    j = close.map_or(j + n, |k| k + n);
                }
                x if x == c && self.s[j..to].starts_with(delim) => {
                    let run = run_len(&b[..to], j, c);
                    let after = b.get(j + run).copied();
                    let ok_before = j > from && !b[j - 1].is_ascii_whitespace();
                    let ok_after = c != b'_' || !after.is_some_and(|a| a.is_ascii_alphanumeric());
                    if ok_before && ok_after && (run == delim.len() || delim.len() >= 2) {
                        return Some(j + run - delim.len());
                    }
                    j += run;
                }
                _ => j += 1,
            }
        }
        None
    }

    fn emphasis(&mut self, i: usize, to: usize, c: u8) -> usize {
        let n = run_len(&self.b[..to], i, c).min(3);
        let next = self.b.get(i + n).copied();
        let left_flanking = next.is_some_and(|x| !x.is_ascii_whitespace());
        let intraword = c == b'_' && i > 0 && self.b[i - 1].is_ascii_alphanumeric();
        if self.partial && i + n == to {
            return n; // a lone trailing delimiter: wait for what follows
        }
        if !left_flanking || intraword {
            return self.literal(i, run_len(&self.b[..to], i, c));
        }
        match n {
            1 => self.delimited(i, to, if c == b'*' { "*" } else { "_" }, Inline::Em),
            2 => self.delimited(i, to, if c == b'*' { "**" } else { "__" }, Inline::Strong),
            _ => {
                let d = if c == b'*' { "***" } else { "___" };
                self.delimited(i, to, d, |inner| Inline::Strong(vec![Inline::Em(inner)]))
            }
        }
    }

    fn delimited(&mut self, i: usize, to: usize, delim: &str, wrap: fn(Vec<Inline>) -> Inline) -> usize {
        let open = i + delim.len();
        if let Some(j) = self.closer(open, to, delim) {
            let inner = self.sub(open, j, false);
            self.push(wrap(inner));
            return j + delim.len() - i;
        }
        if self.partial {
            if open < to {
                let inner = self.sub(open, to, true);
                self.push(wrap(inner));
            }
            return to - i;
        }
        self.literal(i, delim.len())
    }

    /// `[label](url)` starting at `i` (the `[`). Returns bytes consumed, or `None` to treat `[` as text.
    fn link(&mut self, i: usize, to: usize, image: bool) -> Option<usize> {
        let b = self.b;
        let mut depth = 0usize;
        let mut j = i;
        let close = loop {
            if j >= to {
                return None;
            }
            match b[j] {
                b'\\' => j += 1,
                b'[' => depth += 1,
                b']' => {
                    depth -= 1;
                    if depth == 0 {
                        break j;
                    }
                }
                _ => {}
            }
            j += 1;
        };
        if b.get(close + 1) != Some(&b'(') {
            return None;
        }
        let url_start = close + 2;
        let mut depth = 1usize;
        let mut k = url_start;
        let end = loop {
            if k >= to {
                if self.partial && !image {
                    let label = self.sub(i + 1, close, false);
                    self.push(Inline::PendingLink(label));
                    return Some(to - i);
                }
                return if self.partial { Some(to - i) } else { None };
            }
            match b[k] {
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        break k;
                    }
                }
                b'\n' => return None,
                _ => {}
            }
            k += 1;
        };
        let dest = self.s[url_start..end].trim();
        let url = dest.split_whitespace().next().unwrap_or("");
        let url = url.strip_prefix('<').and_then(|u| u.strip_suffix('>')).unwrap_or(url);
        let label = &self.s[i + 1..close];
        let consumed = end + 1 - i;
        match safe_href(url) {
            Some(href) => {
                let children = if image {
                    vec![Inline::Text(format!("image: {}", if label.is_empty() { href } else { label }))]
                } else {
                    self.sub(i + 1, close, false)
                };
                self.push(Inline::Link { href: href.to_string(), children });
            }
            None => {
                let start = if image { i - 1 } else { i };
                self.buf.push_str(&self.s[start..end + 1]);
            }
        }
        Some(consumed)
    }

    fn autolink(&mut self, i: usize, to: usize) -> usize {
        let rest = &self.s[i + 1..to];
        if let Some(k) = rest.find('>') {
            let url = &rest[..k];
            if let Some(href) = safe_href(url).filter(|h| h.len() == url.len()) {
                self.push(Inline::Link { href: href.to_string(), children: vec![Inline::Text(href.to_string())] });
                return k + 2;
            }
        }
        self.literal(i, 1)
    }

    fn bare_url(&mut self, i: usize, to: usize) -> usize {
        let rest = &self.s[i..to];
        let lower: String = rest.chars().take(8).collect::<String>().to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) {
            return 0;
        }
        let len = rest.find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '`')).unwrap_or(rest.len());
        let mut url = &rest[..len];
        loop {
            let trimmed = url.trim_end_matches(['.', ',', ':', ';', '!', '?', '\'', '"', '*', '_', '~']);
            let trimmed = if trimmed.ends_with(')') && trimmed.matches('(').count() < trimmed.matches(')').count() {
                &trimmed[..trimmed.len() - 1]
            } else {
                trimmed
            };
            if trimmed.len() == url.len() {
                break;
            }
            url = trimmed;
        }
        if url.len() <= 8 || (self.partial && i + len == to) {
            // Too short to be a URL, or still arriving: plain text for now.
            return self.literal(i, url.len().max(1));
        }
        match safe_href(url) {
            Some(href) => {
                self.push(Inline::Link { href: href.to_string(), children: vec![Inline::Text(href.to_string())] });
                url.len()
            }
            None => self.literal(i, url.len()),
        }
    }

    fn entity(&mut self, i: usize, to: usize) -> usize {
        let rest = &self.s[i + 1..to];
        let Some(semi) = rest.find(';').filter(|&k| (2..=8).contains(&k)) else {
            return self.literal(i, 1);
        };
        let name = &rest[..semi];
        let ch = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            _ => name.strip_prefix('#').and_then(|num| {
                let code = match num.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok(),
                    None => num.parse().ok(),
                };
                code.and_then(char::from_u32).filter(|&c| c != '\0')
            }),
        };
        match ch {
            Some(c) => {
                self.buf.push(c);
                semi + 2
            }
            None => self.literal(i, 1),
        }
    }
}

fn trim_code(s: &str) -> String {
    let s = s.replace('\n', " ");
    if s.len() >= 2 && s.starts_with(' ') && s.ends_with(' ') && !s.trim().is_empty() {
        s[1..s.len() - 1].to_string()
    } else {
        s
    }
}
