//! edgechat edge handler: a `fetch(request, env, ctx)` gateway that keeps provider keys server-side.
//!
//! The policy, limits, the stream machine (`stream`: every route's stream decided in one place) and metering are pure
//! modules, tested natively with
//! `cargo test -p edgechat-worker`. The runtime glue (`rt`, wasm32 only) binds them to the Workers fetch API.
#![deny(missing_docs)]

/// The wasm allocator: Talc, a few KB smaller than Rust's default (dlmalloc) and faster.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

pub mod attach;
pub mod cache;
pub mod chat;
pub mod compat;
pub mod config;
pub mod error;
pub mod jsonread;
pub mod limiter;
pub mod log;
pub mod meter;
pub mod otel;
pub mod policy;
pub mod prompt;
pub mod resume;
pub mod stream;
pub mod task;
pub mod token;
pub mod tools;
pub mod usage;

/// `rt/marks.rs` compiled natively for its test (its table against `bench/edge/marks.json`); the rest of `rt` is wasm
/// only, and nothing here marks, hence the allow.
#[cfg(all(test, not(target_arch = "wasm32")))]
#[path = "rt/marks.rs"]
#[allow(dead_code)]
mod marks;
#[cfg(target_arch = "wasm32")]
mod rt;
