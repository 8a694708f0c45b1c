//! # edgechat dashboard
//!
//! The Usage screen's view of the edge (www/README.md, "The app"): every request the edge recorded, from its admin
//! API (`GET /api/admin/usage`, `GET /api/admin/requests`; docs/admin-api.md), as figures, SVG charts, top lists, the
//! daily budget and a table of recent requests. A wasm module of its own that the app (`www/app/src/usage/`)
//! imports when the Usage screen opens, so the app's first load does not carry it (~45 KB brotli); built by
//! `www/scripts/build-module.sh` into `dist/dashboard/`.
//!
//! [`model`] reads the API's bodies, [`series`] turns them into UTC buckets and series by model, [`chart`] into
//! shapes, axis ticks and unit labels, [`overview`] puts a range together: plain Rust with native unit tests
//! (`cargo test -p edgechat-dashboard`). [`draw`] draws them into the DOM, [`dashboard`] is the screen (token,
//! range, refresh, filters), [`admin`] the token and the API calls. It shares the playground's JSON reader
//! (`www/app/playground/src/json.rs`) and the app's number formats (the same files, compiled into each).
#![forbid(unsafe_code)]

mod admin;
mod chart;
mod dashboard;
mod draw;
#[allow(dead_code)]
#[path = "../../src/format.rs"]
mod format;
#[allow(dead_code)]
#[path = "../../src/js.rs"]
mod js;
#[allow(dead_code)]
#[path = "../../playground/src/json.rs"]
mod json;
mod model;
mod overview;
mod series;

use wasm_bindgen::prelude::wasm_bindgen;

/// A dashboard shown in the page; [`Dashboard::stop`] ends its timer and listeners.
#[wasm_bindgen]
pub struct Dashboard(std::rc::Rc<dashboard::Dash>);

#[wasm_bindgen]
impl Dashboard {
    /// Stops refreshing and listening (the screen was closed).
    pub fn stop(&self) {
        self.0.stop();
    }
}

/// Builds the dashboard in `root` (an empty element) and starts it.
#[wasm_bindgen]
pub fn mount(root: web_sys::Element) -> Dashboard {
    Dashboard(dashboard::Dash::mount(&root))
}
