//! Incremental Server-Sent Events parser.
//!
//! Follows the WHATWG HTML Living Standard, §9.2.5 "Parsing an event stream" and §9.2.6 "Interpreting an event
//! stream" (<https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation>), on bytes,
//! so a chunk may end anywhere: inside a UTF-8 character, between `\r` and `\n`, or inside the leading BOM.
//!
//! [`SseParser`] is sans-IO: it never reads; the caller feeds the bytes it received and drains the events.
//!
//! Where the JS `eventsource-parser` (3.x) departs from the spec, this parser follows the spec: the last event ID
//! persists across events (eventsource-parser reports only the event's own `id`), an `id` containing NUL leaves
//! the previous ID in place (eventsource-parser clears it), a BOM split across the first chunks is still stripped,
//! and going over the size limit costs one event instead of stopping the parser until a reset.

mod parser;
#[cfg(feature = "reference")]
#[doc(hidden)]
pub mod reference;

pub use parser::SseParser;

/// Default maximum size of one line or one event's data, in bytes (1 MiB).
pub const DEFAULT_MAX_SIZE: usize = 1 << 20;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// Event type; `"message"` when the stream set none (or set it to the empty string).
    pub event: String,
    /// Data lines joined with `\n` (no trailing `\n`).
    pub data: String,
    /// The last event ID at dispatch time; `None` until the stream set one.
    pub id: Option<String>,
}

/// A stream that can never become valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SseError {
    /// A line, or an event's data, exceeded the limit. The parser dropped that event (its data and event type, and
    /// every line up to and including the next blank line) and carries on with the event after it; the last event
    /// ID and reconnection time set before the error are kept. Report it, or treat the stream as failed.
    #[error("SSE line or event exceeds the {limit}-byte limit")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
}
