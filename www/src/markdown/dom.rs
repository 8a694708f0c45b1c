//! Blocks to DOM nodes through [`render`]: model text only ever becomes text nodes; element names and attributes
//! come from the closed set there. A code block with a language is highlighted by `ec-highlight.js`, a separate
//! module loaded on the first such block (spans with class names and text only).

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::UnwrapThrowExt;
use web_sys::{Document, Element, Node};

use super::bytes::sub;
use super::render::{self, Sink};
use super::{Block, IncrementalMarkdown};

/// Final blocks per `div.ec-chunk`.
pub const CHUNK: usize = 16;

/// An element rendering a growing markdown text: final blocks are appended once and kept; the tail is re-rendered.
///
/// The element's children are `div.ec-chunk`s holding the final blocks, [`CHUNK`] per chunk, followed by one
/// `div.ec-tail` holding the tail. Chunking keeps the browser's layout work per token flat: appending to a
/// container re-lays out that container's children, so a long answer must not be one long list of children.
pub struct MarkdownDom {
    doc: Document,
    root: Element,
    tail: Element,
    /// The chunk final blocks are appended to, and how many it holds.
    chunk: Option<(Element, usize)>,
    md: IncrementalMarkdown,
    /// [`finish`](Self::finish) was called: more text means starting over.
    finished: bool,
    /// The code blocks' Copy button: text and `aria-label`.
    copy: (String, String),
}

impl MarkdownDom {
    /// Takes over `root` (its children are replaced).
    pub fn new(root: Element) -> Self {
        let doc = root.owner_document().expect_throw("element has a document");
        root.set_text_content(None);
        let tail = el(&doc, "div");
        tail.set_class_name("ec-tail");
        append(&root, &tail);
        let copy = (render::COPY.0.to_owned(), render::COPY.1.to_owned());
        Self { doc, root, tail, chunk: None, md: IncrementalMarkdown::new(), finished: false, copy }
    }

    /// The code blocks' Copy button in the page's words (its text and its `aria-label`; English by default), for
    /// the blocks rendered from now on.
    pub fn set_copy_labels(&mut self, copy: &str, hint: &str) {
        self.copy = (copy.to_owned(), hint.to_owned());
    }

    /// The text rendered so far.
    pub fn text(&self) -> &str {
        self.md.text()
    }

    /// The element being rendered into.
    pub fn root(&self) -> &Element {
        &self.root
    }

    /// Appends `piece` and updates the DOM.
    pub fn push(&mut self, piece: &str) {
        let update = self.md.push(piece);
        for b in &update.finished {
            self.append_final(b);
        }
        self.render_tail(&update.tail);
    }

    /// Renders the text as complete (strict parse of the tail).
    pub fn finish(&mut self) {
        let rest = self.md.finish();
        if rest.restart {
            // A link definition arrived after blocks were final: render the whole text again.
            let md = std::mem::take(&mut self.md);
            self.restart();
            self.md = md;
        }
        for b in &rest.blocks {
            self.append_final(b);
        }
        self.tail.set_text_content(None);
        self.finished = true;
    }

    /// Brings the rendering to `text`: appends the new suffix when `text` extends what was rendered, otherwise
    /// starts over. With `complete`, the tail is finalized.
    pub fn sync(&mut self, text: &str, complete: bool) {
        let extends = text.starts_with(self.md.text());
        self.bring_to(text, complete, extends);
    }

    /// [`MarkdownDom::sync`] for a caller that only ever appends to the text it passes (a streamed answer, also
    /// when continued): the new suffix is pushed without comparing the text already rendered, which would cost the
    /// whole answer on every token. A shorter text still starts over.
    pub fn sync_appended(&mut self, text: &str, complete: bool) {
        let old_len = self.md.text().len();
        let extends = text.len() >= old_len && text.is_char_boundary(old_len);
        self.bring_to(text, complete, extends);
    }

    fn bring_to(&mut self, text: &str, complete: bool, extends: bool) {
        let old_len = self.md.text().len();
        if !extends || (self.finished && text.len() > old_len) {
            self.restart();
            self.push(text);
        } else if text.len() > old_len {
            self.push(sub(text, old_len..));
        }
        if complete && !self.finished {
            self.finish();
        }
    }

    /// Starts over on the same element: nothing rendered, the Copy labels kept.
    fn restart(&mut self) {
        let copy = std::mem::take(&mut self.copy);
        *self = Self::new(self.root.clone());
        self.copy = copy;
    }

    fn append_final(&mut self, block: &Block) {
        let node = self.render(block);
        let (chunk, count) = match self.chunk.take() {
            Some((c, n)) if n < CHUNK => (c, n),
            _ => {
                let c = el(&self.doc, "div");
                c.set_class_name("ec-chunk");
                self.root.insert_before(&c, Some(&self.tail)).expect_throw("insert chunk");
                (c, 0)
            }
        };
        append(&chunk, &node);
        self.chunk = Some((chunk, count + 1));
    }

    fn render(&self, block: &Block) -> Element {
        let mut sink = DomSink { doc: &self.doc, stack: Vec::new(), root: None, copy: (&self.copy.0, &self.copy.1) };
        render::block(&mut sink, block);
        sink.root.expect_throw("a block renders one element")
    }

    fn render_tail(&mut self, blocks: &[Block]) {
        self.tail.set_text_content(None);
        for b in blocks {
            append(&self.tail, &self.render(b));
        }
    }
}

fn el(doc: &Document, tag: &str) -> Element {
    doc.create_element(tag).expect_throw("create element")
}

fn append(parent: &Node, child: &Node) {
    parent.append_child(child).expect_throw("append child");
}

// The highlighter (ec-highlight.js, next to the glue: this snippet is snippets/<crate>-<hash>/inline0.js) loads on
// the first code block with a language, never before; a block rendered meanwhile is highlighted once it loaded, if
// still in the page. (Kept short: the snippet is part of the embed.)
#[wasm_bindgen(inline_js = "let h,l;export function ec_highlight(c,g){if(h)return h.highlight(c,g);\
l??=import('../../ec-highlight.js').then(m=>{h=m});l.then(()=>c.isConnected&&h.highlight(c,g),()=>{})}")]
extern "C" {
    /// Highlights a code block's `<code>` element (spans with class names and text only), loading the highlighter
    /// module on first use.
    fn ec_highlight(code: &Element, lang: &str);
}

/// Builds detached DOM elements from [`render`] calls.
struct DomSink<'a> {
    doc: &'a Document,
    stack: Vec<Element>,
    /// The first element opened: the block's root.
    root: Option<Element>,
    /// The Copy button's text and `aria-label`.
    copy: (&'a str, &'a str),
}

impl Sink for DomSink<'_> {
    fn open(&mut self, tag: &'static str) {
        let e = el(self.doc, tag);
        match self.stack.last() {
            Some(parent) => append(parent, &e),
            None => self.root = Some(e.clone()),
        }
        self.stack.push(e);
    }

    fn attr(&mut self, name: &'static str, value: &str) {
        if let Some(e) = self.stack.last() {
            e.set_attribute(name, value).expect_throw("set attribute");
        }
    }

    fn text(&mut self, s: &str) {
        if let Some(e) = self.stack.last() {
            append(e, &self.doc.create_text_node(s));
        }
    }

    fn close(&mut self) {
        self.stack.pop();
    }

    fn code(&mut self, lang: &str) {
        if let Some(e) = self.stack.last() {
            ec_highlight(e, lang);
        }
    }

    fn copy_labels(&mut self) {
        let (copy, hint) = self.copy;
        self.attr("aria-label", hint);
        self.text(copy);
    }
}
