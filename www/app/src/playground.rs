//! The playground module: a thread's settings panel, the structured-output mode's schema checks and the answers'
//! validation and tree are the crate `edgechat-playground` (`www/app/playground/`), a wasm module of its own
//! imported from `/playground/edgechat-playground.js` the first time something needs it (the settings open, a
//! thread in structured-output mode), so the app's first load does not carry it. Until it is there, nothing in
//! structured-output mode can be sent; if it cannot be loaded, that is said where it is needed.

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// Where the build puts the module (www/scripts/build-module.sh).
const MODULE: &str = "/playground/edgechat-playground.js";

#[wasm_bindgen(inline_js = "let p; export function loadPlayground(url) { \
    return p ??= import(url).then(async (m) => { await m.default(); return m; }); }")]
extern "C" {
    /// Imports the module and starts its wasm (once per page); resolves to its exports.
    #[wasm_bindgen(js_name = loadPlayground)]
    fn load(url: &str) -> js_sys::Promise;

    /// The module's exports (`www/app/playground/src/lib.rs`).
    #[derive(Clone)]
    pub type Playground;
    /// What is wrong with the schema text (empty: it can be sent).
    #[wasm_bindgen(method)]
    pub fn check(this: &Playground, schema: &str) -> Vec<String>;
    /// Draws a finished structured answer (`output`) checked against `schema` into `root`.
    #[wasm_bindgen(method, js_name = showAnswer)]
    pub fn show_answer(this: &Playground, root: &web_sys::Element, output: &str, schema: &str);
    /// Draws a thread's settings panel into `root` for `settings` (their stored form, `Settings::to_js`);
    /// `on_change` gets them after each change.
    #[wasm_bindgen(method, js_name = mountSettings)]
    pub fn mount_settings(
        this: &Playground,
        root: &web_sys::Element,
        settings: &JsValue,
        on_change: &js_sys::Function,
    ) -> SettingsPanel;

    /// A settings panel in the page.
    pub type SettingsPanel;
    /// The edge's config: whether it accepts a system prompt, and its most output tokens.
    #[wasm_bindgen(method, js_name = setConfig)]
    pub fn set_config(this: &SettingsPanel, allow_system: bool, max_tokens: Option<u32>);
    /// Removes the panel's listeners and frees it.
    #[wasm_bindgen(method)]
    pub fn free(this: &SettingsPanel);
}

/// The module, loaded on first use; copyable (part of the app's context).
#[derive(Clone, Copy)]
pub struct Module {
    /// `None` until it is loaded (or could not be: why, in words).
    state: RwSignal<Option<Result<Playground, String>>, LocalStorage>,
    asked: StoredValue<bool>,
}

impl Module {
    /// Nothing loaded yet.
    pub fn new() -> Self {
        Self { state: RwSignal::new_local(None), asked: StoredValue::new(false) }
    }

    /// The module (tracked): `None` while it loads, which the first call starts; the error says why it could not
    /// be loaded (for the page's life: a reload tries again).
    pub fn get(&self) -> Option<Result<Playground, String>> {
        if !self.asked.get_value() {
            self.asked.set_value(true);
            let state = self.state;
            wasm_bindgen_futures::spawn_local(async move {
                let loaded = JsFuture::from(load(MODULE)).await.map(JsCast::unchecked_into).map_err(|e| {
                    let why = e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_default();
                    format!("The thread settings and structured-output checks could not be loaded ({MODULE}): {why}. Reload the page to try again.")
                });
                state.set(Some(loaded));
            });
        }
        self.state.get()
    }
}
