//! The composer's files: an attach button (with a hidden file picker), paste and drag-and-drop anywhere on the
//! widget, and previews with a remove button; a user turn shows its files. Reading, downscaling and the checks are
//! the shared model's ([`crate::state::attach`]); this is only the view.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, Event, HtmlElement, Node};

use super::{add, attr, call, closest, create, set, set_value, text, toggle_attr, Strings, Ui, S};
use crate::json;
use crate::state::attach;
use crate::state::State;

/// The composer's attach button, file picker and previews.
pub(super) struct AttachDom {
    button: Element,
    input: HtmlElement,
    list: Element,
    /// The files and the `accept` list last rendered.
    shown: (Vec<JsValue>, String),
}

impl AttachDom {
    /// Builds the previews at the start of `form` and the button before `before`.
    pub(super) fn build(doc: &Document, form: &Element, before: &Element, t: &Strings) -> Self {
        let list = create(doc, "div", "ec-files");
        let _ = form.insert_before(&list, Some(json::get(form, "firstChild").unchecked_ref()));
        let button = create(doc, "button", "ec-btn ec-attach");
        set(
            &button,
            &[("type", "button"), ("aria-label", t.get(S::Attach)), ("title", t.get(S::Attach)), ("hidden", "")],
        );
        button.set_text_content(Some("+"));
        let input: HtmlElement = create(doc, "input", "ec-file-input").unchecked_into();
        set(&input, &[("type", "file"), ("multiple", ""), ("hidden", ""), ("tabindex", "-1")]);
        super::before(before, &button);
        let _ = form.append_child(&input);
        Self { button, input, list, shown: (Vec::new(), String::new()) }
    }

    pub(super) fn render(&mut self, doc: &Document, s: &State, t: &Strings) {
        let accept = s.accept_types();
        if self.shown.1 != accept {
            toggle_attr(&self.button, "hidden", accept.is_empty());
            attr(&self.input, "accept", &accept);
            self.shown.1 = accept;
        }
        if self.shown.0 != s.files {
            self.list.set_text_content(None);
            files(doc, &self.list, &s.files, true, t);
            self.shown.0 = s.files.clone();
        }
    }
}

/// Previews of `list` inside `parent`; `removable` adds a remove button to each (the draft's).
pub(super) fn files(doc: &Document, parent: &Node, list: &[JsValue], removable: bool, t: &Strings) {
    for f in list {
        let name = attach::name(f);
        let item = add(doc, parent, "span", "ec-file");
        match attach::preview_url(f) {
            Some(url) => set(&add(doc, &item, "img", ""), &[("src", &url), ("alt", &name)]),
            None if attach::kept(f) => {
                text(doc, &item, "span", "ec-file-name", &name);
            }
            None => {
                text(doc, &item, "span", "ec-file-name", &[&name, " (", t.get(S::NotKept), ")"].concat());
            }
        }
        if removable {
            let b = add(doc, &item, "button", "ec-btn ec-file-remove");
            let label = [t.get(S::Remove), " ", &name].concat();
            set(&b, &[("type", "button"), ("aria-label", &label), ("title", &label)]);
            b.set_text_content(Some("×"));
        }
    }
}

/// The `files` of a paste's `clipboardData` or a drop's `dataTransfer`, when it carries any.
fn carried(e: &Event, field: &str) -> Option<JsValue> {
    let files = json::get(&json::get(e, field), "files");
    (json::number(&files, "length")? > 0.0).then_some(files)
}

impl Ui {
    /// A click on the attach button or a preview's remove button (its `class`).
    pub(super) fn on_attach_click(&self, class: &str, button: &Element) {
        if class == "ec-attach" {
            // At once, inside the user's click. The input's own click comes back to the root listener, which
            // ignores it (the input is not in a button); the panel is not borrowed across that dispatch.
            let input = self.panel.borrow().as_ref().map(|p| p.attach.input.clone());
            if let Some(input) = input {
                let _ = call(&input, "click", &JsValue::UNDEFINED);
            }
        } else {
            // Its preview's place among the draft's previews.
            let mut i = 0;
            let mut item = json::get(&json::get(button, "parentElement"), "previousElementSibling");
            while item.is_object() {
                i += 1;
                item = json::get(&item, "previousElementSibling");
            }
            self.chat.remove_file(i);
        }
    }

    /// The file picker's choice.
    pub(super) fn on_attach_change(&self, e: &Event) -> bool {
        let Some(input) = closest(e, ".ec-file-input") else { return false };
        if let Ok(files) = js_sys::Reflect::get(&input, &"files".into()) {
            self.chat.attach(files);
        }
        // The same file can be chosen again.
        set_value(&input, "");
        true
    }

    /// A paste with files (text pastes go on as usual).
    pub(super) fn on_paste(&self, e: &Event) {
        if let Some(files) = carried(e, "clipboardData").filter(|_| self.chat.state().accepts() != (false, false)) {
            super::prevent(e);
            self.chat.attach(files);
        }
    }

    /// `dragover` and `drop` of files anywhere on the widget.
    pub(super) fn on_drag(&self, e: &Event) {
        if self.chat.state().accepts() == (false, false) {
            return;
        }
        super::prevent(e);
        if json::string(e, "type").as_deref() == Some("drop") {
            if let Some(files) = carried(e, "dataTransfer") {
                self.chat.attach(files);
            }
        }
    }
}
