//! Chat Completions request bodies.

use serde::Serialize;
use serde_json::Value;

use crate::conversation::{Attachment, AttachmentKind, Message, Role, Source};
use crate::http::HttpRequest;
use crate::provider::common::{api_key, check_temperature, endpoint, post_json, sent_tool_calls, to_body, validate};
use crate::provider::{BuildError, ChatRequest, ProviderConfig, ProviderKind, ToolSpec};
use crate::structured::ResponseFormat;

#[derive(Serialize)]
struct Body<'a> {
    model: &'a str,
    messages: Vec<Msg<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_completion_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    stop: &'a [String],
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<StreamOptions>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<Tool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_format: Option<Format<'a>>,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

#[derive(Serialize)]
struct Msg<'a> {
    role: &'static str,
    /// `null` only for an assistant turn that is nothing but tool calls.
    content: Option<Content<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<CallOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_call_id: Option<&'a str>,
}

/// A turn's content: plain text, or content parts when a user turn carries files.
#[derive(Serialize)]
#[serde(untagged)]
enum Content<'a> {
    Text(&'a str),
    Parts(Vec<Part<'a>>),
}

/// A user content part (<https://platform.openai.com/docs/api-reference/chat/create>, `messages[].content[]`).
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Part<'a> {
    Text { text: &'a str },
    ImageUrl { image_url: ImageUrl },
    File { file: FileData<'a> },
}

#[derive(Serialize)]
struct ImageUrl {
    url: String,
}

#[derive(Serialize)]
struct FileData<'a> {
    filename: &'a str,
    file_data: String,
}

/// A user turn's content: its text alone, or its files (before the text) as content parts. Chat Completions
/// takes a file only as bytes (`file_data`), so a document by URL is refused.
fn user_content(kind: ProviderKind, i: usize, m: &Message) -> Result<Content<'_>, BuildError> {
    if m.attachments.is_empty() {
        return Ok(Content::Text(&m.content));
    }
    let mut parts = Vec::with_capacity(m.attachments.len() + 1);
    for a in &m.attachments {
        parts.push(part(kind, i, a)?);
    }
    if !m.content.is_empty() {
        parts.push(Part::Text { text: &m.content });
    }
    Ok(Content::Parts(parts))
}

fn part(kind: ProviderKind, i: usize, a: &Attachment) -> Result<Part<'_>, BuildError> {
    Ok(match (a.kind, a.source()) {
        (AttachmentKind::Image, _) => Part::ImageUrl { image_url: ImageUrl { url: a.url_or_data_url() } },
        (AttachmentKind::Document, Source::Data(_)) => {
            Part::File { file: FileData { filename: a.file_name(), file_data: a.url_or_data_url() } }
        }
        (AttachmentKind::Document, Source::Url(_)) => {
            return Err(BuildError {
                provider: kind,
                message: format!("message {i}: Chat Completions takes documents as bytes only, not by URL"),
            })
        }
    })
}

#[derive(Serialize)]
struct CallOut<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    ty: &'static str,
    function: FunctionCall<'a>,
}

#[derive(Serialize)]
struct FunctionCall<'a> {
    name: &'a str,
    arguments: &'a str,
}

#[derive(Serialize)]
struct Tool<'a> {
    #[serde(rename = "type")]
    ty: &'static str,
    function: Function<'a>,
}

#[derive(Serialize)]
struct Function<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
    parameters: &'a Value,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Format<'a> {
    JsonObject,
    JsonSchema { json_schema: Schema<'a> },
}

#[derive(Serialize)]
struct Schema<'a> {
    name: &'a str,
    schema: &'a Value,
    strict: bool,
}

fn tools(specs: &[ToolSpec]) -> Vec<Tool<'_>> {
    specs
        .iter()
        .map(|t| Tool {
            ty: "function",
            function: Function { name: &t.name, description: &t.description, parameters: &t.parameters },
        })
        .collect()
}

fn messages(kind: ProviderKind, req: &ChatRequest) -> Result<Vec<Msg<'_>>, BuildError> {
    let mut out = Vec::with_capacity(req.messages.len() + 1);
    if let Some(system) = req.system.as_deref().filter(|s| !s.is_empty()) {
        out.push(Msg {
            role: "system",
            content: Some(Content::Text(system)),
            tool_calls: Vec::new(),
            tool_call_id: None,
        });
    }
    for (i, m) in req.messages.iter().enumerate() {
        let msg = match m.role {
            Role::User => Msg {
                role: "user",
                content: Some(user_content(kind, i, m)?),
                tool_calls: Vec::new(),
                tool_call_id: None,
            },
            Role::Tool => Msg {
                role: "tool",
                content: Some(Content::Text(&m.content)),
                tool_calls: Vec::new(),
                tool_call_id: m.tool_call_id.as_deref(),
            },
            Role::Assistant => {
                let calls = sent_tool_calls(m);
                if calls.is_empty() && m.content.is_empty() {
                    // An interrupted turn that produced nothing: there is nothing to send.
                    continue;
                }
                Msg {
                    role: "assistant",
                    content: if m.content.is_empty() { None } else { Some(Content::Text(&m.content)) },
                    tool_calls: calls
                        .iter()
                        .map(|c| CallOut {
                            id: &c.id,
                            ty: "function",
                            function: FunctionCall { name: &c.name, arguments: &c.arguments },
                        })
                        .collect(),
                    tool_call_id: None,
                }
            }
        };
        out.push(msg);
    }
    Ok(out)
}

pub(crate) fn build_request(config: &ProviderConfig, req: &ChatRequest) -> Result<HttpRequest, BuildError> {
    let kind = config.kind;
    validate(kind, config, req)?;
    let compatible = kind == ProviderKind::OpenAiCompatible;
    if !compatible {
        check_temperature(kind, req.temperature, 2.0)?;
    }
    let body = Body {
        model: &req.model,
        messages: messages(kind, req)?,
        max_completion_tokens: req.max_tokens.filter(|_| !compatible),
        max_tokens: req.max_tokens.filter(|_| compatible),
        temperature: req.temperature,
        stop: &req.stop,
        stream: req.stream,
        stream_options: req.stream.then_some(StreamOptions { include_usage: true }),
        tools: tools(&req.tools),
        response_format: req.response_format.as_ref().map(|f| match f {
            ResponseFormat::JsonObject => Format::JsonObject,
            ResponseFormat::JsonSchema { name, schema, strict } => {
                Format::JsonSchema { json_schema: Schema { name, schema, strict: *strict } }
            }
        }),
    };
    let mut headers = Vec::new();
    if let Some(key) = api_key(config) {
        headers.push(("authorization".to_owned(), format!("Bearer {key}")));
    }
    let body = to_body(kind, &body)?;
    Ok(post_json(config, endpoint(config, "/chat/completions"), headers, req.stream, body))
}
