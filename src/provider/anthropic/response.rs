//! Non-streaming Messages bodies, turned into the same events a stream gives.

use serde::Deserialize;
use serde_json::Value;

use super::stream::{stop_reason, AnthropicUsage};
use crate::error::StreamError;
use crate::event::{ChatResponse, StreamEvent, ToolCall};
use crate::provider::common::{fold, parse_event, Out, Text};
use crate::provider::error::stream_error;
use crate::provider::ProviderKind;

const KIND: ProviderKind = ProviderKind::Anthropic;

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow, default)]
    id: Text<'a>,
    #[serde(borrow, default)]
    model: Text<'a>,
    #[serde(borrow, default)]
    content: Vec<Block<'a>>,
    #[serde(borrow, default)]
    stop_reason: Text<'a>,
    #[serde(default)]
    usage: Option<AnthropicUsage>,
}

#[derive(Deserialize)]
struct Block<'a> {
    #[serde(rename = "type", borrow)]
    ty: Text<'a>,
    #[serde(borrow, default)]
    text: Text<'a>,
    #[serde(borrow, default)]
    thinking: Text<'a>,
    #[serde(borrow, default)]
    id: Text<'a>,
    #[serde(borrow, default)]
    name: Text<'a>,
    #[serde(default)]
    input: Option<Value>,
}

fn owned(t: &Text<'_>) -> Option<String> {
    t.0.as_deref().map(str::to_owned)
}

pub(crate) fn decode_response(body: &[u8]) -> Result<ChatResponse, StreamError> {
    let text = std::str::from_utf8(body)
        .map_err(|e| StreamError::Malformed { provider: KIND, message: format!("body is not UTF-8: {e}") })?;
    let v: Value = parse_event(KIND, text)?;
    if v.get("type").and_then(Value::as_str) == Some("error") {
        return Err(StreamError::Provider(stream_error(KIND, &v)));
    }
    let m: Message<'_> = parse_event(KIND, text)?;
    let mut out = Out::new();
    out.push_back(StreamEvent::Start { id: owned(&m.id), model: owned(&m.model) });
    if let Some(u) = &m.usage {
        out.push_back(StreamEvent::Usage { usage: u.normalize() });
    }
    for b in &m.content {
        match b.ty.0.as_deref().unwrap_or_default() {
            "text" => out.extend(b.text.non_empty().map(|t| StreamEvent::TextDelta { text: t.to_owned() })),
            "thinking" => {
                out.extend(b.thinking.non_empty().map(|t| StreamEvent::ReasoningDelta { text: t.to_owned() }))
            }
            "tool_use" => out.push_back(StreamEvent::ToolCall {
                call: ToolCall {
                    id: owned(&b.id).unwrap_or_default(),
                    name: owned(&b.name).unwrap_or_default(),
                    arguments: b.input.as_ref().map_or_else(|| "{}".to_owned(), Value::to_string),
                },
            }),
            _ => {}
        }
    }
    if let Some(raw) = m.stop_reason.non_empty() {
        out.push_back(StreamEvent::Stop { reason: stop_reason(raw), raw: raw.to_owned() });
    }
    out.push_back(StreamEvent::Done);
    Ok(fold(out))
}
