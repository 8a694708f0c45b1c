//! One turn's DOM: the user's bubble with its Edit button, or the answer — its reasoning (a growing text node), its
//! markdown (handed only the new suffix while it streams) and its parts (thinking, reconnecting, badges, error, tool
//! calls, usage and buttons), rebuilt only when their [`Look`] changes.

use edgechat::conversation::Role;
use web_sys::{Document, Element, Node, Text};

use super::{add, button, create, set, text};
use crate::api::{ChatError, UsageInfo};
use crate::markdown::dom::MarkdownDom;
use crate::state::{Status, Turn};

/// What a turn shows besides its text; its parts are rebuilt only when this changes.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Look {
    pub(super) status: Status,
    pub(super) empty: bool,
    pub(super) reconnecting: bool,
    pub(super) usage: Option<UsageInfo>,
    /// Tool calls shown.
    pub(super) calls: usize,
    /// Last turn and idle: Retry and Regenerate.
    pub(super) retry: bool,
    /// Continue is offered.
    pub(super) cont: bool,
    /// Edit is offered (the last user turn, idle).
    pub(super) edit: bool,
}

pub(super) struct TurnDom {
    pub(super) id: u32,
    pub(super) root: Element,
    /// The answer's markdown, with the text length and completeness it was last synced at (`None`: a user turn).
    md: Option<(MarkdownDom, (usize, bool))>,
    /// The answer's reasoning: a collapsed `<details>` before the text, and the text node that grows.
    reasoning: Option<(Element, Text, usize)>,
    look: Option<Look>,
    /// The error shown (it belongs to the look, kept apart so that comparing does not clone it).
    error: Option<ChatError>,
    /// The parts after the text (thinking, reconnecting, badges, error, meta).
    parts: Vec<Element>,
}

impl TurnDom {
    pub(super) fn build(doc: &Document, t: &Turn) -> Self {
        let (root, md) = if t.role == Role::User {
            let root = create(doc, "div", "ec-turn ec-user");
            if !t.files.is_empty() {
                super::attach::files(doc, &add(doc, &root, "div", "ec-files"), &t.files, false);
            }
            if !t.text.is_empty() {
                text(doc, &root, "div", "ec-bubble", &t.text);
            }
            (root, None)
        } else {
            let root = create(doc, "div", "ec-turn ec-assistant");
            let md = MarkdownDom::new(add(doc, &root, "div", "ec-md"));
            (root, Some((md, (0, false))))
        };
        Self { id: t.id, root, md, reasoning: None, look: None, error: None, parts: Vec::new() }
    }

    pub(super) fn render(&mut self, doc: &Document, t: &Turn, look: Look) {
        if let Some((md, synced)) = &mut self.md {
            // An answer's text only grows while it streams (a continued answer too).
            let now = (t.text.len(), t.status != Status::Streaming);
            if *synced != now {
                md.sync_appended(&t.text, now.1);
                *synced = now;
            }
        }
        if self.reasoning.as_ref().map_or(0, |r| r.2) != t.reasoning.len() {
            if let Some(md) = self.md.as_ref().map(|(md, ..)| md.root().clone()) {
                self.render_reasoning(doc, &t.reasoning, &md);
            }
        }
        if self.look.as_ref() == Some(&look) && self.error.as_ref() == t.error.as_ref() {
            return;
        }
        self.error = t.error.clone();
        self.parts.drain(..).for_each(|p| p.remove());
        let frag = doc.create_document_fragment();
        if self.md.is_none() {
            if look.edit {
                self.parts.push(button(doc, &frag, "ec-btn ec-link ec-edit", "Edit"));
            }
        } else {
            self.assistant_parts(doc, &frag, &look, t);
        }
        let _ = self.root.append_child(&frag);
        self.look = Some(look);
    }

    /// Appends what arrived of the reasoning (a text node grows; nothing is re-rendered).
    fn render_reasoning(&mut self, doc: &Document, reasoning: &str, md: &Element) {
        let shown = self.reasoning.as_ref().map_or(0, |r| r.2);
        if reasoning.is_empty() || reasoning.len() < shown || !reasoning.is_char_boundary(shown) {
            if let Some((details, ..)) = self.reasoning.take() {
                details.remove();
            }
            if reasoning.is_empty() {
                return;
            }
        }
        let (_, node, len) = self.reasoning.get_or_insert_with(|| {
            let details = create(doc, "details", "ec-reasoning");
            text(doc, &details, "summary", "", "Reasoning");
            let body = add(doc, &details, "div", "ec-reasoning-text");
            let node = doc.create_text_node("");
            let _ = body.append_child(&node);
            let _ = md.before_with_node_1(&details);
            (details, node, 0)
        });
        let _ = node.append_data(&reasoning[*len..]);
        *len = reasoning.len();
    }

    fn assistant_parts(&mut self, doc: &Document, frag: &Node, look: &Look, t: &Turn) {
        let _ = self.root.set_attribute("data-status", look.status.as_str());
        let streaming = look.status == Status::Streaming;
        if streaming && look.empty {
            let p = add(doc, frag, "p", "ec-thinking");
            let _ = add(doc, &p, "span", "ec-dots").set_attribute("aria-hidden", "true");
            let _ = p.append_with_str_1("Thinking…");
            self.parts.push(p);
        }
        if !t.tool_calls.is_empty() {
            let list = add(doc, frag, "ul", "ec-calls");
            let _ = list.set_attribute("aria-label", "Tool calls");
            for c in &t.tool_calls {
                let li = add(doc, &list, "li", "");
                let _ = li.append_with_str_1("Tool call ");
                text(doc, &li, "code", "ec-call-name", &c.name);
                let _ = li.append_with_str_1(" ");
                text(doc, &li, "code", "ec-call-args", &c.arguments);
            }
            self.parts.push(list);
        }
        if look.reconnecting {
            let p = text(doc, frag, "p", "ec-reconnecting", "Reconnecting…");
            let _ = p.set_attribute("role", "status");
            self.parts.push(p);
        }
        if look.status == Status::Stopped {
            self.parts.push(text(doc, frag, "p", "ec-badge ec-stopped", "Stopped"));
        }
        if let Some(e) = &self.error {
            let d = add(doc, frag, "div", "ec-error");
            set(&d, &[("role", "alert"), ("data-kind", e.kind.as_str())]);
            text(doc, &d, "strong", "", &e.summary());
            let _ = d.append_with_str_1(" ");
            text(doc, &d, "span", "", &e.message);
            if look.retry {
                button(doc, &d, "ec-btn ec-retry", "Retry");
            }
            self.parts.push(d);
        }
        let meta = add(doc, frag, "div", "ec-meta");
        if let Some(u) = &look.usage {
            let (short, long) = usage_note(u);
            let small = text(doc, &meta, "small", "ec-usage", &short);
            let _ = small.set_attribute("title", &long);
        }
        if look.cont {
            let b = button(doc, &meta, "ec-btn ec-link ec-continue", "Continue");
            let _ = b.set_attribute("aria-label", "Continue this answer from where it stopped");
        }
        if look.retry && look.status != Status::Failed && !streaming {
            button(doc, &meta, "ec-btn ec-link ec-regen", "Regenerate");
        }
        self.parts.push(meta);
    }
}

/// `$0.0012`-style, `places` decimals, without pulling float formatting into the wasm.
fn dollars(c: f64, places: u32) -> String {
    let scale = 10u64.pow(places);
    let n = (c.max(0.0) * scale as f64 + 0.5) as u64;
    format!("${}.{:0width$}", n / scale, n % scale, width = places as usize)
}

/// The footnote and its tooltip.
fn usage_note(u: &UsageInfo) -> (String, String) {
    let cost = u.cost_usd.map(|c| format!(" · {}", dollars(c, 4))).unwrap_or_default();
    let est = if u.estimated { " (estimated)" } else { "" };
    let short = format!("{} in · {} out{cost}{est}", u.input_tokens, u.output_tokens);
    let long = format!(
        "Input tokens: {}, cached: {}, output tokens: {}, cost: {}{est}",
        u.input_tokens,
        u.cache_read_input_tokens,
        u.output_tokens,
        u.cost_usd.map_or("unknown".to_string(), |c| dollars(c, 6))
    );
    (short, long)
}
