//! A thread's settings panel: its system prompt (when the edge accepts one), temperature and max tokens, and the
//! structured-output mode with its JSON Schema editor, whose errors are shown as the schema is typed.
//!
//! Drawn with DOM calls into the element the app gives (its `<section id="thread-settings">`); the settings are
//! the app's stored form (`{system, temperature, max_tokens, structured, schema}`, `www/app/src/threads/mod.rs`),
//! changed in place and handed back to the app after each change. The edge's config (whether it accepts a system
//! prompt, its max tokens) comes with [`Panel::set_config`], when the app has it.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Element, Event, HtmlInputElement, HtmlTextAreaElement};

use crate::dom::add;
use crate::js;

/// A starting schema for the editor.
pub const EXAMPLE: &str = r#"{
  "type": "object",
  "properties": {
    "city": { "type": "string" },
    "population": { "type": "integer", "minimum": 0 },
    "landmarks": { "type": "array", "items": { "type": "string" } }
  },
  "required": ["city", "population", "landmarks"],
  "additionalProperties": false
}"#;

type Listener = Closure<dyn FnMut(Event)>;

/// The schema editor, shown in structured-output mode.
struct Editor {
    label: Element,
    input: HtmlTextAreaElement,
    check: Element,
}

/// The panel: the settings, the edge's limits, the fields and the listeners (on the panel's element).
pub struct Panel {
    root: Element,
    settings: JsValue,
    on_change: js_sys::Function,
    allow_system: Cell<Option<bool>>,
    limit: Cell<Option<u32>>,
    /// The system prompt's field (its textarea when the edge accepts one) or the note that it does not.
    system: RefCell<(Element, Option<HtmlTextAreaElement>)>,
    row: Element,
    temperature: HtmlInputElement,
    max_tokens: HtmlInputElement,
    problem: RefCell<Option<Element>>,
    toggle: HtmlInputElement,
    editor: RefCell<Option<Editor>>,
    listeners: RefCell<Vec<(&'static str, Listener)>>,
}

fn input(parent: &Element, attrs: &[(&str, &str)]) -> HtmlInputElement {
    let i = add(parent, "input", "", "");
    for (k, v) in attrs {
        let _ = i.set_attribute(k, v);
    }
    i.unchecked_into()
}

impl Panel {
    /// Draws the panel into `root` (emptied first) for `settings`; `on_change` gets them after each change.
    pub fn mount(root: Element, settings: JsValue, on_change: js_sys::Function) -> Rc<Self> {
        root.set_text_content(None);
        let system = add(&root, "p", "", "");
        let row = add(&root, "div", "row", "");
        let field = add(&row, "label", "field", "Temperature");
        let temperature = input(
            &field,
            &[
                ("type", "number"),
                ("min", "0"),
                ("max", "2"),
                ("step", "0.1"),
                ("inputmode", "decimal"),
                ("placeholder", "default"),
            ],
        );
        let field = add(&row, "label", "field", "Max tokens");
        let max_tokens = input(&field, &[("type", "number"), ("min", "1"), ("step", "1"), ("inputmode", "numeric")]);
        let check = add(&root, "label", "check-field", "");
        let toggle = input(&check, &[("type", "checkbox"), ("class", "structured-toggle")]);
        let _ = check.append_with_str_1(" Structured output: answers are JSON checked against a schema");
        let panel = Rc::new(Self {
            root,
            settings,
            on_change,
            allow_system: Cell::new(None),
            limit: Cell::new(None),
            system: RefCell::new((system, None)),
            row,
            temperature,
            max_tokens,
            problem: RefCell::new(None),
            toggle,
            editor: RefCell::new(None),
            listeners: RefCell::new(Vec::new()),
        });
        panel.temperature.set_value(&panel.number("temperature").map(js::number).unwrap_or_default());
        panel.max_tokens.set_value(&panel.number("max_tokens").map(js::number).unwrap_or_default());
        panel.toggle.set_checked(panel.structured());
        panel.set_config(false, None);
        panel.show_editor();
        panel.on("change", Self::changed);
        panel.on("input", Self::input);
        panel
    }

    /// The edge's config: whether it accepts a system prompt, and its most output tokens.
    pub fn set_config(&self, allow_system: bool, limit: Option<u32>) {
        if self.allow_system.replace(Some(allow_system)) != Some(allow_system) {
            let (node, text) = if allow_system {
                let label = add(&self.root, "label", "field", "System prompt");
                let text: HtmlTextAreaElement = add(&label, "textarea", "", "").unchecked_into();
                let _ = text.set_attribute("rows", "3");
                let _ = text.set_attribute("placeholder", "Optional: instructions for this thread");
                text.set_value(&self.text("system"));
                (label, Some(text))
            } else {
                let note = "Instructions and page context come from the edge; it does not accept a system prompt from the app.";
                (add(&self.root, "p", "note", note), None)
            };
            let mut system = self.system.borrow_mut();
            let _ = system.0.replace_with_with_node_1(&node);
            *system = (node, text);
        }
        self.limit.set(limit);
        let _ = match limit {
            Some(m) => self.max_tokens.set_attribute("max", &m.to_string()),
            None => self.max_tokens.remove_attribute("max"),
        };
        let placeholder = limit.map_or("default".to_string(), |m| format!("up to {m}"));
        let _ = self.max_tokens.set_attribute("placeholder", &placeholder);
    }

    /// Calls `f` on each `event` in the panel while it lives.
    fn on(self: &Rc<Self>, event: &'static str, f: fn(&Self, &JsValue)) {
        let weak: Weak<Self> = Rc::downgrade(self);
        let c = Listener::new(move |e: Event| {
            if let (Some(p), Some(t)) = (weak.upgrade(), e.target()) {
                f(&p, &t.into());
            }
        });
        let _ = self.root.add_event_listener_with_callback(event, c.as_ref().unchecked_ref());
        self.listeners.borrow_mut().push((event, c));
    }

    /// A field's value was changed (`change`: the system prompt, temperature, max tokens, the mode).
    fn changed(&self, target: &JsValue) {
        if self.system.borrow().1.as_ref().is_some_and(|t| JsValue::from(t) == *target) {
            let v = self.system.borrow().1.as_ref().map(HtmlTextAreaElement::value).unwrap_or_default();
            self.update("system", &v.into());
        } else if *target == JsValue::from(&self.temperature) {
            let v = self.temperature.value();
            match js::parse_number(&v) {
                _ if v.trim().is_empty() => self.set_number(&self.temperature, "temperature", None),
                Some(t) if (0.0..=2.0).contains(&t) => self.set_number(&self.temperature, "temperature", Some(t)),
                _ => self.set_problem(Some("Temperature is a number from 0 to 2.")),
            }
        } else if *target == JsValue::from(&self.max_tokens) {
            let v = self.max_tokens.value();
            let limit = self.limit.get().unwrap_or(u32::MAX);
            match v.trim().parse::<u32>() {
                _ if v.trim().is_empty() => self.set_number(&self.max_tokens, "max_tokens", None),
                Ok(n) if n >= 1 && n <= limit => self.set_number(&self.max_tokens, "max_tokens", Some(f64::from(n))),
                _ => self.set_problem(Some(&format!("Max tokens is a whole number from 1 to {limit}."))),
            }
        } else if *target == JsValue::from(&self.toggle) {
            let on = self.toggle.checked();
            js::set(&self.settings, "structured", &on.into());
            if on && self.text("schema").trim().is_empty() {
                js::set(&self.settings, "schema", &EXAMPLE.into());
            }
            self.show_editor();
            self.changed_settings();
        }
    }

    /// Text was typed (`input`): the schema.
    fn input(&self, target: &JsValue) {
        let typed =
            self.editor.borrow().as_ref().filter(|e| JsValue::from(&e.input) == *target).map(|e| e.input.value());
        if let Some(schema) = typed {
            js::set(&self.settings, "schema", &schema.into());
            self.draw_check();
            self.changed_settings();
        }
    }

    /// A valid number (or none) for `key`: the problem goes, the field shows it as it is kept.
    fn set_number(&self, field: &HtmlInputElement, key: &str, n: Option<f64>) {
        self.set_problem(None);
        field.set_value(&n.map(js::number).unwrap_or_default());
        self.update(key, &n.map_or(JsValue::NULL, JsValue::from));
    }

    fn update(&self, key: &str, value: &JsValue) {
        js::set(&self.settings, key, value);
        self.changed_settings();
    }

    fn changed_settings(&self) {
        let _ = self.on_change.call1(&JsValue::NULL, &self.settings);
    }

    /// Shows `problem` under the numbers (or nothing).
    fn set_problem(&self, problem: Option<&str>) {
        if let Some(p) = self.problem.borrow_mut().take() {
            p.remove();
        }
        if let Some(text) = problem {
            let p = add(&self.root, "p", "problem", text);
            let _ = p.set_attribute("role", "alert");
            let _ = self.row.after_with_node_1(&p);
            *self.problem.borrow_mut() = Some(p);
        }
    }

    /// The schema editor and its check in structured-output mode; nothing otherwise.
    fn show_editor(&self) {
        let mut editor = self.editor.borrow_mut();
        if !self.structured() {
            if let Some(e) = editor.take() {
                e.label.remove();
                e.input.remove();
                e.check.remove();
            }
            return;
        }
        if editor.is_none() {
            let label = add(&self.root, "label", "field", "JSON Schema");
            let _ = label.set_attribute("for", "schema-editor");
            let input: HtmlTextAreaElement = add(&self.root, "textarea", "mono schema", "").unchecked_into();
            for (k, v) in
                [("id", "schema-editor"), ("rows", "10"), ("spellcheck", "false"), ("aria-describedby", "schema-check")]
            {
                let _ = input.set_attribute(k, v);
            }
            input.set_value(&self.text("schema"));
            let check = add(&self.root, "div", "", "");
            let _ = check.set_attribute("id", "schema-check");
            let _ = check.set_attribute("aria-live", "polite");
            *editor = Some(Editor { label, input, check });
        }
        drop(editor);
        self.draw_check();
    }

    /// The schema's check: valid, or its errors.
    fn draw_check(&self) {
        let editor = self.editor.borrow();
        let Some(e) = editor.as_ref() else { return };
        e.check.set_text_content(None);
        let errors = crate::check(&self.text("schema"));
        if errors.is_empty() {
            add(&e.check, "p", "check ok", "✓ The schema is valid");
        } else {
            let list = add(&e.check, "ul", "check bad schema-errors", "");
            for error in errors {
                add(&list, "li", "", &error);
            }
        }
    }

    fn text(&self, key: &str) -> String {
        js::get(&self.settings, key).as_string().unwrap_or_default()
    }

    fn number(&self, key: &str) -> Option<f64> {
        js::get(&self.settings, key).as_f64()
    }

    fn structured(&self) -> bool {
        js::get(&self.settings, "structured").as_bool().unwrap_or(false)
    }
}

impl Drop for Panel {
    fn drop(&mut self) {
        for (event, c) in self.listeners.get_mut().drain(..) {
            let _ = self.root.remove_event_listener_with_callback(event, c.as_ref().unchecked_ref());
        }
    }
}
