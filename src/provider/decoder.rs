//! The streaming decoder: SSE bytes of any provider in, normalized [`StreamEvent`]s out.

use std::collections::VecDeque;

use crate::error::StreamError;
use crate::event::StreamEvent;
use crate::provider::anthropic::AnthropicStream;
use crate::provider::common::Out;
use crate::provider::openai_chat::ChatStream;
use crate::provider::openai_responses::ResponsesStream;
use crate::provider::ProviderKind;
use crate::sse::{SseError, SseParser, DEFAULT_MAX_SIZE};

/// Per-provider decoding state.
#[derive(Debug)]
enum State {
    Chat(ChatStream),
    Responses(ResponsesStream),
    Anthropic(AnthropicStream),
}

/// Where the stream is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Reading events.
    Open,
    /// The terminal event arrived.
    Done,
    /// An error was produced; nothing more is decoded.
    Failed,
}

/// Incremental decoder of one provider response stream.
///
/// Calling order: [`feed`](Self::feed) each body chunk as it arrives (any split, even inside a UTF-8 character),
/// then drain [`next_event`](Self::next_event) until `None`. When the body ends call [`finish`](Self::finish) and
/// drain again. After the provider's terminal event a [`StreamEvent::Done`] is yielded; if the body ends without it,
/// the last item is `Err(StreamError::Truncated)`. After any `Err`, the stream is over.
///
/// Feeding bytes after `finish`, after an `Err`, or after the terminal event (other than trailing whitespace)
/// yields `Err(StreamError::AlreadyFinished)` — a caller bug, distinct from a stream that ended early.
///
/// ```
/// use edgechat::provider::{ProviderKind, StreamDecoder};
/// use edgechat::StreamEvent;
///
/// let mut d = StreamDecoder::new(ProviderKind::OpenAiChat);
/// d.feed(b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: [DO");
/// d.feed(b"NE]\n\n");
/// d.finish();
/// let events: Vec<_> = std::iter::from_fn(|| d.next_event()).collect();
/// assert_eq!(events, vec![Ok(StreamEvent::TextDelta { text: "Hi".into() }), Ok(StreamEvent::Done)]);
/// ```
#[derive(Debug)]
pub struct StreamDecoder {
    kind: ProviderKind,
    sse: SseParser,
    state: State,
    phase: Phase,
    finished: bool,
    max_size: usize,
    events: Out,
    errors: VecDeque<StreamError>,
}

impl StreamDecoder {
    /// A decoder for `kind` with the default SSE size limit ([`DEFAULT_MAX_SIZE`]).
    pub fn new(kind: ProviderKind) -> Self {
        Self::with_max_size(kind, DEFAULT_MAX_SIZE)
    }

    /// A decoder for `kind` whose SSE lines and events may not exceed `max_size` bytes
    /// (larger ones end the stream with [`StreamError::TooLarge`]).
    pub fn with_max_size(kind: ProviderKind, max_size: usize) -> Self {
        let state = match kind {
            ProviderKind::OpenAiChat | ProviderKind::OpenAiCompatible => State::Chat(ChatStream::new(kind)),
            ProviderKind::OpenAiResponses => State::Responses(ResponsesStream::new()),
            ProviderKind::Anthropic => State::Anthropic(AnthropicStream::new()),
        };
        Self {
            kind,
            sse: SseParser::with_max_size(max_size),
            state,
            phase: Phase::Open,
            finished: false,
            max_size,
            events: Out::new(),
            errors: VecDeque::new(),
        }
    }

    /// The provider this decoder reads.
    pub fn kind(&self) -> ProviderKind {
        self.kind
    }

    /// Feeds a chunk of the response body.
    pub fn feed(&mut self, chunk: &[u8]) {
        if chunk.is_empty() {
            return;
        }
        let trailing_whitespace = self.phase == Phase::Done && chunk.iter().all(u8::is_ascii_whitespace);
        if self.finished || self.phase != Phase::Open {
            if !trailing_whitespace || self.finished {
                self.errors.push_back(StreamError::AlreadyFinished);
            }
            return;
        }
        self.sse.feed(chunk);
        self.pump();
    }

    /// Marks the end of the body. Calling it again does nothing.
    pub fn finish(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        if self.phase == Phase::Open {
            self.sse.finish();
            self.pump();
            if self.phase == Phase::Open {
                self.phase = Phase::Failed;
                self.errors.push_back(StreamError::Truncated);
            }
        }
    }

    /// The next decoded event, `None` when more input is needed (or, after `finish`, when everything was yielded).
    pub fn next_event(&mut self) -> Option<Result<StreamEvent, StreamError>> {
        if let Some(e) = self.events.pop_front() {
            return Some(Ok(e));
        }
        self.errors.pop_front().map(Err)
    }

    /// Decodes every SSE event the parser has ready, stopping at the terminal event or the first error.
    fn pump(&mut self) {
        while self.phase == Phase::Open {
            let Some(item) = self.sse.next_event() else { return };
            let result = match item {
                Ok(ev) => match &mut self.state {
                    State::Chat(s) => s.on_data(&ev.data, &mut self.events),
                    State::Responses(s) => s.on_data(&ev.data, &mut self.events),
                    State::Anthropic(s) => s.on_data(&ev.data, &mut self.events),
                },
                Err(SseError::TooLarge { limit }) => Err(StreamError::TooLarge { limit }),
                #[allow(unreachable_patterns)] // SseError is non_exhaustive: a future variant still ends the stream.
                Err(_) => Err(StreamError::TooLarge { limit: self.max_size }),
            };
            match result {
                Ok(true) => self.phase = Phase::Done,
                Ok(false) => {}
                Err(e) => {
                    self.phase = Phase::Failed;
                    self.errors.push_back(e);
                }
            }
        }
    }
}
