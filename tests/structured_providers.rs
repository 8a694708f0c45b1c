//! Structured output read from real provider response bodies (decoded by the provider module), so the parse
//! works whichever provider answered.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use edgechat::conversation::Conversation;
use edgechat::provider::{decode_response, ProviderKind};
use edgechat::structured::{parse_structured, parse_structured_for, ResponseFormat, JSON_OBJECT_TOOL_NAME};
use serde::Deserialize;

#[derive(Debug, PartialEq, Deserialize)]
struct City {
    name: String,
    population: u64,
}

fn schema() -> ResponseFormat {
    ResponseFormat::JsonSchema {
        name: "city".into(),
        schema: serde_json::json!({"type": "object", "properties": {"name": {"type": "string"}}}),
        strict: true,
    }
}

const ANTHROPIC_FORCED_TOOL: &str = r#"{
  "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
  "content": [{"type": "tool_use", "id": "toolu_01", "name": "city", "input": {"name": "Paris", "population": 2100000}}],
  "stop_reason": "tool_use", "stop_sequence": null,
  "usage": {"input_tokens": 420, "output_tokens": 31}
}"#;

const OPENAI_JSON_SCHEMA: &str = r#"{
  "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini-2024-07-18",
  "choices": [{"index": 0, "finish_reason": "stop",
    "message": {"role": "assistant", "content": "{\"name\":\"Paris\",\"population\":2100000}", "refusal": null}}],
  "usage": {"prompt_tokens": 50, "completion_tokens": 12, "total_tokens": 62}
}"#;

const OPENAI_FENCED: &str = r#"{
  "id": "chatcmpl-2", "object": "chat.completion", "created": 1, "model": "llama3",
  "choices": [{"index": 0, "finish_reason": "stop",
    "message": {"role": "assistant", "content": "```json\n{\"name\": \"Paris\", \"population\": 2100000}\n```"}}]
}"#;

fn paris() -> City {
    City { name: "Paris".into(), population: 2_100_000 }
}

#[test]
fn anthropic_forced_tool_answer_parses() {
    let r = decode_response(ProviderKind::Anthropic, ANTHROPIC_FORCED_TOOL.as_bytes()).unwrap();
    assert_eq!(parse_structured_for::<City>(&r, &schema()).unwrap(), paris());
    assert_eq!(parse_structured::<City>(&r).unwrap(), paris());
}

#[test]
fn anthropic_json_object_uses_the_shared_tool_name() {
    let body = ANTHROPIC_FORCED_TOOL.replace(r#""name": "city""#, &format!("\"name\": \"{JSON_OBJECT_TOOL_NAME}\""));
    let r = decode_response(ProviderKind::Anthropic, body.as_bytes()).unwrap();
    assert_eq!(parse_structured_for::<City>(&r, &ResponseFormat::JsonObject).unwrap(), paris());
}

#[test]
fn openai_json_mode_answer_parses() {
    for body in [OPENAI_JSON_SCHEMA, OPENAI_FENCED] {
        let r = decode_response(ProviderKind::OpenAiChat, body.as_bytes()).unwrap();
        assert_eq!(parse_structured_for::<City>(&r, &schema()).unwrap(), paris());
        assert_eq!(parse_structured::<City>(&r).unwrap(), paris());
    }
}

#[test]
fn decoded_non_streaming_response_is_recorded_as_a_finished_turn() {
    let r = decode_response(ProviderKind::OpenAiChat, OPENAI_JSON_SCHEMA.as_bytes()).unwrap();
    let mut c = Conversation::new();
    c.push_user("Paris?").unwrap();
    c.push_response(&r).unwrap();
    assert!(!c.messages[1].interrupted, "decode_response must mark a whole body complete: {r:?}");
    let cal = c.calibrate(1, &r.usage).unwrap();
    assert_eq!(cal.prompt_tokens, 50);
    assert_eq!(edgechat::cost::cost(r.model.as_deref().unwrap(), &r.usage).map(|c| (c * 1e9).round()), Some(14_700.0));
}
