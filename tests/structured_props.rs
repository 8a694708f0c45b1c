//! Property tests for structured output parsing.
#![cfg(not(target_arch = "wasm32"))]

use edgechat::structured::{parse_structured, parse_structured_for, ResponseFormat};
use edgechat::{ChatResponse, ToolCall};
use proptest::prelude::*;
use serde_json::Value;

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "[a-z日🦀`\"\\\\ \n]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z]{1,4}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_json_round_trips_bare_or_fenced(v in json_value(), pretty in any::<bool>(), fence in 0u8..3) {
        let body = if pretty { serde_json::to_string_pretty(&v).unwrap() } else { serde_json::to_string(&v).unwrap() };
        let text = match fence {
            0 => body,
            1 => format!("```json\n{body}\n```"),
            _ => format!("Sure:\n```\n{body}\n```\n"),
        };
        let r = ChatResponse { text, ..Default::default() };
        prop_assert_eq!(parse_structured::<Value>(&r).unwrap(), v);
    }

    #[test]
    fn tool_arguments_round_trip(v in json_value(), name in "[a-z_]{1,10}") {
        let args = serde_json::to_string(&v).unwrap();
        let r = ChatResponse { tool_calls: vec![ToolCall { id: "t".into(), name: name.clone(), arguments: args }], ..Default::default() };
        let format = ResponseFormat::JsonSchema { name, schema: Value::Null, strict: false };
        prop_assert_eq!(parse_structured_for::<Value>(&r, &format).unwrap(), v.clone());
        prop_assert_eq!(parse_structured::<Value>(&r).unwrap(), v);
    }

    #[test]
    fn arbitrary_text_never_panics_and_errors_keep_raw(text in "\\PC{0,64}") {
        let r = ChatResponse { text: text.clone(), ..Default::default() };
        if let Err(edgechat::structured::StructuredError::Mismatch { raw, .. }) = parse_structured::<Value>(&r) {
            prop_assert_eq!(raw, text);
        }
    }
}
