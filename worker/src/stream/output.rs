//! What the client of a stream reads: the widget protocol, the provider's own bytes, or a translation into another
//! SDK format. The formats themselves are the core's (`edgechat::protocol`, `edgechat::provider::<name>::encode`).

use edgechat::protocol::{Start, Summary};
use edgechat::provider::{anthropic, openai_chat, openai_responses};
use edgechat::{StreamEvent, Usage};

use super::Framing;
use crate::compat::Format;

/// How the client sees the stream.
pub enum Output {
    /// The widget protocol: `start`, then numbered events.
    Widget {
        /// The `start` event's data (sent first).
        start: Start,
        /// A summary of the turns that no longer fit, sent right after `start`.
        summary: Option<Summary>,
        /// Bytes for one client, or frames for a resumable log.
        framing: Framing,
    },
    /// The provider's bytes unchanged (an SDK route in the model's own format), metered alongside.
    Passthrough {
        /// The format (for the edge's own error frames).
        format: Format,
        /// The machine hands the bytes back for the client ([`super::StreamMachine::take_bytes`]); `false` when
        /// the runtime sends the upstream body to the client itself and feeds the machine a copy.
        forward: bool,
    },
    /// Translated into another SDK format.
    Translate(Encoder),
}

/// The output format of a translated stream.
pub enum Encoder {
    /// OpenAI `chat.completion.chunk` events.
    Chat(openai_chat::encode::ChunkEncoder),
    /// Anthropic Messages events.
    Messages(anthropic::encode::MessagesEncoder),
}

impl Encoder {
    pub(super) fn push(&mut self, ev: &StreamEvent) -> String {
        match self {
            Self::Chat(e) => e.push(ev),
            Self::Messages(e) => e.push(ev),
        }
    }

    pub(super) fn finish(&mut self, usage: &Usage) -> String {
        match self {
            Self::Chat(e) => e.finish(usage),
            Self::Messages(e) => e.finish(usage),
        }
    }

    pub(super) fn error(&self, kind: &str, message: &str) -> String {
        match self {
            Self::Chat(_) => openai_chat::encode::error_frame(kind, message),
            Self::Messages(_) => anthropic::encode::error_frame(kind, message),
        }
    }
}

/// The edge's own error event in an SDK format (the stream ends without its terminal event, so SDKs raise).
pub(super) fn error_frame(format: Format, kind: &str, message: &str) -> String {
    match format {
        Format::OpenAiChat => openai_chat::encode::error_frame(kind, message),
        Format::OpenAiResponses => openai_responses::encode::error_frame(kind, message),
        Format::Anthropic => anthropic::encode::error_frame(kind, message),
    }
}
