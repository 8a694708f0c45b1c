//! Streamed Responses events (`event: response.*`, data with the same `type`).

use serde::Deserialize;

use crate::error::StreamError;
use crate::event::{StopReason, StreamEvent, Usage};
use crate::provider::common::{malformed, parse_event, Out, Text, ToolCalls};
use crate::provider::error::{provider_error, stream_error};
use crate::provider::ProviderKind;

const KIND: ProviderKind = ProviderKind::OpenAiResponses;

#[derive(Deserialize)]
struct Event<'a> {
    #[serde(rename = "type", borrow)]
    ty: Text<'a>,
    #[serde(borrow, default)]
    response: Option<Response<'a>>,
    #[serde(borrow, default)]
    item: Option<Item<'a>>,
    #[serde(default)]
    output_index: Option<usize>,
    #[serde(default)]
    summary_index: Option<usize>,
    #[serde(default)]
    content_index: Option<usize>,
    #[serde(borrow, default)]
    delta: Text<'a>,
    #[serde(borrow, default)]
    arguments: Text<'a>,
}

/// The response object, in `response.*` lifecycle events and as a whole non-streaming body.
#[derive(Deserialize)]
pub(super) struct Response<'a> {
    #[serde(borrow, default)]
    pub id: Text<'a>,
    #[serde(borrow, default)]
    pub model: Text<'a>,
    #[serde(borrow, default)]
    pub status: Text<'a>,
    #[serde(borrow, default)]
    pub output: Vec<Item<'a>>,
    #[serde(default)]
    pub usage: Option<ResponsesUsage>,
    #[serde(borrow, default)]
    pub incomplete_details: Option<Incomplete<'a>>,
    #[serde(default)]
    pub error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
pub(super) struct Incomplete<'a> {
    #[serde(borrow, default)]
    pub reason: Text<'a>,
}

/// An output item (`message`, `reasoning`, `function_call`, …).
#[derive(Deserialize)]
pub(super) struct Item<'a> {
    #[serde(rename = "type", borrow, default)]
    pub ty: Text<'a>,
    #[serde(borrow, default)]
    pub call_id: Text<'a>,
    #[serde(borrow, default)]
    pub name: Text<'a>,
    #[serde(borrow, default)]
    pub arguments: Text<'a>,
    #[serde(borrow, default)]
    pub content: Vec<Part<'a>>,
    #[serde(borrow, default)]
    pub summary: Vec<Part<'a>>,
}

/// A content or summary part (`output_text`, `refusal`, `summary_text`, `reasoning_text`).
#[derive(Deserialize)]
pub(super) struct Part<'a> {
    #[serde(rename = "type", borrow, default)]
    pub ty: Text<'a>,
    #[serde(borrow, default)]
    pub text: Text<'a>,
    #[serde(borrow, default)]
    pub refusal: Text<'a>,
}

#[derive(Deserialize, Default)]
pub(super) struct ResponsesUsage {
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    output_tokens: Option<u64>,
    #[serde(default)]
    input_tokens_details: Option<InputDetails>,
}

#[derive(Deserialize, Default)]
struct InputDetails {
    #[serde(default)]
    cached_tokens: Option<u64>,
}

impl ResponsesUsage {
    fn normalize(&self) -> Usage {
        let input = self.input_tokens.unwrap_or(0);
        let cached = self.input_tokens_details.as_ref().and_then(|d| d.cached_tokens).unwrap_or(0).min(input);
        Usage {
            input_tokens: input - cached,
            output_tokens: self.output_tokens.unwrap_or(0),
            cache_read_input_tokens: cached,
            cache_creation_input_tokens: 0,
        }
    }
}

/// The events that end a response: usage, stop reason, `Done` — or the error of a failed response.
///
/// `default_status` stands in when the response object carries no `status`.
pub(super) fn finish(
    r: &Response<'_>,
    default_status: &str,
    called_functions: bool,
    out: &mut Out,
) -> Result<(), StreamError> {
    let status = r.status.non_empty().unwrap_or(default_status);
    if status == "failed" {
        return Err(StreamError::Provider(match &r.error {
            Some(e @ serde_json::Value::Object(_)) => stream_error(KIND, e),
            _ => provider_error(KIND, 500, None, "response failed without an error object".into()),
        }));
    }
    if let Some(u) = &r.usage {
        out.push_back(StreamEvent::Usage { usage: u.normalize() });
    }
    let (reason, raw) = match status {
        "completed" if called_functions => (StopReason::ToolUse, "completed"),
        "completed" => (StopReason::EndTurn, "completed"),
        "incomplete" => {
            let raw = r.incomplete_details.as_ref().and_then(|d| d.reason.non_empty()).unwrap_or("incomplete");
            let reason = match raw {
                "max_output_tokens" => StopReason::MaxTokens,
                "content_filter" => StopReason::ContentFilter,
                _ => StopReason::Other,
            };
            (reason, raw)
        }
        other => (StopReason::Other, other),
    };
    out.push_back(StreamEvent::Stop { reason, raw: raw.to_owned() });
    out.push_back(StreamEvent::Done);
    Ok(())
}

/// Decoder state of one Responses stream.
#[derive(Debug, Default)]
pub(crate) struct ResponsesStream {
    calls: ToolCalls,
    /// (output_index, part index) of the last reasoning text, to separate parts with a blank line.
    reasoning_part: Option<(usize, usize)>,
}

impl ResponsesStream {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn reasoning(&mut self, ev: &Event<'_>, out: &mut Out) {
        let Some(text) = ev.delta.non_empty() else { return };
        let part = (ev.output_index.unwrap_or(0), ev.summary_index.or(ev.content_index).unwrap_or(0));
        match self.reasoning_part {
            Some(p) if p != part => out.push_back(StreamEvent::ReasoningDelta { text: "\n\n".into() }),
            _ => {}
        }
        self.reasoning_part = Some(part);
        out.push_back(StreamEvent::ReasoningDelta { text: text.to_owned() });
    }

    /// Decodes one SSE event's data; `Ok(true)` at `response.completed` / `response.incomplete`.
    pub(crate) fn on_data(&mut self, data: &str, out: &mut Out) -> Result<bool, StreamError> {
        let ev: Event<'_> = parse_event(KIND, data)?;
        let index =
            |what: &str| ev.output_index.ok_or_else(|| malformed(KIND, data, format!("{what} without output_index")));
        match ev.ty.0.as_deref().unwrap_or_default() {
            "response.created" => {
                if let Some(r) = &ev.response {
                    out.push_back(StreamEvent::Start {
                        id: r.id.0.as_deref().map(str::to_owned),
                        model: r.model.0.as_deref().map(str::to_owned),
                    });
                }
            }
            "response.output_text.delta" => {
                if let Some(text) = ev.delta.non_empty() {
                    out.push_back(StreamEvent::TextDelta { text: text.to_owned() });
                }
            }
            "response.refusal.delta" => {
                if let Some(text) = ev.delta.non_empty() {
                    out.push_back(StreamEvent::Refusal { text: text.to_owned() });
                }
            }
            "response.reasoning_summary_text.delta" | "response.reasoning_text.delta" => self.reasoning(&ev, out),
            "response.output_item.added" => {
                if let Some(item) = ev.item.as_ref().filter(|i| i.ty.0.as_deref() == Some("function_call")) {
                    let i = index("response.output_item.added")?;
                    let args = item.arguments.non_empty().unwrap_or_default();
                    out.push_back(self.calls.fragment(i, item.call_id.non_empty(), item.name.non_empty(), args));
                }
            }
            "response.function_call_arguments.delta" => {
                let i = index("response.function_call_arguments.delta")?;
                if !self.calls.contains(i) {
                    return Err(malformed(KIND, data, format!("arguments for output item {i}, which never started")));
                }
                out.push_back(self.calls.fragment(i, None, None, ev.delta.non_empty().unwrap_or_default()));
            }
            "response.function_call_arguments.done" => {
                let i = index("response.function_call_arguments.done")?;
                if let Some(args) = ev.arguments.0.as_deref() {
                    self.calls.set_arguments(i, args);
                }
                out.extend(self.calls.complete(i, ""));
            }
            "response.output_item.done" => {
                if let Some(item) = ev.item.as_ref().filter(|i| i.ty.0.as_deref() == Some("function_call")) {
                    let i = index("response.output_item.done")?;
                    if !self.calls.contains(i) {
                        out.push_back(self.calls.fragment(i, item.call_id.non_empty(), item.name.non_empty(), ""));
                    }
                    if let Some(args) = item.arguments.0.as_deref() {
                        self.calls.set_arguments(i, args);
                    }
                    out.extend(self.calls.complete(i, ""));
                }
            }
            t @ ("response.completed" | "response.incomplete" | "response.failed") => {
                let r = ev.response.as_ref().ok_or_else(|| malformed(KIND, data, format!("{t} without response")))?;
                self.calls.complete_all("", out);
                finish(r, &t["response.".len()..], !self.calls.is_empty(), out)?;
                return Ok(true);
            }
            "error" => {
                let v: serde_json::Value = parse_event(KIND, data)?;
                return Err(StreamError::Provider(stream_error(KIND, &v)));
            }
            _ => {}
        }
        Ok(false)
    }
}
