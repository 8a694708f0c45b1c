//! The incremental parser: line splitting (§9.2.5) and field interpretation (§9.2.6).

use std::borrow::Cow;
use std::collections::VecDeque;
use std::mem;

use super::{SseError, SseEvent, DEFAULT_MAX_SIZE};

/// The UTF-8 byte order mark, stripped once at the start of a stream.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Incremental, byte-oriented Server-Sent Events parser (WHATWG HTML §9.2.5 "Parsing an event stream" and §9.2.6
/// "Interpreting an event stream").
///
/// # Calling order
///
/// 1. [`feed`](Self::feed) each chunk of the response body as it arrives, in order. Chunks may be split anywhere,
///    including empty chunks.
/// 2. After each `feed`, drain [`next_event`](Self::next_event) until it returns `None`. Events stay queued until
///    drained, so draining later is allowed but keeps them in memory.
/// 3. At end of input call [`finish`](Self::finish), then drain `next_event` once more. `finish` discards a partial
///    line and an event that no blank line ended, as the spec requires.
/// 4. [`retry_ms`](Self::retry_ms) and [`last_event_id`](Self::last_event_id) may be read at any time. They survive
///    `finish`: to reconnect, send `last_event_id` as `Last-Event-ID`, wait `retry_ms`, then feed the new response
///    to the same parser (a leading BOM is stripped again at the start of the new stream).
///
/// # Rules (spec summary)
///
/// - Lines end with CRLF, LF or CR. A CR at the end of one chunk and an LF at the start of the next are one line
///   end. One leading BOM (`EF BB BF`) is stripped at the start of the stream only.
/// - Bytes are decoded as UTF-8 per line; invalid sequences become U+FFFD.
/// - A blank line dispatches the event. A line starting with `:` is a comment. A line without `:` is a field name
///   with an empty value. After the first `:`, one leading space is removed from the value.
/// - `data` appends a line to the event's data (lines joined with `\n`); `event` sets the event type (empty:
///   `"message"`), reset after each dispatch; `id` sets the last event ID, which persists across events, unless the
///   value contains NUL; `retry` sets the reconnection time if the value is only ASCII digits (values past
///   `u64::MAX` saturate); other fields are ignored. A blank line with no `data` dispatches nothing.
///
/// # Limits
///
/// A line longer than the maximum size, or an event whose data would grow past it, yields
/// [`SseError::TooLarge`] in place of that event; memory stays bounded by the maximum size (plus the queue of
/// undrained events). The parser then skips every line up to and including the next blank line (so the rest of the
/// oversized event is dropped, not dispatched) and parses the events after it normally.
///
/// # Examples
///
/// Chunks split anywhere, CRLF split across chunks, multi-line data, persistent id:
///
/// ```
/// use edgechat::sse::{SseEvent, SseParser};
///
/// let mut parser = SseParser::new();
/// parser.feed(b"id: 1\r");
/// parser.feed(b"\ndata: a\r\ndata:b\r\n\r\nevent: ping\ndata\n");
/// parser.feed(b"\n");
/// let mut events = Vec::new();
/// while let Some(event) = parser.next_event() {
///     events.push(event.unwrap());
/// }
/// assert_eq!(
///     events,
///     [
///         SseEvent { event: "message".into(), data: "a\nb".into(), id: Some("1".into()) },
///         SseEvent { event: "ping".into(), data: "".into(), id: Some("1".into()) },
///     ]
/// );
/// ```
///
/// A BOM split across chunks, a UTF-8 character split across chunks, invalid UTF-8, comments:
///
/// ```
/// use edgechat::sse::SseParser;
///
/// let mut parser = SseParser::new();
/// for chunk in [&b"\xEF\xBB"[..], b"\xBF: comment\ndata: caf\xC3", b"\xA9 \xFF\n\n"] {
///     parser.feed(chunk);
/// }
/// assert_eq!(parser.next_event().unwrap().unwrap().data, "café \u{FFFD}");
/// ```
///
/// An id containing NUL and a non-numeric retry are ignored; an event no blank line ended is never dispatched:
///
/// ```
/// use edgechat::sse::SseParser;
///
/// let mut parser = SseParser::new();
/// parser.feed(b"id: 7\nretry: 1500\n\nid: a\0b\nretry: 2s\ndata: cut off\n");
/// parser.finish();
/// assert!(parser.next_event().is_none());
/// assert_eq!(parser.last_event_id(), Some("7"));
/// assert_eq!(parser.retry_ms(), Some(1500));
/// ```
///
/// Over the limit, the event is replaced by an error and parsing resumes after the next blank line:
///
/// ```
/// use edgechat::sse::{SseError, SseParser};
///
/// let mut parser = SseParser::with_max_size(8);
/// parser.feed(b"data: 0123456789\ndata: dropped\n\ndata: ok\n\n");
/// assert_eq!(parser.next_event(), Some(Err(SseError::TooLarge { limit: 8 })));
/// assert_eq!(parser.next_event().unwrap().unwrap().data, "ok");
/// assert_eq!(parser.next_event(), None);
/// ```
#[derive(Debug)]
pub struct SseParser {
    /// Maximum size of one line and of one event's data, in bytes.
    max_size: usize,
    /// At the start of a stream: `line` holds up to three bytes that may be a BOM.
    at_stream_start: bool,
    /// The bytes of a line that no line end has terminated yet.
    line: Vec<u8>,
    /// The previous chunk ended with CR: a leading LF in the next chunk belongs to that line end.
    after_cr: bool,
    /// The current line went over the limit: drop its bytes up to the line end.
    discard_line: bool,
    /// After a [`SseError::TooLarge`]: ignore lines until a blank line.
    skipping: bool,
    /// The data buffer holds at least one line (the spec's "data buffer is not empty").
    has_data: bool,
    /// The data buffer without the spec's trailing LF.
    data: String,
    /// The event type buffer.
    event_type: String,
    /// The last event ID buffer.
    last_id: Option<String>,
    /// The reconnection time, in ms.
    retry: Option<u64>,
    /// Dispatched events and errors not yet drained.
    queue: VecDeque<Result<SseEvent, SseError>>,
}

impl Default for SseParser {
    fn default() -> Self {
        Self::new()
    }
}

impl SseParser {
    /// A parser with [`DEFAULT_MAX_SIZE`].
    #[must_use]
    pub fn new() -> Self {
        Self::with_max_size(DEFAULT_MAX_SIZE)
    }

    /// A parser whose lines and events' data may not exceed `max_size` bytes (0 makes every non-empty line an
    /// error). The line size counts the raw bytes without the line end; the data size counts the decoded data
    /// lines joined with `\n`.
    #[must_use]
    pub fn with_max_size(max_size: usize) -> Self {
        Self {
            max_size,
            at_stream_start: true,
            line: Vec::new(),
            after_cr: false,
            discard_line: false,
            skipping: false,
            has_data: false,
            data: String::new(),
            event_type: String::new(),
            last_id: None,
            retry: None,
            queue: VecDeque::new(),
        }
    }

    /// Feeds the next chunk of the stream. Then drain [`next_event`](Self::next_event).
    pub fn feed(&mut self, mut chunk: &[u8]) {
        if self.at_stream_start {
            let take = (BOM.len() - self.line.len()).min(chunk.len());
            self.line.extend_from_slice(&chunk[..take]);
            chunk = &chunk[take..];
            if self.line.len() < BOM.len() && BOM.starts_with(&self.line) {
                return; // Still possibly a BOM; the whole chunk was taken.
            }
            self.end_stream_start();
        }
        self.feed_lines(chunk);
    }

    /// Marks the end of the stream. A partial line and an event that no blank line ended are discarded (WHATWG
    /// §9.2.6: "Once the end of the file is reached, any pending data must be discarded"); events already
    /// dispatched stay queued, so drain [`next_event`](Self::next_event) afterwards. The last event ID and
    /// reconnection time are kept, and the next [`feed`](Self::feed) starts a new stream.
    pub fn finish(&mut self) {
        if self.at_stream_start {
            self.end_stream_start();
        }
        self.line.clear();
        self.at_stream_start = true;
        self.after_cr = false;
        self.discard_line = false;
        self.skipping = false;
        self.has_data = false;
        self.data.clear();
        self.event_type.clear();
    }

    /// The next dispatched event, or the error that replaced one, in stream order; `None` when the queue is empty.
    #[must_use]
    pub fn next_event(&mut self) -> Option<Result<SseEvent, SseError>> {
        self.queue.pop_front()
    }

    /// The reconnection time the stream set with `retry:`, in ms; `None` until it sets one.
    #[must_use]
    pub fn retry_ms(&self) -> Option<u64> {
        self.retry
    }

    /// The last event ID buffer: the value of the last valid `id:` field (even before its event is dispatched);
    /// `None` until the stream sends one. `Some("")` after an `id` with an empty value.
    #[must_use]
    pub fn last_event_id(&self) -> Option<&str> {
        self.last_id.as_deref()
    }

    /// Leaves the stream-start state: strips the BOM if the buffered head is one, else parses the head as lines.
    fn end_stream_start(&mut self) {
        self.at_stream_start = false;
        let head = mem::take(&mut self.line);
        if head != BOM {
            self.feed_lines(&head);
        }
    }

    /// Splits `chunk` into lines (§9.2.5), carrying a partial line and a trailing CR over to the next chunk.
    fn feed_lines(&mut self, mut chunk: &[u8]) {
        if chunk.is_empty() {
            return;
        }
        if mem::take(&mut self.after_cr) && chunk[0] == b'\n' {
            chunk = &chunk[1..];
        }
        if !self.line.is_empty() || self.discard_line {
            let Some(pos) = memchr::memchr2(b'\n', b'\r', chunk) else {
                self.buffer_partial(chunk);
                return;
            };
            self.complete_line(&chunk[..pos]);
            chunk = self.after_line_end(chunk, pos);
        }
        if memchr::memchr(b'\r', chunk).is_none() {
            // LF-only chunk (the usual case): one scan finds every line end.
            let mut start = 0;
            for pos in memchr::memchr_iter(b'\n', chunk) {
                self.check_line(&chunk[start..pos]);
                start = pos + 1;
            }
            chunk = &chunk[start..];
        } else {
            while let Some(pos) = memchr::memchr2(b'\n', b'\r', chunk) {
                self.check_line(&chunk[..pos]);
                chunk = self.after_line_end(chunk, pos);
            }
        }
        self.buffer_partial(chunk);
    }

    /// The rest of `chunk` after the line end at `pos`; notes a CR that ends the chunk.
    fn after_line_end<'a>(&mut self, chunk: &'a [u8], pos: usize) -> &'a [u8] {
        match (chunk[pos], chunk.get(pos + 1)) {
            (b'\r', Some(b'\n')) => &chunk[pos + 2..],
            (b'\r', None) => {
                self.after_cr = true;
                &[]
            }
            _ => &chunk[pos + 1..],
        }
    }

    /// Ends the buffered partial line with `tail`, the bytes of this chunk before the line end.
    fn complete_line(&mut self, tail: &[u8]) {
        if mem::take(&mut self.discard_line) {
            return; // A non-blank line that is being skipped or went over the limit.
        }
        if self.line.len() + tail.len() > self.max_size {
            self.line.clear();
            self.too_large();
            return;
        }
        self.line.extend_from_slice(tail);
        let line = mem::take(&mut self.line);
        self.check_line(&line);
        self.line = line;
        self.line.clear();
    }

    /// Keeps the bytes of a line that continues in the next chunk, within the limit.
    fn buffer_partial(&mut self, piece: &[u8]) {
        if piece.is_empty() || self.discard_line {
            return;
        }
        if self.skipping {
            self.discard_line = true; // Not blank: skipped without buffering.
        } else if self.line.len() + piece.len() > self.max_size {
            self.line.clear();
            self.too_large();
            self.discard_line = true;
        } else {
            self.line.extend_from_slice(piece);
        }
    }

    /// Applies the size limit and the skip-after-error state to a complete line, then interprets it.
    fn check_line(&mut self, line: &[u8]) {
        if self.skipping {
            self.skipping = !line.is_empty();
        } else if line.len() > self.max_size {
            self.too_large();
        } else {
            self.process_line(line);
        }
    }

    /// Replaces the current event by an error and skips to the next blank line.
    fn too_large(&mut self) {
        self.queue.push_back(Err(SseError::TooLarge { limit: self.max_size }));
        self.has_data = false;
        self.data.clear();
        self.event_type.clear();
        self.skipping = true;
    }

    /// Interprets one line (§9.2.6).
    fn process_line(&mut self, line: &[u8]) {
        if let Some(value) = line.strip_prefix(b"data:") {
            return self.append_data(value.strip_prefix(b" ").unwrap_or(value)); // The most common line.
        }
        let (name, value) = match memchr::memchr(b':', line) {
            None if line.is_empty() => return self.dispatch(),
            None => (line, &[][..]),
            Some(0) => return, // Comment.
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
        };
        match name {
            b"data" => self.append_data(value),
            b"event" => self.event_type = decode(value).into_owned(),
            b"id" if !value.contains(&0) => self.last_id = Some(decode(value).into_owned()),
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                let ms = value.iter().fold(0u64, |ms, &d| ms.saturating_mul(10).saturating_add(u64::from(d - b'0')));
                self.retry = Some(ms);
            }
            _ => {} // Unknown field, `id` with NUL, or `retry` that is not digits: ignored.
        }
    }

    /// Appends a data line, within the limit.
    fn append_data(&mut self, value: &[u8]) {
        let value = decode(value);
        if self.data.len() + usize::from(self.has_data) + value.len() > self.max_size {
            return self.too_large();
        }
        if self.has_data {
            self.data.push('\n');
            self.data.push_str(&value);
        } else {
            self.data = value.into_owned(); // One exact-size allocation for the usual one-line event.
            self.has_data = true;
        }
    }

    /// Dispatches the event on a blank line (§9.2.6 "dispatch the event").
    fn dispatch(&mut self) {
        if self.has_data {
            let event = if self.event_type.is_empty() { "message".to_owned() } else { mem::take(&mut self.event_type) };
            let data = mem::take(&mut self.data);
            self.queue.push_back(Ok(SseEvent { event, data, id: self.last_id.clone() }));
        }
        self.has_data = false;
        self.event_type.clear();
    }
}

/// Decodes UTF-8, replacing invalid sequences with U+FFFD. `str::from_utf8` first: its word-at-a-time ASCII path
/// is much faster than `String::from_utf8_lossy` on valid input, the common case.
fn decode(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

#[cfg(test)]
mod tests;
