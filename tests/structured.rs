//! Structured output: reading the caller's type from text or from a forced tool call.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use edgechat::structured::{
    parse_json_text, parse_structured, parse_structured_for, OutputSource, ResponseFormat, StructuredError,
    JSON_OBJECT_TOOL_NAME,
};
use edgechat::{ChatResponse, StopReason, ToolCall};
use serde::Deserialize;

#[derive(Debug, PartialEq, Deserialize)]
struct City {
    name: String,
    population: u64,
}

fn paris() -> City {
    City { name: "Paris".into(), population: 2_100_000 }
}

const PARIS: &str = r#"{"name": "Paris", "population": 2100000}"#;

fn text(t: &str) -> ChatResponse {
    ChatResponse { text: t.into(), complete: true, ..Default::default() }
}

fn tool(name: &str, args: &str) -> ToolCall {
    ToolCall { id: "toolu_1".into(), name: name.into(), arguments: args.into() }
}

fn schema(name: &str) -> ResponseFormat {
    ResponseFormat::JsonSchema { name: name.into(), schema: serde_json::json!({"type": "object"}), strict: true }
}

#[test]
fn parses_plain_text_json() {
    assert_eq!(parse_structured::<City>(&text(PARIS)).unwrap(), paris());
    assert_eq!(parse_structured::<City>(&text(&format!("\n  {PARIS}\n"))).unwrap(), paris());
}

#[test]
fn tolerates_code_fences() {
    for wrapped in [
        format!("```json\n{PARIS}\n```"),
        format!("```\n{PARIS}\n```"),
        format!("  ```JSON\n{PARIS}\n```  \n"),
        format!("Here you go:\n```json\n{PARIS}\n```\nAnything else?"),
        format!("```json\n{PARIS}"),           // unclosed fence (e.g. cut off after the JSON)
        format!("Here:\n```json\n{PARIS}```"), // the closing fence right after the value
        format!("1. The city:\n   ```json\n   {PARIS}\n   ```\n"), // indented, in a list item
    ] {
        assert_eq!(parse_structured::<City>(&text(&wrapped)).unwrap(), paris(), "{wrapped:?}");
    }
}

#[test]
fn fence_inside_a_json_string_is_not_mistaken_for_the_answer() {
    #[derive(Debug, PartialEq, Deserialize)]
    struct Snippet {
        code: String,
    }
    let raw = r#"{"code": "```rust\nfn main() {}\n```"}"#;
    assert_eq!(parse_structured::<Snippet>(&text(raw)).unwrap().code, "```rust\nfn main() {}\n```");
    // Fenced, the block ends at the fence that starts a line, not at one inside a string (found by
    // structured_props: `["```"]` in a json fence).
    let fenced = "```json\n[\"```\", \"a ``` b\"]\n```";
    assert_eq!(parse_structured::<Vec<String>>(&text(fenced)).unwrap(), ["```", "a ``` b"]);
    // Valid JSON of the wrong shape reports the shape error, not an error about the fenced part.
    let err = parse_json_text::<City>(raw).unwrap_err();
    assert!(err.to_string().contains("missing field") || err.to_string().contains("unknown field"), "{err}");
}

#[test]
fn reads_anthropic_forced_tool_call_when_there_is_no_text() {
    let r = ChatResponse {
        tool_calls: vec![tool("city", PARIS)],
        stop_reason: Some(StopReason::ToolUse),
        complete: true,
        ..Default::default()
    };
    assert_eq!(parse_structured::<City>(&r).unwrap(), paris());
    assert_eq!(parse_structured_for::<City>(&r, &schema("city")).unwrap(), paris());
}

#[test]
fn format_aware_parse_picks_the_tool_named_after_the_schema() {
    let r = ChatResponse {
        text: "I'll record that.".into(),
        tool_calls: vec![tool("other", r#"{"x":1}"#), tool("city", PARIS)],
        complete: true,
        ..Default::default()
    };
    assert_eq!(parse_structured_for::<City>(&r, &schema("city")).unwrap(), paris());
    // Without the format, text wins when present.
    let err = parse_structured::<City>(&r).unwrap_err();
    assert!(matches!(err, StructuredError::Mismatch { source_of_output: OutputSource::Text, .. }), "{err:?}");
    // json_object on Anthropic is a forced tool with the shared constant name.
    let r = ChatResponse { tool_calls: vec![tool(JSON_OBJECT_TOOL_NAME, PARIS)], ..Default::default() };
    assert_eq!(ResponseFormat::JsonObject.tool_name(), JSON_OBJECT_TOOL_NAME);
    assert_eq!(parse_structured_for::<City>(&r, &ResponseFormat::JsonObject).unwrap(), paris());
}

#[test]
fn format_aware_parse_falls_back_to_text_for_openai() {
    assert_eq!(parse_structured_for::<City>(&text(PARIS), &schema("city")).unwrap(), paris());
}

#[test]
fn mismatch_error_carries_serde_message_and_raw_text() {
    let raw = r#"{"name": "Paris", "population": "lots"}"#;
    let err = parse_structured::<City>(&text(raw)).unwrap_err();
    match &err {
        StructuredError::Mismatch { message, raw: got, source_of_output, truncated } => {
            assert!(message.contains("invalid type"), "{message}");
            assert!(message.contains("line 1 column"), "{message}");
            assert_eq!(got, raw);
            assert_eq!(source_of_output, &OutputSource::Text);
            assert!(!truncated);
        }
        other => panic!("unexpected {other:?}"),
    }
    let shown = err.to_string();
    assert!(shown.contains("invalid type") && shown.contains(raw), "{shown}");
}

#[test]
fn tool_call_mismatch_names_the_tool() {
    let r = ChatResponse { tool_calls: vec![tool("city", "{\"name\": 3}")], ..Default::default() };
    let err = parse_structured::<City>(&r).unwrap_err();
    assert!(err.to_string().contains("tool call \"city\""), "{err}");
}

#[test]
fn truncated_output_says_so() {
    let r = ChatResponse {
        text: r#"{"name": "Par"#.into(),
        stop_reason: Some(StopReason::MaxTokens),
        ..Default::default()
    };
    let err = parse_structured::<City>(&r).unwrap_err();
    assert!(matches!(err, StructuredError::Mismatch { truncated: true, .. }));
    assert!(err.to_string().contains("max_tokens"), "{err}");
}

#[test]
fn refusal_and_empty_responses_are_distinct_errors() {
    let refused = ChatResponse { refusal: Some("I can't.".into()), ..Default::default() };
    assert_eq!(parse_structured::<City>(&refused), Err(StructuredError::Refused { refusal: "I can't.".into() }));
    assert_eq!(parse_structured::<City>(&text("   ")), Err(StructuredError::Empty));
    assert_eq!(parse_structured_for::<City>(&text(""), &schema("city")), Err(StructuredError::Empty));
}

#[test]
fn long_raw_output_is_excerpted_in_display_but_kept_whole() {
    let raw = format!("not json {}", "x".repeat(10_000));
    let err = parse_structured::<City>(&text(&raw)).unwrap_err();
    let shown = err.to_string();
    assert!(shown.len() < 3_000, "{}", shown.len());
    assert!(shown.contains("more bytes"));
    assert!(matches!(err, StructuredError::Mismatch { raw: ref r, .. } if *r == raw));
}

#[test]
fn unicode_output_is_parsed_and_excerpted_on_char_boundaries() {
    #[derive(Debug, PartialEq, Deserialize)]
    struct Word {
        w: String,
    }
    assert_eq!(parse_structured::<Word>(&text("```json\n{\"w\": \"日本🦀\"}\n```")).unwrap().w, "日本🦀");
    let raw = "🦀".repeat(3_000);
    let err = parse_structured::<Word>(&text(&raw)).unwrap_err();
    assert!(err.to_string().contains("more bytes"));
}

#[test]
fn response_format_serde_shape_is_unchanged() {
    let f = schema("city");
    let v = serde_json::to_value(&f).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"type": "json_schema", "name": "city", "schema": {"type": "object"}, "strict": true})
    );
    assert_eq!(serde_json::from_value::<ResponseFormat>(v).unwrap(), f);
}
