//! Tool definitions and tool-result turns as each provider's API reference spells them, for a request in the middle
//! of a tool loop (the conversation ends with tool results, one of them an error), and the checks on tool
//! definitions ([`check_tools`]). References: OpenAI Chat `tools[].function` and `role: "tool"` messages
//! (<https://platform.openai.com/docs/api-reference/chat/create>); Responses `tools[]` of `type: "function"`,
//! `function_call` and `function_call_output` input items
//! (<https://platform.openai.com/docs/api-reference/responses/create>); Anthropic `tools[].input_schema`, `tool_use`
//! and `tool_result` blocks with `is_error` (<https://docs.anthropic.com/en/api/messages>).
#![cfg(not(target_arch = "wasm32"))]

use edgechat::conversation::{validate_messages, ConversationError, InvalidTurn, Message};
use edgechat::provider::{
    build_request, check_tools, ChatRequest, ProviderConfig, ProviderKind, ToolSpec, ToolSpecError,
};
use edgechat::ToolCall;
use serde_json::{json, Value};

fn config(kind: ProviderKind) -> ProviderConfig {
    let key = (kind != ProviderKind::OpenAiCompatible).then(|| "sk-test-0000".to_string());
    ProviderConfig { kind, base_url: "http://127.0.0.1:1/v1".into(), api_key: key, extra_headers: Vec::new() }
}

fn body(kind: ProviderKind, req: &ChatRequest) -> Value {
    let r = build_request(&config(kind), req).unwrap_or_else(|e| panic!("{kind}: {e}"));
    serde_json::from_slice(&r.body).unwrap()
}

fn tools() -> Vec<ToolSpec> {
    vec![
        ToolSpec {
            name: "lookup_order".into(),
            description: "Find an order by number".into(),
            parameters: json!({"type": "object", "properties": {"number": {"type": "string"}}, "required": ["number"]}),
        },
        // No description and no parameters: an empty object schema.
        ToolSpec {
            name: "now".into(),
            description: String::new(),
            parameters: json!({"type": "object", "properties": {}}),
        },
    ]
}

/// A step of a client tool loop: the question, the model's two parallel calls, their results (the second failed).
fn step() -> ChatRequest {
    let mut a = Message::assistant("");
    a.tool_calls = vec![
        ToolCall { id: "call_a".into(), name: "lookup_order".into(), arguments: r#"{"number":"42"}"#.into() },
        ToolCall { id: "call_b".into(), name: "now".into(), arguments: "{}".into() },
    ];
    let messages = vec![
        Message::user("Where is order 42?"),
        a,
        Message::tool("call_a", r#"{"status":"shipped"}"#),
        Message::tool_error("call_b", r#"{"error":"clock unavailable"}"#),
    ];
    validate_messages(&messages).expect("a valid history");
    let mut r = ChatRequest::new("m", messages);
    r.tools = tools();
    r
}

#[test]
fn openai_chat_and_compatible_function_tools_and_tool_messages() {
    for kind in [ProviderKind::OpenAiChat, ProviderKind::OpenAiCompatible] {
        let b = body(kind, &step());
        assert_eq!(
            b["tools"],
            json!([
                {"type": "function", "function": {"name": "lookup_order", "description": "Find an order by number",
                  "parameters": tools()[0].parameters}},
                {"type": "function", "function": {"name": "now", "parameters": {"type": "object", "properties": {}}}}
            ]),
            "{kind}"
        );
        assert_eq!(
            b["messages"],
            json!([
                {"role": "user", "content": "Where is order 42?"},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_a", "type": "function", "function": {"name": "lookup_order", "arguments": "{\"number\":\"42\"}"}},
                    {"id": "call_b", "type": "function", "function": {"name": "now", "arguments": "{}"}}
                ]},
                {"role": "tool", "content": "{\"status\":\"shipped\"}", "tool_call_id": "call_a"},
                // Chat Completions has no error flag: the content says it.
                {"role": "tool", "content": "{\"error\":\"clock unavailable\"}", "tool_call_id": "call_b"}
            ]),
            "{kind}"
        );
    }
}

#[test]
fn responses_function_tools_calls_and_outputs() {
    let b = body(ProviderKind::OpenAiResponses, &step());
    assert_eq!(
        b["tools"],
        json!([
            {"type": "function", "name": "lookup_order", "description": "Find an order by number",
             "parameters": tools()[0].parameters, "strict": false},
            {"type": "function", "name": "now", "parameters": {"type": "object", "properties": {}}, "strict": false}
        ])
    );
    assert_eq!(
        b["input"],
        json!([
            {"type": "message", "role": "user", "content": "Where is order 42?"},
            {"type": "function_call", "call_id": "call_a", "name": "lookup_order", "arguments": "{\"number\":\"42\"}"},
            {"type": "function_call", "call_id": "call_b", "name": "now", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "call_a", "output": "{\"status\":\"shipped\"}"},
            {"type": "function_call_output", "call_id": "call_b", "output": "{\"error\":\"clock unavailable\"}"}
        ])
    );
}

#[test]
fn anthropic_input_schema_tool_use_and_tool_results_with_is_error() {
    let b = body(ProviderKind::Anthropic, &step());
    assert_eq!(
        b["tools"],
        json!([
            {"name": "lookup_order", "description": "Find an order by number", "input_schema": tools()[0].parameters},
            {"name": "now", "input_schema": {"type": "object", "properties": {}}}
        ])
    );
    assert_eq!(
        b["messages"],
        json!([
            {"role": "user", "content": [{"type": "text", "text": "Where is order 42?"}]},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "call_a", "name": "lookup_order", "input": {"number": "42"}},
                {"type": "tool_use", "id": "call_b", "name": "now", "input": {}}
            ]},
            // Both results in one user message, right after the calls; the failure flagged.
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "call_a", "content": "{\"status\":\"shipped\"}"},
                {"type": "tool_result", "tool_use_id": "call_b", "content": "{\"error\":\"clock unavailable\"}", "is_error": true}
            ]}
        ])
    );
    assert!(b.get("tool_choice").is_none(), "client tools leave the choice to the model");
}

#[test]
fn is_error_serializes_only_when_set_and_only_on_tool_turns() {
    let ok = serde_json::to_value(Message::tool("c", "x")).unwrap();
    assert!(ok.get("is_error").is_none());
    let err: Message =
        serde_json::from_value(json!({"role": "tool", "tool_call_id": "c", "content": "x", "is_error": true})).unwrap();
    assert_eq!(err, Message::tool_error("c", "x"));
    let misplaced = vec![Message { is_error: true, ..Message::user("x") }];
    assert!(matches!(
        validate_messages(&misplaced),
        Err(InvalidTurn { error: ConversationError::MisplacedField { field: "is_error", .. }, .. })
    ));
}

#[test]
fn tool_definitions_every_provider_accepts() {
    let spec = |name: &str, parameters: Value| ToolSpec { name: name.into(), description: String::new(), parameters };
    let obj = json!({"type": "object"});
    assert_eq!(check_tools(&tools()), Ok(()));
    assert_eq!(check_tools(&[spec("a-b_C9", obj.clone()), spec(&"x".repeat(64), obj.clone())]), Ok(()));
    for bad in ["", "has space", "dot.name", "ünï", &"x".repeat(65)] {
        assert_eq!(check_tools(&[spec(bad, obj.clone())]), Err(ToolSpecError::BadName { name: bad.into() }), "{bad:?}");
    }
    for params in [json!(null), json!("object"), json!({"type": "string"}), json!({"properties": {}}), json!([])] {
        assert_eq!(
            check_tools(&[spec("f", params.clone())]),
            Err(ToolSpecError::BadParameters { name: "f".into() }),
            "{params}"
        );
    }
    assert_eq!(
        check_tools(&[spec("f", obj.clone()), spec("g", obj.clone()), spec("f", obj.clone())]),
        Err(ToolSpecError::DuplicateName { name: "f".into() })
    );
}

#[test]
fn every_provider_refuses_to_build_a_request_with_a_bad_or_repeated_tool_name() {
    for kind in [
        ProviderKind::OpenAiChat,
        ProviderKind::OpenAiCompatible,
        ProviderKind::OpenAiResponses,
        ProviderKind::Anthropic,
    ] {
        let mut r = step();
        r.tools[1].name = "bad name".into();
        let e = build_request(&config(kind), &r).unwrap_err();
        assert!(e.message.contains("\"bad name\""), "{kind}: {e}");
        r.tools[1].name = "lookup_order".into();
        let e = build_request(&config(kind), &r).unwrap_err();
        assert!(e.message.contains("used twice"), "{kind}: {e}");
    }
}
