//! The widget's view, written against the DOM (web-sys) like the markdown renderer: [`Widget::mount`] builds the
//! panel, and after every change of the [`Chat`] state [`Panel::render`] brings the DOM up to date, touching only
//! what changed (a streamed token re-renders the answer's markdown tail and nothing else). Events are delegated:
//! one listener per event type on the widget's root dispatches by the target's class, so no listener is ever
//! dropped while it runs (a Retry button removes its own turn).

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use edgechat::conversation::Role;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, Event, HtmlElement, Node};

use crate::api::{ChatError, Endpoint, ModelInfo};
use crate::json;
use crate::session::Session;
use crate::state::{Chat, Problem, State, Status, Tool};

mod attach;
mod bubble;
#[cfg(feature = "byok")]
mod byok;
mod host;
mod strings;
mod turn;

use bubble::Bubble;
use strings::error_label;
pub use strings::{Strings, S, STRINGS};
use turn::{Look, TurnDom};

/// How the widget sits on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// A panel in the page flow.
    #[default]
    Inline,
    /// A floating launcher button in a corner of the window that opens the panel over the page (the whole window on
    /// narrow screens).
    Bubble,
}

impl Mode {
    /// `bubble` → [`Mode::Bubble`], anything else → [`Mode::Inline`].
    pub fn parse(s: &str) -> Self {
        if s.eq_ignore_ascii_case("bubble") {
            Self::Bubble
        } else {
            Self::Inline
        }
    }
}

/// What a widget is mounted with.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Base URL of the edge (`/api/...` is appended); empty for this page's origin.
    pub endpoint: String,
    /// Publishable site key.
    pub site_key: Option<String>,
    /// Title shown in the header (empty: the `title` string, "Chat").
    pub title: String,
    /// Inline panel or floating bubble.
    pub mode: Mode,
    /// The signed-in user's session token (minted by the host site's backend), sent as `Authorization: Bearer`.
    pub session_token: Option<String>,
    /// Where to fetch session tokens from instead (`GET` with the page's cookies, answering `{"token",
    /// "expires_at"}`); kept in memory and fetched again before they expire.
    pub token_url: Option<String>,
    /// Shown in an empty conversation, as the assistant's first words (never sent to the model).
    pub greeting: Option<String>,
    /// Starter questions offered in an empty conversation; a click sends one.
    pub suggestions: Vec<String>,
    /// The widget's texts ([`STRINGS`] keys); those not given stay English.
    pub strings: Strings,
    /// Client tools the model may call (the edge must allow them for the site key: `client_tools`).
    pub tools: Vec<Tool>,
    /// How long a tool call may run when its tool sets no `timeout_ms` (default 30 s).
    pub tool_timeout_ms: Option<u32>,
}

/// A mounted widget. Dropping it removes the widget and its listeners and drops the connection of an answer in
/// progress without ending it (a resumable stream is resumed by the next widget on this page, as after a reload).
pub struct Widget {
    ui: Rc<Ui>,
}

struct Ui {
    doc: Document,
    chat: Chat,
    root: Element,
    /// Bubble mode's launcher and floating panel.
    bubble: Option<Bubble>,
    /// The root's classes when closed (`ec-open` is added while open).
    class: &'static str,
    title: String,
    strings: Strings,
    greeting: Option<String>,
    suggestions: Vec<String>,
    open: Cell<bool>,
    /// The DOM is being updated: an event it fires synchronously (a `change` on blur when the input takes the
    /// focus) is not acted on, since the state is borrowed for the update.
    rendering: Cell<bool>,
    panel: RefCell<Option<Panel>>,
    listeners: RefCell<Vec<Listener>>,
    /// The log follows new content: the reader is at its bottom (or just asked something).
    follow: Cell<bool>,
    /// The log's scroll position when last seen (a scroll event, or the frame that scrolled it).
    last_top: Cell<i32>,
    /// The animation frame that scrolls the log to its bottom, when one is requested.
    frame: Cell<Option<i32>>,
    on_frame: RefCell<Option<Listener>>,
}

/// Every callback the widget hands the browser (events, the animation frame, the visual viewport's changes) is this
/// one closure type around a `fn(&Ui, &Event)`: each closure type costs its own glue.
type Listener = Closure<dyn FnMut(Event)>;

impl Widget {
    /// Builds the widget inside `container` (the custom element passes a div in its shadow root). Needs the
    /// stylesheet [`crate::STYLES`] in scope.
    pub fn mount(container: &Element, options: Options) -> Self {
        let session = Session::with_token(options.session_token.clone(), options.token_url.clone());
        Self::mount_with(container, options, session, container)
    }

    /// [`Widget::mount`] with the session given apart (the custom element's reads its `sessionToken` property) and
    /// the element the page hears the widget's events on (`host`).
    pub(crate) fn mount_with(container: &Element, options: Options, session: Session, host: &Element) -> Self {
        let doc = container.owner_document().or_else(|| web_sys::window()?.document()).expect_throw("no document");
        let bubble = options.mode == Mode::Bubble;
        let strings = options.strings;
        let title = match options.title.trim() {
            "" => strings.get(S::Title).to_string(),
            t => t.to_string(),
        };
        let class = if bubble { "ec-widget ec-bubble-mode" } else { "ec-widget" };
        let root = add(&doc, container, "div", class);
        let bubble = bubble.then(|| Bubble::build(&doc, &root, &title, strings.get(S::NewAnswer)));
        let site_key = options.site_key.filter(|k| !k.is_empty());
        let chat = Chat::new(Endpoint { base: options.endpoint, site_key, session: Rc::new(session) });
        chat.set_tools(options.tools);
        if let Some(ms) = options.tool_timeout_ms {
            chat.set_tool_timeout(ms);
        }
        host::forward(&chat, host.clone().into());
        let ui = Rc::new(Ui {
            doc,
            chat: chat.clone(),
            root,
            bubble,
            class,
            title,
            strings,
            greeting: options.greeting.filter(|g| !g.trim().is_empty()),
            suggestions: options.suggestions.into_iter().filter(|q| !q.trim().is_empty()).collect(),
            open: Cell::new(false),
            rendering: Cell::new(false),
            panel: RefCell::default(),
            listeners: RefCell::default(),
            follow: Cell::new(true),
            last_top: Cell::new(0),
            frame: Cell::new(None),
            on_frame: RefCell::default(),
        });
        let me = Rc::downgrade(&ui);
        for (event, handler) in [
            ("click", Ui::on_click as fn(&Ui, &Event)),
            ("keydown", Ui::on_keydown),
            ("input", Ui::on_input),
            ("change", Ui::on_change),
            ("submit", Ui::on_submit),
            // `scroll` does not bubble: the root hears the log's in the capture phase.
            ("scroll", Ui::on_scroll),
            ("paste", Ui::on_paste),
            ("dragover", Ui::on_drag),
            ("drop", Ui::on_drag),
        ] {
            ui.listen(&me, event, handler);
        }
        // The frame's callback gets a timestamp, not an event: neither handler reads its argument.
        *ui.on_frame.borrow_mut() = Some(callback(&me, |ui, _| ui.scroll_to_end()));
        if let Some(b) = &ui.bubble {
            *b.on_viewport.borrow_mut() = Some(callback(&me, |ui, _| {
                if let (Some(b), Some(p)) = (&ui.bubble, ui.panel.borrow().as_ref()) {
                    b.fit(&p.section);
                }
            }));
        }
        let watcher_ui = me.clone();
        chat.watch(Some(Rc::new(move |s: &State| {
            if let Some(ui) = watcher_ui.upgrade() {
                ui.render(s);
            }
        })));
        ui.set_open(ui.bubble.is_none(), false);
        chat.load_config();
        Self { ui }
    }

    /// The conversation behind the widget.
    pub fn chat(&self) -> &Chat {
        &self.ui.chat
    }

    /// Replaces the session token (a signed-in user's new token; `None`: none, or `token_url`'s).
    pub fn set_session_token(&self, token: Option<String>) {
        self.ui.chat.session().set_token(token);
    }

    /// Sends `text` as the user's message (`false`: not sent — blank, an answer in progress, or too long).
    pub fn send(&self, text: &str) -> bool {
        self.ui.follow.set(true);
        self.ui.chat.send(text)
    }

    /// Starts a new, empty conversation (stopping an answer in progress).
    pub fn clear(&self) {
        self.ui.chat.new_conversation();
    }

    /// Opens (`true`) or closes the bubble's panel; an inline widget is always open.
    pub fn set_open(&self, open: bool) {
        if self.ui.bubble.is_some() {
            self.ui.set_open(open, false);
        }
    }

    /// Replaces the client tools (used from the next request on).
    pub fn set_tools(&self, tools: Vec<Tool>) {
        self.ui.chat.set_tools(tools);
    }
}

impl Drop for Widget {
    fn drop(&mut self) {
        let ui = &self.ui;
        ui.chat.watch(None);
        ui.chat.on_event(None);
        ui.chat.detach();
        if let (Some(id), Some(w)) = (ui.frame.take(), web_sys::window()) {
            let _ = call(&w, "cancelAnimationFrame", &id.into());
        }
        if let Some(b) = &ui.bubble {
            b.toggled(&ui.doc, None);
        }
        ui.root.remove();
        ui.panel.borrow_mut().take();
        ui.listeners.borrow_mut().clear();
    }
}

impl Ui {
    fn listen(&self, me: &Weak<Ui>, event: &str, handler: fn(&Ui, &Event)) {
        let c = callback(me, handler);
        let capture = event == "scroll";
        let _ = self.root.add_event_listener_with_callback_and_bool(event, c.as_ref().unchecked_ref(), capture);
        self.listeners.borrow_mut().push(c);
    }

    fn render(&self, s: &State) {
        self.rendering.set(true);
        if let Some(p) = self.panel.borrow_mut().as_mut() {
            p.render(&self.doc, s, &self.strings, (&self.greeting, &self.suggestions));
        }
        self.rendering.set(false);
        if let Some(b) = &self.bubble {
            b.seen(s.busy, self.open.get());
        }
        if self.follow.get() && self.frame.get().is_none() {
            // Scrolled once per frame, where the layout is done anyway (not once per streamed event).
            let window = web_sys::window();
            let cb = self.on_frame.borrow();
            if let (Some(w), Some(cb)) = (window, cb.as_ref()) {
                self.frame.set(
                    call(&w, "requestAnimationFrame", cb.as_ref()).ok().and_then(|id| id.as_f64()).map(|id| id as i32),
                );
            }
        }
    }

    /// Keeps the end of the log in view while the reader is at the bottom.
    fn scroll_to_end(&self) {
        self.frame.set(None);
        if let Some(p) = self.panel.borrow().as_ref().filter(|_| self.follow.get()) {
            let _ = js_sys::Reflect::set(&p.log, &"scrollTop".into(), &json::get(&p.log, "scrollHeight"));
            self.last_top.set(int(&p.log, "scrollTop"));
        }
    }

    /// The log scrolled: moving up stops following (unless still at the bottom), reaching the bottom resumes it.
    /// Only the direction counts, not the distance to the end: by the time the event of the frame's own scroll
    /// arrives, more of the answer may have been added below.
    fn on_scroll(&self, e: &Event) {
        let log = json::get(e, "target");
        if class(&log) != "ec-log" {
            return;
        }
        let top = int(&log, "scrollTop");
        let at_end = int(&log, "scrollHeight") - top - int(&log, "clientHeight") <= 32;
        if top < self.last_top.get() {
            self.follow.set(at_end);
        } else if at_end {
            self.follow.set(true);
        }
        self.last_top.set(top);
    }

    /// The reader asked for an answer: show it.
    fn ask(&self, act: impl FnOnce(&Chat)) {
        self.follow.set(true);
        act(&self.chat);
    }

    /// Opens or closes the panel (the bubble's launcher); `focus` moves the focus into it or back to the launcher.
    fn set_open(&self, open: bool, focus: bool) {
        self.open.set(open);
        attr(&self.root, "class", &[self.class, if open { " ec-open" } else { "" }].concat());
        let built = self.panel.borrow().is_some();
        if open && !built {
            let panel = Panel::build(
                &self.doc,
                &self.root,
                (&self.title, &self.strings),
                self.bubble.is_some(),
                &self.chat.state(),
            );
            if let Some(b) = &self.bubble {
                b.toggled(&self.doc, Some(&panel.section));
            }
            *self.panel.borrow_mut() = Some(panel);
            self.render(&self.chat.state());
            if let Some(p) = self.panel.borrow().as_ref().filter(|_| focus) {
                let _ = call(&p.input, "focus", &JsValue::UNDEFINED);
            }
        } else if !open {
            if let Some(p) = self.panel.borrow_mut().take() {
                p.section.remove();
            }
            if let Some(b) = &self.bubble {
                b.toggled(&self.doc, None);
                if focus {
                    let _ = call(&b.launcher, "focus", &JsValue::UNDEFINED);
                }
            }
        }
    }

    fn on_click(&self, e: &Event) {
        let Some(button) = closest(e, "button") else { return };
        // Each button has one class that says what it does.
        for c in class(&button).split(' ') {
            if self.on_button(c, &button) {
                break;
            }
        }
    }

    /// A click on `button`, whose class `c` may say what it does; `false` when it does not.
    fn on_button(&self, c: &str, button: &Element) -> bool {
        let chat = &self.chat;
        match c {
            "ec-attach" | "ec-file-remove" => self.on_attach_click(c, button),
            "ec-launcher" => self.set_open(!self.open.get(), true),
            "ec-close" => self.set_open(false, true),
            "ec-new" => chat.new_conversation(),
            "ec-clear" => chat.clear_all(),
            "ec-stop" => chat.stop(),
            "ec-edit" => chat.edit_last(),
            "ec-retry" | "ec-regen" => self.ask(Chat::regenerate),
            "ec-continue" => self.ask(Chat::continue_last),
            "ec-reload" => chat.load_config(),
            "ec-copy" => copy_code(button, self.strings.get(S::Copied)),
            "ec-suggestion" => {
                let text = json::string(button, "textContent").unwrap_or_default();
                self.ask(|c| {
                    c.send(&text);
                });
            }
            "ec-allow" | "ec-deny" => chat.confirm_tool(c == "ec-allow"),
            #[cfg(feature = "byok")]
            _ => return byok::on_click(self, c),
            #[cfg(not(feature = "byok"))]
            _ => return false,
        }
        true
    }

    fn on_keydown(&self, e: &Event) {
        let key = json::string(e, "key").unwrap_or_default();
        if key == "Escape" {
            if self.chat.state().busy {
                self.chat.stop();
            } else if self.bubble.is_some() && self.open.get() {
                self.set_open(false, true);
            }
        } else if key == "Enter"
            && !json::flag(e, "shiftKey")
            && !json::flag(e, "isComposing")
            && closest(e, ".ec-input").is_some()
        {
            prevent(e);
            self.ask(Chat::send_draft);
        }
    }

    fn on_input(&self, e: &Event) {
        if let Some(input) = closest(e, ".ec-input") {
            self.chat.set_draft(value(&input));
        }
    }

    fn on_change(&self, e: &Event) {
        if self.on_attach_change(e) {
            return;
        }
        if let Some(select) = closest(e, ".ec-model select") {
            self.chat.set_model(value(&select));
        }
    }

    fn on_submit(&self, e: &Event) {
        prevent(e);
        self.ask(Chat::send_draft);
    }
}

/// Calls `handler` while the widget lives, except while it updates the DOM (see [`Ui::rendering`]).
fn callback(me: &Weak<Ui>, handler: fn(&Ui, &Event)) -> Listener {
    let me = me.clone();
    Listener::new(move |e: Event| {
        if let Some(ui) = me.upgrade().filter(|ui| !ui.rendering.get()) {
            handler(&ui, &e);
        }
    })
}

/// The element the event's target is in (or is) that matches `selector`.
fn closest(e: &Event, selector: &str) -> Option<Element> {
    find(&json::get(e, "target"), "closest", selector)
}

/// The element's `class` attribute (`className`: the widget's elements are all HTML ones).
fn class(e: &JsValue) -> String {
    json::string(e, "className").unwrap_or_default()
}

/// `e.preventDefault()`.
fn prevent(e: &Event) {
    let _ = call(e, "preventDefault", &JsValue::UNDEFINED);
}

/// A whole-number property of `e` (`scrollTop`...), truncated as web-sys's `i32` getters do.
fn int(e: &JsValue, key: &str) -> i32 {
    json::number(e, key).unwrap_or_default() as i32
}

/// A form control's `value`.
fn value(e: &JsValue) -> String {
    json::string(e, "value").unwrap_or_default()
}

/// Sets a form control's `value`.
fn set_value(e: &JsValue, v: &str) {
    let _ = js_sys::Reflect::set(e, &"value".into(), &v.into());
}

fn copy_code(button: &Element, copied: &str) {
    let code = find(button, "closest", ".ec-code").and_then(|c| find(&c, "querySelector", "code"));
    let text = code.and_then(|c| json::string(&c, "textContent")).unwrap_or_default();
    // `navigator.clipboard.writeText` through Reflect: fewer imports than web-sys's three.
    let clipboard = web_sys::window().map(|w| json::get(&json::get(&w, "navigator"), "clipboard"));
    let write = clipboard.as_ref().map(|c| (c, json::get(c, "writeText")));
    if let Some((clipboard, write)) = write.filter(|(_, w)| w.is_function()) {
        let _ = write.unchecked_ref::<js_sys::Function>().call1(clipboard, &text.into());
        button.set_text_content(Some(copied));
    }
}

fn create(doc: &Document, tag: &str, class: &str) -> Element {
    let e = doc.create_element(tag).expect_throw("create element");
    if !class.is_empty() {
        attr(&e, "class", class);
    }
    e
}

fn add(doc: &Document, parent: &Node, tag: &str, class: &str) -> Element {
    let e = create(doc, tag, class);
    let _ = parent.append_child(&e);
    e
}

/// Sets an attribute (one call site instead of a dropped `Result` at each).
#[inline(never)]
fn attr(e: &Element, name: &str, value: &str) {
    let _ = e.set_attribute(name, value);
}

fn set(e: &Element, attrs: &[(&str, &str)]) {
    for (k, v) in attrs {
        attr(e, k, v);
    }
}

fn button(doc: &Document, parent: &Node, class: &str, label: &str) -> Element {
    let b = add(doc, parent, "button", class);
    attr(&b, "type", "button");
    b.set_text_content(Some(label));
    b
}

fn text(doc: &Document, parent: &Node, tag: &str, class: &str, content: &str) -> Element {
    let e = add(doc, parent, tag, class);
    e.set_text_content(Some(content));
    e
}

/// Sets or removes a boolean attribute (`disabled`, `hidden`) through its reflecting property.
fn toggle_attr(e: &Element, name: &str, on: bool) {
    if json::flag(e, name) != on {
        let _ = js_sys::Reflect::set(e, &name.into(), &on.into());
    }
}

/// Calls the method `name` of `this` with `arg` (through Reflect: one import for all the methods called so, instead
/// of one per web-sys method).
fn call(this: &JsValue, name: &str, arg: &JsValue) -> Result<JsValue, JsValue> {
    json::get(this, name).unchecked_ref::<js_sys::Function>().call1(this, arg)
}

/// The element `this.closest(selector)` or `this.querySelector(selector)` (`method`) finds.
fn find(this: &JsValue, method: &str, selector: &str) -> Option<Element> {
    call(this, method, &selector.into()).ok().filter(JsValue::is_object).map(JsCast::unchecked_into)
}

/// Sets `innerHTML` (the widget's own constant markup only).
fn set_html(e: &Element, html: &str) {
    let _ = js_sys::Reflect::set(e, &"innerHTML".into(), &html.into());
}

/// Puts `node` just before `e`.
fn before(e: &Element, node: &Node) {
    let _ = call(e, "before", node);
}

/// Appends the text `s` to `parent`.
fn append_text(doc: &Document, parent: &Node, s: &str) {
    let _ = parent.append_child(&doc.create_text_node(s));
}

/// The open panel: header, notices, the log and the composer.
struct Panel {
    section: Element,
    tools: Element,
    new_chat: Element,
    picker: Option<(Vec<ModelInfo>, Element, Element)>,
    #[cfg(feature = "byok")]
    byok: byok::Dom,
    notices: (Notices, Vec<Element>),
    log: Element,
    empty: Option<Element>,
    turns: Vec<TurnDom>,
    /// "Earlier turns summarized", above the first turn the edge's summary does not cover.
    summarized: Option<(usize, Element)>,
    form: Element,
    input: HtmlElement,
    /// The attach button, file picker and previews.
    attach: attach::AttachDom,
    /// The Send or the Stop button (`true`: Stop).
    action: (bool, Element),
    problem: Option<(Problem, Element)>,
    /// The last focus request handled (see [`State::focus_input`]).
    focus_seen: u32,
}

/// The composer's Send button, or its Stop button while an answer streams.
fn action_button(doc: &Document, busy: bool, t: &Strings) -> Element {
    let (class, kind, label) = if busy {
        ("ec-btn ec-primary ec-stop", "button", t.get(S::Stop))
    } else {
        ("ec-btn ec-primary ec-send", "submit", t.get(S::Send))
    };
    let b = create(doc, "button", class);
    attr(&b, "type", kind);
    b.set_text_content(Some(label));
    b
}

/// What the notices above the log say.
#[derive(Debug, Clone, PartialEq, Default)]
struct Notices {
    simulated: bool,
    byok: Option<String>,
    config_error: Option<ChatError>,
}

impl Panel {
    /// A `closable` panel (bubble mode) has a close button in its header.
    fn build(doc: &Document, root: &Element, (title, t): (&str, &Strings), closable: bool, s: &State) -> Self {
        let section = add(doc, root, "section", "ec-panel");
        attr(&section, "aria-label", title);
        let header = add(doc, &section, "header", "ec-header");
        text(doc, &header, "h2", "ec-title", title);
        if closable {
            let close = add(doc, &header, "button", "ec-btn ec-close");
            set(&close, &[("type", "button"), ("aria-label", t.get(S::Close))]);
            set_html(&close, bubble::ICON_CLOSE);
        }
        let tools = add(doc, &header, "div", "ec-tools");
        let new_chat = button(doc, &tools, "ec-btn ec-new", t.get(S::NewChat));
        let clear = button(doc, &tools, "ec-btn ec-clear", t.get(S::ClearAll));
        attr(&clear, "title", t.get(S::ClearAllHint));
        #[cfg(feature = "byok")]
        let byok = byok::Dom::build(doc, &section, t);
        let log = add(doc, &section, "div", "ec-log");
        let label = t.get(S::Conversation);
        set(&log, &[("role", "log"), ("aria-live", "polite"), ("aria-label", label), ("aria-busy", "false")]);
        let form = add(doc, &section, "form", "ec-composer");
        let input: HtmlElement = add(doc, &form, "textarea", "ec-input").unchecked_into();
        set(&input, &[("aria-label", t.get(S::Message)), ("rows", "2"), ("placeholder", t.get(S::Placeholder))]);
        let send = action_button(doc, false, t);
        let _ = form.append_child(&send);
        let attach = attach::AttachDom::build(doc, &form, &send, t);
        Self {
            section,
            tools,
            new_chat,
            picker: None,
            #[cfg(feature = "byok")]
            byok,
            notices: (Notices::default(), Vec::new()),
            log,
            empty: None,
            turns: Vec::new(),
            summarized: None,
            form,
            input,
            attach,
            action: (false, send),
            problem: None,
            focus_seen: s.focus_input,
        }
    }

    fn render(
        &mut self,
        doc: &Document,
        s: &State,
        t: &Strings,
        (greeting, suggestions): (&Option<String>, &[String]),
    ) {
        toggle_attr(&self.new_chat, "disabled", s.turns.is_empty());
        self.render_picker(doc, s, t);
        #[cfg(feature = "byok")]
        self.byok.render(s);
        self.render_notices(doc, s, t);
        if self.action.0 != s.busy {
            // `action` shows the busy state last rendered: set once per answer, not per token.
            attr(&self.log, "aria-busy", if s.busy { "true" } else { "false" });
        }
        match (&self.empty, s.turns.is_empty()) {
            (None, true) => {
                // An empty conversation: the greeting (or a hint) and the starter questions.
                let p = create(doc, "div", "ec-empty");
                match greeting {
                    Some(g) => drop(text(doc, &p, "p", "ec-greeting", g)),
                    None => drop(text(doc, &p, "p", "", t.get(S::Empty))),
                }
                if !suggestions.is_empty() {
                    let list = add(doc, &p, "div", "ec-suggestions");
                    set(&list, &[("role", "group"), ("aria-label", t.get(S::Suggestions))]);
                    for q in suggestions {
                        button(doc, &list, "ec-btn ec-suggestion", q);
                    }
                }
                let _ = self.log.insert_before(&p, Some(json::get(&self.log, "firstChild").unchecked_ref()));
                self.empty = Some(p);
            }
            (Some(p), false) => {
                p.remove();
                self.empty = None;
            }
            _ => {}
        }
        self.render_turns(doc, s, t);
        self.render_composer(doc, s, t);
    }

    fn render_picker(&mut self, doc: &Document, s: &State, t: &Strings) {
        let models = s.config.as_ref().map(|c| c.models.as_slice()).unwrap_or_default();
        let want = !models.is_empty() && !s.byok_active();
        if self.picker.as_ref().is_some_and(|(m, ..)| !want || m != models) {
            if let Some((_, label, _)) = self.picker.take() {
                label.remove();
            }
        }
        if want && self.picker.is_none() {
            let label = create(doc, "label", "ec-model");
            text(doc, &label, "span", "ec-sr", t.get(S::Model));
            let select = add(doc, &label, "select", "");
            for m in models {
                let o = text(doc, &select, "option", "", if m.label.is_empty() { &m.alias } else { &m.label });
                attr(&o, "value", &m.alias);
            }
            before(&self.tools, &label);
            self.picker = Some((models.to_vec(), label, select));
        }
        if let Some((.., select)) = &self.picker {
            if value(select) != s.model {
                set_value(select, &s.model);
            }
        }
    }

    fn render_notices(&mut self, doc: &Document, s: &State, t: &Strings) {
        let byok = s.byok_active();
        let want = Notices {
            simulated: s.config.as_ref().is_some_and(|c| c.simulated) && !byok,
            #[cfg(feature = "byok")]
            byok: s
                .byok
                .as_ref()
                .map(|b| strings::fill(t.get(S::ByokNote), &[('p', &b.provider.to_string()), ('m', &b.model)])),
            #[cfg(not(feature = "byok"))]
            byok: None,
            config_error: s.config_error.clone(),
        };
        if want == self.notices.0 {
            return;
        }
        self.notices.1.drain(..).for_each(|n| n.remove());
        // Each notice goes just above the log.
        let mut note = |class: &str, words: &str, role: &str| {
            let p = create(doc, "p", class);
            p.set_text_content(Some(words));
            attr(&p, "role", role);
            before(&self.log, &p);
            self.notices.1.push(p.clone());
            p
        };
        if want.simulated {
            note("ec-note ec-simulated", t.get(S::Simulated), "note");
        }
        if let Some(b) = &want.byok {
            note("ec-note ec-warn", b, "note");
        }
        if let Some(e) = &want.config_error {
            let words =
                [t.get(S::SettingsError), " ", &error_label(e, t), " (", &strings::error_text(e, t), "). "].concat();
            button(doc, &note("ec-note ec-error-note", &words, "alert"), "ec-btn ec-reload", t.get(S::Retry));
        }
        self.notices.0 = want;
    }

    fn render_turns(&mut self, doc: &Document, s: &State, strings: &Strings) {
        // Turns are only ever appended or dropped from the end; keep the DOM of the common prefix.
        let keep = self.turns.iter().zip(&s.turns).take_while(|(d, t)| d.id == t.id).count();
        self.turns.drain(keep..).for_each(|d| d.root.remove());
        let last_user = s.turns.iter().rposition(|t| t.role == Role::User);
        for (i, t) in s.turns.iter().enumerate() {
            if i == self.turns.len() {
                let d = TurnDom::build(doc, t, strings);
                let _ = self.log.append_child(&d.root);
                self.turns.push(d);
            }
            let idle = !s.busy;
            let look = Look {
                status: t.status,
                empty: t.text.is_empty(),
                reconnecting: t.reconnecting,
                usage: t.usage.map(|_| s.loop_usage(t.id)),
                calls: (
                    t.tool_calls.len(),
                    t.tool_results.len(),
                    s.confirm.clone(),
                    s.busy && i + 1 == s.turns.len() && t.status == Status::Done,
                ),
                retry: i + 1 == s.turns.len() && idle,
                cont: i + 1 == s.turns.len() && idle && t.can_continue() && !s.byok_active(),
                edit: last_user == Some(i) && idle,
            };
            self.turns[i].render(doc, t, look, strings);
        }
        let at = s.summary.as_ref().map(|m| m.start).filter(|&i| i < self.turns.len());
        if self.summarized.as_ref().map(|m| m.0) != at {
            if let Some((_, e)) = self.summarized.take() {
                e.remove();
            }
            if let Some(i) = at {
                let e = text(doc, &self.log, "p", "ec-summarized", strings.get(S::Summarized));
                attr(&e, "role", "note");
                before(&self.turns[i].root, &e);
                self.summarized = Some((i, e));
            }
        }
    }

    fn render_composer(&mut self, doc: &Document, s: &State, t: &Strings) {
        if value(&self.input) != s.draft {
            set_value(&self.input, &s.draft);
        }
        if self.action.0 != s.busy {
            let next = action_button(doc, s.busy, t);
            before(&self.action.1, &next);
            self.action.1.remove();
            self.action = (s.busy, next);
        }
        self.attach.render(doc, s, t);
        if !s.busy {
            toggle_attr(&self.action.1, "disabled", s.draft.trim().is_empty() && s.files.is_empty());
        }
        if self.problem.as_ref().map(|(p, _)| p) != s.problem.as_ref() {
            if let Some((_, e)) = self.problem.take() {
                e.remove();
            }
            if let Some(p) = &s.problem {
                let words = strings::problem_text(p, t);
                let e = text(doc, &self.form, "p", "ec-problem", &words);
                attr(&e, "role", "alert");
                self.problem = Some((p.clone(), e));
            }
        }
        if self.focus_seen != s.focus_input {
            self.focus_seen = s.focus_input;
            let _ = call(&self.input, "focus", &JsValue::UNDEFINED);
        }
    }
}
