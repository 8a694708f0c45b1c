//! The one event type every provider stream is normalized into, and the fold of those events into a final response.

use serde::{Deserialize, Serialize};

use crate::error::StreamError;

/// Token usage of one response. Fields a provider did not report are zero.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Prompt tokens billed at the normal input rate (OpenAI: `prompt_tokens` minus cached tokens).
    pub input_tokens: u64,
    /// Generated tokens (including reasoning tokens where the provider bills them as output).
    pub output_tokens: u64,
    /// Prompt tokens read from the provider's prompt cache.
    pub cache_read_input_tokens: u64,
    /// Prompt tokens written to the provider's prompt cache (Anthropic `cache_creation_input_tokens`).
    pub cache_creation_input_tokens: u64,
}

impl Usage {
    /// Keeps the larger value of each field: providers repeat and grow usage as a stream goes on (Anthropic reports
    /// input tokens in `message_start` and output tokens in `message_delta`).
    pub fn merge_max(&mut self, other: &Usage) {
        self.input_tokens = self.input_tokens.max(other.input_tokens);
        self.output_tokens = self.output_tokens.max(other.output_tokens);
        self.cache_read_input_tokens = self.cache_read_input_tokens.max(other.cache_read_input_tokens);
        self.cache_creation_input_tokens = self.cache_creation_input_tokens.max(other.cache_creation_input_tokens);
    }

    /// All prompt-side tokens: normal, cache read and cache write.
    pub fn total_input_tokens(&self) -> u64 {
        self.input_tokens + self.cache_read_input_tokens + self.cache_creation_input_tokens
    }
}

/// Why the model stopped, normalized across providers. The provider's raw value travels beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StopReason {
    /// The model finished its turn (`stop`, `end_turn`, `completed`).
    EndTurn,
    /// The output hit the token limit (`length`, `max_tokens`, `incomplete: max_output_tokens`): offer "continue".
    MaxTokens,
    /// A caller-supplied stop sequence matched.
    StopSequence,
    /// The model wants tool results (`tool_calls`, `tool_use`).
    ToolUse,
    /// The provider's content filter cut the output.
    ContentFilter,
    /// The model refused (Anthropic `refusal`).
    Refusal,
    /// Anthropic `pause_turn`: send the conversation back as is to let it continue.
    PauseTurn,
    /// A value this version does not know; see the raw value.
    Other,
}

impl StopReason {
    const NAMES: [(StopReason, &'static str); 8] = [
        (Self::EndTurn, "end_turn"),
        (Self::MaxTokens, "max_tokens"),
        (Self::StopSequence, "stop_sequence"),
        (Self::ToolUse, "tool_use"),
        (Self::ContentFilter, "content_filter"),
        (Self::Refusal, "refusal"),
        (Self::PauseTurn, "pause_turn"),
        (Self::Other, "other"),
    ];

    /// The normalized name (the serde form): `end_turn`, `max_tokens`, …
    pub fn as_str(self) -> &'static str {
        Self::NAMES.iter().find(|(r, _)| *r == self).map_or("other", |(_, n)| n)
    }

    /// The reason a normalized name stands for; [`StopReason::Other`] for a name this version does not know.
    pub fn from_normalized(name: &str) -> Self {
        Self::NAMES.iter().find(|(_, n)| *n == name).map_or(Self::Other, |(r, _)| *r)
    }
}

/// A complete tool call, assembled from streamed fragments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    /// Provider-assigned call id, echoed back with the tool's result.
    pub id: String,
    /// Tool (function) name.
    pub name: String,
    /// The arguments as the JSON text the model produced (may be invalid JSON if the model erred).
    pub arguments: String,
}

/// One normalized event of a provider stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum StreamEvent {
    /// The provider accepted the request. Show nothing yet; remember the id and model if wanted.
    Start {
        /// Provider response/message id, when given.
        id: Option<String>,
        /// The model that actually serves the request, when given.
        model: Option<String>,
    },
    /// Visible answer text: append it to the answer.
    TextDelta {
        /// The new text.
        text: String,
    },
    /// Reasoning / thinking text: append it to the (usually collapsed) reasoning view.
    ReasoningDelta {
        /// The new text.
        text: String,
    },
    /// A fragment of a tool call; fragments with the same `index` belong together. A [`StreamEvent::ToolCall`]
    /// with the whole call follows when it is complete, so most callers can ignore fragments.
    ToolCallDelta {
        /// Position of the call within this response.
        index: usize,
        /// The call id, on the first fragment.
        id: Option<String>,
        /// The tool name, on the first fragment.
        name: Option<String>,
        /// A piece of the arguments JSON text.
        arguments: String,
    },
    /// A whole tool call: run the tool, then send its result as a tool turn.
    ToolCall {
        /// The assembled call.
        call: ToolCall,
    },
    /// Refusal text (OpenAI `refusal` deltas): show it instead of an answer.
    Refusal {
        /// The new text.
        text: String,
    },
    /// Usage so far; later `Usage` events supersede earlier ones field by field (take the max).
    Usage {
        /// Token counts.
        usage: Usage,
    },
    /// The model stopped; the stream's terminal event may still follow.
    Stop {
        /// Normalized reason.
        reason: StopReason,
        /// The provider's own value (`"stop"`, `"end_turn"`, …).
        raw: String,
    },
    /// The provider's terminal event arrived (`[DONE]`, `message_stop`, `response.completed`): the stream is
    /// complete. Nothing follows.
    Done,
}

/// The final result of a response, streamed or not: what the `decode` example prints.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// Provider response id.
    pub id: Option<String>,
    /// Model that served the response.
    pub model: Option<String>,
    /// Answer text.
    pub text: String,
    /// Reasoning text, if the provider streamed any.
    pub reasoning: String,
    /// Refusal text, if any.
    pub refusal: Option<String>,
    /// Complete tool calls in order.
    pub tool_calls: Vec<ToolCall>,
    /// Normalized stop reason, if one arrived.
    pub stop_reason: Option<StopReason>,
    /// The provider's raw stop reason.
    pub raw_stop_reason: Option<String>,
    /// Token usage (max over all usage reports).
    pub usage: Usage,
    /// True when the provider's terminal event arrived.
    pub complete: bool,
}

/// Folds [`StreamEvent`]s into a [`ChatResponse`].
///
/// Feed every event in order with [`ResponseAccumulator::push`]; read the result with
/// [`ResponseAccumulator::response`] at any time (a partial answer is still useful after an error).
#[derive(Debug, Clone, Default)]
pub struct ResponseAccumulator {
    response: ChatResponse,
    error: Option<StreamError>,
}

impl ResponseAccumulator {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one event.
    pub fn push(&mut self, event: &StreamEvent) {
        let r = &mut self.response;
        match event {
            StreamEvent::Start { id, model } => {
                if id.is_some() {
                    r.id.clone_from(id);
                }
                if model.is_some() {
                    r.model.clone_from(model);
                }
            }
            StreamEvent::TextDelta { text } => r.text.push_str(text),
            StreamEvent::ReasoningDelta { text } => r.reasoning.push_str(text),
            StreamEvent::ToolCallDelta { .. } => {}
            StreamEvent::ToolCall { call } => r.tool_calls.push(call.clone()),
            StreamEvent::Refusal { text } => r.refusal.get_or_insert_with(String::new).push_str(text),
            StreamEvent::Usage { usage } => r.usage.merge_max(usage),
            StreamEvent::Stop { reason, raw } => {
                r.stop_reason = Some(*reason);
                r.raw_stop_reason = Some(raw.clone());
            }
            StreamEvent::Done => r.complete = true,
        }
    }

    /// Records the error that ended the stream (the first one wins).
    pub fn set_error(&mut self, error: StreamError) {
        if self.error.is_none() {
            self.error = Some(error);
        }
    }

    /// The response so far.
    pub fn response(&self) -> &ChatResponse {
        &self.response
    }

    /// The error that ended the stream, if any.
    pub fn error(&self) -> Option<&StreamError> {
        self.error.as_ref()
    }

    /// Consumes the accumulator.
    pub fn into_parts(self) -> (ChatResponse, Option<StreamError>) {
        (self.response, self.error)
    }
}
