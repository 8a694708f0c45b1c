//! The Leptos component (cargo feature `leptos`) in a real browser: it mounts the widget into its view and removes
//! it with the view. `scripts/test.sh widget-wasm` runs it with `--features leptos`.
#![cfg(target_arch = "wasm32")]

use edgechat_www::{ChatWidget, Mode};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::HtmlElement;

wasm_bindgen_test_configure!(run_in_browser);

async fn tick() {
    let p = js_sys::Promise::resolve(&wasm_bindgen::JsValue::NULL);
    let _ = wasm_bindgen_futures::JsFuture::from(p).await;
}

#[wasm_bindgen_test]
async fn the_component_mounts_the_widget_and_removes_it_with_its_view() {
    let doc = web_sys::window().unwrap().document().unwrap();
    let root: HtmlElement = doc.create_element("div").unwrap().dyn_into().unwrap();
    doc.body().unwrap().append_child(&root).unwrap();
    let handle = leptos::mount::mount_to(root.clone(), || {
        leptos::view! { <ChatWidget endpoint="http://127.0.0.1:9" title="From Leptos" mode=Mode::Inline/> }
    });
    for _ in 0..10 {
        if root.query_selector(".ec-title").unwrap().is_some() {
            break;
        }
        tick().await;
    }
    let host = root.query_selector("div.ec-host").unwrap().expect("the component's host div");
    assert_eq!(host.query_selector(".ec-title").unwrap().expect("mounted").text_content().unwrap(), "From Leptos");
    assert!(host.query_selector("textarea.ec-input").unwrap().is_some());
    drop(handle);
    assert!(root.query_selector(".ec-widget").unwrap().is_none(), "removed with the view");
}

#[wasm_bindgen_test]
async fn a_changed_prop_mounts_the_widget_anew_with_it() {
    use leptos::prelude::*;
    let doc = web_sys::window().unwrap().document().unwrap();
    let root: HtmlElement = doc.create_element("div").unwrap().dyn_into().unwrap();
    doc.body().unwrap().append_child(&root).unwrap();
    let title = RwSignal::new("First".to_string());
    let _handle = leptos::mount::mount_to(root.clone(), move || {
        leptos::view! { <ChatWidget endpoint="http://127.0.0.1:9" title=title/> }
    });
    let shown = |root: &HtmlElement| root.query_selector(".ec-title").unwrap().and_then(|t| t.text_content());
    for _ in 0..10 {
        if shown(&root).is_some() {
            break;
        }
        tick().await;
    }
    assert_eq!(shown(&root).as_deref(), Some("First"));
    title.set("Second".to_string());
    for _ in 0..10 {
        if shown(&root).as_deref() == Some("Second") {
            break;
        }
        tick().await;
    }
    assert_eq!(shown(&root).as_deref(), Some("Second"));
    assert_eq!(root.query_selector_all(".ec-widget").unwrap().length(), 1, "the old widget is gone");
}

#[wasm_bindgen_test]
async fn a_new_session_token_goes_to_the_mounted_widget_without_a_remount() {
    use leptos::prelude::*;
    let doc = web_sys::window().unwrap().document().unwrap();
    let root: HtmlElement = doc.create_element("div").unwrap().dyn_into().unwrap();
    doc.body().unwrap().append_child(&root).unwrap();
    let token = RwSignal::new(Some("first-token".to_string()));
    let _handle = leptos::mount::mount_to(root.clone(), move || {
        leptos::view! { <ChatWidget endpoint="http://127.0.0.1:9" session_token=token/> }
    });
    for _ in 0..10 {
        if root.query_selector(".ec-widget").unwrap().is_some() {
            break;
        }
        tick().await;
    }
    let widget = root.query_selector(".ec-widget").unwrap().expect("mounted");
    token.set(Some("second-token".to_string()));
    for _ in 0..10 {
        tick().await;
    }
    let now = root.query_selector(".ec-widget").unwrap().expect("still mounted");
    assert!(now.is_same_node(Some(&widget)), "the same widget, not mounted anew");
}

#[wasm_bindgen_test]
async fn greeting_suggestions_strings_and_tools_reach_the_widget_through_the_component() {
    use edgechat_www::state::Tool;
    use edgechat_www::Strings;
    let doc = web_sys::window().unwrap().document().unwrap();
    let root: HtmlElement = doc.create_element("div").unwrap().dyn_into().unwrap();
    doc.body().unwrap().append_child(&root).unwrap();
    let mut strings = Strings::default();
    assert!(strings.set("send", "Envoyer"));
    assert!(!strings.set("no-such-key", "x"), "unknown keys are refused");
    let tool = Tool::new("now", "The time", r#"{"type":"object"}"#, |_| {
        js_sys::Promise::resolve(&wasm_bindgen::JsValue::from_str("10:00"))
    });
    let _handle = leptos::mount::mount_to(root.clone(), move || {
        leptos::view! {
            <ChatWidget endpoint="http://127.0.0.1:9" greeting=Some("Bonjour !".to_string())
                suggestions=vec!["Quelle heure est-il ?".to_string()] strings=strings.clone() tools=vec![tool.clone()]/>
        }
    });
    let text = |sel: &str| root.query_selector(sel).unwrap().and_then(|e| e.text_content());
    for _ in 0..10 {
        if text(".ec-greeting").is_some() {
            break;
        }
        tick().await;
    }
    assert_eq!(text(".ec-greeting").as_deref(), Some("Bonjour !"));
    assert_eq!(text(".ec-suggestion").as_deref(), Some("Quelle heure est-il ?"));
    assert_eq!(text(".ec-send").as_deref(), Some("Envoyer"));
    assert_eq!(text(".ec-new").as_deref(), Some("New chat"), "a text not replaced stays English");
}
