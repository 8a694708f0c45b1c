//! One turn's DOM: the user's bubble with its Edit button, or the answer — its reasoning (a growing text node), its
//! markdown (handed only the new suffix while it streams) and its parts (thinking, reconnecting, badges, error, tool
//! calls, usage and buttons), rebuilt only when their [`Look`] changes.

use edgechat::conversation::Role;
use web_sys::{Document, Element, Node, Text};

use super::strings::{error_label, error_text, fill, num};
use super::{add, append_text, attr, button, create, set, text, Strings, S};
use crate::api::{ChatError, UsageInfo};
use crate::markdown::dom::MarkdownDom;
use crate::state::{Status, Turn};

/// What a turn shows besides its text; its parts are rebuilt only when this changes.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Look {
    pub(super) status: Status,
    pub(super) empty: bool,
    pub(super) reconnecting: bool,
    /// The usage of the question's tool steps up to this answer, and how many steps that is.
    pub(super) usage: Option<(UsageInfo, usize)>,
    /// Tool calls shown, their results in, the call waiting for the user's answer, and whether its tools run now.
    pub(super) calls: (usize, usize, Option<String>, bool),
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
    pub(super) fn build(doc: &Document, t: &Turn, strings: &Strings) -> Self {
        let (root, md) = if t.role == Role::User {
            let root = create(doc, "div", "ec-turn ec-user");
            if !t.files.is_empty() {
                super::attach::files(doc, &add(doc, &root, "div", "ec-files"), &t.files, false, strings);
            }
            if !t.text.is_empty() {
                text(doc, &root, "div", "ec-bubble", &t.text);
            }
            (root, None)
        } else {
            let root = create(doc, "div", "ec-turn ec-assistant");
            let mut md = MarkdownDom::new(add(doc, &root, "div", "ec-md"));
            md.set_copy_labels(strings.get(S::Copy), strings.get(S::CopyCode));
            (root, Some((md, (0, false))))
        };
        Self { id: t.id, root, md, reasoning: None, look: None, error: None, parts: Vec::new() }
    }

    pub(super) fn render(&mut self, doc: &Document, t: &Turn, look: Look, strings: &Strings) {
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
                self.render_reasoning(doc, &t.reasoning, &md, strings.get(S::Reasoning));
            }
        }
        if self.look.as_ref() == Some(&look) && self.error.as_ref() == t.error.as_ref() {
            return;
        }
        self.error = t.error.clone();
        self.parts.drain(..).for_each(|p| p.remove());
        // The parts are the turn's last children.
        let root = self.root.clone();
        if self.md.is_none() {
            if look.edit {
                self.parts.push(button(doc, &root, "ec-btn ec-link ec-edit", strings.get(S::Edit)));
            }
        } else {
            self.assistant_parts(doc, &root, &look, t, strings);
        }
        self.look = Some(look);
    }

    /// Appends what arrived of the reasoning (a text node grows; nothing is re-rendered).
    fn render_reasoning(&mut self, doc: &Document, reasoning: &str, md: &Element, label: &str) {
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
            text(doc, &details, "summary", "", label);
            let body = add(doc, &details, "div", "ec-reasoning-text");
            let node = doc.create_text_node("");
            let _ = body.append_child(&node);
            super::before(md, &details);
            (details, node, 0)
        });
        let _ = super::call(node, "appendData", &reasoning.get(*len..).unwrap_or_default().into());
        *len = reasoning.len();
    }

    fn assistant_parts(&mut self, doc: &Document, frag: &Node, look: &Look, t: &Turn, s: &Strings) {
        attr(&self.root, "data-status", look.status.as_str());
        let streaming = look.status == Status::Streaming;
        if streaming && look.empty && t.tool_calls.is_empty() {
            let p = add(doc, frag, "p", "ec-thinking");
            attr(&add(doc, &p, "span", "ec-dots"), "aria-hidden", "true");
            append_text(doc, &p, s.get(S::Thinking));
            self.parts.push(p);
        }
        if !t.tool_calls.is_empty() {
            self.parts.push(calls(doc, frag, t, (look.calls.2.as_deref(), look.calls.3), s));
        }
        if look.reconnecting {
            let p = text(doc, frag, "p", "ec-reconnecting", s.get(S::Reconnecting));
            attr(&p, "role", "status");
            self.parts.push(p);
        }
        if look.status == Status::Stopped {
            self.parts.push(text(doc, frag, "p", "ec-badge ec-stopped", s.get(S::Stopped)));
        }
        if let Some(e) = &self.error {
            let d = add(doc, frag, "div", "ec-error");
            set(&d, &[("role", "alert"), ("data-kind", e.kind.as_str())]);
            text(doc, &d, "strong", "", &error_label(e, s));
            append_text(doc, &d, " ");
            text(doc, &d, "span", "", &error_text(e, s));
            if look.retry {
                button(doc, &d, "ec-btn ec-retry", s.get(S::Retry));
            }
            self.parts.push(d);
        }
        let meta = add(doc, frag, "div", "ec-meta");
        if let (Some((total, steps)), Some(own)) = (&look.usage, &t.usage) {
            let (short, long) = usage_note(total, *steps, own, s);
            let small = text(doc, &meta, "small", "ec-usage", &short);
            attr(&small, "title", &long);
        }
        if look.cont {
            let b = button(doc, &meta, "ec-btn ec-link ec-continue", s.get(S::Continue));
            attr(&b, "aria-label", s.get(S::ContinueHint));
        }
        if look.retry && look.status != Status::Failed && !streaming {
            button(doc, &meta, "ec-btn ec-link ec-regen", s.get(S::Regenerate));
        }
        self.parts.push(meta);
    }
}

/// The answer's tool calls: each call's name and arguments, then its result (text in a `<pre>`, never markup),
/// the question whether to run it, or that it is running.
fn calls(doc: &Document, frag: &Node, t: &Turn, (waiting, active): (Option<&str>, bool), s: &Strings) -> Element {
    let list = add(doc, frag, "ul", "ec-calls");
    attr(&list, "aria-label", s.get(S::ToolCalls));
    for c in &t.tool_calls {
        let li = add(doc, &list, "li", "ec-call");
        text(doc, &li, "code", "ec-call-name", &c.name);
        append_text(doc, &li, " ");
        text(doc, &li, "code", "ec-call-args", &c.arguments);
        let state = match t.result_of(&c.id) {
            Some(r) => {
                let out = add(doc, &li, "div", "ec-result");
                if r.is_error {
                    text(doc, &out, "span", "", s.get(S::ToolFailed));
                }
                text(doc, &out, "pre", "", &r.content);
                if r.is_error {
                    "error"
                } else {
                    "done"
                }
            }
            None if waiting == Some(c.id.as_str()) => {
                let ask = add(doc, &li, "div", "ec-confirm");
                attr(&ask, "role", "group");
                text(doc, &ask, "span", "", s.get(S::Confirm));
                button(doc, &ask, "ec-btn ec-primary ec-allow", s.get(S::Allow));
                button(doc, &ask, "ec-btn ec-deny", s.get(S::Deny));
                "confirm"
            }
            None if active => {
                attr(&text(doc, &li, "span", "ec-running", s.get(S::Running)), "role", "status");
                "running"
            }
            None => "asked",
        };
        attr(&li, "data-state", state);
    }
    list
}

/// `$0.0012`-style, `places` decimals, without pulling float formatting into the wasm.
fn dollars(c: f64, places: u32) -> String {
    let scale = 10u64.pow(places);
    let n = (c.max(0.0) * scale as f64 + 0.5) as u64;
    // `scale + fraction` has a leading 1 before the zero-padded fraction.
    ["$", &num(n / scale), ".", num(scale + n % scale).get(1..).unwrap_or_default()].concat()
}

/// The footnote (the question's `total` over its `steps`) and its tooltip (this request's `own` usage).
fn usage_note(total: &UsageInfo, steps: usize, own: &UsageInfo, s: &Strings) -> (String, String) {
    let note = |t: S, u: &UsageInfo| {
        let cost = u.cost_usd.map_or_else(|| s.get(S::Unknown).to_string(), |c| dollars(c, 6));
        let (i, o, c) = (num(u.input_tokens), num(u.output_tokens), num(u.cache_read_input_tokens));
        let mut t = fill(s.get(t), &[('i', &i), ('o', &o), ('c', &c), ('$', &cost)]);
        if u.estimated {
            t = [&t, " ", s.get(S::Estimated)].concat();
        }
        t
    };
    let mut short = fill(s.get(S::Usage), &[('i', &num(total.input_tokens)), ('o', &num(total.output_tokens))]);
    if let Some(c) = total.cost_usd {
        short = [&short, " · ", &dollars(c, 4)].concat();
    }
    if total.estimated {
        short = [&short, " ", s.get(S::Estimated)].concat();
    }
    if steps > 1 {
        short = [&short, " · ", &s.n(S::Steps, steps as u64)].concat();
    }
    (short, note(S::UsageDetail, own))
}
