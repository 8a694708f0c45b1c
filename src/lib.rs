//! # edgechat core
//!
//! The sans-IO heart of edgechat, shared by the edge handler (`worker/`) and the browser widget (`www/`).
//! It does no IO, reads no clock and draws no random numbers: HTTP requests are described as plain data
//! ([`HttpRequest`]), response bytes are fed in and typed events come out, and time or jitter arrive as arguments.
//!
//! The pieces, in the order a request flows through them:
//! - [`conversation`]: multi-turn history, token estimates, trimming to a budget.
//! - [`provider`]: provider-neutral [`provider::ChatRequest`] to a provider's HTTP request; a provider's response
//!   stream to normalized [`StreamEvent`]s; provider error bodies to [`ProviderError`].
//! - [`sse`]: the incremental Server-Sent Events parser every streaming decoder sits on.
//! - [`structured`]: JSON structured output requests and typed parsing of the result.
//! - [`retry`]: the pure retry/backoff decision.
//! - [`cost`]: pricing table and the cost of a [`Usage`].
//! - [`protocol`]: the widget protocol's events (edge to widget), one definition for both ends.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod conversation;
pub mod cost;
mod error;
mod event;
mod http;
mod kind;
pub mod protocol;
pub mod provider;
pub mod retry;
pub mod sse;
pub mod structured;

pub use error::{ErrorKind, ProviderError, RateLimitInfo, StreamError};
pub use event::{ChatResponse, ResponseAccumulator, StopReason, StreamEvent, ToolCall, Usage};
pub use http::{header_value, HttpRequest};
