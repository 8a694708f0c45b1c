//! A JSON value as a tree: objects and arrays as collapsible lists of their members, scalars coloured by type.

use web_sys::Element;

use crate::dom::add;
use crate::json::Json;

/// Appends `value` as a tree to `parent`.
pub fn draw(parent: &Element, value: &Json) {
    let root = add(parent, "div", "tree", "");
    let _ = root.set_attribute("role", "group");
    let _ = root.set_attribute("aria-label", "Answer as a tree");
    node(&root, value);
}

fn node(parent: &Element, v: &Json) {
    match v {
        Json::Obj(members) if !members.is_empty() => {
            let list = branch(parent, v);
            for (k, x) in members {
                member(&list, k, x);
            }
        }
        Json::Arr(items) if !items.is_empty() => {
            let list = branch(parent, v);
            for (i, x) in items.iter().enumerate() {
                member(&list, &i.to_string(), x);
            }
        }
        scalar => {
            add(parent, "span", &format!("scalar {}", scalar.type_name()), &scalar.summary());
        }
    }
}

/// `<li><span class="key">key</span>: value</li>`
fn member(list: &Element, key: &str, v: &Json) {
    let li = add(list, "li", "", "");
    add(&li, "span", "key", key);
    let _ = li.append_with_str_1(": ");
    node(&li, v);
}

/// `<details open><summary>…</summary><ul></ul></details>`; returns the list.
fn branch(parent: &Element, v: &Json) -> Element {
    let details = add(parent, "details", "", "");
    let _ = details.set_attribute("open", "");
    add(&details, "summary", "", &v.summary());
    add(&details, "ul", "", "")
}
