//! Inline markdown after CommonMark's algorithm (spec appendix "Phase 2: inline structure"): code spans,
//! emphasis by the delimiter-run rules, links (inline, reference, autolinks, GFM bare `http(s)://` URLs), images,
//! entities, escapes, hard breaks; GFM `~~strikethrough~~`.
//!
//! Model output is untrusted: nothing here produces markup. Raw HTML stays text, a link keeps its destination only
//! through [`safe_href`] (`http`, `https`, `mailto` or relative; otherwise the source stays literal text), and
//! images become links (never loaded).

use super::bytes::{count, has, run, sub, trim_end};

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
        /// The URL, scheme checked and escaped.
        href: String,
        /// The label.
        children: Vec<Inline>,
    },
    /// A link whose URL is still arriving (only while streaming): shown as link text, not clickable.
    PendingLink(Vec<Inline>),
    /// A hard line break.
    Break,
}

/// Link reference definitions: normalized label and destination, first definition first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Refs(pub(crate) Vec<(String, String)>);

impl Refs {
    fn get(&self, label: &str) -> Option<&str> {
        let key = normalize_label(label);
        self.0.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str())
    }

    /// Adds `label` unless defined already; whether it was new.
    pub(crate) fn insert(&mut self, label: &str, dest: String) -> bool {
        let key = normalize_label(label);
        let new = !self.0.iter().any(|(k, _)| *k == key);
        if new {
            self.0.push((key, dest));
        }
        new
    }
}

/// Case-folded (ASCII only: Unicode case tables would cost the embed ~8 KB) with whitespace runs as one space.
fn normalize_label(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if matches!(c, ' ' | '\t' | '\n') {
            space = !out.is_empty();
        } else {
            if std::mem::take(&mut space) {
                out.push(' ');
            }
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// `url` made safe to use as an `href`: characters that may not appear raw in a URL (space, controls, quotes,
/// angle brackets, backtick, backslash, `|`, `^`, `{`, `}`) are percent-encoded, then the URL is kept only when it
/// is relative (no scheme, not `//host`) or its scheme is `http`, `https` or `mailto`.
pub fn safe_href(url: &str) -> Option<String> {
    // Spaces and controls trimmed (all ASCII).
    let b = url.as_bytes();
    let start = b.iter().position(|&c| c > b' ').unwrap_or(b.len());
    let end = b.iter().rposition(|&c| c > b' ').map_or(start, |e| e + 1);
    let url = sub(url, start..end);
    let mut out = String::with_capacity(url.len());
    for c in url.chars() {
        if c <= ' ' || matches!(c, '\u{7f}' | '"' | '<' | '>' | '`' | '\\' | '^' | '{' | '}' | '|') {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.push('%');
            out.push(HEX[(c as usize >> 4) & 15] as char);
            out.push(HEX[c as usize & 15] as char);
        } else {
            out.push(c);
        }
    }
    let scheme_len = out.find(':').filter(|&i| {
        let s = out.as_bytes();
        s[0].is_ascii_alphabetic() && s[..i].iter().all(|&b| scheme_byte(b))
    });
    let ok = match scheme_len {
        Some(i) => ["http", "https", "mailto"].iter().any(|s| s.eq_ignore_ascii_case(sub(&out, ..i))),
        None => !out.starts_with("//"),
    };
    ok.then_some(out)
}

/// Parses inline content; link references resolve through `refs`. `partial` means the text is still growing:
/// unclosed emphasis and code are shown as formatted already, a link whose URL is incomplete as
/// [`Inline::PendingLink`], and a lone trailing delimiter is hidden, so little flips as more text arrives.
pub fn parse_inlines(s: &str, refs: &Refs, partial: bool) -> Vec<Inline> {
    let mut p = Parser { s, b: s.as_bytes(), refs, partial, toks: Vec::new() };
    p.run();
    p.emphasis(0);
    if partial {
        wrap_open(&mut p.toks);
    }
    text_of(p.toks)
}

#[derive(Debug)]
enum Tok {
    Text(String),
    Node(Inline),
    /// A run of `*`, `_` or `~`: character, count left, original count, can open, can close.
    Delim {
        ch: u8,
        n: usize,
        orig: usize,
        open: bool,
        close: bool,
    },
    /// `[` or `![`: image, active, a bracket follows it, source offset after it.
    Bracket {
        image: bool,
        active: bool,
        after: bool,
        pos: usize,
    },
}

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    refs: &'a Refs,
    partial: bool,
    toks: Vec<Tok>,
}

fn is_punct(c: char) -> bool {
    c.is_ascii_punctuation()
        || (!c.is_ascii()
            && matches!(c, '\u{a1}'..='\u{bf}' | '\u{2010}'..='\u{2027}' | '\u{2030}'..='\u{205e}' | '\u{3001}'..='\u{3003}' | '\u{3008}'..='\u{3011}' | '\u{ff01}'..='\u{ff0f}' | '€'))
}

fn text_of(toks: impl IntoIterator<Item = Tok>) -> Vec<Inline> {
    let mut out: Vec<Inline> = Vec::new();
    let push_text = |out: &mut Vec<Inline>, s: &str| {
        if let Some(Inline::Text(t)) = out.last_mut() {
            t.push_str(s);
        } else if !s.is_empty() {
            out.push(Inline::Text(s.to_string()));
        }
    };
    for t in toks {
        match t {
            Tok::Text(s) => push_text(&mut out, &s),
            Tok::Delim { ch, n, .. } => push_text(&mut out, &delims(ch, n)),
            Tok::Bracket { image, .. } => push_text(&mut out, if image { "![" } else { "[" }),
            Tok::Node(i) => out.push(i),
        }
    }
    out
}

/// A delimiter run as text: `n` times the ASCII `ch`.
fn delims(ch: u8, n: usize) -> String {
    let mut s = String::with_capacity(n);
    for _ in 0..n {
        s.push(ch as char);
    }
    s
}

/// Plain text of inline content (an image's alt text).
fn flat(inl: &[Inline], out: &mut String) {
    for i in inl {
        match i {
            Inline::Text(s) | Inline::Code(s) => out.push_str(s),
            Inline::Strong(c) | Inline::Em(c) | Inline::Del(c) | Inline::PendingLink(c) => flat(c, out),
            Inline::Link { children, .. } => flat(children, out),
            Inline::Break => out.push('\n'),
        }
    }
}

/// What `n` delimiters `ch` make of `inner`: `~` deletes; `*` and `_` emphasize (1), make strong (2) or both.
fn emph(ch: u8, n: usize, inner: Vec<Inline>) -> Inline {
    match (ch, n) {
        (b'~', _) => Inline::Del(inner),
        (_, 1) => Inline::Em(inner),
        (_, 2) => Inline::Strong(inner),
        _ => Inline::Strong(vec![Inline::Em(inner)]),
    }
}

/// While streaming: an opener still waiting for its closer formats everything after it; a trailing one is hidden.
fn wrap_open(toks: &mut Vec<Tok>) {
    while let Some(i) = toks.iter().rposition(|t| matches!(t, Tok::Delim { open: true, n: 1.., .. })) {
        let Tok::Delim { ch, n, .. } = toks[i] else { break };
        let inner = text_of(toks.split_off(i + 1));
        toks.truncate(i);
        if inner.is_empty() {
            continue;
        }
        toks.push(Tok::Node(emph(ch, n, inner)));
    }
}

impl Parser<'_> {
    fn text(&mut self, s: &str) {
        if let Some(Tok::Text(t)) = self.toks.last_mut() {
            t.push_str(s);
        } else {
            self.toks.push(Tok::Text(s.to_string()));
        }
    }

    fn char_before(&self, i: usize) -> Option<char> {
        sub(self.s, ..i).chars().next_back()
    }

    fn run(&mut self) {
        let (s, b) = (self.s, self.b);
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            let next = b.get(i + 1).copied();
            let used = match c {
                b'\\' if next == Some(b'\n') => {
                    self.toks.push(Tok::Node(Inline::Break));
                    2 + self.skip_spaces(i + 2)
                }
                b'\\' if next.is_some_and(|n| n.is_ascii_punctuation()) => {
                    self.text(sub(s, i + 1..i + 2));
                    2
                }
                b'\n' => {
                    // Two spaces or more before the line ending make a hard break; spaces there are dropped.
                    let mut hard = false;
                    if let Some(Tok::Text(t)) = self.toks.last_mut() {
                        let keep = trim_end(t, b" ").len();
                        hard = t.len() - keep >= 2;
                        t.truncate(keep);
                    }
                    if hard {
                        self.toks.push(Tok::Node(Inline::Break));
                    } else {
                        self.text("\n");
                    }
                    1 + self.skip_spaces(i + 1)
                }
                b'`' => self.code_span(i),
                b'*' | b'_' | b'~' => self.delim(i, c),
                b'[' => self.bracket(i, false),
                b'!' if next == Some(b'[') => self.bracket(i + 1, true) + 1,
                b']' => self.close_bracket(i),
                b'<' => self.autolink(i),
                b'&' => self.entity(i),
                b'h' | b'H' if i == 0 || !b[i - 1].is_ascii_alphanumeric() => self.bare_url(i),
                _ => 0,
            };
            if used == 0 {
                // Plain text up to the next byte that may start markup (all ASCII: a char boundary).
                let len = 1 + b[i + 1..]
                    .iter()
                    .position(|c| {
                        matches!(
                            c,
                            b'\\' | b'\n' | b'`' | b'*' | b'_' | b'~' | b'[' | b'!' | b']' | b'<' | b'&' | b'h' | b'H'
                        )
                    })
                    .unwrap_or(b.len() - i - 1);
                self.text(sub(s, i..i + len));
                i += len;
            } else {
                i += used;
            }
        }
    }

    fn skip_spaces(&self, i: usize) -> usize {
        self.b[i.min(self.b.len())..].iter().take_while(|&&c| c == b' ' || c == b'\t').count()
    }

    fn code_span(&mut self, i: usize) -> usize {
        let b = self.b;
        let n = run(&b[i..], b'`');
        let mut j = i + n;
        while j < b.len() {
            if b[j] == b'`' {
                let m = run(&b[j..], b'`');
                if m == n {
                    self.toks.push(Tok::Node(Inline::Code(code_text(sub(self.s, i + n..j)))));
                    return j + m - i;
                }
                j += m;
            } else {
                j += 1;
            }
        }
        if self.partial {
            let rest = sub(self.s, i + n..);
            if !rest.is_empty() {
                self.toks.push(Tok::Node(Inline::Code(code_text(rest))));
            }
            return b.len() - i;
        }
        self.text(sub(self.s, i..i + n));
        n
    }

    fn delim(&mut self, i: usize, c: u8) -> usize {
        let n = run(&self.b[i..], c);
        if c == b'~' && n > 2 {
            self.text(sub(self.s, i..i + n));
            return n;
        }
        let before = self.char_before(i).unwrap_or(' ');
        let after = sub(self.s, i + n..).chars().next().unwrap_or(' ');
        let (ws_a, ws_b) = (after.is_whitespace(), before.is_whitespace());
        let (p_a, p_b) = (is_punct(after), is_punct(before));
        let left = !ws_a && (!p_a || ws_b || p_b);
        let right = !ws_b && (!p_b || ws_a || p_a);
        let (open, close) = if c == b'_' { (left && (!right || p_b), right && (!left || p_a)) } else { (left, right) };
        if self.partial && i + n == self.b.len() {
            return n; // a lone trailing delimiter: wait for what follows
        }
        self.toks.push(Tok::Delim { ch: c, n, orig: n, open, close });
        n
    }

    /// The delimiter algorithm ("process emphasis") over the tokens from `bottom`.
    fn emphasis(&mut self, bottom: usize) {
        let toks = &mut self.toks;
        let mut ci = bottom;
        while ci < toks.len() {
            let Tok::Delim { ch, n: cn, orig: co, open: c_open, close: true } = toks[ci] else {
                ci += 1;
                continue;
            };
            if cn == 0 {
                ci += 1;
                continue;
            }
            let found = (bottom..ci).rev().find(|&oi| match toks[oi] {
                Tok::Delim { ch: oc, n: on, orig: oo, open: true, close: o_close } => {
                    oc == ch
                        && on > 0
                        && if ch == b'~' {
                            oo == co
                        } else {
                            !((o_close || c_open) && (oo + co) % 3 == 0 && !(oo % 3 == 0 && co % 3 == 0))
                        }
                }
                _ => false,
            });
            let Some(oi) = found else {
                if !c_open {
                    if let Tok::Delim { close, .. } = &mut toks[ci] {
                        *close = false;
                    }
                }
                ci += 1;
                continue;
            };
            let Tok::Delim { n: on, .. } = toks[oi] else { break };
            let used = if ch == b'~' {
                cn
            } else if on >= 2 && cn >= 2 {
                2
            } else {
                1
            };
            let tail = toks.split_off(ci);
            let inner = text_of(toks.split_off(oi + 1));
            toks.push(Tok::Node(emph(ch, used, inner)));
            toks.extend(tail);
            ci = oi + 2;
            if let Tok::Delim { n, .. } = &mut toks[oi] {
                *n -= used;
            }
            if let Tok::Delim { n, .. } = &mut toks[ci] {
                *n -= used;
            }
            if matches!(toks[oi], Tok::Delim { n: 0, .. }) {
                toks.remove(oi);
                ci -= 1;
            }
            if matches!(toks[ci], Tok::Delim { n: 0, .. }) {
                toks.remove(ci);
            }
        }
        // Delimiters left over are text; while streaming, openers stay for `wrap_open`.
        if !self.partial {
            for t in &mut self.toks[bottom..] {
                if let Tok::Delim { ch, n, .. } = t {
                    *t = Tok::Text(delims(*ch, *n));
                }
            }
        }
    }

    fn bracket(&mut self, i: usize, image: bool) -> usize {
        if let Some(Tok::Bracket { after, .. }) = self.toks.iter_mut().rev().find(|t| matches!(t, Tok::Bracket { .. }))
        {
            *after = true;
        }
        self.toks.push(Tok::Bracket { image, active: true, after: false, pos: i + 1 });
        1
    }

    /// The content after the bracket at `oi` as a link label (emphasis resolved inside it); the bracket is removed.
    fn take_label(&mut self, oi: usize) -> Vec<Inline> {
        self.emphasis(oi + 1);
        let label = text_of(self.toks.split_off(oi + 1));
        self.toks.truncate(oi);
        label
    }

    fn close_bracket(&mut self, i: usize) -> usize {
        let Some(oi) = self.toks.iter().rposition(|t| matches!(t, Tok::Bracket { .. })) else {
            return 0;
        };
        let Tok::Bracket { image, active, after, pos } = self.toks[oi] else { return 0 };
        let unlink = |toks: &mut Vec<Tok>| {
            toks[oi] = Tok::Text(if image { "![" } else { "[" }.to_string());
        };
        if !active {
            unlink(&mut self.toks);
            return 0;
        }
        let (b, s) = (self.b, self.s);
        let mut dest: Option<String> = None;
        let mut used = 1;
        if b.get(i + 1) == Some(&b'(') {
            match inline_dest(s, i + 2) {
                Some((d, end)) => {
                    dest = Some(d);
                    used = end - i;
                }
                None if self.partial && !has(sub(s, i + 2..), b')') && !image => {
                    // The URL is still arriving: show the label as a pending link.
                    let label = self.take_label(oi);
                    self.toks.push(Tok::Node(Inline::PendingLink(label)));
                    return b.len() - i;
                }
                None => {}
            }
        }
        if dest.is_none() {
            let (label, end) = match link_label(s, i + 1) {
                Some((l, e)) if !l.trim().is_empty() => (Some(l), e),
                Some((_, e)) if !after => (Some(sub(s, pos..i)), e),
                Some(_) => (None, i + 1),
                None if !after => (Some(sub(s, pos..i)), i + 1),
                None => (None, i + 1),
            };
            if let Some(d) = label.filter(|l| l.len() <= 999).and_then(|l| self.refs.get(l)) {
                dest = Some(d.to_string());
                used = end - i;
            }
        }
        let Some(dest) = dest else {
            unlink(&mut self.toks);
            return 0;
        };
        let label = self.take_label(oi);
        let Some(href) = safe_href(&dest) else {
            // An unsafe destination: the whole source stays text.
            let start = if image { pos - 2 } else { pos - 1 };
            self.text(sub(s, start..i + used));
            return used;
        };
        let children = if image {
            let mut alt = String::from("image: ");
            flat(&label, &mut alt);
            vec![Inline::Text(alt)]
        } else {
            // No links inside links: earlier `[` become plain brackets.
            for t in &mut self.toks {
                if let Tok::Bracket { image: false, active, .. } = t {
                    *active = false;
                }
            }
            label
        };
        self.toks.push(Tok::Node(Inline::Link { href, children }));
        used
    }

    fn autolink(&mut self, i: usize) -> usize {
        let rest = sub(self.s, i + 1..);
        let end = rest.bytes().position(|c| matches!(c, b'>' | b'<' | b' ' | b'\n'));
        let Some(k) = end.filter(|&k| rest.as_bytes()[k] == b'>') else { return 0 };
        let inner = sub(rest, ..k);
        let href = if is_uri(inner) {
            safe_href(inner)
        } else if is_email(inner) {
            safe_href(&(String::from("mailto:") + inner))
        } else {
            return 0;
        };
        self.url_link(href, inner, sub(self.s, i..i + k + 2));
        k + 2
    }

    /// A link to `href` showing `url`, or `source` as text when the URL was refused (autolinks and bare URLs).
    fn url_link(&mut self, href: Option<String>, url: &str, source: &str) {
        match href {
            Some(href) => self.toks.push(Tok::Node(Inline::Link { href, children: vec![Inline::Text(url.into())] })),
            None => self.text(source),
        }
    }

    fn bare_url(&mut self, i: usize) -> usize {
        let rest = sub(self.s, i..);
        let starts = |p: &str| rest.as_bytes().get(..p.len()).is_some_and(|r| r.eq_ignore_ascii_case(p.as_bytes()));
        if !(starts("http://") || starts("https://")) {
            return 0;
        }
        let len = rest.find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '`')).unwrap_or(rest.len());
        let mut url = sub(rest, ..len);
        loop {
            let trimmed = trim_end(url, b".,:;!?'\"*_~");
            let trimmed = if trimmed.ends_with(')') && count(trimmed, b'(') < count(trimmed, b')') {
                sub(trimmed, ..trimmed.len() - 1)
            } else {
                trimmed
            };
            if trimmed.len() == url.len() {
                break;
            }
            url = trimmed;
        }
        if url.len() <= 8 || (self.partial && i + len == self.s.len()) {
            // Too short to be a URL, or still arriving: plain text for now.
            self.text(sub(rest, ..url.len().max(1)));
            return url.len().max(1);
        }
        self.url_link(safe_href(url), url, url);
        url.len()
    }

    fn entity(&mut self, i: usize) -> usize {
        match entity_at(sub(self.s, i..)) {
            Some((c, len)) => {
                self.text(c.encode_utf8(&mut [0; 4]));
                len
            }
            None => 0,
        }
    }
}

/// The entity or numeric character reference at the start of `s` (which starts with `&`): character and length.
fn entity_at(s: &str) -> Option<(char, usize)> {
    let b = s.as_bytes();
    let semi = (1..b.len().min(34)).find(|&i| b[i] == b';')?;
    let name = sub(s, 1..semi);
    let c = if let Some(num) = name.strip_prefix('#') {
        // `&#x` and 1 to 6 hex digits, or `&#` and 1 to 7 decimal ones.
        let (digits, radix, max) = match num.as_bytes().first() {
            Some(b'x' | b'X') => (sub(num, 1..), 16, 6),
            _ => (num, 10, 7),
        };
        if !(1..=max).contains(&digits.len()) {
            return None;
        }
        let mut code = 0;
        for b in digits.bytes() {
            code = code * radix + (b as char).to_digit(radix)?;
        }
        // NUL and what is no character (surrogates, past U+10FFFF) become the replacement character.
        char::from_u32(code).filter(|&c| c != '\0').unwrap_or('\u{fffd}')
    } else {
        ENTITIES.iter().find(|(n, _)| *n == name)?.1
    };
    Some((c, semi + 1))
}

/// The named references model text uses most; the full HTML list (2,125 names) would cost the embed ~15 KB.
const ENTITIES: &[(&str, char)] = &[
    ("amp", '&'),
    ("lt", '<'),
    ("gt", '>'),
    ("quot", '"'),
    ("apos", '\''),
    ("nbsp", '\u{a0}'),
    ("copy", '©'),
    ("reg", '®'),
    ("trade", '™'),
    ("hellip", '…'),
    ("mdash", '—'),
    ("ndash", '–'),
    ("laquo", '«'),
    ("raquo", '»'),
    ("middot", '·'),
    ("deg", '°'),
    ("times", '×'),
    ("euro", '€'),
    ("frac12", '½'),
    ("frac34", '¾'),
    ("AElig", 'Æ'),
    ("rarr", '→'),
    ("auml", 'ä'),
    ("ouml", 'ö'),
    ("uuml", 'ü'),
];

/// Backslash escapes and entities resolved (link destinations, titles, info strings).
pub(crate) fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    while i < s.len() {
        if b[i] == b'\\' && b.get(i + 1).is_some_and(|c| c.is_ascii_punctuation()) {
            out.push(b[i + 1] as char);
            i += 2;
        } else if let Some((c, len)) = (b[i] == b'&').then(|| entity_at(sub(s, i..))).flatten() {
            out.push(c);
            i += len;
        } else {
            let c = sub(s, i..).chars().next().unwrap_or('\u{fffd}');
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// A code span's content: line endings become spaces, then one space is stripped from each end when both ends have
/// one and the content is not only spaces.
fn code_text(s: &str) -> String {
    let b = s.as_bytes();
    let space = |c: &u8| matches!(c, b' ' | b'\n');
    let s = if b.len() >= 2 && space(&b[0]) && space(&b[b.len() - 1]) && !b.iter().all(space) {
        sub(s, 1..s.len() - 1)
    } else {
        s
    };
    let mut out = String::with_capacity(s.len());
    for (k, part) in s.split('\n').enumerate() {
        if k > 0 {
            out.push(' ');
        }
        out.push_str(part);
    }
    out
}

/// A byte allowed in a URI scheme after its first letter.
fn scheme_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')
}

fn is_uri(s: &str) -> bool {
    let Some(colon) = s.find(':') else { return false };
    let scheme = &s.as_bytes()[..colon];
    (2..=32).contains(&scheme.len())
        && scheme[0].is_ascii_alphabetic()
        && scheme.iter().all(|&b| scheme_byte(b))
        // Quotes are allowed by CommonMark, refused here (an autolink that looks like an attribute break stays text).
        && !s.chars().any(|c| c.is_control() || matches!(c, ' ' | '<' | '>' | '"' | '\''))
}

fn is_email(s: &str) -> bool {
    let Some((user, host)) = s.split_once('@') else { return false };
    !user.is_empty()
        && user.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'!' | b'#'..=b'\'' | b'*' | b'+' | b'/' | b'=' | b'?' | b'^'..=b'`' | b'{'..=b'~' | b'-'))
        && host.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

fn spaces_nl(s: &str, mut i: usize) -> usize {
    let b = s.as_bytes();
    let mut nl = false;
    while let Some(&c) = b.get(i) {
        match c {
            b' ' | b'\t' => {}
            b'\n' if !nl => nl = true,
            _ => break,
        }
        i += 1;
    }
    i
}

/// A link destination at `i`: the unescaped destination and the offset after it.
fn link_dest(s: &str, i: usize) -> Option<(String, usize)> {
    let b = s.as_bytes();
    if b.get(i) == Some(&b'<') {
        let mut j = i + 1;
        while let Some(&c) = b.get(j) {
            match c {
                b'>' => return Some((unescape(sub(s, i + 1..j)), j + 1)),
                b'<' | b'\n' => return None,
                b'\\' => j += 1,
                _ => {}
            }
            j += 1;
        }
        return None;
    }
    let mut depth = 0usize;
    let mut j = i;
    while let Some(&c) = b.get(j) {
        match c {
            b'\\' if b.get(j + 1).is_some_and(|n| n.is_ascii_punctuation()) => j += 1,
            b'(' => depth += 1,
            b')' if depth == 0 => break,
            b')' => depth -= 1,
            c if c <= b' ' || c == 0x7f => break,
            _ => {}
        }
        j += 1;
    }
    (j > i && depth == 0).then(|| (unescape(sub(s, i..j)), j))
}

/// A link title at `i`: the offset after it.
fn link_title(s: &str, i: usize) -> Option<usize> {
    let b = s.as_bytes();
    let close = match b.get(i)? {
        b'"' => b'"',
        b'\'' => b'\'',
        b'(' => b')',
        _ => return None,
    };
    let mut j = i + 1;
    while let Some(&c) = b.get(j) {
        if c == b'\\' {
            j += 2;
            continue;
        }
        if c == close {
            return Some(j + 1);
        }
        if close == b')' && c == b'(' {
            return None;
        }
        j += 1;
    }
    None
}

/// `(dest "title")` after `](`, starting at `i`: destination and the offset after `)`.
fn inline_dest(s: &str, i: usize) -> Option<(String, usize)> {
    let b = s.as_bytes();
    let mut j = spaces_nl(s, i);
    let mut dest = String::new();
    if b.get(j) != Some(&b')') {
        let (d, e) = link_dest(s, j)?;
        dest = d;
        let k = spaces_nl(s, e);
        j = match link_title(s, k).filter(|_| k > e) {
            Some(t) => spaces_nl(s, t),
            None => k,
        };
    }
    (b.get(j) == Some(&b')')).then_some((dest, j + 1))
}

/// A link label `[…]` at `i`: its text and the offset after `]`.
fn link_label(s: &str, i: usize) -> Option<(&str, usize)> {
    let b = s.as_bytes();
    if b.get(i) != Some(&b'[') {
        return None;
    }
    let mut j = i + 1;
    while let Some(&c) = b.get(j) {
        match c {
            b'\\' => j += 1,
            b'[' => return None,
            b']' => return (j - i <= 1000).then_some((sub(s, i + 1..j), j + 1)),
            _ => {}
        }
        j += 1;
    }
    None
}

/// A link reference definition at the start of `s`: stores it in `refs`, returns the bytes it used.
pub(crate) fn parse_link_def(s: &str, refs: &mut Refs) -> Option<usize> {
    let (label, e) = link_label(s, 0)?;
    if label.trim().is_empty() || s.as_bytes().get(e) != Some(&b':') {
        return None;
    }
    let d = spaces_nl(s, e + 1);
    let (dest, de) = link_dest(s, d)?;
    if dest.is_empty() && !sub(s, d..).starts_with("<>") {
        return None;
    }
    let line_end = |k: usize| {
        let k2 = sub(s, k..).bytes().take_while(|&c| c == b' ' || c == b'\t').count() + k;
        match s.as_bytes().get(k2) {
            None => Some(k2),
            Some(b'\n') => Some(k2 + 1),
            _ => None,
        }
    };
    let t = spaces_nl(s, de);
    let end = link_title(s, t).filter(|_| t > de).and_then(line_end).or_else(|| line_end(de))?;
    refs.insert(label, dest);
    Some(end)
}
