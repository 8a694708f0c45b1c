//! `/usage`: what the chat costs. Two sections on one screen:
//!
//! - the edge's dashboard ([`dashboard`]): every request the edge recorded, read from its admin API with the
//!   admin token (charts of requests, tokens and cost by model over time, time to first byte, cache hits and
//!   errors, outcomes, top site keys and subjects by cost, the daily budget, recent requests with filters);
//! - this browser's threads ([`local`]): tokens and cost per thread from the answers' `usage` events.
//!
//! [`model`] reads the API's bodies, [`series`] turns them into time series, [`chart`] into shapes and labels,
//! [`overview`] puts a range's figures together, [`draw`] draws them as SVG, [`admin`] talks to the API: all but
//! the two views and [`draw`] are plain Rust with native unit tests.

mod admin;
mod chart;
mod dashboard;
mod draw;
mod local;
mod model;
mod overview;
mod series;

use leptos::prelude::*;

use crate::ctx::use_app;

/// `/usage`.
#[component]
pub fn UsageScreen() -> impl IntoView {
    let app = use_app();
    view! {
        <section class="screen usage-screen" aria-labelledby="usage-title">
            <header class="screen-head">
                <button type="button" class="btn icon drawer-toggle" aria-label="Show threads" on:click=move |_| app.open_drawer()>"☰"</button>
                <h1 id="usage-title">"Usage"</h1>
            </header>
            <dashboard::Dashboard/>
            <local::LocalUsage/>
        </section>
    }
}
