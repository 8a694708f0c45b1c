//! Blocks to DOM nodes. Model text only ever becomes text nodes; element names and attributes come from a closed
//! set chosen here, and a link's `href` is set only after [`super::safe_href`] accepted it.

use wasm_bindgen::UnwrapThrowExt;
use web_sys::{Document, Element, Node};

use super::{Align, Block, IncrementalMarkdown, Inline};

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
}

impl MarkdownDom {
    /// Takes over `root` (its children are replaced).
    pub fn new(root: Element) -> Self {
        let doc = root.owner_document().expect_throw("element has a document");
        root.set_text_content(None);
        let tail = el(&doc, "div");
        tail.set_class_name("ec-tail");
        append(&root, &tail);
        Self { doc, root, tail, chunk: None, md: IncrementalMarkdown::new(), finished: false }
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
        for b in &rest {
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
            *self = Self::new(self.root.clone());
            self.push(text);
        } else if text.len() > old_len {
            self.push(&text[old_len..]);
        }
        if complete && !self.finished {
            self.finish();
        }
    }

    fn append_final(&mut self, block: &Block) {
        let node = render_block(&self.doc, block);
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

    fn render_tail(&mut self, blocks: &[Block]) {
        self.tail.set_text_content(None);
        for b in blocks {
            append(&self.tail, &render_block(&self.doc, b));
        }
    }
}

fn el(doc: &Document, tag: &str) -> Element {
    doc.create_element(tag).expect_throw("create element")
}

fn append(parent: &Node, child: &Node) {
    parent.append_child(child).expect_throw("append child");
}

fn text(doc: &Document, parent: &Node, s: &str) {
    append(parent, &doc.create_text_node(s));
}

fn with_inlines(doc: &Document, tag: &str, content: &[Inline]) -> Element {
    let e = el(doc, tag);
    render_inlines(doc, &e, content);
    e
}

/// Renders one block as a detached element.
pub fn render_block(doc: &Document, block: &Block) -> Element {
    match block {
        Block::Heading { level, content } => {
            with_inlines(doc, ["h1", "h2", "h3", "h4", "h5", "h6"][(*level as usize).clamp(1, 6) - 1], content)
        }
        Block::Paragraph(content) => with_inlines(doc, "p", content),
        Block::Code { lang, code } => render_code(doc, lang, code),
        Block::List { ordered, start, items } => {
            let list = el(doc, if *ordered { "ol" } else { "ul" });
            if *ordered && *start != 1 {
                list.set_attribute("start", &start.to_string()).expect_throw("set start");
            }
            for item in items {
                let li = el(doc, "li");
                for (i, b) in item.iter().enumerate() {
                    match b {
                        // A tight item's leading paragraph renders inline, without a <p>.
                        Block::Paragraph(content) if i == 0 => render_inlines(doc, &li, content),
                        _ => append(&li, &render_block(doc, b)),
                    }
                }
                append(&list, &li);
            }
            list
        }
        Block::Quote(blocks) => {
            let q = el(doc, "blockquote");
            for b in blocks {
                append(&q, &render_block(doc, b));
            }
            q
        }
        Block::Table { head, align, rows } => render_table(doc, head, align, rows),
        Block::Rule => el(doc, "hr"),
    }
}

fn render_code(doc: &Document, lang: &str, code: &str) -> Element {
    let wrap = el(doc, "div");
    wrap.set_class_name("ec-code");
    let head = el(doc, "div");
    head.set_class_name("ec-code-head");
    let label = el(doc, "span");
    label.set_text_content(Some(if lang.is_empty() { "code" } else { lang }));
    append(&head, &label);
    let button = el(doc, "button");
    button.set_class_name("ec-copy");
    for (k, v) in [("type", "button"), ("aria-label", "Copy code")] {
        button.set_attribute(k, v).expect_throw("set attribute");
    }
    button.set_text_content(Some("Copy"));
    append(&head, &button);
    let pre = el(doc, "pre");
    let c = el(doc, "code");
    c.set_text_content(Some(code));
    append(&pre, &c);
    append(&wrap, &head);
    append(&wrap, &pre);
    wrap
}

fn render_table(doc: &Document, head: &[Vec<Inline>], align: &[Align], rows: &[Vec<Vec<Inline>>]) -> Element {
    let wrap = el(doc, "div");
    wrap.set_class_name("ec-table");
    let table = el(doc, "table");
    let row = |cells: &[Vec<Inline>], tag: &str| {
        let tr = el(doc, "tr");
        for (i, cell) in cells.iter().enumerate() {
            let c = with_inlines(doc, tag, cell);
            let class = match align.get(i) {
                Some(Align::Left) => "ec-l",
                Some(Align::Center) => "ec-c",
                Some(Align::Right) => "ec-r",
                _ => "",
            };
            if !class.is_empty() {
                c.set_class_name(class);
            }
            append(&tr, &c);
        }
        tr
    };
    let thead = el(doc, "thead");
    append(&thead, &row(head, "th"));
    append(&table, &thead);
    if !rows.is_empty() {
        let tbody = el(doc, "tbody");
        for r in rows {
            append(&tbody, &row(r, "td"));
        }
        append(&table, &tbody);
    }
    append(&wrap, &table);
    wrap
}

/// Appends inline content to `parent`.
pub fn render_inlines(doc: &Document, parent: &Node, content: &[Inline]) {
    for i in content {
        match i {
            Inline::Text(s) => text(doc, parent, s),
            Inline::Code(s) => {
                let c = el(doc, "code");
                c.set_text_content(Some(s));
                append(parent, &c);
            }
            Inline::Strong(c) => append(parent, &with_inlines(doc, "strong", c)),
            Inline::Em(c) => append(parent, &with_inlines(doc, "em", c)),
            Inline::Del(c) => append(parent, &with_inlines(doc, "del", c)),
            Inline::Link { href, children } => {
                let a = with_inlines(doc, "a", children);
                if let Some(safe) = super::safe_href(href) {
                    for (k, v) in [
                        ("href", safe),
                        ("rel", "noopener noreferrer nofollow"),
                        ("target", "_blank"),
                        ("referrerpolicy", "no-referrer"),
                    ] {
                        a.set_attribute(k, v).expect_throw("set attribute");
                    }
                }
                append(parent, &a);
            }
            Inline::PendingLink(c) => {
                let s = with_inlines(doc, "span", c);
                s.set_class_name("ec-link-pending");
                append(parent, &s);
            }
            Inline::Break => append(parent, &el(doc, "br")),
        }
    }
}
