//! Non-streaming `chat.completion` bodies, turned into the same events a stream gives.

use serde::Deserialize;

use super::stream::{stop_reason, ChatUsage};
use crate::error::StreamError;
use crate::event::{ChatResponse, StreamEvent, ToolCall};
use crate::provider::common::{fold, parse_event, Out, Text};
use crate::provider::error::stream_error;
use crate::provider::ProviderKind;

#[derive(Deserialize)]
struct Completion<'a> {
    #[serde(borrow, default)]
    id: Text<'a>,
    #[serde(borrow, default)]
    model: Text<'a>,
    #[serde(borrow, default)]
    choices: Vec<Choice<'a>>,
    #[serde(default)]
    usage: Option<ChatUsage>,
}

#[derive(Deserialize)]
struct Choice<'a> {
    #[serde(default)]
    index: u32,
    #[serde(borrow)]
    message: Message<'a>,
    #[serde(borrow, default)]
    finish_reason: Text<'a>,
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow, default)]
    content: Text<'a>,
    #[serde(borrow, default)]
    reasoning_content: Text<'a>,
    #[serde(borrow, default)]
    reasoning: Text<'a>,
    #[serde(borrow, default)]
    refusal: Text<'a>,
    #[serde(borrow, default)]
    tool_calls: Vec<Call<'a>>,
}

#[derive(Deserialize)]
struct Call<'a> {
    #[serde(borrow, default)]
    id: Text<'a>,
    #[serde(borrow)]
    function: Function<'a>,
}

#[derive(Deserialize)]
struct Function<'a> {
    #[serde(borrow, default)]
    name: Text<'a>,
    #[serde(borrow, default)]
    arguments: Text<'a>,
}

fn owned(t: &Text<'_>) -> Option<String> {
    t.0.as_deref().map(str::to_owned)
}

pub(crate) fn decode_response(kind: ProviderKind, body: &[u8]) -> Result<ChatResponse, StreamError> {
    let text = std::str::from_utf8(body)
        .map_err(|e| StreamError::Malformed { provider: kind, message: format!("body is not UTF-8: {e}") })?;
    let v: serde_json::Value = parse_event(kind, text)?;
    if v.get("error").is_some_and(|e| !e.is_null()) {
        return Err(StreamError::Provider(stream_error(kind, &v)));
    }
    let c: Completion<'_> = parse_event(kind, text)?;
    let mut out = Out::new();
    out.push_back(StreamEvent::Start { id: owned(&c.id), model: owned(&c.model) });
    if let Some(choice) = c.choices.iter().find(|c| c.index == 0) {
        let m = &choice.message;
        if let Some(t) = m.reasoning_content.non_empty().or_else(|| m.reasoning.non_empty()) {
            out.push_back(StreamEvent::ReasoningDelta { text: t.to_owned() });
        }
        if let Some(t) = m.content.non_empty() {
            out.push_back(StreamEvent::TextDelta { text: t.to_owned() });
        }
        if let Some(t) = m.refusal.non_empty() {
            out.push_back(StreamEvent::Refusal { text: t.to_owned() });
        }
        for call in &m.tool_calls {
            out.push_back(StreamEvent::ToolCall {
                call: ToolCall {
                    id: owned(&call.id).unwrap_or_default(),
                    name: owned(&call.function.name).unwrap_or_default(),
                    arguments: owned(&call.function.arguments).unwrap_or_default(),
                },
            });
        }
        if let Some(raw) = choice.finish_reason.non_empty() {
            out.push_back(StreamEvent::Stop { reason: stop_reason(raw), raw: raw.to_owned() });
        }
    }
    if let Some(u) = &c.usage {
        out.push_back(StreamEvent::Usage { usage: u.normalize() });
    }
    out.push_back(StreamEvent::Done);
    Ok(fold(out))
}
