//! An incremental CommonMark renderer for streamed, untrusted model output.
//!
//! Text arrives in pieces. [`IncrementalMarkdown::push`] appends a piece and returns the blocks that became final
//! (rendered once by the caller and kept) plus the blocks of the still-growing tail (re-rendered every time). A
//! top-level block is final once a complete line has closed it (CommonMark closes a block only on the lines so
//! far), so the work per piece depends on the size of the tail, not of the whole answer, and the final rendering
//! equals rendering the whole text at once. [`dom::MarkdownDom`] turns the blocks into DOM nodes with text content
//! only; [`render`] holds the one block-to-markup mapping, which also writes HTML text for the native tests.
//!
//! Supported: CommonMark blocks (ATX and setext headings, paragraphs, fenced and indented code, bullet and ordered
//! lists, tight or loose, block quotes, thematic breaks, link reference definitions) and inlines (code spans,
//! emphasis, links inline and by reference, autolinks, entities, escapes, hard breaks); GFM pipe tables, task list
//! items, `~~strikethrough~~` and bare `http(s)://` URLs. Different by design: raw HTML is text, images become links,
//! a link with another scheme than `http`, `https`, `mailto` or none (relative) stays literal text.

mod block;
mod bytes;
pub mod dom;
mod inline;
pub mod render;

pub use block::{parse_blocks, Align, Block, Item};
use bytes::sub;
pub use inline::{parse_inlines, safe_href, Inline, Refs};

/// Blocks produced by one [`IncrementalMarkdown::push`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Update {
    /// Blocks that became final with this piece: render them once, in order, after the earlier final blocks.
    pub finished: Vec<Block>,
    /// The growing tail, parsed leniently: replace the previous tail rendering with it.
    pub tail: Vec<Block>,
}

/// What [`IncrementalMarkdown::finish`] returns.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Finish {
    /// A link reference definition arrived after blocks that were final already (they may use it): discard every
    /// final block rendered so far; `blocks` is then the whole text.
    pub restart: bool,
    /// The last blocks (or all of them with `restart`): render them after the final ones.
    pub blocks: Vec<Block>,
}

/// Incremental parser state: the text so far, how much of it is final, and the link definitions seen.
///
/// Calling order: [`push`](Self::push) each piece as it arrives; at the end of the answer
/// [`finish`](Self::finish), which returns the last blocks (the tail parsed strictly). Pushing after `finish`
/// starts a new tail on the same text.
#[derive(Debug, Clone, Default)]
pub struct IncrementalMarkdown {
    text: String,
    committed: usize,
    refs: Refs,
    /// A definition arrived after final blocks had been returned.
    stale: bool,
}

impl IncrementalMarkdown {
    /// An empty parser.
    pub fn new() -> Self {
        Self::default()
    }

    /// The blocks a reader of `pieces`, streamed in order, ends up with: every finished block, then those of
    /// `finish` (which replace all of them when it restarts). What the streaming-invariance tests compare with a
    /// whole render.
    pub fn stream_all(pieces: &[&str]) -> Vec<Block> {
        let mut md = Self::new();
        let mut out = Vec::new();
        for p in pieces {
            out.extend(md.push(p).finished);
        }
        let f = md.finish();
        if f.restart {
            out.clear();
        }
        out.extend(f.blocks);
        out
    }

    /// All text pushed so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Byte length of the final part of the text.
    pub fn committed_len(&self) -> usize {
        self.committed
    }

    fn learn(&mut self, refs: &Refs) {
        for (k, v) in &refs.0 {
            if self.refs.insert(k, v.clone()) && self.committed > 0 {
                self.stale = true;
            }
        }
    }

    /// Appends `piece`; returns the blocks that became final and the current tail.
    pub fn push(&mut self, piece: &str) -> Update {
        self.text.push_str(piece);
        let pending = sub(&self.text, self.committed..);
        let complete = last_line_start(pending);
        let mut finished = Vec::new();
        if complete > 0 {
            let doc = block::Doc::parse(sub(pending, ..complete), false);
            // Every top-level block but the open last one is closed, and nothing later can change it.
            let (k, next) = doc.closed_top();
            if k > 0 {
                let end = next.unwrap_or(complete);
                let committed_before = self.committed;
                self.learn(&doc.refs);
                finished = doc.blocks(k, &self.refs, false);
                self.committed = committed_before + end;
            }
        }
        let tail = sub(&self.text, self.committed..);
        let doc = block::Doc::parse(hide_trailing_markup(tail), true);
        // The tail's own definitions count for it only until it is parsed again.
        let known = self.refs.0.len();
        for (k, v) in doc.refs.0.iter() {
            self.refs.insert(k, v.clone());
        }
        let tail = doc.blocks(doc.top_len(), &self.refs, true);
        self.refs.0.truncate(known);
        Update { finished, tail }
    }

    /// Ends the text: returns the remaining blocks, parsed strictly. Everything is final afterwards.
    pub fn finish(&mut self) -> Finish {
        let doc = block::Doc::parse(sub(&self.text, self.committed..), true);
        self.learn(&doc.refs);
        self.committed = self.text.len();
        if std::mem::take(&mut self.stale) {
            return Finish { restart: true, blocks: parse_blocks(&self.text, false) };
        }
        Finish { restart: false, blocks: doc.blocks(doc.top_len(), &self.refs, false) }
    }
}

/// Drops a final, incomplete line made only of markup characters (`#`, `-`, `1.`, `|`, backticks …) or opening a
/// fence: until more arrives it is unknown what it starts, and showing it raw would flicker.
fn hide_trailing_markup(tail: &str) -> &str {
    let line_start = last_line_start(tail);
    let last = sub(tail, line_start..).trim();
    let markup_only = !last.is_empty()
        && last.len() <= 12
        && last.bytes().all(|b| {
            b.is_ascii_digit()
                || matches!(
                    b,
                    b'#' | b'>' | b'-' | b'*' | b'+' | b'|' | b'`' | b'~' | b'=' | b'_' | b'.' | b')' | b':' | b' '
                )
        })
        && !last.bytes().all(|b| b.is_ascii_digit());
    // A fence line whose info string is still arriving: its language would show half a word.
    let fence = last.starts_with("```") || last.starts_with("~~~");
    if markup_only || fence {
        sub(tail, ..line_start)
    } else {
        tail
    }
}

/// Where the last line of `text` starts: after its last `\n`, or 0.
fn last_line_start(text: &str) -> usize {
    text.bytes().rposition(|b| b == b'\n').map_or(0, |i| i + 1)
}

#[cfg(test)]
mod tests;
