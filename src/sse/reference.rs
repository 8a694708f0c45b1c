//! A naive, whole-input SSE parser written straight from the WHATWG steps, for property tests and fuzzing only
//! (cargo feature `reference`). It favours being obviously right over speed: it splits the whole input into lines
//! first, decodes each line to a `String`, and keeps the spec's data buffer with its trailing LF.

use super::{SseError, SseEvent};

/// The result of parsing a whole stream: what [`super::SseParser`] must produce for the same bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Events and errors, in order.
    pub events: Vec<Result<SseEvent, SseError>>,
    /// The reconnection time at end of input.
    pub retry_ms: Option<u64>,
    /// The last event ID buffer at end of input.
    pub last_event_id: Option<String>,
}

/// Parses a complete stream with the given size limit.
pub fn parse(input: &[u8], max_size: usize) -> Outcome {
    let input = input.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(input);
    let (lines, unterminated) = split_lines(input);
    let mut state = State { max_size, ..State::default() };
    for line in lines {
        state.line(line);
    }
    // The unterminated last line is discarded at end of input, but it still may not exceed the limit.
    if !state.skipping && unterminated.len() > max_size {
        state.events.push(Err(SseError::TooLarge { limit: max_size }));
    }
    Outcome { events: state.events, retry_ms: state.retry, last_event_id: state.last_id }
}

/// Splits at CRLF, LF, or CR; returns the terminated lines and the unterminated rest.
fn split_lines(input: &[u8]) -> (Vec<&[u8]>, &[u8]) {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'\n' => {
                lines.push(&input[start..i]);
                start = i + 1;
            }
            b'\r' => {
                lines.push(&input[start..i]);
                if input.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    (lines, &input[start..])
}

#[derive(Default)]
struct State {
    max_size: usize,
    skipping: bool,
    data: String,
    event_type: String,
    last_id: Option<String>,
    retry: Option<u64>,
    events: Vec<Result<SseEvent, SseError>>,
}

impl State {
    fn line(&mut self, raw: &[u8]) {
        if self.skipping {
            self.skipping = !raw.is_empty();
            return;
        }
        if raw.len() > self.max_size {
            return self.too_large();
        }
        let line = String::from_utf8_lossy(raw);
        if line.is_empty() {
            return self.dispatch();
        }
        if line.starts_with(':') {
            return;
        }
        match line.split_once(':') {
            Some((field, value)) => self.field(field, value.strip_prefix(' ').unwrap_or(value)),
            None => self.field(&line, ""),
        }
    }

    fn field(&mut self, name: &str, value: &str) {
        match name {
            "event" => self.event_type = value.to_owned(),
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
                if self.data.len() - 1 > self.max_size {
                    self.too_large();
                }
            }
            "id" if !value.contains('\0') => self.last_id = Some(value.to_owned()),
            // Digits only: parse, saturating at u64::MAX when too long.
            "retry" if !value.is_empty() && value.chars().all(|c| c.is_ascii_digit()) => {
                self.retry = Some(value.parse().unwrap_or(u64::MAX));
            }
            _ => {} // Unknown field, `id` with NUL, `retry` not digits: ignored.
        }
    }

    fn dispatch(&mut self) {
        if self.data.is_empty() {
            self.event_type.clear();
            return;
        }
        self.data.pop(); // The trailing LF.
        let event = if self.event_type.is_empty() { "message".to_owned() } else { self.event_type.clone() };
        self.events.push(Ok(SseEvent { event, data: std::mem::take(&mut self.data), id: self.last_id.clone() }));
        self.event_type.clear();
    }

    fn too_large(&mut self) {
        self.events.push(Err(SseError::TooLarge { limit: self.max_size }));
        self.data.clear();
        self.event_type.clear();
        self.skipping = true;
    }
}
