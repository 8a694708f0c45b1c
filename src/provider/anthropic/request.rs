//! Messages request bodies.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::Value;

use super::{API_VERSION, DEFAULT_MAX_TOKENS, JSON_TOOL_NAME};
use crate::conversation::{AttachmentKind, Role, Source};
use crate::http::HttpRequest;
use crate::provider::common::{api_key, check_temperature, endpoint, post_json, sent_tool_calls, to_body, validate};
use crate::provider::{BuildError, ChatRequest, ProviderConfig, ProviderKind};
use crate::structured::ResponseFormat;

const KIND: ProviderKind = ProviderKind::Anthropic;

#[derive(Serialize)]
struct Body<'a> {
    model: &'a str,
    max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<System<'a>>,
    messages: Vec<Msg<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    stop_sequences: &'a [String],
    stream: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<Tool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<ToolChoice<'a>>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum System<'a> {
    Text(&'a str),
    Blocks([Block<'a>; 1]),
}

#[derive(Serialize, Clone, Copy)]
struct CacheControl {
    #[serde(rename = "type")]
    ty: &'static str,
}

const EPHEMERAL: Option<CacheControl> = Some(CacheControl { ty: "ephemeral" });

#[derive(Serialize)]
struct Msg<'a> {
    role: &'static str,
    content: Vec<Block<'a>>,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block<'a> {
    Text {
        text: Cow<'a, str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    ToolUse {
        id: &'a str,
        name: &'a str,
        input: Value,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    ToolResult {
        tool_use_id: &'a str,
        #[serde(skip_serializing_if = "str::is_empty")]
        content: &'a str,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        is_error: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    Image {
        source: FileSource<'a>,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    Document {
        source: FileSource<'a>,
        #[serde(skip_serializing_if = "Option::is_none")]
        title: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
}

/// An image or document source (<https://docs.anthropic.com/en/api/messages>, `content[].source`).
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum FileSource<'a> {
    Base64 { media_type: &'a str, data: &'a str },
    Url { url: &'a str },
}

impl Block<'_> {
    fn set_cache(&mut self) {
        match self {
            Block::Text { cache_control, .. }
            | Block::ToolUse { cache_control, .. }
            | Block::ToolResult { cache_control, .. }
            | Block::Image { cache_control, .. }
            | Block::Document { cache_control, .. } => *cache_control = EPHEMERAL,
        }
    }
}

#[derive(Serialize)]
struct Tool<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
    input_schema: Cow<'a, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cache_control: Option<CacheControl>,
}

#[derive(Serialize)]
struct ToolChoice<'a> {
    #[serde(rename = "type")]
    ty: &'static str,
    name: &'a str,
}

fn fail<T>(message: String) -> Result<T, BuildError> {
    Err(BuildError { provider: KIND, message })
}

/// The history as alternating `user`/`assistant` messages of content blocks.
fn messages(req: &ChatRequest) -> Result<Vec<Msg<'_>>, BuildError> {
    let mut out: Vec<Msg<'_>> = Vec::with_capacity(req.messages.len());
    for (i, m) in req.messages.iter().enumerate() {
        let (role, blocks) = match m.role {
            Role::User => {
                if m.content.is_empty() && m.attachments.is_empty() {
                    return fail(format!("message {i} is an empty user turn"));
                }
                // Files first: Anthropic advises images before the text about them.
                let mut blocks: Vec<Block<'_>> = m
                    .attachments
                    .iter()
                    .map(|a| {
                        let source = match a.source() {
                            Source::Data(data) => FileSource::Base64 { media_type: &a.media_type, data },
                            Source::Url(url) => FileSource::Url { url },
                        };
                        match a.kind {
                            AttachmentKind::Image => Block::Image { source, cache_control: None },
                            AttachmentKind::Document => {
                                Block::Document { source, title: a.name.as_deref(), cache_control: None }
                            }
                        }
                    })
                    .collect();
                if !m.content.is_empty() {
                    blocks.push(Block::Text { text: Cow::Borrowed(&m.content), cache_control: None });
                }
                ("user", blocks)
            }
            Role::Tool => {
                let id = m.tool_call_id.as_deref().unwrap_or_default();
                let block = Block::ToolResult {
                    tool_use_id: id,
                    content: &m.content,
                    is_error: m.is_error,
                    cache_control: None,
                };
                ("user", vec![block])
            }
            Role::Assistant => {
                let mut blocks = Vec::new();
                if !m.content.is_empty() {
                    blocks.push(Block::Text { text: Cow::Borrowed(&m.content), cache_control: None });
                }
                for c in sent_tool_calls(m) {
                    let input = if c.arguments.trim().is_empty() {
                        Value::Object(Default::default())
                    } else {
                        match serde_json::from_str::<Value>(&c.arguments) {
                            Ok(v @ Value::Object(_)) => v,
                            _ => {
                                return fail(format!(
                                    "message {i}: arguments of tool call {:?} are not a JSON object",
                                    c.id
                                ))
                            }
                        }
                    };
                    blocks.push(Block::ToolUse { id: &c.id, name: &c.name, input, cache_control: None });
                }
                ("assistant", blocks)
            }
        };
        match out.last_mut() {
            Some(last) if last.role == role => last.content.extend(blocks),
            _ if blocks.is_empty() => {}
            _ => out.push(Msg { role, content: blocks }),
        }
    }
    // A final assistant turn is a prefill: the API rejects trailing whitespace there.
    if let Some(last) = out.last_mut().filter(|m| m.role == "assistant") {
        if let Some(Block::Text { text, .. }) = last.content.last_mut() {
            let trimmed = text.trim_end().len();
            match text {
                Cow::Borrowed(s) => *s = &s[..trimmed],
                Cow::Owned(s) => s.truncate(trimmed),
            }
            if text.is_empty() {
                last.content.pop();
            }
        }
        if last.content.is_empty() {
            out.pop();
        }
    }
    if out.is_empty() {
        return fail("no message has content to send".into());
    }
    Ok(out)
}

/// Marks the last block of the message before the newest user message as a cache breakpoint.
fn mark_history_prefix(messages: &mut [Msg<'_>]) {
    let Some(newest_user) = messages.iter().rposition(|m| m.role == "user") else { return };
    if newest_user == 0 {
        return;
    }
    if let Some(block) = messages[newest_user - 1].content.last_mut() {
        block.set_cache();
    }
}

fn tools<'a>(req: &'a ChatRequest) -> Result<(Vec<Tool<'a>>, Option<ToolChoice<'a>>), BuildError> {
    let mut tools: Vec<Tool<'a>> = req
        .tools
        .iter()
        .map(|t| Tool {
            name: &t.name,
            description: &t.description,
            input_schema: Cow::Borrowed(&t.parameters),
            cache_control: None,
        })
        .collect();
    let forced = match &req.response_format {
        None => None,
        Some(ResponseFormat::JsonObject) => Some((JSON_TOOL_NAME, Cow::Owned(serde_json::json!({"type": "object"})))),
        Some(ResponseFormat::JsonSchema { name, schema, .. }) => {
            if schema.get("type").is_some_and(|t| t != "object") {
                return fail(format!("structured output {name:?}: Anthropic needs a schema of type \"object\""));
            }
            Some((name.as_str(), Cow::Borrowed(schema)))
        }
    };
    let choice = forced.map(|(name, schema)| {
        tools.retain(|t| t.name != name);
        tools.push(Tool {
            name,
            description: "Answer by calling this tool with JSON that matches the schema.",
            input_schema: schema,
            cache_control: None,
        });
        ToolChoice { ty: "tool", name }
    });
    if req.prompt_cache {
        if let Some(last) = tools.last_mut() {
            last.cache_control = EPHEMERAL;
        }
    }
    Ok((tools, choice))
}

pub(crate) fn build_request(config: &ProviderConfig, req: &ChatRequest) -> Result<HttpRequest, BuildError> {
    validate(KIND, config, req)?;
    check_temperature(KIND, req.temperature, 1.0)?;
    let mut messages = messages(req)?;
    let (tools, tool_choice) = tools(req)?;
    let system = req.system.as_deref().filter(|s| !s.is_empty()).map(|s| {
        if req.prompt_cache {
            System::Blocks([Block::Text { text: Cow::Borrowed(s), cache_control: EPHEMERAL }])
        } else {
            System::Text(s)
        }
    });
    if req.prompt_cache {
        mark_history_prefix(&mut messages);
    }
    let body = Body {
        model: &req.model,
        max_tokens: req.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
        system,
        messages,
        temperature: req.temperature,
        stop_sequences: &req.stop,
        stream: req.stream,
        tools,
        tool_choice,
    };
    let key = api_key(config).unwrap_or_default();
    let headers =
        vec![("x-api-key".to_owned(), key.to_owned()), ("anthropic-version".to_owned(), API_VERSION.to_owned())];
    let body = to_body(KIND, &body)?;
    Ok(post_json(config, endpoint(config, "/messages"), headers, req.stream, body))
}
