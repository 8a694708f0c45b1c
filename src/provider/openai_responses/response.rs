//! Non-streaming Responses bodies (the response object), turned into the same events a stream gives.

use crate::error::StreamError;
use crate::event::{ChatResponse, StreamEvent, ToolCall};
use crate::provider::common::{fold, parse_event, Out};
use crate::provider::error::stream_error;
use crate::provider::ProviderKind;

use super::stream::{finish, Response};

const KIND: ProviderKind = ProviderKind::OpenAiResponses;

pub(crate) fn decode_response(body: &[u8]) -> Result<ChatResponse, StreamError> {
    let text = std::str::from_utf8(body)
        .map_err(|e| StreamError::Malformed { provider: KIND, message: format!("body is not UTF-8: {e}") })?;
    let v: serde_json::Value = parse_event(KIND, text)?;
    if v.get("object").is_none() && v.get("error").is_some_and(|e| !e.is_null()) {
        return Err(StreamError::Provider(stream_error(KIND, &v)));
    }
    let r: Response<'_> = parse_event(KIND, text)?;
    let mut out = Out::new();
    out.push_back(StreamEvent::Start {
        id: r.id.0.as_deref().map(str::to_owned),
        model: r.model.0.as_deref().map(str::to_owned),
    });
    let mut reasoning_parts = 0;
    let mut calls = 0;
    for item in &r.output {
        match item.ty.0.as_deref().unwrap_or_default() {
            "message" => {
                for part in &item.content {
                    match part.ty.0.as_deref().unwrap_or_default() {
                        "output_text" => {
                            out.extend(part.text.non_empty().map(|t| StreamEvent::TextDelta { text: t.to_owned() }))
                        }
                        "refusal" => {
                            out.extend(part.refusal.non_empty().map(|t| StreamEvent::Refusal { text: t.to_owned() }))
                        }
                        _ => {}
                    }
                }
            }
            "reasoning" => {
                let parts = if item.summary.is_empty() { &item.content } else { &item.summary };
                for text in parts.iter().filter_map(|p| p.text.non_empty()) {
                    if reasoning_parts > 0 {
                        out.push_back(StreamEvent::ReasoningDelta { text: "\n\n".into() });
                    }
                    reasoning_parts += 1;
                    out.push_back(StreamEvent::ReasoningDelta { text: text.to_owned() });
                }
            }
            "function_call" => {
                calls += 1;
                out.push_back(StreamEvent::ToolCall {
                    call: ToolCall {
                        id: item.call_id.0.as_deref().unwrap_or_default().to_owned(),
                        name: item.name.0.as_deref().unwrap_or_default().to_owned(),
                        arguments: item.arguments.0.as_deref().unwrap_or_default().to_owned(),
                    },
                });
            }
            _ => {}
        }
    }
    finish(&r, "completed", calls > 0, &mut out)?;
    Ok(fold(out))
}
