//! Responses request bodies.

use serde::Serialize;
use serde_json::Value;

use crate::conversation::{AttachmentKind, Message, Role, Source};
use crate::http::HttpRequest;
use crate::provider::common::{api_key, check_temperature, endpoint, post_json, sent_tool_calls, to_body, validate};
use crate::provider::{BuildError, ChatRequest, ProviderConfig, ProviderKind};
use crate::structured::ResponseFormat;

const KIND: ProviderKind = ProviderKind::OpenAiResponses;

#[derive(Serialize)]
struct Body<'a> {
    model: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    instructions: Option<&'a str>,
    input: Vec<Item<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_output_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    stream: bool,
    store: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<Tool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<TextOptions<'a>>,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Item<'a> {
    Message { role: &'static str, content: Content<'a> },
    FunctionCall { call_id: &'a str, name: &'a str, arguments: &'a str },
    FunctionCallOutput { call_id: &'a str, output: &'a str },
}

/// A message's content: plain text, or input parts when a user turn carries files.
#[derive(Serialize)]
#[serde(untagged)]
enum Content<'a> {
    Text(&'a str),
    Parts(Vec<Part<'a>>),
}

/// An input content part (<https://platform.openai.com/docs/api-reference/responses/create>, `input[].content[]`).
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[allow(clippy::enum_variant_names)] // the wire's names
enum Part<'a> {
    InputText {
        text: &'a str,
    },
    InputImage {
        image_url: String,
        detail: &'static str,
    },
    InputFile {
        filename: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        file_data: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        file_url: Option<&'a str>,
    },
}

/// A user turn's content: its text alone, or its files (before the text) as input parts.
fn user_content(m: &Message) -> Content<'_> {
    if m.attachments.is_empty() {
        return Content::Text(&m.content);
    }
    let mut parts: Vec<Part<'_>> = m
        .attachments
        .iter()
        .map(|a| match (a.kind, a.source()) {
            (AttachmentKind::Image, _) => Part::InputImage { image_url: a.url_or_data_url(), detail: "auto" },
            (AttachmentKind::Document, Source::Data(_)) => {
                Part::InputFile { filename: a.file_name(), file_data: Some(a.url_or_data_url()), file_url: None }
            }
            (AttachmentKind::Document, Source::Url(u)) => {
                Part::InputFile { filename: a.file_name(), file_data: None, file_url: Some(u) }
            }
        })
        .collect();
    if !m.content.is_empty() {
        parts.push(Part::InputText { text: &m.content });
    }
    Content::Parts(parts)
}

#[derive(Serialize)]
struct Tool<'a> {
    #[serde(rename = "type")]
    ty: &'static str,
    name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
    parameters: &'a Value,
    strict: bool,
}

#[derive(Serialize)]
struct TextOptions<'a> {
    format: Format<'a>,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Format<'a> {
    JsonObject,
    JsonSchema { name: &'a str, schema: &'a Value, strict: bool },
}

fn input(req: &ChatRequest) -> Vec<Item<'_>> {
    let mut out = Vec::with_capacity(req.messages.len());
    for m in &req.messages {
        match m.role {
            Role::User => out.push(Item::Message { role: "user", content: user_content(m) }),
            Role::Tool => out.push(Item::FunctionCallOutput {
                call_id: m.tool_call_id.as_deref().unwrap_or_default(),
                output: &m.content,
            }),
            Role::Assistant => {
                if !m.content.is_empty() {
                    out.push(Item::Message { role: "assistant", content: Content::Text(&m.content) });
                }
                for c in sent_tool_calls(m) {
                    out.push(Item::FunctionCall { call_id: &c.id, name: &c.name, arguments: &c.arguments });
                }
            }
        }
    }
    out
}

pub(crate) fn build_request(config: &ProviderConfig, req: &ChatRequest) -> Result<HttpRequest, BuildError> {
    validate(KIND, config, req)?;
    check_temperature(KIND, req.temperature, 2.0)?;
    if !req.stop.is_empty() {
        return Err(BuildError { provider: KIND, message: "the Responses API has no stop sequences".into() });
    }
    let body = Body {
        model: &req.model,
        instructions: req.system.as_deref().filter(|s| !s.is_empty()),
        input: input(req),
        max_output_tokens: req.max_tokens,
        temperature: req.temperature,
        stream: req.stream,
        store: false,
        tools: req
            .tools
            .iter()
            .map(|t| Tool {
                ty: "function",
                name: &t.name,
                description: &t.description,
                parameters: &t.parameters,
                strict: false,
            })
            .collect(),
        text: req.response_format.as_ref().map(|f| TextOptions {
            format: match f {
                ResponseFormat::JsonObject => Format::JsonObject,
                ResponseFormat::JsonSchema { name, schema, strict } => {
                    Format::JsonSchema { name, schema, strict: *strict }
                }
            },
        }),
    };
    let key = api_key(config).unwrap_or_default();
    let headers = vec![("authorization".to_owned(), format!("Bearer {key}"))];
    let body = to_body(KIND, &body)?;
    Ok(post_json(config, endpoint(config, "/responses"), headers, req.stream, body))
}
