//! `/usage`: what the chat costs. Two sections on one screen:
//!
//! - the edge's dashboard: every request the edge recorded, read from its admin API with the admin token. It is
//!   the crate `edgechat-dashboard` (`www/app/dashboard/`), a wasm module of its own imported from
//!   `/dashboard/edgechat-dashboard.js` (and its stylesheet, `edgechat-dashboard.css`) when this screen opens, so
//!   the app's first load does not carry it;
//! - this browser's threads ([`local`]): tokens and cost per thread from the answers' `usage` events.

mod local;

use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::ctx::use_app;

/// Where the build puts the dashboard module and its stylesheet (www/scripts/build-module.sh).
const MODULE: &str = "/dashboard/edgechat-dashboard.js";

#[wasm_bindgen(inline_js = "let css; export async function loadDashboard(url, root) { \
    css ??= new Promise((ok, bad) => { const l = document.createElement('link'); l.rel = 'stylesheet'; \
      l.href = url.replace(/js$/, 'css'); l.onload = ok; \
      l.onerror = () => { l.remove(); css = null; bad(new Error(`${l.href} could not be loaded`)); }; \
      document.head.append(l); }); \
    const m = await import(url); await m.default(); await css; return m.mount(root); }")]
extern "C" {
    /// Imports the dashboard module and its stylesheet (the same path ending in `.css`, added to the page once),
    /// starts its wasm and mounts it in `root`; resolves to its handle.
    #[wasm_bindgen(js_name = loadDashboard)]
    fn load_dashboard(url: &str, root: &web_sys::Element) -> js_sys::Promise;
}

/// `/usage`.
#[component]
pub fn UsageScreen() -> impl IntoView {
    let app = use_app();
    let host = NodeRef::<html::Section>::new();
    // The mounted dashboard (its `stop()` is called when the screen closes).
    let handle = StoredValue::new_local(None::<JsValue>);
    let closed = StoredValue::new(false);
    Effect::new(move |done: Option<()>| {
        let Some(root) = host.get() else { return };
        if done.is_some() {
            return;
        }
        let root: web_sys::Element = root.into();
        wasm_bindgen_futures::spawn_local(async move {
            match JsFuture::from(load_dashboard(MODULE, &root)).await {
                Ok(h) if closed.try_get_value().unwrap_or(true) => stop(&h),
                Ok(h) => handle.set_value(Some(h)),
                Err(e) => {
                    let why = e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_default();
                    root.set_text_content(Some(&format!("The dashboard could not be loaded ({MODULE}): {why}")));
                    let _ = root.set_attribute("class", "dashboard error");
                }
            }
        });
    });
    on_cleanup(move || {
        closed.set_value(true);
        if let Some(h) = handle.try_update_value(Option::take).flatten() {
            stop(&h);
        }
    });
    view! {
        <section class="screen usage-screen" aria-labelledby="usage-title">
            <header class="screen-head">
                <button type="button" class="btn icon drawer-toggle" aria-label="Show threads" on:click=move |_| app.open_drawer()>"☰"</button>
                <h1 id="usage-title">"Usage"</h1>
            </header>
            <section class="dashboard" aria-labelledby="edge-usage-title" node_ref=host>
                <h2 id="edge-usage-title">"All requests on the edge"</h2>
                <p class="note">"Loading the dashboard…"</p>
            </section>
            <local::LocalUsage/>
        </section>
    }
}

/// Calls the dashboard handle's `stop()`.
fn stop(handle: &JsValue) {
    if let Ok(f) = js_sys::Reflect::get(handle, &"stop".into()).and_then(|f| f.dyn_into::<js_sys::Function>()) {
        let _ = f.call0(handle);
    }
}
