//! Bubble mode's floating parts: the launcher and the open panel, placed against the window.
//!
//! Both are popovers (`popover="manual"` + `showPopover()`), so they render in the top layer: positioned against the
//! viewport and above everything on the page, wherever the `<edge-chat>` element sits. Plain `position: fixed` is not
//! enough: an ancestor with `transform`, `filter`, `perspective`, `contain: layout|paint` or `will-change` of those
//! becomes the containing block of its fixed descendants (the launcher then sits wherever that ancestor is), and it
//! also makes a stacking context that no z-index inside it can leave. No CSS in the shadow root can undo either. The
//! other way out, a portal element moved to `document.body`, would put the widget's nodes and a stylesheet into the
//! host's document, where the host's CSS reaches them. The top layer keeps everything in the shadow root. Where the
//! Popover API is missing (Chromium < 114, Safari < 17, Firefox < 125) `showPopover` fails, the attribute is taken
//! off again and both stay plain `position: fixed` elements: right unless such an ancestor exists.
//!
//! While the panel is open it follows the visual viewport (the part of the window not under the on-screen keyboard),
//! and where it takes the whole window (narrow screens) the page behind it does not scroll.

use std::cell::{Cell, RefCell};

use js_sys::Reflect;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, EventTarget, HtmlElement};

use super::{add, attr, set};

/// Below this window width the open panel takes the whole window (the same width as in `edgechat.css`).
const FULL_WINDOW_MAX_WIDTH: f64 = 480.0;

const ICON_CHAT: &str = r#"<svg viewBox="0 0 24 24" width="26" height="26" aria-hidden="true" focusable="false"><path d="M5 4h14a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2h-7l-5 4v-4H5a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg>"#;
/// Also the panel's close button.
pub(super) const ICON_CLOSE: &str = r#"<svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false"><path d="M6 6l12 12M18 6L6 18"/></svg>"#;

pub(super) struct Bubble {
    pub(super) launcher: HtmlElement,
    title: String,
    /// The launcher label's suffix while an answer is unread.
    new_answer: String,
    /// An answer ended while the panel was closed: the launcher shows a dot until it is opened.
    unread: Cell<bool>,
    /// An answer was streaming at the last change.
    was_busy: Cell<bool>,
    /// The page's own inline `overflow` on `<html>`, kept while the full-window panel stops the page from scrolling.
    locked: RefCell<Option<JsValue>>,
    /// Fits the open panel to the visual viewport; listens to its `resize` and `scroll` while the panel is open.
    pub(super) on_viewport: RefCell<Option<super::Listener>>,
}

impl Bubble {
    pub(super) fn build(doc: &Document, root: &Element, title: &str, new_answer: &str) -> Self {
        let launcher: HtmlElement = add(doc, root, "button", "ec-launcher").unchecked_into();
        attr(&launcher, "type", "button");
        float(&launcher);
        let b = Self {
            launcher,
            title: title.to_string(),
            new_answer: new_answer.to_string(),
            unread: Cell::default(),
            was_busy: Cell::default(),
            locked: RefCell::default(),
            on_viewport: RefCell::default(),
        };
        b.paint(false);
        b
    }

    /// The launcher's icon, dot and label for the panel being `open` or closed.
    fn paint(&self, open: bool) {
        let l = &self.launcher;
        let dot = if self.unread.get() { r#"<span class="ec-unread"></span>"# } else { "" };
        super::set_html(l, &[if open { ICON_CLOSE } else { ICON_CHAT }, dot].concat());
        let label = if self.unread.get() { [&self.title, " ", &self.new_answer].concat() } else { self.title.clone() };
        set(l, &[("aria-label", &label), ("aria-expanded", if open { "true" } else { "false" })]);
    }

    /// After each change of the state: an answer that ends while the panel is closed marks it unread.
    pub(super) fn seen(&self, busy: bool, open: bool) {
        if self.was_busy.replace(busy) && !busy && !open && !self.unread.replace(true) {
            self.paint(false);
        }
    }

    /// The panel was built (`Some`) or removed (`None`).
    pub(super) fn toggled(&self, doc: &Document, panel: Option<&Element>) {
        if panel.is_some() {
            self.unread.set(false);
        }
        self.paint(panel.is_some());
        let vv = visual_viewport();
        let cb = self.on_viewport.borrow();
        let Some(cb) = cb.as_ref() else { return };
        for event in ["resize", "scroll"] {
            let _ = match (panel, &vv) {
                (Some(_), Some(vv)) => {
                    vv.add_event_listener_with_callback_and_bool(event, cb.as_ref().unchecked_ref(), false)
                }
                (None, Some(vv)) => vv.remove_event_listener_with_callback(event, cb.as_ref().unchecked_ref()),
                _ => Ok(()),
            };
        }
        match panel {
            Some(p) => {
                float(p.unchecked_ref());
                self.fit(p);
            }
            None => self.lock(doc, false),
        }
    }

    /// Keeps the open panel within the visual viewport: `--_vt` is how far the visible area starts below the top of
    /// the window, `--_kb` how much of the window's bottom it leaves out (the on-screen keyboard, which shrinks the
    /// visual viewport only). Pinch zoom also shrinks it; then the panel stays as laid out, for the reader to pan.
    /// Where the panel takes the whole window the page behind it stops scrolling.
    pub(super) fn fit(&self, panel: &Element) {
        let Some(doc) = panel.owner_document() else { return };
        let html = crate::json::get(&doc, "documentElement");
        let num = |o: &JsValue, k: &str| Reflect::get(o, &k.into()).ok().and_then(|v| v.as_f64());
        let vv = visual_viewport().map(JsValue::from).unwrap_or_default();
        match (num(&vv, "height"), num(&vv, "offsetTop"), num(&vv, "scale"), num(&html, "clientHeight")) {
            (Some(h), Some(top), Some(scale), Some(client)) if (scale - 1.0).abs() < 0.01 => {
                let kb = client - top - h;
                // Whole pixels (`as` saturates: a negative value is 0).
                let px = |v: f64| crate::widget::strings::num((v + 0.5) as u64);
                let style = ["--_vt:", &px(top), "px;--_kb:", &px(kb), "px"].concat();
                attr(panel, "style", &style);
            }
            _ => {
                let _ = super::call(panel, "removeAttribute", &"style".into());
            }
        }
        let width = web_sys::window().and_then(|w| crate::json::number(&w, "innerWidth"));
        self.lock(&doc, width.is_some_and(|w| w <= FULL_WINDOW_MAX_WIDTH));
    }

    /// Stops (`on`) or lets again the page scroll behind the panel, with `overflow: hidden` on `<html>` (restoring
    /// whatever inline value the page had).
    fn lock(&self, doc: &Document, on: bool) {
        let style = crate::json::get(&crate::json::get(doc, "documentElement"), "style");
        if !style.is_object() {
            return;
        }
        let key = JsValue::from_str("overflow");
        let mut saved = self.locked.borrow_mut();
        if on && saved.is_none() {
            *saved = Some(Reflect::get(&style, &key).unwrap_or_else(|_| "".into()));
            let _ = Reflect::set(&style, &key, &"hidden".into());
        } else if let Some(old) = saved.take_if(|_| !on) {
            let _ = Reflect::set(&style, &key, &old);
        }
    }
}

/// Puts `el` in the top layer (see the module doc); without the Popover API it stays a fixed element.
fn float(el: &HtmlElement) {
    attr(el, "popover", "manual");
    if super::call(el, "showPopover", &JsValue::UNDEFINED).is_err() {
        let _ = super::call(el, "removeAttribute", &"popover".into());
    }
}

fn visual_viewport() -> Option<EventTarget> {
    let vv = Reflect::get(&web_sys::window()?.into(), &"visualViewport".into()).ok()?;
    (!vv.is_undefined()).then(|| vv.unchecked_into())
}
