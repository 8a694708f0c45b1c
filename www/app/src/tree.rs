//! A JSON value as a tree: objects and arrays as collapsible lists of their members, scalars coloured by type.

use leptos::prelude::*;

use crate::json::Json;

/// `value` as a tree.
#[component]
pub fn JsonTree(value: Json) -> impl IntoView {
    view! { <div class="tree" role="group" aria-label="Answer as a tree">{node(&value)}</div> }
}

fn node(v: &Json) -> AnyView {
    match v {
        Json::Obj(members) if !members.is_empty() => {
            let items = members.iter().map(|(k, v)| member(k.clone(), v)).collect_view();
            branch(v.summary(), items)
        }
        Json::Arr(items) if !items.is_empty() => {
            let items = items.iter().enumerate().map(|(i, v)| member(i.to_string(), v)).collect_view();
            branch(v.summary(), items)
        }
        scalar => {
            let class = format!("scalar {}", scalar.type_name());
            view! { <span class=class>{scalar.summary()}</span> }.into_any()
        }
    }
}

fn member(key: String, v: &Json) -> impl IntoView + use<> {
    view! { <li><span class="key">{key}</span>": "{node(v)}</li> }
}

fn branch(summary: String, items: impl IntoView + 'static) -> AnyView {
    view! {
        <details open>
            <summary>{summary}</summary>
            <ul>{items}</ul>
        </details>
    }
    .into_any()
}
