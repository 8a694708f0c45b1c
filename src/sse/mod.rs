//! Incremental Server-Sent Events parser (WHATWG HTML, "Server-sent events", §9.2.6 "Interpreting an event stream").

/// Default maximum size of one line or one event's data, in bytes.
pub const DEFAULT_MAX_SIZE: usize = 1 << 20;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// Event type; `"message"` when the stream set none.
    pub event: String,
    /// Data lines joined with `\n`.
    pub data: String,
    /// The last event ID at dispatch time; `None` until the stream set one.
    pub id: Option<String>,
}

/// A stream that can never become valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SseError {
    /// A line or an event's data exceeded the limit. The parser skips to the next event.
    #[error("SSE line or event exceeds the {limit}-byte limit")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
}

/// Incremental SSE parser. Calling order: `feed`, drain `next_event`; at end of input `finish`, drain again.
#[derive(Debug, Default)]
pub struct SseParser {}

impl SseParser {
    /// A parser with [`DEFAULT_MAX_SIZE`].
    pub fn new() -> Self {
        Self {}
    }
    /// A parser whose lines and events may not exceed `max_size` bytes.
    pub fn with_max_size(_max_size: usize) -> Self {
        todo!()
    }
    /// Feeds a chunk.
    pub fn feed(&mut self, _chunk: &[u8]) {
        todo!()
    }
    /// Marks end of input (an unterminated final event is discarded, per the spec).
    pub fn finish(&mut self) {
        todo!()
    }
    /// Next dispatched event.
    pub fn next_event(&mut self) -> Option<Result<SseEvent, SseError>> {
        todo!()
    }
    /// The reconnection time the stream set with `retry:`, in ms.
    pub fn retry_ms(&self) -> Option<u64> {
        todo!()
    }
    /// The last event ID buffer.
    pub fn last_event_id(&self) -> Option<&str> {
        todo!()
    }
}
