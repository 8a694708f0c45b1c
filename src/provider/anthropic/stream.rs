//! Streamed Messages events: `message_start`, `content_block_start/delta/stop`, `message_delta`,
//! `message_stop`, `ping`, `error`.

use serde::Deserialize;

use crate::error::StreamError;
use crate::event::{StopReason, StreamEvent, Usage};
use crate::provider::common::{malformed, parse_event, Out, Text, ToolCalls};
use crate::provider::error::stream_error;
use crate::provider::ProviderKind;

const KIND: ProviderKind = ProviderKind::Anthropic;

/// One event's data. All event types share this flat shape; each reads the fields it has.
#[derive(Deserialize)]
struct Event<'a> {
    #[serde(rename = "type", borrow)]
    ty: Text<'a>,
    #[serde(default)]
    index: Option<usize>,
    #[serde(borrow, default)]
    message: Option<MessageStart<'a>>,
    #[serde(borrow, default)]
    content_block: Option<BlockStart<'a>>,
    #[serde(borrow, default)]
    delta: Option<Delta<'a>>,
    #[serde(default)]
    usage: Option<AnthropicUsage>,
}

#[derive(Deserialize)]
struct MessageStart<'a> {
    #[serde(borrow, default)]
    id: Text<'a>,
    #[serde(borrow, default)]
    model: Text<'a>,
    #[serde(default)]
    usage: Option<AnthropicUsage>,
}

#[derive(Deserialize)]
struct BlockStart<'a> {
    #[serde(rename = "type", borrow)]
    ty: Text<'a>,
    #[serde(borrow, default)]
    id: Text<'a>,
    #[serde(borrow, default)]
    name: Text<'a>,
    #[serde(borrow, default)]
    text: Text<'a>,
    #[serde(borrow, default)]
    thinking: Text<'a>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(rename = "type", borrow, default)]
    ty: Text<'a>,
    #[serde(borrow, default)]
    text: Text<'a>,
    #[serde(borrow, default)]
    thinking: Text<'a>,
    #[serde(borrow, default)]
    partial_json: Text<'a>,
    #[serde(borrow, default)]
    stop_reason: Text<'a>,
}

/// Anthropic `usage`: input tokens exclude cache reads and writes, which are reported apart.
#[derive(Deserialize, Default)]
pub(super) struct AnthropicUsage {
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    output_tokens: Option<u64>,
    #[serde(default)]
    cache_read_input_tokens: Option<u64>,
    #[serde(default)]
    cache_creation_input_tokens: Option<u64>,
}

impl AnthropicUsage {
    pub(super) fn normalize(&self) -> Usage {
        Usage {
            input_tokens: self.input_tokens.unwrap_or(0),
            output_tokens: self.output_tokens.unwrap_or(0),
            cache_read_input_tokens: self.cache_read_input_tokens.unwrap_or(0),
            cache_creation_input_tokens: self.cache_creation_input_tokens.unwrap_or(0),
        }
    }
}

/// The normalized stop reason for a `stop_reason`.
pub(super) fn stop_reason(raw: &str) -> StopReason {
    match raw {
        "end_turn" => StopReason::EndTurn,
        "max_tokens" => StopReason::MaxTokens,
        "stop_sequence" => StopReason::StopSequence,
        "tool_use" => StopReason::ToolUse,
        "refusal" => StopReason::Refusal,
        "pause_turn" => StopReason::PauseTurn,
        _ => StopReason::Other,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Text,
    Thinking,
    ToolUse,
    /// Blocks with no client-visible text (`redacted_thinking`, server tool use and results).
    Other,
}

/// Decoder state of one Messages stream.
#[derive(Debug, Default)]
pub(crate) struct AnthropicStream {
    blocks: Vec<(usize, Block)>,
    calls: ToolCalls,
}

impl AnthropicStream {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn block(&self, index: usize) -> Option<Block> {
        self.blocks.iter().rev().find(|(i, _)| *i == index).map(|(_, b)| *b)
    }

    /// Decodes one SSE event's data; `Ok(true)` at `message_stop`.
    pub(crate) fn on_data(&mut self, data: &str, out: &mut Out) -> Result<bool, StreamError> {
        let ev: Event<'_> = parse_event(KIND, data)?;
        match ev.ty.0.as_deref().unwrap_or_default() {
            "message_start" => {
                let m = ev.message.ok_or_else(|| malformed(KIND, data, "message_start without message"))?;
                out.push_back(StreamEvent::Start {
                    id: m.id.0.map(|s| s.into_owned()),
                    model: m.model.0.map(|s| s.into_owned()),
                });
                if let Some(u) = &m.usage {
                    out.push_back(StreamEvent::Usage { usage: u.normalize() });
                }
            }
            "content_block_start" => {
                let (Some(index), Some(b)) = (ev.index, ev.content_block) else {
                    return Err(malformed(KIND, data, "content_block_start without index or content_block"));
                };
                let block = match b.ty.0.as_deref().unwrap_or_default() {
                    "text" => Block::Text,
                    "thinking" => Block::Thinking,
                    "tool_use" => Block::ToolUse,
                    _ => Block::Other,
                };
                self.blocks.push((index, block));
                match block {
                    Block::Text => push_text(out, b.text.non_empty(), false),
                    Block::Thinking => push_text(out, b.thinking.non_empty(), true),
                    Block::ToolUse => {
                        out.push_back(self.calls.fragment(index, b.id.non_empty(), b.name.non_empty(), ""))
                    }
                    Block::Other => {}
                }
            }
            "content_block_delta" => {
                let (Some(index), Some(d)) = (ev.index, ev.delta) else {
                    return Err(malformed(KIND, data, "content_block_delta without index or delta"));
                };
                let Some(block) = self.block(index) else {
                    return Err(malformed(KIND, data, format!("delta for content block {index}, which never started")));
                };
                match (d.ty.0.as_deref().unwrap_or_default(), block) {
                    ("text_delta", _) => push_text(out, d.text.non_empty(), false),
                    ("thinking_delta", _) => push_text(out, d.thinking.non_empty(), true),
                    ("input_json_delta", Block::ToolUse) => {
                        let args = d.partial_json.non_empty().unwrap_or_default();
                        out.push_back(self.calls.fragment(index, None, None, args));
                    }
                    // signature_delta, citations_delta, server tool input: nothing to show.
                    _ => {}
                }
            }
            "content_block_stop" => {
                let Some(index) = ev.index else {
                    return Err(malformed(KIND, data, "content_block_stop without index"));
                };
                if self.block(index) == Some(Block::ToolUse) {
                    out.extend(self.calls.complete(index, "{}"));
                }
            }
            "message_delta" => {
                if let Some(raw) = ev.delta.as_ref().and_then(|d| d.stop_reason.non_empty()) {
                    self.calls.complete_all("{}", out);
                    out.push_back(StreamEvent::Stop { reason: stop_reason(raw), raw: raw.to_owned() });
                }
                if let Some(u) = &ev.usage {
                    out.push_back(StreamEvent::Usage { usage: u.normalize() });
                }
            }
            "message_stop" => {
                out.push_back(StreamEvent::Done);
                return Ok(true);
            }
            "error" => {
                let v: serde_json::Value = parse_event(KIND, data)?;
                return Err(StreamError::Provider(stream_error(KIND, &v)));
            }
            // `ping`, and event types added after this was written: the API reference asks clients to ignore
            // unknown events.
            _ => {}
        }
        Ok(false)
    }
}

fn push_text(out: &mut Out, text: Option<&str>, reasoning: bool) {
    if let Some(text) = text {
        let text = text.to_owned();
        out.push_back(if reasoning { StreamEvent::ReasoningDelta { text } } else { StreamEvent::TextDelta { text } });
    }
}
