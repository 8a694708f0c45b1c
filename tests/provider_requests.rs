//! Request builders: endpoint, headers and body JSON checked field by field for each provider and option.
#![cfg(not(target_arch = "wasm32"))]

use edgechat::conversation::Message;
use edgechat::provider::{build_request, ChatRequest, ProviderConfig, ProviderKind, ToolSpec};
use edgechat::structured::ResponseFormat;
use edgechat::{HttpRequest, ToolCall};
use serde_json::{json, Value};

fn config(kind: ProviderKind) -> ProviderConfig {
    let (base, key) = match kind {
        ProviderKind::Anthropic => ("https://api.anthropic.com/v1", Some("sk-ant-test-0000")),
        ProviderKind::OpenAiCompatible => ("http://127.0.0.1:11434/v1/", None),
        _ => ("https://api.openai.com/v1", Some("sk-test-openai-0000")),
    };
    ProviderConfig { kind, base_url: base.into(), api_key: key.map(Into::into), extra_headers: Vec::new() }
}

fn body(r: &HttpRequest) -> Value {
    serde_json::from_slice(&r.body).expect("body is JSON")
}

fn build(kind: ProviderKind, req: &ChatRequest) -> (HttpRequest, Value) {
    let r = build_request(&config(kind), req).unwrap_or_else(|e| panic!("{kind}: {e}"));
    let b = body(&r);
    (r, b)
}

fn weather_tool() -> ToolSpec {
    ToolSpec {
        name: "get_weather".into(),
        description: "Current weather".into(),
        parameters: json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    }
}

fn call(id: &str, name: &str, args: &str) -> ToolCall {
    ToolCall { id: id.into(), name: name.into(), arguments: args.into() }
}

/// user, assistant with two tool calls, two tool results, assistant text, user.
fn tool_history() -> Vec<Message> {
    let mut a = Message::assistant("Let me check.");
    a.tool_calls = vec![call("call_1", "get_weather", "{\"city\":\"Paris\"}"), call("call_2", "get_weather", "")];
    vec![
        Message::user("Weather in Paris and Rome?"),
        a,
        Message::tool("call_1", "18°C"),
        Message::tool("call_2", "24°C"),
        Message::assistant("Paris 18°C, Rome 24°C."),
        Message::user("Thanks!"),
    ]
}

#[test]
fn openai_chat_endpoint_headers_and_basic_body() {
    let mut req = ChatRequest::new("gpt-4o-mini", vec![Message::user("Hi")]);
    req.system = Some("Be brief.".into());
    req.max_tokens = Some(256);
    req.temperature = Some(0.7);
    req.stop = vec!["END".into()];
    let (r, b) = build(ProviderKind::OpenAiChat, &req);
    assert_eq!(r.method, "POST");
    assert_eq!(r.url, "https://api.openai.com/v1/chat/completions");
    assert_eq!(r.header("authorization"), Some("Bearer sk-test-openai-0000"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("accept"), Some("text/event-stream"));
    assert_eq!(b["model"], "gpt-4o-mini");
    assert_eq!(b["messages"], json!([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]));
    assert_eq!(b["max_completion_tokens"], 256);
    assert!(b.get("max_tokens").is_none(), "OpenAI proper gets max_completion_tokens only");
    assert_eq!(b["temperature"], json!(0.7));
    assert_eq!(b["stop"], json!(["END"]));
    assert_eq!(b["stream"], true);
    assert_eq!(b["stream_options"], json!({"include_usage": true}));
    assert!(b.get("tools").is_none() && b.get("response_format").is_none());
}

#[test]
fn openai_compatible_uses_max_tokens_no_key_and_trims_the_base_slash() {
    let mut req = ChatRequest::new("llama3", vec![Message::user("Hi")]);
    req.max_tokens = Some(64);
    req.stream = false;
    let (r, b) = build(ProviderKind::OpenAiCompatible, &req);
    assert_eq!(r.url, "http://127.0.0.1:11434/v1/chat/completions");
    assert_eq!(r.header("authorization"), None);
    assert_eq!(r.header("accept"), Some("application/json"));
    assert_eq!(b["max_tokens"], 64);
    assert!(b.get("max_completion_tokens").is_none());
    assert_eq!(b["stream"], false);
    assert!(b.get("stream_options").is_none(), "stream_options only when streaming");
    assert!(b.get("temperature").is_none() && b.get("stop").is_none());
}

#[test]
fn openai_compatible_with_key_and_extra_headers() {
    let mut cfg = config(ProviderKind::OpenAiCompatible);
    cfg.api_key = Some("sk-or-test-0000".into());
    cfg.extra_headers =
        vec![("HTTP-Referer".into(), "https://example.test".into()), ("X-Title".into(), "edgechat".into())];
    let r = build_request(&cfg, &ChatRequest::new("m", vec![Message::user("Hi")])).unwrap();
    assert_eq!(r.header("authorization"), Some("Bearer sk-or-test-0000"));
    assert_eq!(r.header("http-referer"), Some("https://example.test"));
    assert_eq!(r.header("x-title"), Some("edgechat"));
}

#[test]
fn openai_chat_tools_tool_calls_and_results() {
    let mut req = ChatRequest::new("gpt-4o-mini", tool_history());
    req.tools = vec![weather_tool()];
    let (_, b) = build(ProviderKind::OpenAiChat, &req);
    assert_eq!(
        b["tools"],
        json!([{"type": "function", "function": {"name": "get_weather", "description": "Current weather",
            "parameters": weather_tool().parameters}}])
    );
    let m = b["messages"].as_array().unwrap();
    assert_eq!(m.len(), 6);
    assert_eq!(m[1]["role"], "assistant");
    assert_eq!(m[1]["content"], "Let me check.");
    assert_eq!(
        m[1]["tool_calls"],
        json!([
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
            {"id": "call_2", "type": "function", "function": {"name": "get_weather", "arguments": ""}}
        ])
    );
    assert_eq!(m[2], json!({"role": "tool", "content": "18°C", "tool_call_id": "call_1"}));
    assert_eq!(m[3], json!({"role": "tool", "content": "24°C", "tool_call_id": "call_2"}));
    assert_eq!(m[4], json!({"role": "assistant", "content": "Paris 18°C, Rome 24°C."}));
}

#[test]
fn openai_chat_assistant_with_only_tool_calls_has_null_content() {
    let mut a = Message::assistant("");
    a.tool_calls = vec![call("c1", "f", "{}")];
    let req = ChatRequest::new("m", vec![Message::user("go"), a, Message::tool("c1", "ok")]);
    let (_, b) = build(ProviderKind::OpenAiChat, &req);
    assert_eq!(b["messages"][1]["content"], Value::Null);
}

#[test]
fn interrupted_assistant_turns_are_sent_as_plain_text() {
    let mut a = Message::assistant("Half an ans");
    a.interrupted = true;
    a.tool_calls = vec![call("c1", "f", "{\"x\":")];
    let mut empty = Message::assistant("");
    empty.interrupted = true;
    let req = ChatRequest::new("m", vec![Message::user("q"), a, Message::user("go on"), empty, Message::user("?")]);
    let (_, chat) = build(ProviderKind::OpenAiChat, &req);
    assert_eq!(
        chat["messages"],
        json!([{"role": "user", "content": "q"}, {"role": "assistant", "content": "Half an ans"},
               {"role": "user", "content": "go on"}, {"role": "user", "content": "?"}])
    );
    let (_, anthropic) = build(ProviderKind::Anthropic, &req);
    let m = anthropic["messages"].as_array().unwrap();
    assert_eq!(m.len(), 3, "the empty interrupted turn disappears and the two user turns around it merge");
    assert_eq!(m[1], json!({"role": "assistant", "content": [{"type": "text", "text": "Half an ans"}]}));
    assert_eq!(m[2]["content"], json!([{"type": "text", "text": "go on"}, {"type": "text", "text": "?"}]));
}

#[test]
fn openai_chat_structured_output_shapes() {
    let schema = json!({"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"], "additionalProperties": false});
    let mut req = ChatRequest::new("gpt-4o-mini", vec![Message::user("x")]);
    req.response_format = Some(ResponseFormat::JsonObject);
    assert_eq!(build(ProviderKind::OpenAiChat, &req).1["response_format"], json!({"type": "json_object"}));
    req.response_format =
        Some(ResponseFormat::JsonSchema { name: "answer".into(), schema: schema.clone(), strict: true });
    assert_eq!(
        build(ProviderKind::OpenAiChat, &req).1["response_format"],
        json!({"type": "json_schema", "json_schema": {"name": "answer", "schema": schema, "strict": true}})
    );
}

#[test]
fn responses_body_shape() {
    let mut req = ChatRequest::new("gpt-4.1", tool_history());
    req.system = Some("Be brief.".into());
    req.max_tokens = Some(300);
    req.temperature = Some(1.5);
    req.tools = vec![weather_tool()];
    let (r, b) = build(ProviderKind::OpenAiResponses, &req);
    assert_eq!(r.url, "https://api.openai.com/v1/responses");
    assert_eq!(r.header("authorization"), Some("Bearer sk-test-openai-0000"));
    assert_eq!(b["instructions"], "Be brief.");
    assert_eq!(b["max_output_tokens"], 300);
    assert_eq!(b["temperature"], json!(1.5));
    assert_eq!(b["stream"], true);
    assert_eq!(b["store"], false);
    assert!(b.get("stream_options").is_none() && b.get("messages").is_none());
    assert_eq!(
        b["input"],
        json!([
            {"type": "message", "role": "user", "content": "Weather in Paris and Rome?"},
            {"type": "message", "role": "assistant", "content": "Let me check."},
            {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
            {"type": "function_call", "call_id": "call_2", "name": "get_weather", "arguments": ""},
            {"type": "function_call_output", "call_id": "call_1", "output": "18°C"},
            {"type": "function_call_output", "call_id": "call_2", "output": "24°C"},
            {"type": "message", "role": "assistant", "content": "Paris 18°C, Rome 24°C."},
            {"type": "message", "role": "user", "content": "Thanks!"}
        ])
    );
    assert_eq!(
        b["tools"],
        json!([{"type": "function", "name": "get_weather", "description": "Current weather",
                "parameters": weather_tool().parameters, "strict": false}])
    );
}

#[test]
fn responses_structured_output_goes_in_text_format() {
    let schema = json!({"type": "object", "properties": {}, "additionalProperties": false});
    let mut req = ChatRequest::new("gpt-4.1", vec![Message::user("x")]);
    req.response_format = Some(ResponseFormat::JsonSchema { name: "s".into(), schema: schema.clone(), strict: false });
    assert_eq!(
        build(ProviderKind::OpenAiResponses, &req).1["text"],
        json!({"format": {"type": "json_schema", "name": "s", "schema": schema, "strict": false}})
    );
    req.response_format = Some(ResponseFormat::JsonObject);
    assert_eq!(build(ProviderKind::OpenAiResponses, &req).1["text"], json!({"format": {"type": "json_object"}}));
}

#[test]
fn anthropic_headers_defaults_and_system() {
    let mut req = ChatRequest::new("claude-sonnet-4-5", vec![Message::user("Hi")]);
    req.system = Some("Be brief.".into());
    req.stop = vec!["\n\nHuman:".into()];
    req.temperature = Some(0.2);
    let (r, b) = build(ProviderKind::Anthropic, &req);
    assert_eq!(r.url, "https://api.anthropic.com/v1/messages");
    assert_eq!(r.header("x-api-key"), Some("sk-ant-test-0000"));
    assert_eq!(r.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(r.header("authorization"), None);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(b["max_tokens"], 1024, "Anthropic requires max_tokens: the default is supplied");
    assert_eq!(b["system"], "Be brief.");
    assert_eq!(b["stop_sequences"], json!(["\n\nHuman:"]));
    assert!(b.get("stop").is_none());
    assert_eq!(b["temperature"], json!(0.2));
    assert_eq!(b["stream"], true);
    assert_eq!(b["messages"], json!([{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]));
}

#[test]
fn anthropic_extra_header_overrides_the_version_and_adds_beta() {
    let mut cfg = config(ProviderKind::Anthropic);
    cfg.extra_headers = vec![("Anthropic-Version".into(), "2099-01-01".into()), ("anthropic-beta".into(), "x".into())];
    let r = build_request(&cfg, &ChatRequest::new("c", vec![Message::user("Hi")])).unwrap();
    let versions: Vec<_> = r.headers.iter().filter(|(k, _)| k == "anthropic-version").collect();
    assert_eq!(versions.len(), 1);
    assert_eq!(r.header("anthropic-version"), Some("2099-01-01"));
    assert_eq!(r.header("anthropic-beta"), Some("x"));
}

#[test]
fn anthropic_tool_use_and_merged_tool_results() {
    let mut req = ChatRequest::new("claude", tool_history());
    req.tools = vec![weather_tool()];
    req.max_tokens = Some(2000);
    let (_, b) = build(ProviderKind::Anthropic, &req);
    assert_eq!(b["max_tokens"], 2000);
    assert_eq!(
        b["tools"],
        json!([{"name": "get_weather", "description": "Current weather", "input_schema": weather_tool().parameters}])
    );
    assert!(b.get("tool_choice").is_none());
    let m = b["messages"].as_array().unwrap();
    assert_eq!(m.len(), 5, "the two tool results merge into one user message");
    assert_eq!(
        m[1],
        json!({"role": "assistant", "content": [
            {"type": "text", "text": "Let me check."},
            {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}},
            {"type": "tool_use", "id": "call_2", "name": "get_weather", "input": {}}
        ]})
    );
    assert_eq!(
        m[2],
        json!({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "call_1", "content": "18°C"},
            {"type": "tool_result", "tool_use_id": "call_2", "content": "24°C"}
        ]})
    );
    assert_eq!(m[3]["role"], "assistant");
    assert_eq!(m[4], json!({"role": "user", "content": [{"type": "text", "text": "Thanks!"}]}));
}

#[test]
fn anthropic_tool_result_followed_by_user_text_merges_tool_results_first() {
    let mut a = Message::assistant("");
    a.tool_calls = vec![call("t1", "f", "{}")];
    let req = ChatRequest::new("c", vec![Message::user("go"), a, Message::tool("t1", "done"), Message::user("and?")]);
    let (_, b) = build(ProviderKind::Anthropic, &req);
    assert_eq!(
        b["messages"][2]["content"],
        json!([{"type": "tool_result", "tool_use_id": "t1", "content": "done"}, {"type": "text", "text": "and?"}])
    );
}

#[test]
fn anthropic_structured_output_is_a_forced_tool() {
    let schema = json!({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]});
    let mut req = ChatRequest::new("claude", vec![Message::user("x")]);
    req.tools = vec![weather_tool()];
    req.response_format =
        Some(ResponseFormat::JsonSchema { name: "count".into(), schema: schema.clone(), strict: true });
    let (_, b) = build(ProviderKind::Anthropic, &req);
    assert_eq!(b["tool_choice"], json!({"type": "tool", "name": "count"}));
    let tools = b["tools"].as_array().unwrap();
    assert_eq!(tools.len(), 2);
    assert_eq!(tools[1]["name"], "count");
    assert_eq!(tools[1]["input_schema"], schema);
    req.response_format = Some(ResponseFormat::JsonObject);
    let (_, b) = build(ProviderKind::Anthropic, &req);
    assert_eq!(b["tool_choice"], json!({"type": "tool", "name": "json_response"}));
    assert_eq!(b["tools"][1]["input_schema"], json!({"type": "object"}));
    assert!(b.get("response_format").is_none());
}

#[test]
fn anthropic_prompt_cache_breakpoints() {
    let mut req = ChatRequest::new("claude", tool_history());
    req.system = Some("Long stable system prompt.".into());
    req.tools = vec![weather_tool()];
    req.prompt_cache = true;
    let (_, b) = build(ProviderKind::Anthropic, &req);
    let eph = json!({"type": "ephemeral"});
    assert_eq!(b["system"], json!([{"type": "text", "text": "Long stable system prompt.", "cache_control": eph}]));
    assert_eq!(b["tools"][0]["cache_control"], eph);
    let m = b["messages"].as_array().unwrap();
    // The newest user turn is m[4]; the stable prefix ends with m[3] (the assistant answer).
    assert_eq!(m[3]["content"][0]["cache_control"], eph);
    let marks = b.to_string().matches("\"cache_control\"").count();
    assert_eq!(marks, 3, "system, last tool, history prefix; never more than the API's 4");
    assert!(m[4]["content"][0].get("cache_control").is_none());
}

#[test]
fn anthropic_without_prompt_cache_has_no_cache_control() {
    let mut req = ChatRequest::new("claude", tool_history());
    req.system = Some("S".into());
    let (_, b) = build(ProviderKind::Anthropic, &req);
    assert!(!b.to_string().contains("cache_control"));
    assert_eq!(b["system"], "S");
}

#[test]
fn anthropic_final_assistant_prefill_is_trimmed() {
    let req = ChatRequest::new("claude", vec![Message::user("Count"), Message::assistant("1, 2, 3, \n")]);
    let (_, b) = build(ProviderKind::Anthropic, &req);
    assert_eq!(b["messages"][1], json!({"role": "assistant", "content": [{"type": "text", "text": "1, 2, 3,"}]}));
}

#[test]
fn temperature_serializes_as_written() {
    let mut req = ChatRequest::new("m", vec![Message::user("x")]);
    req.temperature = Some(0.3);
    for kind in [ProviderKind::OpenAiChat, ProviderKind::OpenAiResponses, ProviderKind::Anthropic] {
        let r = build_request(&config(kind), &req).unwrap();
        assert!(String::from_utf8(r.body).unwrap().contains("\"temperature\":0.3"), "{kind}");
    }
}

fn build_error(kind: ProviderKind, req: &ChatRequest) -> String {
    build_request(&config(kind), req).expect_err("must be rejected").to_string()
}

#[test]
fn invalid_requests_are_build_errors_with_clear_messages() {
    let all = [
        ProviderKind::OpenAiChat,
        ProviderKind::OpenAiCompatible,
        ProviderKind::OpenAiResponses,
        ProviderKind::Anthropic,
    ];
    for kind in all {
        assert!(build_error(kind, &ChatRequest::new(" ", vec![Message::user("x")])).contains("model is empty"));
        assert!(build_error(kind, &ChatRequest::new("m", vec![])).contains("no messages"));
        let orphan = ChatRequest::new("m", vec![Message::user("x"), Message::tool("nope", "r")]);
        assert!(build_error(kind, &orphan).contains("\"nope\""), "{kind}");
        let mut a = Message::assistant("");
        a.tool_calls = vec![call("c1", "f", "{}")];
        let unanswered = ChatRequest::new("m", vec![Message::user("x"), a.clone(), Message::user("y")]);
        assert!(build_error(kind, &unanswered).contains("no tool result"), "{kind}");
        let last_unanswered = ChatRequest::new("m", vec![Message::user("x"), a]);
        assert!(build_error(kind, &last_unanswered).contains("no tool result"), "{kind}");
    }
}

#[test]
fn provider_specific_rejections() {
    let mut cfg = config(ProviderKind::OpenAiChat);
    cfg.api_key = None;
    let err = build_request(&cfg, &ChatRequest::new("m", vec![Message::user("x")])).unwrap_err();
    assert!(err.to_string().contains("API key"), "{err}");

    let mut req = ChatRequest::new("m", vec![Message::user("x")]);
    req.stop = vec!["x".into()];
    assert!(build_error(ProviderKind::OpenAiResponses, &req).contains("no stop sequences"));

    let mut req = ChatRequest::new("m", vec![Message::user("x")]);
    req.temperature = Some(1.5);
    assert!(build_error(ProviderKind::Anthropic, &req).contains("temperature"));

    let mut a = Message::assistant("");
    a.tool_calls = vec![call("c1", "f", "not json")];
    let req = ChatRequest::new("m", vec![Message::user("x"), a, Message::tool("c1", "r")]);
    assert!(build_error(ProviderKind::Anthropic, &req).contains("not a JSON object"));

    let req = ChatRequest::new("m", vec![Message::user("")]);
    assert!(build_error(ProviderKind::Anthropic, &req).contains("empty user turn"));

    let mut req = ChatRequest::new("m", vec![Message::user("x")]);
    req.response_format =
        Some(ResponseFormat::JsonSchema { name: "l".into(), schema: json!({"type": "array"}), strict: false });
    assert!(build_error(ProviderKind::Anthropic, &req).contains("object"));
}
