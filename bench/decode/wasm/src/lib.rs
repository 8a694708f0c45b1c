//! `new Decoder("openai-chat")`, `feed(Uint8Array) -> string` (the text deltas of that chunk), `finish() ->
//! string`: the core's [`StreamDecoder`] as the benchmark's wasm-from-Node pipeline.

use edgechat::provider::{ProviderKind, StreamDecoder};
use edgechat::StreamEvent;
use wasm_bindgen::prelude::*;

/// A stream decoder that returns the answer text of each chunk.
#[wasm_bindgen]
pub struct Decoder {
    inner: StreamDecoder,
    error: Option<String>,
}

#[wasm_bindgen]
impl Decoder {
    /// A decoder for `provider` (`openai-chat`, `openai-responses`, `anthropic`, `openai-compatible`).
    #[wasm_bindgen(constructor)]
    pub fn new(provider: &str) -> Result<Decoder, JsError> {
        let kind: ProviderKind = provider.parse().map_err(|e: String| JsError::new(&e))?;
        Ok(Self { inner: StreamDecoder::new(kind), error: None })
    }

    /// Feeds a body chunk and returns the text deltas it completed, concatenated.
    pub fn feed(&mut self, chunk: &[u8]) -> String {
        self.inner.feed(chunk);
        self.drain()
    }

    /// Ends the body and returns the remaining text.
    pub fn finish(&mut self) -> String {
        self.inner.finish();
        self.drain()
    }

    /// The error that ended the stream, if any (`type_name: message`).
    pub fn error(&self) -> Option<String> {
        self.error.clone()
    }

    fn drain(&mut self) -> String {
        let mut text = String::new();
        while let Some(item) = self.inner.next_event() {
            match item {
                Ok(StreamEvent::TextDelta { text: t }) => text.push_str(&t),
                Ok(_) => {}
                Err(e) => {
                    if self.error.is_none() {
                        self.error = Some(format!("{}: {e}", e.type_name()));
                    }
                }
            }
        }
        text
    }
}
