//! `POST /api/chat`: the widget's request body, validated against the policy and turned into a core
//! [`ChatRequest`].

use edgechat::conversation::{Message, Role};
use edgechat::provider::{ChatRequest, ProviderKind};
use edgechat::structured::ResponseFormat;
use edgechat::ToolCall;
use serde_json::Value;

use crate::cache::{Control, Plan};
use crate::config::{Config, ModelEntry};
use crate::error::ApiError;
use crate::jsonread::Obj;
use crate::policy;

/// The widget's request body (docs/protocol.md). Read by hand from a JSON value ([`ChatBody::parse`]): derived
/// deserializers cost wasm size.
#[derive(Debug, Clone)]
pub struct ChatBody {
    /// Alias (or allowed provider model id); default model when absent.
    pub model: Option<String>,
    /// The conversation.
    pub messages: Vec<Message>,
    /// System prompt (only if `allow_system_prompt`).
    pub system: Option<String>,
    /// Sampling temperature.
    pub temperature: Option<f32>,
    /// Output cap.
    pub max_tokens: Option<u64>,
    /// Structured output (see [`response_format`]).
    pub response_format: Option<serde_json::Value>,
    /// Continue the last assistant turn.
    pub continue_: bool,
    /// Per-request cache control (`true`: the exact cache even when the temperature is not 0; `"bypass"`,
    /// `"refresh"`, `{"ttl": N}`).
    pub cache: Option<Control>,
}

impl ChatBody {
    /// Reads the body from JSON text (unknown fields are ignored).
    pub fn parse(text: &str) -> Result<Self, ApiError> {
        let v: Value = serde_json::from_str(text)
            .map_err(|e| ApiError::new(400, "invalid_json", format!("request body is not valid JSON: {e}")))?;
        let bad = |m: String| ApiError::bad_request(format!("invalid chat request: {m}"));
        let o = Obj::lenient(&v, "").map_err(bad)?;
        let messages = match o.get("messages") {
            Some(Value::Array(items)) => {
                items.iter().enumerate().map(|(i, m)| read_message(m, &format!("messages[{i}]"))).collect::<Result<Vec<_>, _>>().map_err(bad)?
            }
            Some(_) => return Err(bad("messages must be an array".into())),
            None => return Err(bad("messages is required".into())),
        };
        let temperature = match o.get("temperature") {
            None => None,
            Some(t) => Some(t.as_f64().ok_or_else(|| bad("temperature must be a number".into()))? as f32),
        };
        Ok(Self {
            model: o.str("model").map_err(bad)?,
            messages,
            system: o.str("system").map_err(bad)?,
            temperature,
            max_tokens: o.u64("max_tokens").map_err(bad)?,
            response_format: o.get("response_format").cloned(),
            continue_: o.bool("continue").map_err(bad)?.unwrap_or(false),
            cache: o.get("cache").map(Control::from_json).transpose().map_err(bad)?,
        })
    }
}

/// One message in the core's `conversation::Message` JSON shape.
fn read_message(v: &Value, path: &str) -> Result<Message, String> {
    let o = Obj::lenient(v, path)?;
    let role = match o.str("role")?.as_deref() {
        Some("user") => Role::User,
        Some("assistant") => Role::Assistant,
        Some("tool") => Role::Tool,
        _ => return Err(format!("{} must be \"user\", \"assistant\" or \"tool\"", o.path("role"))),
    };
    let mut tool_calls = Vec::new();
    if let Some(calls) = o.get("tool_calls") {
        let calls = calls.as_array().ok_or_else(|| format!("{} must be an array", o.path("tool_calls")))?;
        for (i, c) in calls.iter().enumerate() {
            let c = Obj::lenient(c, &format!("{}[{i}]", o.path("tool_calls")))?;
            let need = |f: &str| c.str(f)?.ok_or_else(|| format!("{} is required", c.path(f)));
            tool_calls.push(ToolCall { id: need("id")?, name: need("name")?, arguments: need("arguments")? });
        }
    }
    Ok(Message {
        role,
        content: o.str("content")?.unwrap_or_default(),
        tool_calls,
        tool_call_id: o.str("tool_call_id")?,
        interrupted: o.bool("interrupted")?.unwrap_or(false),
    })
}

/// A validated chat request, ready for the upstream loop.
#[derive(Debug, Clone)]
pub struct PreparedChat {
    /// The alias the client asked for (resolved).
    pub alias: String,
    /// Provider-neutral request (model id of the first model in the chain).
    pub request: ChatRequest,
    /// Estimated prompt tokens (the core's estimate; billed when the provider reports none).
    pub prompt_tokens: u64,
    /// The request's own cache control (the body's `cache` field), if it sent one.
    pub cache: Option<Control>,
    /// Sampling is off (`temperature: 0`): the exact cache applies by default.
    pub deterministic: bool,
    /// The request continues the last assistant turn.
    pub continue_: bool,
}

/// Parses and validates the body of `POST /api/chat`.
pub fn prepare(config: &Config, body: &[u8]) -> Result<PreparedChat, ApiError> {
    let body = std::str::from_utf8(body)
        .map_err(|e| ApiError::new(400, "invalid_json", format!("request body is not UTF-8: {e}")))?;
    let body = ChatBody::parse(body)?;
    let (alias, entry) = policy::resolve_model(config, body.model.as_deref())?;
    if body.system.is_some() && !config.allow_system_prompt {
        return Err(ApiError::bad_request("a system prompt is not allowed on this edge (allow_system_prompt is off)"));
    }
    let sizes: Vec<usize> = body.messages.iter().map(message_chars).collect();
    let system_chars = body.system.as_deref().map_or(0, |s| s.chars().count());
    policy::check_messages(&config.limits, &sizes, system_chars)?;
    let max_tokens = policy::cap_max_tokens(&config.limits, body.max_tokens)?;
    if let Some(t) = body.temperature {
        if !(0.0..=2.0).contains(&t) {
            return Err(ApiError::bad_request(format!("temperature {} is outside 0..=2", serde_json::Value::from(t))));
        }
    }
    let mut messages = body.messages;
    if body.continue_ && messages.last().map(|m| m.role) != Some(Role::Assistant) {
        return Err(ApiError::bad_request("\"continue\": true needs the last message to be an assistant turn"));
    }
    if !body.continue_ && messages.last().map(|m| m.role) == Some(Role::Assistant) {
        return Err(ApiError::bad_request("the last message is an assistant turn; send \"continue\": true to extend it"));
    }
    for m in &mut messages {
        m.interrupted = false;
    }
    let mut request = ChatRequest::new(entry.model.clone(), messages);
    request.system = body.system;
    request.max_tokens = Some(max_tokens);
    request.temperature = body.temperature;
    request.response_format = match &body.response_format {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => Some(response_format(v)?),
    };
    let prompt_tokens = prompt_tokens(&request);
    Ok(PreparedChat {
        alias: alias.to_string(),
        request,
        prompt_tokens,
        cache: body.cache,
        deterministic: body.temperature == Some(0.0),
        continue_: body.continue_,
    })
}

/// The core's estimate of a request's prompt tokens: every turn, the system prompt, the reply priming.
pub fn prompt_tokens(request: &ChatRequest) -> u64 {
    use edgechat::conversation::{estimate_message_tokens, estimate_text_tokens, MESSAGE_OVERHEAD_TOKENS, REPLY_PRIMING_TOKENS};
    let system = request.system.as_deref().map_or(0, |s| MESSAGE_OVERHEAD_TOKENS + estimate_text_tokens(s));
    request.messages.iter().map(estimate_message_tokens).sum::<u64>() + system + REPLY_PRIMING_TOKENS
}

/// The widget's `response_format` (the core's [`ResponseFormat`] JSON shape), read from a JSON value by hand:
/// the derived deserializer of that internally tagged enum costs ~7 KB of wasm.
pub fn response_format(v: &serde_json::Value) -> Result<ResponseFormat, ApiError> {
    let bad = |m: &str| ApiError::bad_request(format!("response_format: {m}"));
    match v.get("type").and_then(serde_json::Value::as_str) {
        Some("json_object") => Ok(ResponseFormat::JsonObject),
        Some("json_schema") => Ok(ResponseFormat::JsonSchema {
            name: v.get("name").and_then(serde_json::Value::as_str).ok_or_else(|| bad("json_schema needs a name"))?.to_string(),
            schema: v.get("schema").filter(|s| s.is_object()).cloned().ok_or_else(|| bad("json_schema needs a schema object"))?,
            strict: v.get("strict").and_then(serde_json::Value::as_bool).unwrap_or(false),
        }),
        _ => Err(bad("type must be \"json_object\" or \"json_schema\"")),
    }
}

impl PreparedChat {
    /// What the caches do for this request: its own `cache` field, else `header` (`x-edgechat-cache`), else the
    /// configured behaviour. A continuation is never cached.
    pub fn cache_plan(&self, config: &Config, header: Option<Control>) -> Plan {
        let control = self.cache.or(header).unwrap_or_default();
        Plan::new(&config.cache, control, self.deterministic, !self.continue_, true)
    }

    /// The request for one model of the chain (`entry` may be a fallback).
    pub fn request_for(&self, config: &Config, entry: &ModelEntry) -> ChatRequest {
        let mut r = self.request.clone();
        r.model = entry.model.clone();
        r.prompt_cache = entry.provider == ProviderKind::Anthropic && config.prompt_cache;
        if self.continue_ && entry.provider != ProviderKind::Anthropic {
            // Only Anthropic continues a trailing assistant turn natively (prefill); the others get asked.
            r.messages.push(Message::user(
                "Continue your previous answer exactly where it stopped. Do not repeat anything already written.",
            ));
        } else if let Some(last) = r.messages.last_mut().filter(|m| m.role == Role::Assistant) {
            // Anthropic rejects a final assistant turn that ends in whitespace.
            let trimmed = last.content.trim_end().len();
            last.content.truncate(trimmed);
        }
        r
    }
}

fn message_chars(m: &Message) -> usize {
    m.content.chars().count() + m.tool_calls.iter().map(|c| c.arguments.chars().count() + c.name.len()).sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Env;

    fn config() -> Config {
        Config::from_env(&Env::from_pairs([(
            "EDGECHAT_CONFIG",
            r#"{"models":{"fast":{"provider":"openai-chat","model":"gpt-4o-mini"},
                          "smart":{"provider":"anthropic","model":"claude-sonnet-4-5"}},
                "default_model":"fast","limits":{"max_tokens":100}}"#,
        )]))
        .unwrap()
    }

    #[test]
    fn prepares_a_valid_request() {
        let p = prepare(&config(), br#"{"messages":[{"role":"user","content":"Hi"}],"temperature":0}"#).unwrap();
        assert_eq!(p.alias, "fast");
        assert_eq!(p.request.model, "gpt-4o-mini");
        assert_eq!(p.request.max_tokens, Some(100));
        assert!(p.cache_plan(&config(), None).exact);
        let sampling = prepare(&config(), br#"{"messages":[{"role":"user","content":"Hi"}],"temperature":0.5}"#).unwrap();
        assert!(!sampling.cache_plan(&config(), None).exact);
        let header = Some(Control { mode: crate::cache::Mode::Use, ttl_s: None });
        assert!(sampling.cache_plan(&config(), header).exact, "x-edgechat-cache: use");
        let bypass = prepare(&config(), br#"{"messages":[{"role":"user","content":"Hi"}],"temperature":0,"cache":"bypass"}"#).unwrap();
        assert_eq!(bypass.cache_plan(&config(), header).status(), "bypass", "the body wins over the header");
        let smart = &config().models["smart"];
        assert!(p.request_for(&config(), smart).prompt_cache);
    }

    #[test]
    fn messages_are_read_in_the_core_shape() {
        let b = ChatBody::parse(
            r#"{"messages":[{"role":"assistant","content":"","tool_calls":[{"id":"c","name":"f","arguments":"{}"}]},
                            {"role":"tool","tool_call_id":"c","content":"ok","interrupted":true}],"extra":1}"#,
        )
        .unwrap();
        assert_eq!(b.messages[0].tool_calls[0].name, "f");
        assert_eq!(b.messages[1].tool_call_id.as_deref(), Some("c"));
        assert!(b.messages[1].interrupted);
        let e = ChatBody::parse(r#"{"messages":[{"role":"system","content":"x"}]}"#).unwrap_err();
        assert!(e.message.contains("messages[0].role"), "{}", e.message);
        let e = ChatBody::parse(r#"{"messages":[{"role":"assistant","tool_calls":[{"id":"c"}]}]}"#).unwrap_err();
        assert!(e.message.contains("messages[0].tool_calls[0].name is required"), "{}", e.message);
    }

    #[test]
    fn precise_errors() {
        let c = config();
        let kind = |b: &[u8]| prepare(&c, b).unwrap_err().kind;
        assert_eq!(kind(b"{not json"), "invalid_json");
        assert_eq!(kind(br#"{"messages":"x"}"#), "bad_request");
        assert_eq!(kind(br#"{"model":"gpt-5","messages":[{"role":"user","content":"x"}]}"#), "model_not_allowed");
        assert_eq!(kind(br#"{"max_tokens":101,"messages":[{"role":"user","content":"x"}]}"#), "max_tokens_exceeded");
        assert_eq!(kind(br#"{"system":"x","messages":[{"role":"user","content":"x"}]}"#), "bad_request");
        assert_eq!(kind(br#"{"continue":true,"messages":[{"role":"user","content":"x"}]}"#), "bad_request");
        assert_eq!(kind(br#"{"response_format":{"type":"xml"},"messages":[{"role":"user","content":"x"}]}"#), "bad_request");
        let p = prepare(&c, br#"{"response_format":{"type":"json_schema","name":"n","schema":{"type":"object"},"strict":true},"messages":[{"role":"user","content":"x"}]}"#).unwrap();
        assert!(matches!(p.request.response_format, Some(ResponseFormat::JsonSchema { strict: true, .. })));
    }

    #[test]
    fn continue_is_translated_per_provider() {
        let c = config();
        let p = prepare(
            &c,
            br#"{"continue":true,"messages":[{"role":"user","content":"x"},{"role":"assistant","content":"Once upon "}]}"#,
        )
        .unwrap();
        let openai = p.request_for(&c, &c.models["fast"]);
        assert_eq!(openai.messages.last().unwrap().role, Role::User);
        let anthropic = p.request_for(&c, &c.models["smart"]);
        assert_eq!(anthropic.messages.last().unwrap().content, "Once upon");
        assert!(!p.cache_plan(&c, None).active());
    }
}
