//! Block structure: splitting text into top-level block spans, and parsing one span into a [`Block`].
//!
//! The split is *prefix-stable*: whether a line continues the current block depends only on that block's lines
//! and the line itself, never on lines further down. That is what lets [`super::IncrementalMarkdown`] commit every
//! block once the next one has started on a complete line.

use super::inline::{parse_inlines, Inline};

/// Column alignment of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// No alignment given.
    None,
    /// `:---`
    Left,
    /// `:---:`
    Center,
    /// `---:`
    Right,
}

/// One block of markdown.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// `# Title` (levels 1 to 6).
    Heading {
        /// 1 to 6.
        level: u8,
        /// Inline content.
        content: Vec<Inline>,
    },
    /// A paragraph of inline content.
    Paragraph(Vec<Inline>),
    /// A fenced code block.
    Code {
        /// First word of the info string (`rust` in ```` ```rust ````), may be empty.
        lang: String,
        /// The code, without the fences.
        code: String,
    },
    /// A bullet or ordered list; each item is a list of blocks.
    List {
        /// `1.` style list.
        ordered: bool,
        /// Number of the first item of an ordered list.
        start: u64,
        /// Items.
        items: Vec<Vec<Block>>,
    },
    /// `> quoted` blocks.
    Quote(Vec<Block>),
    /// A GFM pipe table.
    Table {
        /// Header cells.
        head: Vec<Vec<Inline>>,
        /// One alignment per column.
        align: Vec<Align>,
        /// Body rows, each with exactly `head.len()` cells.
        rows: Vec<Vec<Vec<Inline>>>,
    },
    /// `---`
    Rule,
}

/// Kind of a block span while splitting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Paragraph,
    Heading,
    Rule,
    Code { fence: u8, len: usize, closed: bool },
    Quote,
    List { ordered: bool },
    Table,
}

/// A block's byte range within the text that was split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    kind: Kind,
    /// Byte offset of the block's first line.
    pub(crate) start: usize,
    /// Byte offset just past the block's last line (including its trailing blank lines).
    pub(crate) end: usize,
    /// A blank line followed the block's content.
    blank_after: bool,
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

/// `(fence char, fence length)` when `line` opens a fenced code block.
fn fence_open(line: &str) -> Option<(u8, usize)> {
    if indent(line) > 3 {
        return None;
    }
    let t = line.trim_start();
    let c = *t.as_bytes().first()?;
    if c != b'`' && c != b'~' {
        return None;
    }
    let len = t.bytes().take_while(|&b| b == c).count();
    if len < 3 || (c == b'`' && t[len..].contains('`')) {
        return None;
    }
    Some((c, len))
}

fn fence_close(line: &str, fence: u8, len: usize) -> bool {
    let t = line.trim();
    t.len() >= len && t.bytes().all(|b| b == fence)
}

fn heading_level(line: &str) -> Option<u8> {
    if indent(line) > 3 {
        return None;
    }
    let t = line.trim_start();
    let n = t.bytes().take_while(|&b| b == b'#').count();
    let rest = &t[n..];
    ((1..=6).contains(&n) && (rest.is_empty() || rest.starts_with(' ') || rest.starts_with('\t'))).then_some(n as u8)
}

fn is_rule(line: &str) -> bool {
    if indent(line) > 3 {
        return false;
    }
    let t: Vec<u8> = line.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    t.len() >= 3 && matches!(t[0], b'-' | b'*' | b'_') && t.iter().all(|&b| b == t[0])
}

/// `(ordered, start number, content column)` when `line` starts a list item.
pub(crate) fn list_marker(line: &str) -> Option<(bool, u64, usize)> {
    let ind = indent(line);
    let t = &line[ind..];
    let b = t.as_bytes();
    let (ordered, start, mlen) = match b.first()? {
        b'-' | b'*' | b'+' => (false, 1, 1),
        b'0'..=b'9' => {
            let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
            if digits > 9 || !matches!(b.get(digits), Some(b'.' | b')')) {
                return None;
            }
            (true, t[..digits].parse().ok()?, digits + 1)
        }
        _ => return None,
    };
    match b.get(mlen) {
        None => Some((ordered, start, ind + mlen + 1)),
        Some(b' ' | b'\t') => {
            let spaces = t[mlen..].bytes().take_while(|&c| c == b' ').count().clamp(1, 4);
            Some((ordered, start, ind + mlen + spaces))
        }
        _ => None,
    }
}

fn is_table_row(line: &str) -> bool {
    indent(line) <= 3 && line.trim_start().starts_with('|')
}

/// The kind of block `line` starts (a paragraph when nothing more specific).
fn start_kind(line: &str) -> Kind {
    if let Some((fence, len)) = fence_open(line) {
        Kind::Code { fence, len, closed: false }
    } else if heading_level(line).is_some() {
        Kind::Heading
    } else if is_rule(line) {
        Kind::Rule
    } else if indent(line) <= 3 && line.trim_start().starts_with('>') {
        Kind::Quote
    } else if let Some((ordered, _, _)) = list_marker(line).filter(|_| indent(line) <= 3) {
        Kind::List { ordered }
    } else if is_table_row(line) {
        Kind::Table
    } else {
        Kind::Paragraph
    }
}

/// Lines of `text` with the byte offset just past each (its `\n` included); the last may lack its `\n`.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= text.len() {
            return None;
        }
        let start = pos;
        let end = text[start..].find('\n').map_or(text.len(), |i| start + i + 1);
        pos = end;
        Some((end, text[start..end].trim_end_matches(['\n', '\r'])))
    })
}

/// Whether `line` (not blank) continues the open block `span`.
fn continues(span: &mut Span, line: &str) -> bool {
    let blank_after = span.blank_after;
    match &mut span.kind {
        Kind::Code { fence, len, closed } => {
            if *closed {
                return false;
            }
            if fence_close(line, *fence, *len) {
                *closed = true;
            }
            true
        }
        Kind::Heading | Kind::Rule => false,
        Kind::Paragraph | Kind::Quote | Kind::Table if blank_after => false,
        Kind::Paragraph => start_kind(line) == Kind::Paragraph,
        Kind::Quote => line.trim_start().starts_with('>') && indent(line) <= 3,
        Kind::Table => is_table_row(line),
        Kind::List { ordered } => {
            if indent(line) >= 2 {
                return true;
            }
            if let Some((o, _, _)) = list_marker(line) {
                return o == *ordered && !is_rule(line);
            }
            !blank_after && start_kind(line) == Kind::Paragraph
        }
    }
}

/// Splits `text` into top-level block spans, in order, covering all of `text` after any leading blank lines.
pub(crate) fn split(text: &str) -> Vec<Span> {
    let mut spans: Vec<Span> = Vec::new();
    let mut start = 0;
    for (end, line) in lines(text) {
        let line_start = std::mem::replace(&mut start, end);
        if let Some(last) = spans.last_mut() {
            let in_code = matches!(last.kind, Kind::Code { closed: false, .. });
            if is_blank(line) && !in_code {
                last.blank_after = true;
                last.end = end;
                continue;
            }
            if continues(last, line) {
                last.end = end;
                continue;
            }
        } else if is_blank(line) {
            continue;
        }
        let kind = start_kind(line);
        spans.push(Span { kind, start: line_start, end, blank_after: false });
    }
    spans
}

/// Parses a whole text into blocks. `partial` means the text may still grow (see [`parse_inlines`]).
pub fn parse_blocks(text: &str, partial: bool) -> Vec<Block> {
    let spans = split(text);
    let n = spans.len();
    spans.iter().enumerate().map(|(i, s)| parse_span(s, &text[s.start..s.end], partial && i + 1 == n)).collect()
}

fn parse_span(span: &Span, src: &str, partial: bool) -> Block {
    match span.kind {
        Kind::Heading => {
            let t = src.trim();
            let level = heading_level(t).unwrap_or(1);
            let mut body = t[level as usize..].trim();
            let stripped = body.trim_end_matches('#');
            if stripped.is_empty() || stripped.ends_with(' ') {
                body = stripped.trim_end();
            }
            Block::Heading { level, content: parse_inlines(body, partial) }
        }
        Kind::Rule => Block::Rule,
        Kind::Paragraph => Block::Paragraph(parse_inlines(&join_paragraph(src), partial)),
        Kind::Code { fence, len, .. } => parse_code(src, fence, len, partial),
        Kind::Quote => {
            let inner: String = lines(src)
                .map(|(_, l)| {
                    let t = l.trim_start();
                    let t = t.strip_prefix('>').unwrap_or(t);
                    let t = t.strip_prefix(' ').unwrap_or(t);
                    format!("{t}\n")
                })
                .collect();
            Block::Quote(parse_blocks(&inner, partial))
        }
        Kind::List { ordered } => parse_list(src, ordered, partial),
        Kind::Table => parse_table(src, partial),
    }
}

fn join_paragraph(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    for (_, l) in lines(src) {
        if is_blank(l) {
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(l.trim_start());
    }
    out
}

fn parse_code(src: &str, fence: u8, len: usize, partial: bool) -> Block {
    let mut it = lines(src);
    let (_, first) = it.next().unwrap_or((0, ""));
    let base = indent(first);
    let info = first.trim_start().trim_start_matches(fence as char).trim();
    // While the opening line is still arriving, its info string may be half a word: show no language yet.
    let lang = if partial && !src.contains('\n') { "" } else { info.split_whitespace().next().unwrap_or("") };
    let mut code = String::new();
    let body: Vec<&str> = it.map(|(_, l)| l).collect();
    for (i, line) in body.iter().enumerate() {
        let last = i + 1 == body.len();
        if fence_close(line, fence, len) {
            break;
        }
        // A half-arrived closing fence at the very end is markup, not code.
        if last && partial && !src.ends_with('\n') && !line.trim().is_empty() {
            let t = line.trim();
            if t.bytes().all(|b| b == fence) {
                break;
            }
        }
        let strip = indent(line).min(base);
        code.push_str(&line[strip..]);
        code.push('\n');
    }
    Block::Code { lang: lang.to_string(), code }
}

fn parse_list(src: &str, ordered: bool, partial: bool) -> Block {
    let mut items: Vec<String> = Vec::new();
    let mut start = 1;
    let mut content_col = 2;
    let mut base: Option<usize> = None;
    for (_, line) in lines(src) {
        let base_indent = *base.get_or_insert(indent(line));
        let marker = list_marker(line).filter(|&(o, _, _)| o == ordered && !is_rule(line));
        match marker {
            Some((_, n, col)) if indent(line) <= base_indent + 1 => {
                if items.is_empty() {
                    start = n;
                }
                content_col = col;
                items.push(format!("{}\n", line.get(col..).unwrap_or("")));
            }
            _ => {
                let Some(item) = items.last_mut() else { continue };
                let strip = indent(line).min(content_col);
                item.push_str(&line[strip..]);
                item.push('\n');
            }
        }
    }
    let n = items.len();
    let items = items.iter().enumerate().map(|(i, it)| parse_blocks(it, partial && i + 1 == n)).collect();
    Block::List { ordered, start, items }
}

/// Cells of a table row, split on unescaped `|` outside code spans.
fn cells(line: &str) -> Vec<String> {
    let t = line.trim();
    let t = t.strip_prefix('|').unwrap_or(t);
    let mut out = vec![String::new()];
    let mut in_code = false;
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        let cur = out.len() - 1;
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                chars.next();
                out[cur].push('|');
            }
            '|' if !in_code => out.push(String::new()),
            _ => {
                if c == '`' {
                    in_code = !in_code;
                }
                out[cur].push(c);
            }
        }
    }
    if out.len() > 1 && out.last().is_some_and(|s| s.trim().is_empty()) {
        out.pop();
    }
    out.into_iter().map(|s| s.trim().to_string()).collect()
}

fn delimiter_row(line: &str) -> Option<Vec<Align>> {
    let cs = cells(line);
    cs.iter()
        .map(|c| {
            let (l, r) = (c.starts_with(':'), c.ends_with(':'));
            let dashes = c.trim_matches(':');
            if dashes.is_empty() || !dashes.bytes().all(|b| b == b'-') {
                return None;
            }
            Some(match (l, r) {
                (true, true) => Align::Center,
                (true, false) => Align::Left,
                (false, true) => Align::Right,
                (false, false) => Align::None,
            })
        })
        .collect()
}

fn parse_table(src: &str, partial: bool) -> Block {
    let rows: Vec<&str> = lines(src).map(|(_, l)| l).filter(|l| !is_blank(l)).collect();
    let head = cells(rows.first().copied().unwrap_or(""));
    let align = rows.get(1).and_then(|l| delimiter_row(l)).filter(|a| a.len() == head.len());
    let Some(align) = align else {
        // While the delimiter row has not arrived, show the header row as a table already (no flicker);
        // a finished block without one is just a paragraph.
        if partial && rows.len() == 1 {
            return Block::Table {
                head: head.iter().map(|c| parse_inlines(c, partial)).collect(),
                align: vec![Align::None; head.len()],
                rows: Vec::new(),
            };
        }
        if partial && rows.len() == 2 && rows[1].bytes().all(|b| b"|:- ".contains(&b)) {
            return Block::Table {
                head: head.iter().map(|c| parse_inlines(c, partial)).collect(),
                align: vec![Align::None; head.len()],
                rows: Vec::new(),
            };
        }
        return Block::Paragraph(parse_inlines(&join_paragraph(src), partial));
    };
    let width = head.len();
    let body = rows[2..]
        .iter()
        .map(|r| {
            let mut cs = cells(r);
            cs.resize(width, String::new());
            cs.iter().map(|c| parse_inlines(c, false)).collect()
        })
        .collect();
    Block::Table { head: head.iter().map(|c| parse_inlines(c, false)).collect(), align, rows: body }
}

impl Span {
    /// Whether no later line can belong to this block: a complete heading or rule line, a closed fence, or a
    /// paragraph, quote or table followed by a blank line. (A list may go on after a blank line.)
    pub(crate) fn is_closed(&self, text: &str) -> bool {
        match self.kind {
            Kind::Heading | Kind::Rule => text[self.start..self.end].ends_with('\n'),
            Kind::Code { closed, .. } => closed && text[self.start..self.end].ends_with('\n'),
            Kind::Paragraph | Kind::Quote | Kind::Table => self.blank_after,
            Kind::List { .. } => false,
        }
    }
}

/// Whether the span's first line is complete (ends with `\n`) in `text`.
pub(crate) fn first_line_complete(text: &str, span: &Span) -> bool {
    text[span.start..].contains('\n')
}
