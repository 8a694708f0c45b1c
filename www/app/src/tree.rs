//! A JSON value as a tree: objects and arrays as collapsible lists of their members, scalars coloured by type.
//! Drawn once with plain DOM calls ([`crate::dom`]): the value does not change.

use leptos::html;
use leptos::prelude::*;
use web_sys::Element;

use crate::dom::add;
use crate::json::Json;

/// `value` as a tree.
#[component]
pub fn JsonTree(value: Json) -> impl IntoView {
    let root = NodeRef::<html::Div>::new();
    root.on_load(move |el| node(&el.into(), &value));
    view! { <div class="tree" role="group" aria-label="Answer as a tree" node_ref=root></div> }
}

fn node(parent: &Element, v: &Json) {
    match v {
        Json::Obj(members) if !members.is_empty() => {
            let list = branch(parent, v);
            members.iter().for_each(|(k, v)| member(&list, k, v));
        }
        Json::Arr(items) if !items.is_empty() => {
            let list = branch(parent, v);
            items.iter().enumerate().for_each(|(i, v)| member(&list, &i.to_string(), v));
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
    let _ = li.append_child(&document().create_text_node(": "));
    node(&li, v);
}

/// `<details open><summary>…</summary><ul></ul></details>`; returns the list.
fn branch(parent: &Element, v: &Json) -> Element {
    let details = add(parent, "details", "", "");
    let _ = details.set_attribute("open", "");
    add(&details, "summary", "", &v.summary());
    add(&details, "ul", "", "")
}
