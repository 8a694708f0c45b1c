//! A small block-level incremental markdown renderer for streamed, untrusted model output.
//!
//! Text arrives in pieces. [`IncrementalMarkdown::push`] appends a piece and returns the blocks that became final
//! (rendered once by the caller and kept) plus the blocks of the still-growing tail (re-rendered every time). A
//! block is final once the next block has started on a complete line, so the work per piece depends on the size of
//! the tail, not of the whole answer. [`dom::MarkdownDom`] turns the blocks into DOM nodes with text content only.
//!
//! Supported: ATX headings, paragraphs, fenced code, bullet and ordered lists (nested), block quotes, GFM pipe
//! tables, thematic breaks; inline code, strong, emphasis, strikethrough, links, autolinks, bare URLs, entities,
//! hard breaks. Raw HTML is text. Images become links.

mod block;
pub mod dom;
mod inline;

pub use block::{parse_blocks, Align, Block};
pub use inline::{parse_inlines, safe_href, Inline};

/// Blocks produced by one [`IncrementalMarkdown::push`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Update {
    /// Blocks that became final with this piece: render them once, in order, after the earlier final blocks.
    pub finished: Vec<Block>,
    /// The growing tail, parsed leniently: replace the previous tail rendering with it.
    pub tail: Vec<Block>,
}

/// Incremental parser state: the text so far and how much of it is final.
///
/// Calling order: [`push`](Self::push) each piece as it arrives; at the end of the answer
/// [`finish`](Self::finish), which returns the last blocks (the tail parsed strictly). Pushing after `finish`
/// starts a new tail on the same text.
#[derive(Debug, Clone, Default)]
pub struct IncrementalMarkdown {
    text: String,
    committed: usize,
}

impl IncrementalMarkdown {
    /// An empty parser.
    pub fn new() -> Self {
        Self::default()
    }

    /// All text pushed so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Byte length of the final part of the text.
    pub fn committed_len(&self) -> usize {
        self.committed
    }

    /// Appends `piece`; returns the blocks that became final and the current tail.
    pub fn push(&mut self, piece: &str) -> Update {
        self.text.push_str(piece);
        let pending = &self.text[self.committed..];
        let spans = block::split(pending);
        let n = spans.len();
        let keep = match spans.last() {
            Some(last) if block::first_line_complete(pending, last) => 1,
            Some(_) => 2,
            None => 0,
        };
        let mut k = n.saturating_sub(keep);
        // A block nothing can continue is final even before the next one starts.
        while k < n && spans[k].is_closed(pending) {
            k += 1;
        }
        let mut finished = Vec::with_capacity(k);
        if k > 0 {
            for s in &spans[..k] {
                finished.extend(parse_blocks(&pending[s.start..s.end], false));
            }
            self.committed += spans.get(k).map_or(spans[k - 1].end, |s| s.start);
        }
        Update { finished, tail: parse_blocks(&hide_trailing_markup(&self.text[self.committed..]), true) }
    }

    /// Ends the text: returns the remaining blocks, parsed strictly. Everything is final afterwards.
    pub fn finish(&mut self) -> Vec<Block> {
        let rest = parse_blocks(&self.text[self.committed..], false);
        self.committed = self.text.len();
        rest
    }
}

/// Drops a final, incomplete line made only of markup characters (`#`, `-`, `1.`, `|`, backticks …): until more
/// arrives it is unknown what it starts, and showing it raw would flicker.
fn hide_trailing_markup(tail: &str) -> std::borrow::Cow<'_, str> {
    let line_start = tail.rfind('\n').map_or(0, |i| i + 1);
    let last = tail[line_start..].trim();
    let markup_only = !last.is_empty()
        && last.len() <= 12
        && last.bytes().all(|b| b"#>-*+|`~=_.):0123456789 ".contains(&b))
        && !last.bytes().all(|b| b.is_ascii_digit());
    if markup_only {
        std::borrow::Cow::Owned(tail[..line_start].to_string())
    } else {
        std::borrow::Cow::Borrowed(tail)
    }
}

#[cfg(test)]
mod tests;
