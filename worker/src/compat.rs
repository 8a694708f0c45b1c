//! The provider-compatible endpoints (`/v1/chat/completions`, `/v1/responses`, `/v1/messages`): the client's
//! body is checked against the same policy, its model rewritten to the real provider model and its output cap
//! applied; the provider's bytes then pass through unchanged. When the alias maps to a provider of another
//! format, an OpenAI Chat Completions or Anthropic Messages request is translated through the core
//! [`ChatRequest`], images and PDFs included ([`crate::attach`]); a Responses request to another format is refused
//! with a 400 naming the limitation.

use edgechat::conversation::{Message, Role};
use edgechat::provider::{ChatRequest, ProviderKind, ToolSpec};
use edgechat::structured::ResponseFormat;
use edgechat::ToolCall;
use serde_json::{Map, Value};

use crate::config::Limits;
use crate::error::ApiError;
use crate::policy;

/// The wire format of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `/v1/chat/completions`.
    OpenAiChat,
    /// `/v1/responses`.
    OpenAiResponses,
    /// `/v1/messages`.
    Anthropic,
}

impl Format {
    /// Whether a provider of `kind` speaks this format (bytes can pass through).
    pub fn native_to(self, kind: ProviderKind) -> bool {
        matches!(
            (self, kind),
            (Self::OpenAiChat, ProviderKind::OpenAiChat | ProviderKind::OpenAiCompatible)
                | (Self::OpenAiResponses, ProviderKind::OpenAiResponses)
                | (Self::Anthropic, ProviderKind::Anthropic)
        )
    }

    /// The provider kind whose decoder reads this format.
    pub fn decoder_kind(self) -> ProviderKind {
        match self {
            Self::OpenAiChat => ProviderKind::OpenAiChat,
            Self::OpenAiResponses => ProviderKind::OpenAiResponses,
            Self::Anthropic => ProviderKind::Anthropic,
        }
    }

    /// Endpoint path below the base URL.
    pub fn path(self) -> &'static str {
        match self {
            Self::OpenAiChat => "/chat/completions",
            Self::OpenAiResponses => "/responses",
            Self::Anthropic => "/messages",
        }
    }
}

/// A parsed compatible-endpoint request.
#[derive(Debug, Clone)]
pub struct CompatRequest {
    /// Endpoint format.
    pub format: Format,
    /// The body as sent.
    pub body: Map<String, Value>,
    /// `"stream": true`.
    pub stream: bool,
    /// Model the client named.
    pub model: String,
    /// Estimated prompt tokens (billed when the provider reports none).
    pub prompt_tokens: u64,
}

/// Parses the body of a compatible endpoint.
pub fn parse(format: Format, bytes: &[u8]) -> Result<CompatRequest, ApiError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| ApiError::new(400, "invalid_json", format!("request body is not UTF-8: {e}")))?;
    let v: Value = serde_json::from_str(text)
        .map_err(|e| ApiError::new(400, "invalid_json", format!("request body is not valid JSON: {e}")))?;
    let Value::Object(body) = v else {
        return Err(ApiError::bad_request("request body must be a JSON object"));
    };
    let model = body.get("model").and_then(Value::as_str).unwrap_or_default().to_string();
    if model.is_empty() {
        return Err(ApiError::bad_request("missing required parameter: model"));
    }
    let stream = body.get("stream").and_then(Value::as_bool).unwrap_or(false);
    Ok(CompatRequest { format, body, stream, model, prompt_tokens: 0 })
}

impl CompatRequest {
    /// Applies the message and output-token limits; fills in the cap when the client sent none.
    pub fn check_limits(&mut self, limits: &Limits, provider: ProviderKind) -> Result<(), ApiError> {
        let (sizes, system) = match self.format {
            Format::OpenAiChat => {
                let msgs = array(&self.body, "messages")?;
                let mut system = 0;
                let mut sizes = Vec::new();
                for m in msgs {
                    let n = text_chars(m.get("content"));
                    if matches!(m.get("role").and_then(Value::as_str), Some("system" | "developer")) {
                        system += n;
                    } else {
                        sizes.push(n + text_chars(m.get("tool_calls")));
                    }
                }
                (sizes, system)
            }
            Format::OpenAiResponses => {
                let sizes = match self.body.get("input") {
                    Some(Value::String(s)) => vec![s.chars().count()],
                    Some(Value::Array(items)) => items
                        .iter()
                        .map(|i| {
                            text_chars(i.get("content")) + text_chars(i.get("output")) + text_chars(i.get("arguments"))
                        })
                        .collect(),
                    _ => return Err(ApiError::bad_request("missing required parameter: input")),
                };
                (sizes, text_chars(self.body.get("instructions")))
            }
            Format::Anthropic => {
                let sizes = array(&self.body, "messages")?.iter().map(|m| text_chars(m.get("content"))).collect();
                (sizes, text_chars(self.body.get("system")))
            }
        };
        policy::check_messages(limits, &sizes, system)?;
        let empty = Vec::new();
        self.prompt_tokens = match self.format {
            Format::OpenAiChat | Format::Anthropic => {
                let turns = self.body.get("messages").and_then(Value::as_array).unwrap_or(&empty);
                prompt_tokens(turns, self.body.get("system"))
            }
            Format::OpenAiResponses => match self.body.get("input") {
                Some(Value::Array(items)) => prompt_tokens(items, self.body.get("instructions")),
                other => prompt_tokens(other, self.body.get("instructions")),
            },
        };
        let fields: &[&str] = match self.format {
            Format::OpenAiChat => &["max_completion_tokens", "max_tokens"],
            Format::OpenAiResponses => &["max_output_tokens"],
            Format::Anthropic => &["max_tokens"],
        };
        let mut any = false;
        for f in fields {
            if let Some(v) = self.body.get(*f).filter(|v| !v.is_null()) {
                let n = v.as_u64().ok_or_else(|| ApiError::bad_request(format!("{f} must be a positive integer")))?;
                policy::cap_max_tokens(limits, Some(n))?;
                any = true;
            }
        }
        if !any {
            let f = match (self.format, provider) {
                (Format::OpenAiChat, ProviderKind::OpenAiChat) => "max_completion_tokens",
                _ => fields[fields.len() - 1],
            };
            self.body.insert(f.into(), Value::from(limits.max_tokens));
        }
        Ok(())
    }

    /// Checks the files the body carries (every format's image and file parts, [`crate::attach::seen_in_body`])
    /// against model `alias`'s capabilities and `limits`, and adds their estimated tokens to the prompt's.
    pub fn check_attachments(
        &mut self,
        limits: &crate::attach::AttachLimits,
        alias: &str,
        entry: &crate::config::ModelEntry,
    ) -> Result<(), ApiError> {
        let (seen, tokens) = crate::attach::seen_in_body(self.format, &self.body)?;
        crate::attach::check(limits, alias, entry, &seen)?;
        self.prompt_tokens += tokens;
        Ok(())
    }

    /// Puts the owner's `instructions` before the client's own system prompt, in the endpoint's format: a leading
    /// `system` message (Chat Completions), the front of `instructions` (Responses) or of `system` (Messages).
    /// Only with `sdk_instructions` on: SDK callers are usually servers with prompts of their own.
    pub fn apply_instructions(&mut self, instructions: &str) {
        let b = &mut self.body;
        match self.format {
            Format::OpenAiChat => {
                if let Some(Value::Array(msgs)) = b.get_mut("messages") {
                    msgs.insert(0, serde_json::json!({ "role": "system", "content": instructions }));
                }
            }
            Format::OpenAiResponses => {
                let joined = match b.get("instructions").and_then(Value::as_str) {
                    Some(own) if !own.is_empty() => format!("{instructions}\n\n{own}"),
                    _ => instructions.to_string(),
                };
                b.insert("instructions".into(), Value::String(joined));
            }
            Format::Anthropic => {
                let joined = match b.remove("system") {
                    Some(Value::String(own)) if !own.is_empty() => Value::String(format!("{instructions}\n\n{own}")),
                    Some(Value::Array(mut blocks)) => {
                        blocks.insert(0, serde_json::json!({ "type": "text", "text": instructions }));
                        Value::Array(blocks)
                    }
                    _ => Value::String(instructions.to_string()),
                };
                b.insert("system".into(), joined);
            }
        }
    }

    /// The body to send upstream when the formats match: the client's, with the real model id.
    pub fn upstream_body(&self, model_id: &str) -> Vec<u8> {
        let mut b = self.body.clone();
        b.insert("model".into(), Value::String(model_id.into()));
        serde_json::to_vec(&b).unwrap_or_default()
    }

    /// Whether the client asked for usage in the stream (`stream_options.include_usage`).
    pub fn include_usage(&self) -> bool {
        self.body.get("stream_options").and_then(|o| o.get("include_usage")).and_then(Value::as_bool) == Some(true)
    }

    /// Translates an OpenAI Chat Completions body into a core request (for a provider of another format).
    pub fn to_chat_request(&self, model_id: &str, max_tokens_cap: u32) -> Result<ChatRequest, ApiError> {
        match self.format {
            Format::OpenAiChat => {}
            Format::Anthropic => return self.anthropic_to_chat_request(model_id, max_tokens_cap),
            Format::OpenAiResponses => {
                return Err(ApiError::bad_request(
                    "this edge does not translate /v1/responses to other providers; use a Responses model, or \
                     /v1/chat/completions (which translates to every provider)",
                ))
            }
        }
        let mut system = Vec::new();
        let mut messages = Vec::new();
        for (i, m) in array(&self.body, "messages")?.iter().enumerate() {
            let role = m.get("role").and_then(Value::as_str).unwrap_or_default();
            if role == "user" {
                let (text, files) = user_parts(self.format, m.get("content"), &format!("messages[{i}]"))?;
                messages.push(Message::user_with(text, files));
                continue;
            }
            let content = plain_text(m.get("content"))?;
            match role {
                "system" | "developer" => system.push(content),
                "assistant" => {
                    let mut msg = Message::assistant(content);
                    if let Some(Value::Array(calls)) = m.get("tool_calls") {
                        for c in calls {
                            let f = c.get("function");
                            msg.tool_calls.push(ToolCall {
                                id: str_at(c.get("id")),
                                name: str_at(f.and_then(|f| f.get("name"))),
                                arguments: str_at(f.and_then(|f| f.get("arguments"))),
                            });
                        }
                    }
                    messages.push(msg);
                }
                "tool" => messages.push(Message::tool(str_at(m.get("tool_call_id")), content)),
                other => return Err(ApiError::bad_request(format!("unsupported message role {other:?}"))),
            }
        }
        if messages.last().map(|m| m.role) == Some(Role::Assistant) {
            return Err(ApiError::bad_request("the last message must not be an assistant turn"));
        }
        let mut r = ChatRequest::new(model_id, messages);
        r.system = (!system.is_empty()).then(|| system.join("\n\n"));
        r.stream = self.stream;
        let max =
            ["max_completion_tokens", "max_tokens"].iter().find_map(|f| self.body.get(*f).and_then(Value::as_u64));
        r.max_tokens = Some(max.map_or(max_tokens_cap, |m| m as u32));
        r.temperature = self.body.get("temperature").and_then(Value::as_f64).map(|t| t as f32);
        r.stop = match self.body.get("stop") {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
            _ => Vec::new(),
        };
        r.response_format = match self.body.get("response_format") {
            Some(f) if f.get("type").and_then(Value::as_str) == Some("json_object") => Some(ResponseFormat::JsonObject),
            Some(f) if f.get("type").and_then(Value::as_str) == Some("json_schema") => {
                let s = f.get("json_schema").cloned().unwrap_or(Value::Null);
                Some(ResponseFormat::JsonSchema {
                    name: str_at(s.get("name")),
                    schema: s.get("schema").cloned().unwrap_or(Value::Null),
                    strict: s.get("strict").and_then(Value::as_bool).unwrap_or(false),
                })
            }
            _ => None,
        };
        if let Some(Value::Array(tools)) = self.body.get("tools") {
            for t in tools {
                let f = t.get("function").ok_or_else(|| ApiError::bad_request("only function tools are supported"))?;
                r.tools.push(ToolSpec {
                    name: str_at(f.get("name")),
                    description: str_at(f.get("description")),
                    parameters: f.get("parameters").cloned().unwrap_or_else(|| serde_json::json!({"type":"object"})),
                });
            }
        }
        Ok(r)
    }
}

impl CompatRequest {
    /// Translates an Anthropic Messages body into a core request (text, images and documents of user turns, tool
    /// use and tool results; other content blocks are refused).
    fn anthropic_to_chat_request(&self, model_id: &str, max_tokens_cap: u32) -> Result<ChatRequest, ApiError> {
        let mut messages = Vec::new();
        for (i, m) in array(&self.body, "messages")?.iter().enumerate() {
            let role = m.get("role").and_then(Value::as_str).unwrap_or_default();
            let blocks: Vec<Value> = match m.get("content") {
                Some(Value::String(s)) => vec![serde_json::json!({ "type": "text", "text": s })],
                Some(Value::Array(a)) => a.clone(),
                _ => return Err(ApiError::bad_request("message content must be a string or an array of blocks")),
            };
            let mut text = String::new();
            let mut calls = Vec::new();
            let mut files = Vec::new();
            for (j, b) in blocks.iter().enumerate() {
                match (role, b.get("type").and_then(Value::as_str)) {
                    (_, Some("text")) => text.push_str(b.get("text").and_then(Value::as_str).unwrap_or_default()),
                    ("user", Some("image" | "document")) => {
                        let path = format!("messages[{i}].content[{j}]");
                        files.extend(crate::attach::part_to_attachment(Format::Anthropic, b, &path)?);
                    }
                    ("assistant", Some("thinking" | "redacted_thinking")) => {}
                    ("assistant", Some("tool_use")) => calls.push(ToolCall {
                        id: str_at(b.get("id")),
                        name: str_at(b.get("name")),
                        arguments: b.get("input").map_or_else(|| "{}".into(), Value::to_string),
                    }),
                    ("user", Some("tool_result")) => {
                        let content = match b.get("content") {
                            Some(Value::Array(_)) => plain_text(b.get("content"))?,
                            other => str_at(other),
                        };
                        messages.push(Message::tool(str_at(b.get("tool_use_id")), content));
                    }
                    (_, t) => {
                        return Err(ApiError::bad_request(format!(
                            "content block type {:?} cannot be translated to this model's provider",
                            t.unwrap_or("?")
                        )))
                    }
                }
            }
            match role {
                "user" if !text.is_empty() || !files.is_empty() => messages.push(Message::user_with(text, files)),
                "user" => {}
                "assistant" => {
                    let mut msg = Message::assistant(text);
                    msg.tool_calls = calls;
                    messages.push(msg);
                }
                other => return Err(ApiError::bad_request(format!("unsupported message role {other:?}"))),
            }
        }
        let mut r = ChatRequest::new(model_id, messages);
        r.system = match self.body.get("system") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(v) => Some(plain_text(Some(v))?),
        };
        r.stream = self.stream;
        r.max_tokens = Some(self.body.get("max_tokens").and_then(Value::as_u64).map_or(max_tokens_cap, |m| m as u32));
        r.temperature = self.body.get("temperature").and_then(Value::as_f64).map(|t| t as f32);
        if let Some(Value::Array(a)) = self.body.get("stop_sequences") {
            r.stop = a.iter().filter_map(Value::as_str).map(str::to_string).collect();
        }
        if let Some(Value::Array(tools)) = self.body.get("tools") {
            for t in tools {
                let schema = t.get("input_schema").ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "tool {:?} has no input_schema (server tools cannot be translated)",
                        str_at(t.get("name"))
                    ))
                })?;
                r.tools.push(ToolSpec {
                    name: str_at(t.get("name")),
                    description: str_at(t.get("description")),
                    parameters: schema.clone(),
                });
            }
        }
        Ok(r)
    }
}

fn array<'a>(body: &'a Map<String, Value>, field: &str) -> Result<&'a Vec<Value>, ApiError> {
    body.get(field)
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::bad_request(format!("missing required parameter: {field} (an array)")))
}

fn str_at(v: Option<&Value>) -> String {
    v.and_then(Value::as_str).unwrap_or_default().to_string()
}

/// Characters of all text in a content value (string, array of parts, nested objects).
pub fn text_chars(v: Option<&Value>) -> usize {
    let mut n = 0;
    each_text(v, &mut |s| n += s.chars().count());
    n
}

/// Calls `f` with each piece of prompt text in a message's value (strings, text parts, tool arguments, tool
/// inputs as JSON).
fn each_text(v: Option<&Value>, f: &mut impl FnMut(&str)) {
    match v {
        Some(Value::String(s)) => f(s),
        Some(Value::Array(a)) => a.iter().for_each(|x| each_text(Some(x), f)),
        Some(Value::Object(o)) => {
            for (k, x) in o {
                if !matches!(k.as_str(), "text" | "content" | "input" | "arguments" | "function" | "output") {
                    continue;
                }
                match x {
                    Value::Object(_) if x.get("text").is_none() && x.get("arguments").is_none() => f(&x.to_string()),
                    _ => each_text(Some(x), f),
                }
            }
        }
        _ => {}
    }
}

/// The core's token estimate of a request's prompt: every turn's text and overhead, the system text, the
/// reply priming.
fn prompt_tokens<'a>(turns: impl IntoIterator<Item = &'a Value>, system: Option<&Value>) -> u64 {
    use edgechat::conversation::{TokenCounter, MESSAGE_OVERHEAD_TOKENS, REPLY_PRIMING_TOKENS};
    let mut text = TokenCounter::default();
    let mut n = 0;
    for t in turns {
        n += 1;
        each_text(Some(t), &mut |s| text.push(s));
    }
    each_text(system, &mut |s| text.push(s));
    text.tokens() + n * MESSAGE_OVERHEAD_TOKENS + REPLY_PRIMING_TOKENS
}

/// A user turn's content in an OpenAI format: its text parts joined, its file parts as core attachments.
fn user_parts(
    format: Format,
    v: Option<&Value>,
    path: &str,
) -> Result<(String, Vec<edgechat::conversation::Attachment>), ApiError> {
    let Some(Value::Array(parts)) = v else { return Ok((plain_text(v)?, Vec::new())) };
    let mut text = String::new();
    let mut files = Vec::new();
    for (j, p) in parts.iter().enumerate() {
        match crate::attach::part_to_attachment(format, p, &format!("{path}.content[{j}]"))? {
            Some(a) => files.push(a),
            None => text.push_str(&plain_text(Some(&Value::Array(vec![p.clone()])))?),
        }
    }
    Ok((text, files))
}

fn plain_text(v: Option<&Value>) -> Result<String, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Array(parts)) => {
            let mut out = String::new();
            for p in parts {
                match (p.get("type").and_then(Value::as_str), p.get("text").and_then(Value::as_str)) {
                    (Some("text"), Some(t)) => out.push_str(t),
                    (t, _) => {
                        return Err(ApiError::bad_request(format!(
                            "content part type {:?} cannot be translated to this model's provider",
                            t.unwrap_or("?")
                        )))
                    }
                }
            }
            Ok(out)
        }
        Some(_) => Err(ApiError::bad_request("message content must be a string or an array of text parts")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits { max_tokens: 100, max_messages: 3, max_message_chars: 50, ..Limits::default() }
    }

    #[test]
    fn openai_chat_limits_and_cap() {
        let mut r =
            parse(Format::OpenAiChat, br#"{"model":"fast","messages":[{"role":"user","content":"hi"}]}"#).unwrap();
        r.check_limits(&limits(), ProviderKind::OpenAiChat).unwrap();
        assert_eq!(r.body["max_completion_tokens"], 100);
        let up: Value = serde_json::from_slice(&r.upstream_body("gpt-4o-mini")).unwrap();
        assert_eq!(up["model"], "gpt-4o-mini");
        let mut r = parse(
            Format::OpenAiChat,
            br#"{"model":"fast","max_tokens":101,"messages":[{"role":"user","content":"hi"}]}"#,
        )
        .unwrap();
        assert_eq!(r.check_limits(&limits(), ProviderKind::OpenAiChat).unwrap_err().kind, "max_tokens_exceeded");
    }

    #[test]
    fn anthropic_and_responses_limits() {
        let long = "x".repeat(51);
        let body = format!(
            r#"{{"model":"m","max_tokens":10,"messages":[{{"role":"user","content":[{{"type":"text","text":"{long}"}}]}}]}}"#
        );
        let mut r = parse(Format::Anthropic, body.as_bytes()).unwrap();
        assert_eq!(r.check_limits(&limits(), ProviderKind::Anthropic).unwrap_err().kind, "message_too_long");
        let mut r2 = parse(Format::OpenAiResponses, br#"{"model":"m","input":"hello"}"#).unwrap();
        r2.check_limits(&limits(), ProviderKind::OpenAiResponses).unwrap();
        assert_eq!(r2.body["max_output_tokens"], 100);
        assert_eq!(parse(Format::Anthropic, b"[1]").unwrap_err().kind, "bad_request");
        assert_eq!(parse(Format::Anthropic, b"{").unwrap_err().kind, "invalid_json");
    }

    #[test]
    fn translates_anthropic_messages_to_a_core_request() {
        let r = parse(
            Format::Anthropic,
            br#"{"model":"fast","max_tokens":20,"system":[{"type":"text","text":"Be brief."}],"messages":[
                {"role":"user","content":"Weather?"},
                {"role":"assistant","content":[{"type":"text","text":"Checking."},{"type":"tool_use","id":"t1","name":"w","input":{"city":"Paris"}}]},
                {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"sunny"}]}],
              "tools":[{"name":"w","input_schema":{"type":"object"}}],"stop_sequences":["END"]}"#,
        )
        .unwrap();
        let c = r.to_chat_request("gpt-4o-mini", 64).unwrap();
        assert_eq!(c.system.as_deref(), Some("Be brief."));
        assert_eq!(c.messages.len(), 3);
        assert_eq!(c.messages[1].tool_calls[0].arguments, r#"{"city":"Paris"}"#);
        assert_eq!(c.messages[2].role, Role::Tool);
        assert_eq!((c.max_tokens, c.stop.clone()), (Some(20), vec!["END".to_string()]));
        let img = parse(
            Format::Anthropic,
            br#"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image"}]}]}"#,
        )
        .unwrap();
        assert!(img.to_chat_request("m", 1).unwrap_err().message.contains("image"));
        let resp = parse(Format::OpenAiResponses, br#"{"model":"m","input":"x"}"#).unwrap();
        assert!(resp.to_chat_request("m", 1).unwrap_err().message.contains("/v1/responses"));
    }

    #[test]
    fn translates_openai_chat_to_a_core_request() {
        let r = parse(
            Format::OpenAiChat,
            br#"{"model":"smart","stream":true,"stop":"END","messages":[
                {"role":"system","content":"Be brief."},
                {"role":"user","content":[{"type":"text","text":"Weather?"}]},
                {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"w","arguments":"{}"}}]},
                {"role":"tool","tool_call_id":"c1","content":"sunny"}],
              "tools":[{"type":"function","function":{"name":"w","parameters":{"type":"object"}}}]}"#,
        )
        .unwrap();
        let c = r.to_chat_request("claude-x", 64).unwrap();
        assert_eq!(c.system.as_deref(), Some("Be brief."));
        assert_eq!(c.messages.len(), 3);
        assert_eq!(c.messages[1].tool_calls[0].name, "w");
        assert_eq!(c.messages[2].tool_call_id.as_deref(), Some("c1"));
        assert_eq!((c.max_tokens, c.stream, c.stop.clone()), (Some(64), true, vec!["END".to_string()]));
        assert_eq!(c.tools[0].name, "w");
        let img = parse(
            Format::OpenAiChat,
            br#"{"model":"m","messages":[{"role":"user","content":[{"type":"image_url"}]}]}"#,
        )
        .unwrap();
        assert!(img.to_chat_request("m", 1).unwrap_err().message.contains("image_url"));
    }

    #[test]
    fn translates_images_and_documents_between_formats() {
        let chat = parse(
            Format::OpenAiChat,
            br#"{"model":"m","messages":[{"role":"system","content":"S"},{"role":"user","content":[
                {"type":"text","text":"What is it?"},
                {"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}},
                {"type":"file","file":{"filename":"a.pdf","file_data":"data:application/pdf;base64,BBBB"}}]}]}"#,
        )
        .unwrap();
        let c = chat.to_chat_request("claude-x", 64).unwrap();
        let files = &c.messages[0].attachments;
        assert_eq!(c.messages[0].content, "What is it?");
        assert_eq!((files[0].media_type.as_str(), files[0].data.as_deref()), ("image/png", Some("AAAA")));
        assert_eq!((files[1].name.as_deref(), files[1].data.as_deref()), (Some("a.pdf"), Some("BBBB")));
        let anthropic = parse(
            Format::Anthropic,
            br#"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[
                {"type":"image","source":{"type":"url","url":"https://x.example/cat.png"}},
                {"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"BBBB"},"title":"r.pdf"}]}]}"#,
        )
        .unwrap();
        let c = anthropic.to_chat_request("gpt-4o", 64).unwrap();
        let files = &c.messages[0].attachments;
        assert_eq!((c.messages[0].content.as_str(), files.len()), ("", 2), "a turn of files only");
        assert_eq!(files[0].url.as_deref(), Some("https://x.example/cat.png"));
        assert_eq!(files[1].name.as_deref(), Some("r.pdf"));
        let bad = parse(
            Format::OpenAiChat,
            br#"{"model":"m","messages":[{"role":"system","content":"S"},{"role":"user","content":[{"type":"image_url","image_url":{"url":"http://x/a.png"}}]}]}"#,
        )
        .unwrap();
        let e = bad.to_chat_request("m", 1).unwrap_err();
        assert_eq!(e.kind, "invalid_attachment");
        assert!(e.message.starts_with("messages[1].content[0]"), "{}", e.message);
    }

    #[test]
    fn owner_instructions_go_first_in_each_format() {
        let mut chat =
            parse(Format::OpenAiChat, br#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#).unwrap();
        chat.apply_instructions("Owner.");
        assert_eq!(chat.body["messages"][0], serde_json::json!({ "role": "system", "content": "Owner." }));
        let mut resp = parse(Format::OpenAiResponses, br#"{"model":"m","input":"hi","instructions":"Mine."}"#).unwrap();
        resp.apply_instructions("Owner.");
        assert_eq!(resp.body["instructions"], "Owner.\n\nMine.");
        let mut msgs = parse(
            Format::Anthropic,
            br#"{"model":"m","max_tokens":5,"system":[{"type":"text","text":"Mine."}],"messages":[]}"#,
        )
        .unwrap();
        msgs.apply_instructions("Owner.");
        assert_eq!(msgs.body["system"][0]["text"], "Owner.");
        assert_eq!(msgs.body["system"][1]["text"], "Mine.");
    }
}
