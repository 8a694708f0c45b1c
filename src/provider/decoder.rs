//! The streaming decoder: SSE bytes of any provider in, normalized [`StreamEvent`]s out.

use crate::error::StreamError;
use crate::event::StreamEvent;
use crate::provider::ProviderKind;

/// Incremental decoder of one provider response stream.
///
/// Calling order: [`feed`](Self::feed) each body chunk as it arrives (any split, even inside a UTF-8 character),
/// then drain [`next_event`](Self::next_event) until `None`. When the body ends call [`finish`](Self::finish) and
/// drain again. After the provider's terminal event a [`StreamEvent::Done`] is yielded; if the body ends without it,
/// the last item is `Err(StreamError::Truncated)`. After any `Err`, the stream is over.
#[derive(Debug)]
pub struct StreamDecoder {
    kind: ProviderKind,
}

impl StreamDecoder {
    /// A decoder for `kind` with the default SSE size limit.
    pub fn new(kind: ProviderKind) -> Self {
        Self { kind }
    }

    /// The provider this decoder reads.
    pub fn kind(&self) -> ProviderKind {
        self.kind
    }

    /// Feeds a chunk of the response body.
    pub fn feed(&mut self, _chunk: &[u8]) {
        todo!("provider stream decoding")
    }

    /// Marks the end of the body.
    pub fn finish(&mut self) {
        todo!("provider stream decoding")
    }

    /// The next decoded event, `None` when more input is needed (or, after `finish`, when everything was yielded).
    pub fn next_event(&mut self) -> Option<Result<StreamEvent, StreamError>> {
        todo!("provider stream decoding")
    }
}
