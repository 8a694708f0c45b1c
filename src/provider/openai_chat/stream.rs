//! Streamed `chat.completion.chunk` objects (`data: {…}` lines, ended by `data: [DONE]`).

use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::error::StreamError;
use crate::event::{StopReason, StreamEvent, Usage};
use crate::provider::common::{parse_event, Out, Text, ToolCalls};
use crate::provider::error::stream_error;
use crate::provider::ProviderKind;

#[derive(Deserialize)]
struct Chunk<'a> {
    #[serde(borrow, default)]
    id: Text<'a>,
    #[serde(borrow, default)]
    model: Text<'a>,
    #[serde(borrow, default)]
    choices: Option<Vec<Choice<'a>>>,
    #[serde(default)]
    usage: Option<ChatUsage>,
    #[serde(default)]
    error: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct Choice<'a> {
    #[serde(default)]
    index: u32,
    #[serde(borrow, default)]
    delta: Option<Delta<'a>>,
    #[serde(borrow, default)]
    finish_reason: Text<'a>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(borrow, default)]
    content: Text<'a>,
    #[serde(borrow, default)]
    reasoning_content: Text<'a>,
    #[serde(borrow, default)]
    reasoning: Text<'a>,
    #[serde(borrow, default)]
    refusal: Text<'a>,
    #[serde(borrow, default)]
    tool_calls: Option<Vec<CallChunk<'a>>>,
}

#[derive(Deserialize)]
struct CallChunk<'a> {
    #[serde(default)]
    index: Option<usize>,
    #[serde(borrow, default)]
    id: Text<'a>,
    #[serde(borrow, default)]
    function: Option<FunctionChunk<'a>>,
}

#[derive(Deserialize)]
struct FunctionChunk<'a> {
    #[serde(borrow, default)]
    name: Text<'a>,
    #[serde(borrow, default)]
    arguments: Text<'a>,
}

/// `usage` of a chunk or a whole response.
#[derive(Deserialize, Default)]
pub(super) struct ChatUsage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens: Option<u64>,
    #[serde(default)]
    prompt_tokens_details: Option<PromptDetails>,
}

#[derive(Deserialize, Default)]
struct PromptDetails {
    #[serde(default)]
    cached_tokens: Option<u64>,
}

impl ChatUsage {
    /// Normalized usage: cached prompt tokens are reported apart from the rest of the prompt.
    pub(super) fn normalize(&self) -> Usage {
        let prompt = self.prompt_tokens.unwrap_or(0);
        let cached = self.prompt_tokens_details.as_ref().and_then(|d| d.cached_tokens).unwrap_or(0).min(prompt);
        Usage {
            input_tokens: prompt - cached,
            output_tokens: self.completion_tokens.unwrap_or(0),
            cache_read_input_tokens: cached,
            cache_creation_input_tokens: 0,
        }
    }
}

/// The normalized stop reason for a `finish_reason`.
pub(super) fn stop_reason(raw: &str) -> StopReason {
    match raw {
        "stop" | "end_turn" | "eos" => StopReason::EndTurn,
        "length" | "max_tokens" => StopReason::MaxTokens,
        "tool_calls" | "function_call" | "tool_use" => StopReason::ToolUse,
        "content_filter" => StopReason::ContentFilter,
        "stop_sequence" => StopReason::StopSequence,
        _ => StopReason::Other,
    }
}

/// Decoder state of one Chat Completions stream.
#[derive(Debug)]
pub(crate) struct ChatStream {
    kind: ProviderKind,
    started: bool,
    calls: ToolCalls,
}

impl ChatStream {
    pub(crate) fn new(kind: ProviderKind) -> Self {
        Self { kind, started: false, calls: ToolCalls::default() }
    }

    /// Decodes one SSE event's data; `Ok(true)` when it was the terminal `[DONE]`.
    pub(crate) fn on_data(&mut self, data: &str, out: &mut Out) -> Result<bool, StreamError> {
        let data = data.trim_ascii();
        if data == "[DONE]" {
            // Calls still open (a server that sent no finish_reason) are as complete as they will get.
            self.calls.complete_all("", out);
            out.push_back(StreamEvent::Done);
            return Ok(true);
        }
        if data.is_empty() {
            return Ok(false);
        }
        let chunk: Chunk<'_> = parse_event(self.kind, data)?;
        if chunk.error.is_some() {
            let v: serde_json::Value = parse_event(self.kind, data)?;
            return Err(StreamError::Provider(stream_error(self.kind, &v)));
        }
        if !self.started && (chunk.id.0.is_some() || chunk.model.0.is_some()) {
            self.started = true;
            out.push_back(StreamEvent::Start {
                id: chunk.id.0.map(|s| s.into_owned()),
                model: chunk.model.0.map(|s| s.into_owned()),
            });
        }
        for choice in chunk.choices.iter().flatten().filter(|c| c.index == 0) {
            if let Some(delta) = &choice.delta {
                self.on_delta(delta, out);
            }
            if let Some(raw) = choice.finish_reason.non_empty() {
                self.calls.complete_all("", out);
                out.push_back(StreamEvent::Stop { reason: stop_reason(raw), raw: raw.to_owned() });
            }
        }
        if let Some(usage) = &chunk.usage {
            out.push_back(StreamEvent::Usage { usage: usage.normalize() });
        }
        Ok(false)
    }

    fn on_delta(&mut self, delta: &Delta<'_>, out: &mut Out) {
        // Some servers (vLLM) send the same text under both names: take one.
        if let Some(text) = delta.reasoning_content.non_empty().or_else(|| delta.reasoning.non_empty()) {
            out.push_back(StreamEvent::ReasoningDelta { text: text.to_owned() });
        }
        if let Some(text) = delta.content.non_empty() {
            out.push_back(StreamEvent::TextDelta { text: text.to_owned() });
        }
        if let Some(text) = delta.refusal.non_empty() {
            out.push_back(StreamEvent::Refusal { text: text.to_owned() });
        }
        for (pos, call) in delta.tool_calls.iter().flatten().enumerate() {
            let (name, args) = match &call.function {
                Some(f) => (f.name.non_empty(), f.arguments.non_empty().unwrap_or("")),
                None => (None, ""),
            };
            let key = call.index.unwrap_or(pos);
            out.push_back(self.calls.fragment(key, call.id.non_empty(), name, args));
        }
    }
}
