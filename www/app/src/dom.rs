//! Plain DOM building for content drawn without Leptos views (the inspector's figures and table; the playground
//! module's panel, answer and tree, which compiles this same file): Leptos owns the element, these calls fill it.
//! Each Leptos view is generic code of its own; a DOM call is one import shim.

use wasm_bindgen::UnwrapThrowExt;
use web_sys::Element;

/// `<tag class=class>text</tag>` appended to `parent`.
pub fn add(parent: &Element, tag: &str, class: &str, text: &str) -> Element {
    let el = parent.owner_document().expect_throw("an element in a document").create_element(tag).unwrap_throw();
    if !class.is_empty() {
        el.set_class_name(class);
    }
    if !text.is_empty() {
        el.set_text_content(Some(text));
    }
    let _ = parent.append_child(&el);
    el
}
