//! The one mapping from blocks to markup, written to a [`Sink`]: the DOM ([`super::dom`]) in the browser, or HTML
//! text ([`Html`]) for native tests and the CommonMark spec suite, so what is tested is what the widget renders.
//! Element names and attributes come from a closed set chosen here; model text only ever goes through
//! [`Sink::text`], and a link's `href` is set only after [`super::safe_href`] accepted it.

use super::{safe_href, Align, Block, Inline};

/// Where markup goes. Calls nest: `open`, its `attr`s, its content, `close`.
pub trait Sink {
    /// Starts an element (a child of the open one).
    fn open(&mut self, tag: &'static str);
    /// Sets an attribute on the element just opened.
    fn attr(&mut self, name: &'static str, value: &str);
    /// Appends a text node.
    fn text(&mut self, s: &str);
    /// Ends the open element.
    fn close(&mut self);
    /// The `<code>` element of a code block in language `lang` (not empty) is open and holds its text.
    fn code(&mut self, _lang: &str) {}
    /// Labels the open Copy button of a code block: its `aria-label` and its text ([`COPY`] unless the sink has
    /// the page's own words).
    fn copy_labels(&mut self) {
        self.attr("aria-label", COPY.1);
        self.text(COPY.0);
    }
}

/// The code blocks' Copy button in English: its text and its `aria-label`.
pub const COPY: (&str, &str) = ("Copy", "Copy code");

fn leaf<S: Sink>(out: &mut S, tag: &'static str, text: &str) {
    out.open(tag);
    out.text(text);
    out.close();
}

/// Writes one block.
pub fn block<S: Sink>(out: &mut S, this: &Block) {
    match this {
        Block::Heading { level, content } => {
            out.open(["h1", "h2", "h3", "h4", "h5", "h6"][(*level as usize).clamp(1, 6) - 1]);
            inlines(out, content);
            out.close();
        }
        Block::Paragraph(content) => {
            out.open("p");
            inlines(out, content);
            out.close();
        }
        Block::Code { lang, code } => {
            out.open("div");
            out.attr("class", "ec-code");
            out.open("div");
            out.attr("class", "ec-code-head");
            leaf(out, "span", if lang.is_empty() { "code" } else { lang });
            out.open("button");
            out.attr("class", "ec-copy");
            out.attr("type", "button");
            out.copy_labels();
            out.close();
            out.close();
            out.open("pre");
            out.open("code");
            if !lang.is_empty() {
                out.attr("class", &(String::from("language-") + lang));
            }
            out.text(code);
            if !lang.is_empty() {
                out.code(lang);
            }
            out.close();
            out.close();
            out.close();
        }
        Block::List { ordered, start, tight, items } => {
            out.open(if *ordered { "ol" } else { "ul" });
            if *ordered && *start != 1 {
                out.attr("start", &start.to_string());
            }
            for item in items {
                out.open("li");
                if let Some(checked) = item.task {
                    out.attr("class", "ec-task");
                    out.open("input");
                    out.attr("type", "checkbox");
                    out.attr("disabled", "");
                    if checked {
                        out.attr("checked", "");
                    }
                    out.close();
                    out.text(" ");
                }
                for b in &item.blocks {
                    match b {
                        // A tight list's paragraphs render without <p>.
                        Block::Paragraph(content) if *tight => inlines(out, content),
                        _ => block(out, b),
                    }
                }
                out.close();
            }
            out.close();
        }
        Block::Quote(blocks) => {
            out.open("blockquote");
            for b in blocks {
                block(out, b);
            }
            out.close();
        }
        Block::Table { head, align, rows } => {
            out.open("div");
            out.attr("class", "ec-table");
            out.open("table");
            out.open("thead");
            row(out, head, align, "th");
            out.close();
            if !rows.is_empty() {
                out.open("tbody");
                for r in rows {
                    row(out, r, align, "td");
                }
                out.close();
            }
            out.close();
            out.close();
        }
        Block::Rule => {
            out.open("hr");
            out.close();
        }
    }
}

fn row<S: Sink>(out: &mut S, cells: &[Vec<Inline>], align: &[Align], tag: &'static str) {
    out.open("tr");
    for (i, cell) in cells.iter().enumerate() {
        out.open(tag);
        let class = match align.get(i) {
            Some(Align::Left) => "ec-l",
            Some(Align::Center) => "ec-c",
            Some(Align::Right) => "ec-r",
            _ => "",
        };
        if !class.is_empty() {
            out.attr("class", class);
        }
        inlines(out, cell);
        out.close();
    }
    out.close();
}

/// Writes inline content.
pub fn inlines<S: Sink>(out: &mut S, content: &[Inline]) {
    for i in content {
        let (tag, kids) = match i {
            Inline::Text(s) => {
                out.text(s);
                continue;
            }
            Inline::Code(s) => {
                leaf(out, "code", s);
                continue;
            }
            Inline::Break => {
                out.open("br");
                out.close();
                continue;
            }
            Inline::Link { href, children } => {
                out.open("a");
                if let Some(safe) = safe_href(href) {
                    out.attr("href", &safe);
                    out.attr("rel", "noopener noreferrer nofollow");
                    out.attr("target", "_blank");
                    out.attr("referrerpolicy", "no-referrer");
                }
                inlines(out, children);
                out.close();
                continue;
            }
            Inline::PendingLink(c) => {
                out.open("span");
                out.attr("class", "ec-link-pending");
                inlines(out, c);
                out.close();
                continue;
            }
            Inline::Strong(c) => ("strong", c),
            Inline::Em(c) => ("em", c),
            Inline::Del(c) => ("del", c),
        };
        out.open(tag);
        inlines(out, kids);
        out.close();
    }
}

/// HTML text, escaped (for tests and tools; the widget writes to the DOM).
#[derive(Debug, Default)]
pub struct Html {
    /// The HTML so far.
    pub out: String,
    stack: Vec<&'static str>,
    /// The last start tag is still open for attributes.
    in_tag: bool,
}

impl Html {
    fn end_tag(&mut self) {
        if std::mem::take(&mut self.in_tag) {
            self.out.push('>');
        }
    }

    fn escape(&mut self, s: &str) {
        for c in s.chars() {
            match c {
                '&' => self.out.push_str("&amp;"),
                '<' => self.out.push_str("&lt;"),
                '>' => self.out.push_str("&gt;"),
                '"' => self.out.push_str("&quot;"),
                _ => self.out.push(c),
            }
        }
    }
}

impl Sink for Html {
    fn open(&mut self, tag: &'static str) {
        self.end_tag();
        self.out.push('<');
        self.out.push_str(tag);
        self.stack.push(tag);
        self.in_tag = true;
    }

    fn attr(&mut self, name: &'static str, value: &str) {
        self.out.push(' ');
        self.out.push_str(name);
        self.out.push_str("=\"");
        self.escape(value);
        self.out.push('"');
    }

    fn text(&mut self, s: &str) {
        self.end_tag();
        self.escape(s);
    }

    fn close(&mut self) {
        self.end_tag();
        let tag = self.stack.pop().unwrap_or("p");
        if !matches!(tag, "br" | "hr" | "input") {
            self.out.push_str("</");
            self.out.push_str(tag);
            self.out.push('>');
        }
    }
}

/// Blocks as HTML text.
pub fn to_html(blocks: &[Block]) -> String {
    let mut h = Html::default();
    for b in blocks {
        block(&mut h, b);
        h.out.push('\n');
    }
    h.out
}
