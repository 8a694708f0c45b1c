//! Block structure, after CommonMark's parsing strategy (spec appendix "A parsing strategy"): each line first
//! continues the open blocks it can (block quotes, list items, fenced code …), then may open new ones; a block that
//! a line does not continue is closed and never changes again. Closing depends only on the lines so far, which is
//! what lets [`super::IncrementalMarkdown`] commit every top-level block once the next one has started.
//!
//! GFM additions: pipe tables (a paragraph whose first two lines are a header and a delimiter row) and task list
//! items (`- [ ]`, `- [x]`). Raw HTML blocks are not recognised: their lines are paragraph text.

use super::bytes::{has, run, sub, trim_end, trim_start};
use super::inline::{parse_inlines, parse_link_def, Inline, Refs};

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

/// One list item.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// A GFM task item: `Some(true)` for `[x]`/`[X]`, `Some(false)` for `[ ]`.
    pub task: Option<bool>,
    /// The item's blocks.
    pub blocks: Vec<Block>,
}

/// One block of markdown.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// `# Title` or a setext heading (levels 1 to 6).
    Heading {
        /// 1 to 6.
        level: u8,
        /// Inline content.
        content: Vec<Inline>,
    },
    /// A paragraph of inline content.
    Paragraph(Vec<Inline>),
    /// A fenced or indented code block.
    Code {
        /// First word of the info string (`rust` in ```` ```rust ````), may be empty.
        lang: String,
        /// The code, without the fences.
        code: String,
    },
    /// A bullet or ordered list.
    List {
        /// `1.` style list.
        ordered: bool,
        /// Number of the first item of an ordered list.
        start: u64,
        /// No blank line between items or their blocks: paragraphs render without `<p>`.
        tight: bool,
        /// Items.
        items: Vec<Item>,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum K {
    Doc,
    Quote,
    /// `ch`: the bullet character or the ordered delimiter (`.` or `)`).
    List {
        ordered: bool,
        ch: u8,
        start: u64,
    },
    /// `width`: columns of marker offset and padding a continuation line needs.
    Item {
        width: usize,
    },
    Para,
    Heading(u8),
    Fence {
        ch: u8,
        len: usize,
        indent: usize,
    },
    Indented,
    Rule,
}

struct Node {
    k: K,
    kids: Vec<usize>,
    parent: usize,
    open: bool,
    text: String,
    /// First and last line (the last set when the block closes).
    start: usize,
    end: usize,
}

/// A parsed document: a tree of nodes over the text's lines, and the link reference definitions found.
pub(crate) struct Doc {
    nodes: Vec<Node>,
    tip: usize,
    /// Step 1 matched every open block, or the unmatched ones were closed already.
    all_closed: bool,
    line_no: usize,
    /// Byte offset at which each line starts.
    pub(crate) line_starts: Vec<usize>,
    pub(crate) refs: Refs,
}

/// The current line and a cursor into it (CommonMark's offset/column, tabs as stops of 4).
struct Line<'a> {
    s: &'a [u8],
    str: &'a str,
    off: usize,
    col: usize,
    part_tab: bool,
    nn: usize,
    nn_col: usize,
    indent: usize,
    blank: bool,
}

impl Line<'_> {
    fn find_nn(&mut self) {
        let (mut i, mut c) = (self.off, self.col);
        while let Some(&b) = self.s.get(i) {
            match b {
                b' ' => c += 1,
                b'\t' => c += 4 - c % 4,
                _ => break,
            }
            i += 1;
        }
        self.blank = i >= self.s.len();
        self.nn = i;
        self.nn_col = c;
        self.indent = c - self.col;
    }

    fn advance_nn(&mut self) {
        self.off = self.nn;
        self.col = self.nn_col;
        self.part_tab = false;
    }

    fn advance(&mut self, mut count: usize, columns: bool) {
        while count > 0 {
            let Some(&b) = self.s.get(self.off) else { break };
            if b == b'\t' {
                let to_tab = 4 - self.col % 4;
                if columns {
                    self.part_tab = to_tab > count;
                    let n = to_tab.min(count);
                    self.col += n;
                    if !self.part_tab {
                        self.off += 1;
                    }
                    count -= n;
                } else {
                    self.part_tab = false;
                    self.col += to_tab;
                    self.off += 1;
                    count -= 1;
                }
            } else {
                self.part_tab = false;
                self.off += 1;
                self.col += 1;
                count -= 1;
            }
        }
    }

    /// Past a block quote marker: the `>` at the first non-space and one space or tab after it, if any.
    fn skip_quote_marker(&mut self) {
        self.advance_nn();
        self.advance(1, false);
        if space_or_tab(self.peek(self.off)) {
            self.advance(1, true);
        }
    }

    fn peek(&self, i: usize) -> Option<u8> {
        self.s.get(i).copied()
    }

    fn rest(&self) -> &str {
        sub(self.str, self.off.min(self.s.len())..)
    }
}

fn space_or_tab(b: Option<u8>) -> bool {
    matches!(b, Some(b' ' | b'\t'))
}

/// `#`…`######` followed by a space, tab or the end: the level and the marker's length.
fn atx(s: &[u8]) -> Option<(u8, usize)> {
    let n = run(s, b'#');
    ((1..=6).contains(&n) && (n == s.len() || space_or_tab(s.get(n).copied()))).then_some((n as u8, n))
}

fn fence(s: &[u8]) -> Option<(u8, usize)> {
    let c = *s.first()?;
    if c != b'`' && c != b'~' {
        return None;
    }
    let n = run(s, c);
    (n >= 3 && !(c == b'`' && s.iter().skip(n).any(|&b| b == b'`'))).then_some((c, n))
}

fn is_rule(s: &[u8]) -> bool {
    let Some(&c) = s.first() else { return false };
    matches!(c, b'*' | b'_' | b'-')
        && s.iter().all(|&b| b == c || b == b' ' || b == b'\t')
        && s.iter().filter(|&&b| b == c).count() >= 3
}

/// `=` or `-` underline: its level.
fn setext(s: &[u8]) -> Option<u8> {
    let c = *s.first()?;
    if c != b'=' && c != b'-' {
        return None;
    }
    let n = run(s, c);
    s[n..].iter().all(|&b| b == b' ' || b == b'\t').then_some(if c == b'=' { 1 } else { 2 })
}

/// Removes the link reference definitions that start a paragraph's `text`, adding them to `refs`.
fn take_defs(text: &mut String, refs: &mut Refs) {
    while text.starts_with('[') {
        let Some(used) = parse_link_def(text, refs) else { break };
        text.drain(..used);
    }
}

impl Doc {
    /// Parses `text` line by line. With `close`, every block is closed at the end (a complete document);
    /// without, the blocks still open at the end stay open (more lines may follow).
    pub(crate) fn parse(text: &str, close: bool) -> Self {
        let root = Node { k: K::Doc, kids: Vec::new(), parent: 0, open: true, text: String::new(), start: 0, end: 0 };
        let mut d = Doc {
            nodes: vec![root],
            tip: 0,
            all_closed: true,
            line_no: 0,
            line_starts: Vec::new(),
            refs: Refs::default(),
        };
        // Each line without its `\n` or `\r\n`.
        let mut pos = 0;
        while pos < text.len() {
            let end = text.as_bytes()[pos..].iter().position(|&b| b == b'\n').map_or(text.len(), |i| pos + i);
            let line = sub(text, pos..end);
            d.line_starts.push(pos);
            d.line(line.strip_suffix('\r').unwrap_or(line));
            d.line_no += 1;
            pos = end + 1;
        }
        if close {
            while d.tip != 0 {
                d.finalize(d.tip, d.line_no.saturating_sub(1));
            }
        }
        d
    }

    fn add(&mut self, k: K, container: usize, line: usize) -> usize {
        let mut c = container;
        while !self.can_contain(c, k) {
            self.finalize(c, line.saturating_sub(1));
            c = self.nodes[c].parent;
        }
        let id = self.nodes.len();
        self.nodes.push(Node {
            k,
            kids: Vec::new(),
            parent: c,
            open: true,
            text: String::new(),
            start: line,
            end: line,
        });
        self.nodes[c].kids.push(id);
        self.tip = id;
        id
    }

    /// Closes the blocks the line did not continue (`old_tip` up to `matched`), then adds a `k` to `container`.
    fn open(&mut self, k: K, container: usize, old_tip: usize, matched: usize) -> usize {
        self.close_unmatched(old_tip, matched);
        self.add(k, container, self.line_no)
    }

    fn can_contain(&self, parent: usize, k: K) -> bool {
        match self.nodes[parent].k {
            K::Doc | K::Quote | K::Item { .. } => !matches!(k, K::Item { .. }),
            K::List { .. } => matches!(k, K::Item { .. }),
            _ => false,
        }
    }

    fn last_open_kid(&self, n: usize) -> Option<usize> {
        self.nodes[n].kids.last().copied().filter(|&k| self.nodes[k].open)
    }

    /// Closes `n` (at line `line`) and makes its parent the tip.
    fn finalize(&mut self, n: usize, line: usize) {
        let parent = self.nodes[n].parent;
        self.nodes[n].open = false;
        self.nodes[n].end = line;
        match self.nodes[n].k {
            K::Para => {
                let mut text = std::mem::take(&mut self.nodes[n].text);
                take_defs(&mut text, &mut self.refs);
                if text.trim().is_empty() {
                    self.nodes[parent].kids.retain(|&k| k != n);
                }
                self.nodes[n].text = text;
            }
            K::Indented => {
                // Trailing blank lines are not part of the block: cut after the last line with other than spaces
                // and tabs (every line ends in `\n`).
                let text = &mut self.nodes[n].text;
                let b = text.as_bytes();
                let n_lines = match b.iter().rposition(|&c| !matches!(c, b' ' | b'\t' | b'\n')) {
                    Some(last) => {
                        let end = last + b[last..].iter().position(|&c| c == b'\n').unwrap_or(b.len() - last);
                        text.truncate(end);
                        text.bytes().filter(|&c| c == b'\n').count() + 1
                    }
                    None => {
                        text.clear();
                        0
                    }
                };
                text.push('\n');
                self.nodes[n].end = self.nodes[n].start + n_lines.saturating_sub(1);
            }
            K::Item { .. } | K::List { .. } => {
                let node = &self.nodes[n];
                self.nodes[n].end = node.kids.last().map_or(node.start, |&k| self.nodes[k].end);
            }
            _ => {}
        }
        self.tip = parent;
    }

    fn close_unmatched(&mut self, old_tip: usize, matched: usize) {
        if self.all_closed {
            return;
        }
        self.all_closed = true;
        let mut t = old_tip;
        while t != matched && t != 0 {
            let p = self.nodes[t].parent;
            self.finalize(t, self.line_no.saturating_sub(1));
            t = p;
        }
    }

    fn add_line(&mut self, ln: &mut Line<'_>) {
        if ln.part_tab {
            ln.off += 1;
            let n = 4 - ln.col % 4;
            self.nodes[self.tip].text.extend(std::iter::repeat_n(' ', n));
        }
        let tip = self.tip;
        self.nodes[tip].text.push_str(ln.rest());
        self.nodes[tip].text.push('\n');
    }

    fn line(&mut self, s: &str) {
        let mut ln = Line {
            s: s.as_bytes(),
            str: s,
            off: 0,
            col: 0,
            part_tab: false,
            nn: 0,
            nn_col: 0,
            indent: 0,
            blank: false,
        };
        let mut container = 0;
        let old_tip = self.tip;
        // 1. Which open blocks the line continues.
        while let Some(kid) = self.last_open_kid(container) {
            container = kid;
            ln.find_nn();
            let ok = match self.nodes[container].k {
                K::Quote => {
                    if ln.indent <= 3 && ln.peek(ln.nn) == Some(b'>') {
                        ln.skip_quote_marker();
                        true
                    } else {
                        false
                    }
                }
                K::Item { width } => {
                    if ln.blank {
                        if self.nodes[container].kids.is_empty() {
                            false
                        } else {
                            ln.advance_nn();
                            true
                        }
                    } else if ln.indent >= width {
                        ln.advance(width, true);
                        true
                    } else {
                        false
                    }
                }
                K::Fence { ch, len, indent } => {
                    let closing = ln.indent <= 3
                        && ln.peek(ln.nn) == Some(ch)
                        && fence(&ln.s[ln.nn..]).is_some_and(|(c, n)| c == ch && n >= len)
                        && ln.s[ln.nn..].iter().skip_while(|&&b| b == ch).all(|&b| b == b' ' || b == b'\t');
                    if closing {
                        self.finalize(container, self.line_no);
                        return;
                    }
                    let mut i = indent;
                    while i > 0 && space_or_tab(ln.peek(ln.off)) {
                        ln.advance(1, true);
                        i -= 1;
                    }
                    true
                }
                K::Indented => {
                    if ln.indent >= 4 {
                        ln.advance(4, true);
                        true
                    } else if ln.blank {
                        ln.advance_nn();
                        true
                    } else {
                        false
                    }
                }
                K::Para => !ln.blank,
                K::Heading(_) | K::Rule => false,
                K::Doc | K::List { .. } => true,
            };
            if !ok {
                container = self.nodes[container].parent;
                break;
            }
        }
        self.all_closed = container == old_tip;
        let last_matched = container;
        let mut matched_leaf = matches!(self.nodes[container].k, K::Fence { .. } | K::Indented);
        // 2. New block starts.
        while !matched_leaf {
            ln.find_nn();
            let rest = &ln.s[ln.nn..];
            let indented = ln.indent >= 4;
            let first = rest.first().copied();
            if !indented
                && !matches!(first, Some(b'#' | b'`' | b'~' | b'*' | b'+' | b'_' | b'=' | b'>' | b'-' | b'0'..=b'9'))
            {
                ln.advance_nn();
                break;
            }
            let is_para = self.nodes[container].k == K::Para;
            if !indented && first == Some(b'>') {
                ln.skip_quote_marker();
                container = self.open(K::Quote, container, old_tip, last_matched);
                continue;
            }
            if let Some((level, n)) = atx(rest).filter(|_| !indented) {
                ln.advance_nn();
                ln.advance(n, false);
                container = self.open(K::Heading(level), container, old_tip, last_matched);
                // A closing sequence of `#` counts only after a space or tab.
                let mut t = trim_start(trim_end(ln.rest(), b" \t"), b" \t");
                let stripped = trim_end(t, b"#");
                let before = trim_end(stripped, b" \t");
                if stripped.is_empty() {
                    t = "";
                } else if before.len() < stripped.len() {
                    t = before;
                }
                self.nodes[container].text = t.to_string();
                matched_leaf = true;
                continue;
            }
            if let Some((ch, len)) = fence(rest).filter(|_| !indented) {
                let indent = ln.indent;
                container = self.open(K::Fence { ch, len, indent }, container, old_tip, last_matched);
                ln.advance_nn();
                ln.advance(len, false);
                // The rest of the line (the info string) becomes the first line of text.
                matched_leaf = true;
                continue;
            }
            if let Some(level) = setext(rest).filter(|_| !indented && is_para) {
                // A paragraph made only of link reference definitions is no heading.
                let mut text = self.nodes[container].text.clone();
                let mut defs = Refs::default();
                take_defs(&mut text, &mut defs);
                if !text.trim().is_empty() {
                    self.close_unmatched(old_tip, last_matched);
                    // Definitions before the heading text still count.
                    for (label, dest) in defs.0 {
                        self.refs.insert(&label, dest);
                    }
                    self.nodes[container].text = text;
                    self.nodes[container].k = K::Heading(level);
                    ln.off = ln.s.len();
                    matched_leaf = true;
                    continue;
                }
            }
            if !indented && is_rule(rest) {
                container = self.open(K::Rule, container, old_tip, last_matched);
                ln.off = ln.s.len();
                matched_leaf = true;
                continue;
            }
            if !indented || matches!(self.nodes[container].k, K::List { .. }) {
                if let Some((ordered, ch, start, width)) = self.list_marker(&mut ln, is_para) {
                    self.close_unmatched(old_tip, last_matched);
                    let tip_k = self.nodes[self.tip].k;
                    let same = matches!(tip_k, K::List { ordered: o, ch: c, .. } if o == ordered && c == ch);
                    if !same {
                        container = self.add(K::List { ordered, ch, start }, container, self.line_no);
                    } else {
                        container = self.tip;
                    }
                    container = self.add(K::Item { width }, container, self.line_no);
                    continue;
                }
            }
            if indented && !ln.blank && self.nodes[self.tip].k != K::Para {
                ln.advance(4, true);
                container = self.open(K::Indented, container, old_tip, last_matched);
                matched_leaf = true;
                continue;
            }
            ln.advance_nn();
            break;
        }
        // 3. The rest of the line.
        if !self.all_closed && !ln.blank && self.nodes[self.tip].k == K::Para {
            self.add_line(&mut ln);
            return;
        }
        self.close_unmatched(old_tip, last_matched);
        match self.nodes[container].k {
            K::Fence { .. } | K::Indented | K::Para => self.add_line(&mut ln),
            K::Heading(_) | K::Rule => {}
            _ if ln.off < ln.s.len() && !ln.blank => {
                container = self.add(K::Para, container, self.line_no);
                let _ = container;
                ln.advance_nn();
                self.add_line(&mut ln);
            }
            _ => {}
        }
        if matches!(self.nodes[self.tip].k, K::Heading(_) | K::Rule) {
            // A heading or rule is one line.
            let t = self.tip;
            self.finalize(t, self.line_no);
        }
    }

    /// A list marker at the cursor: `(ordered, bullet or delimiter, start, width)`; advances past it.
    fn list_marker(&self, ln: &mut Line<'_>, in_para: bool) -> Option<(bool, u8, u64, usize)> {
        if ln.indent >= 4 {
            return None;
        }
        let rest = &ln.s[ln.nn..];
        let (ordered, ch, start, mlen) = match rest.first()? {
            c @ (b'-' | b'*' | b'+') => (false, *c, 1, 1),
            b'0'..=b'9' => {
                let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
                let d = *rest.get(digits)?;
                if digits > 9 || (d != b'.' && d != b')') {
                    return None;
                }
                // At most 9 digits: no overflow.
                let start = rest[..digits].iter().fold(0, |n, &d| n * 10 + u64::from(d - b'0'));
                if in_para && start != 1 {
                    return None;
                }
                (true, d, start, digits + 1)
            }
            _ => return None,
        };
        let next = rest.get(mlen).copied();
        if !(next.is_none() || space_or_tab(next)) {
            return None;
        }
        if in_para && rest[mlen..].iter().all(|&b| b == b' ' || b == b'\t') {
            return None;
        }
        let marker_offset = ln.indent;
        ln.advance_nn();
        ln.advance(mlen, true);
        let (start_col, start_off) = (ln.col, ln.off);
        loop {
            ln.advance(1, true);
            if !(ln.col - start_col < 5 && space_or_tab(ln.peek(ln.off))) {
                break;
            }
        }
        let blank_item = ln.peek(ln.off).is_none();
        let spaces = ln.col - start_col;
        let padding = if !(1..5).contains(&spaces) || blank_item {
            ln.col = start_col;
            ln.off = start_off;
            ln.part_tab = false;
            if space_or_tab(ln.peek(ln.off)) {
                ln.advance(1, true);
            }
            mlen + 1
        } else {
            mlen + spaces
        };
        Some((ordered, ch, start, marker_offset + padding))
    }

    /// How many top-level blocks there are.
    pub(crate) fn top_len(&self) -> usize {
        self.nodes[0].kids.len()
    }

    /// How many top-level blocks at the start are closed, and the byte offset at which the next one starts.
    pub(crate) fn closed_top(&self) -> (usize, Option<usize>) {
        let kids = &self.nodes[0].kids;
        let k = kids.iter().take_while(|&&n| !self.nodes[n].open).count();
        (k, kids.get(k).map(|&n| self.line_starts[self.nodes[n].start]))
    }

    /// The first `count` top-level blocks, inline content parsed with `refs`; `partial`: the last may grow.
    pub(crate) fn blocks(&self, count: usize, refs: &Refs, partial: bool) -> Vec<Block> {
        let kids = &self.nodes[0].kids;
        self.blocks_of(&kids[..count.min(kids.len())], refs, partial)
    }

    /// The blocks of nodes `kids`; `partial`: the last may grow.
    fn blocks_of(&self, kids: &[usize], refs: &Refs, partial: bool) -> Vec<Block> {
        let mut out = Vec::with_capacity(kids.len());
        for (i, &k) in kids.iter().enumerate() {
            out.extend(self.block(k, refs, partial && i + 1 == kids.len()));
        }
        out
    }

    fn block(&self, n: usize, refs: &Refs, partial: bool) -> Option<Block> {
        let node = &self.nodes[n];
        Some(match node.k {
            K::Doc => return None,
            K::Quote => Block::Quote(self.blocks_of(&node.kids, refs, partial)),
            K::Heading(level) => Block::Heading { level, content: parse_inlines(node.text.trim_end(), refs, partial) },
            K::Rule => Block::Rule,
            K::Para => {
                let text = trim_end(&node.text, b"\n \t");
                if text.is_empty() {
                    return None;
                }
                table(text, refs, partial).unwrap_or_else(|| Block::Paragraph(parse_inlines(text, refs, partial)))
            }
            K::Fence { .. } => {
                let (info, code) = node.text.split_once('\n').unwrap_or((&node.text, ""));
                // While the opening line is still arriving, its info string may be half a word: no language yet.
                let info = trim_start(info, b" \t");
                let word = sub(info, ..info.bytes().position(|b| b == b' ' || b == b'\t').unwrap_or(info.len()));
                let lang = super::inline::unescape(word);
                Block::Code { lang, code: code.to_string() }
            }
            K::Indented => Block::Code { lang: String::new(), code: node.text.clone() },
            K::List { ordered, start, .. } => {
                let kids = &node.kids;
                // Loose when an item or a block in an item is followed by a blank line before its next sibling.
                let gap = |sibs: &[usize]| sibs.windows(2).any(|w| self.nodes[w[1]].start > self.nodes[w[0]].end + 1);
                let tight = !gap(kids) && !kids.iter().any(|&it| gap(&self.nodes[it].kids));
                let mut items = Vec::with_capacity(kids.len());
                for (i, &it) in kids.iter().enumerate() {
                    let last = partial && i + 1 == kids.len();
                    let mut blocks = self.blocks_of(&self.nodes[it].kids, refs, last);
                    let task = task_marker(&mut blocks, &self.nodes[it], self, refs, last);
                    items.push(Item { task, blocks });
                }
                Block::List { ordered, start, tight, items }
            }
            K::Item { .. } => return None,
        })
    }
}

/// A GFM task item: the item's first paragraph starts with `[ ]`, `[x]` or `[X]` and a space or tab. The marker is
/// removed from the paragraph (re-parsed without it, so the rest keeps its inline structure).
fn task_marker(blocks: &mut [Block], item: &Node, doc: &Doc, refs: &Refs, partial: bool) -> Option<bool> {
    let &first = item.kids.first()?;
    let node = &doc.nodes[first];
    if node.k != K::Para || !matches!(blocks.first(), Some(Block::Paragraph(_))) {
        return None;
    }
    let t = node.text.as_bytes();
    if t.len() < 4 || t[0] != b'[' || t[2] != b']' || !matches!(t[3], b' ' | b'\t' | b'\n') {
        return None;
    }
    let checked = match t[1] {
        b' ' => false,
        b'x' | b'X' => true,
        _ => return None,
    };
    let rest = trim_end(trim_start(sub(&node.text, 4..), b" \t"), b"\n \t");
    // `- [x]` alone is no task; while streaming, it is the start of one.
    if rest.is_empty() && !partial {
        return None;
    }
    blocks[0] = Block::Paragraph(parse_inlines(rest, refs, partial));
    Some(checked)
}

/// Cells of a table row, split on unescaped `|` (a `\|` stays in the cell as `|`).
fn cells(line: &str) -> Vec<String> {
    let t = line.trim();
    let t = t.strip_prefix('|').unwrap_or(t);
    let b = t.as_bytes();
    let mut out = Vec::new();
    let mut cell = String::new();
    // `t[from..i]` is cell text not yet copied to `cell` (both split points are ASCII: char boundaries).
    let (mut from, mut i) = (0, 0);
    while let Some(&c) = b.get(i) {
        if c == b'\\' && b.get(i + 1) == Some(&b'|') {
            cell.push_str(sub(t, from..i));
            from = i + 1;
            i += 1;
        } else if c == b'|' {
            cell.push_str(sub(t, from..i));
            out.push(cell.trim().to_string());
            cell.clear();
            from = i + 1;
        }
        i += 1;
    }
    cell.push_str(sub(t, from..));
    // A trailing `|` ends the last cell rather than starting an empty one.
    if out.is_empty() || !cell.trim().is_empty() {
        out.push(cell.trim().to_string());
    }
    out
}

fn delimiter_row(line: &str) -> Option<Vec<Align>> {
    if !has(line, b'-') || !line.bytes().all(|b| matches!(b, b'|' | b':' | b'-' | b' ' | b'\t')) {
        return None;
    }
    let mut align = Vec::new();
    for c in cells(line) {
        let dashes = trim_start(trim_end(&c, b":"), b":");
        if dashes.is_empty() || !dashes.bytes().all(|b| b == b'-') {
            return None;
        }
        align.push(match (c.starts_with(':'), c.ends_with(':')) {
            (true, true) => Align::Center,
            (true, false) => Align::Left,
            (false, true) => Align::Right,
            (false, false) => Align::None,
        });
    }
    Some(align)
}

/// A paragraph that is a GFM table: a header row with a `|`, then a delimiter row with as many cells.
fn table(text: &str, refs: &Refs, partial: bool) -> Option<Block> {
    let mut rows = text.split('\n');
    let first = rows.next()?;
    if !has(first, b'|') {
        return None;
    }
    let head = cells(first);
    let inl = |cs: &[String]| {
        let mut row = Vec::with_capacity(cs.len());
        for c in cs {
            row.push(parse_inlines(c, refs, partial));
        }
        row
    };
    let second = rows.next();
    let Some(align) = second.and_then(delimiter_row).filter(|a| a.len() == head.len()) else {
        // While the delimiter row is still arriving, show the header row as a table already (no flicker).
        let arriving = match second {
            None => true,
            Some(l) => rows.next().is_none() && l.bytes().all(|b| matches!(b, b'|' | b':' | b'-' | b' ')),
        };
        return (partial && first.trim_start().starts_with('|') && arriving).then(|| Block::Table {
            head: inl(&head),
            align: vec![Align::None; head.len()],
            rows: Vec::new(),
        });
    };
    let mut body = Vec::new();
    for r in rows {
        let mut cs = cells(r);
        cs.resize(head.len(), String::new());
        body.push(inl(&cs));
    }
    Some(Block::Table { head: inl(&head), align, rows: body })
}

/// Parses a whole text into blocks. `partial` means the text may still grow (see [`parse_inlines`]).
pub fn parse_blocks(text: &str, partial: bool) -> Vec<Block> {
    let doc = Doc::parse(text, true);
    doc.blocks(doc.top_len(), &doc.refs, partial)
}
