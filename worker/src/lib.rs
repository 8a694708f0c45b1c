//! edgechat edge handler: a `fetch(request, env, ctx)` gateway that keeps provider keys server-side.
//!
//! The policy, limits, event production and format translation are pure modules, tested natively with
//! `cargo test -p edgechat-worker`. The runtime glue (`rt`, wasm32 only) binds them to the Workers fetch API.
#![deny(missing_docs)]

pub mod cache;
pub mod chat;
pub mod compat;
pub mod config;
pub mod error;
pub mod events;
pub mod jsonread;
pub mod limiter;
pub mod log;
pub mod policy;
pub mod resume;
pub mod token;
pub mod translate;

#[cfg(target_arch = "wasm32")]
mod rt;
