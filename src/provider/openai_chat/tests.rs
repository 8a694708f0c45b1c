//! Property test: the hand-rolled chunk decoder agrees with a naive reference built on `serde_json::Value` on
//! random `chat.completion.chunk` objects (escapes, non-ASCII, unknown and oddly typed fields, parallel tool
//! calls, usage), and rejects every truncated chunk exactly when `serde_json` does.

use proptest::prelude::*;
use serde_json::{json, Map, Value};

use super::stream::ChatStream;
use crate::error::StreamError;
use crate::event::{StopReason, StreamEvent, Usage};
use crate::provider::common::Out;
use crate::provider::ProviderKind;

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z ]{0,8}",
        Just(String::new()),
        prop::sample::select(vec!["é", "😀", "\"", "\\", "\n", "\u{1}", "/", "\u{2028}", "a\"b\\c"])
            .prop_map(String::from),
    ]
}

fn text_or_other() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => text().prop_map(Value::String),
        1 => Just(Value::Null),
        1 => Just(json!({"effort": "low", "n": [1, 2.5e3, true]})),
        1 => Just(json!(7)),
    ]
}

fn maybe(key: &'static str, v: impl Strategy<Value = Value>) -> impl Strategy<Value = Option<(String, Value)>> {
    prop::option::of(v.prop_map(move |v| (key.to_owned(), v)))
}

fn object(fields: Vec<Option<(String, Value)>>) -> Value {
    Value::Object(fields.into_iter().flatten().collect::<Map<_, _>>())
}

fn tool_call() -> impl Strategy<Value = Value> {
    (
        maybe("index", (0u64..3).prop_map(Value::from)),
        maybe("id", text_or_other()),
        maybe("type", Just(json!("function"))),
        maybe(
            "function",
            (maybe("name", text_or_other()), maybe("arguments", text_or_other())).prop_map(|(a, b)| object(vec![a, b])),
        ),
    )
        .prop_map(|(a, b, c, d)| object(vec![a, b, c, d]))
}

fn choice() -> impl Strategy<Value = Value> {
    let delta = (
        maybe("role", Just(json!("assistant"))),
        maybe("content", text_or_other()),
        maybe("reasoning_content", text_or_other()),
        maybe("reasoning", text_or_other()),
        maybe("refusal", text_or_other()),
        maybe("tool_calls", prop::collection::vec(tool_call(), 0..3).prop_map(Value::Array)),
    )
        .prop_map(|(a, b, c, d, e, f)| object(vec![a, b, c, d, e, f]));
    (
        maybe("index", (0u64..2).prop_map(Value::from)),
        maybe("delta", delta),
        maybe("logprobs", Just(Value::Null)),
        maybe(
            "finish_reason",
            prop_oneof![
                Just(Value::Null),
                text().prop_map(Value::String),
                Just(json!("stop")),
                Just(json!("tool_calls"))
            ],
        ),
    )
        .prop_map(|(a, b, c, d)| object(vec![a, b, c, d]))
}

fn chunk() -> impl Strategy<Value = Value> {
    let usage = (
        maybe("prompt_tokens", (0u64..5000).prop_map(Value::from)),
        maybe("completion_tokens", (0u64..5000).prop_map(Value::from)),
        maybe("prompt_tokens_details", (0u64..6000).prop_map(|c| json!({"cached_tokens": c, "audio_tokens": 0}))),
    )
        .prop_map(|(a, b, c)| object(vec![a, b, c]));
    (
        maybe("id", text_or_other()),
        maybe("object", Just(json!("chat.completion.chunk"))),
        maybe("model", text_or_other()),
        maybe("choices", prop::collection::vec(choice(), 0..3).prop_map(Value::Array)),
        maybe("usage", prop_oneof![Just(Value::Null), usage]),
        maybe("error", prop_oneof![Just(Value::Null), Just(json!({"message": "boom", "type": "server_error"}))]),
        maybe("x_extra", Just(json!({"nested": [{"a": "\"q\""}, null, -0.5e-2]}))),
    )
        .prop_map(|(a, b, c, d, e, f, g)| object(vec![a, b, c, d, e, f, g]))
}

fn s(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// What a chunk means, computed the slow, obvious way. Tool calls are tracked across the stream like the decoder.
struct Reference {
    started: bool,
    calls: Vec<(u64, String, String, String, bool)>,
}

impl Reference {
    fn decode(&mut self, v: &Value, out: &mut Vec<StreamEvent>) -> Result<(), ()> {
        if v.get("error").is_some_and(|e| !e.is_null()) {
            return Err(());
        }
        let mut events = Vec::new();
        if !self.started && (v["id"].is_string() || v["model"].is_string()) {
            self.started = true;
            let own = |k: &str| v[k].as_str().map(str::to_owned);
            events.push(StreamEvent::Start { id: own("id"), model: own("model") });
        }
        let choice = v["choices"].as_array().into_iter().flatten().find(|c| c["index"].as_u64().unwrap_or(0) == 0);
        if let Some(c) = choice {
            let d = &c["delta"];
            if let Some(t) = s(d.get("reasoning_content")).or(s(d.get("reasoning"))) {
                events.push(StreamEvent::ReasoningDelta { text: t.into() });
            }
            if let Some(t) = s(d.get("content")) {
                events.push(StreamEvent::TextDelta { text: t.into() });
            }
            if let Some(t) = s(d.get("refusal")) {
                events.push(StreamEvent::Refusal { text: t.into() });
            }
            for (pos, call) in d["tool_calls"].as_array().into_iter().flatten().enumerate() {
                let key = call["index"].as_u64().unwrap_or(pos as u64);
                let (id, name, args) =
                    (s(call.get("id")), s(call["function"].get("name")), s(call["function"].get("arguments")));
                let p = match self.calls.iter().position(|c| c.0 == key) {
                    Some(p) => p,
                    None => {
                        self.calls.push((key, String::new(), String::new(), String::new(), false));
                        self.calls.len() - 1
                    }
                };
                let entry = &mut self.calls[p];
                if entry.1.is_empty() {
                    entry.1 = id.unwrap_or_default().into();
                }
                if entry.2.is_empty() {
                    entry.2 = name.unwrap_or_default().into();
                }
                entry.3.push_str(args.unwrap_or_default());
                events.push(StreamEvent::ToolCallDelta {
                    index: p,
                    id: id.map(Into::into),
                    name: name.map(Into::into),
                    arguments: args.unwrap_or_default().into(),
                });
            }
            if let Some(raw) = s(c.get("finish_reason")) {
                for call in self.calls.iter_mut().filter(|c| !c.4) {
                    call.4 = true;
                    let call =
                        crate::event::ToolCall { id: call.1.clone(), name: call.2.clone(), arguments: call.3.clone() };
                    events.push(StreamEvent::ToolCall { call });
                }
                events.push(StreamEvent::Stop { reason: super::stream::stop_reason(raw), raw: raw.into() });
            }
        }
        if let Some(u) = v["usage"].as_object() {
            let prompt = u.get("prompt_tokens").and_then(Value::as_u64).unwrap_or(0);
            let cached =
                u.get("prompt_tokens_details").and_then(|d| d["cached_tokens"].as_u64()).unwrap_or(0).min(prompt);
            let output_tokens = u.get("completion_tokens").and_then(Value::as_u64).unwrap_or(0);
            let usage = Usage {
                input_tokens: prompt - cached,
                output_tokens,
                cache_read_input_tokens: cached,
                cache_creation_input_tokens: 0,
            };
            events.push(StreamEvent::Usage { usage });
        }
        out.extend(events);
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn hot_path_agrees_with_the_value_reference(chunks in prop::collection::vec((chunk(), any::<bool>()), 1..5)) {
        let mut decoder = ChatStream::new(ProviderKind::OpenAiChat);
        let mut reference = Reference { started: false, calls: Vec::new() };
        for (v, pretty) in chunks {
            let data = if pretty { serde_json::to_string_pretty(&v).unwrap() } else { v.to_string() };
            let mut got = Out::new();
            let result = decoder.on_data(&data, &mut got);
            let mut want = Vec::new();
            match reference.decode(&v, &mut want) {
                Ok(()) => {
                    prop_assert_eq!(result, Ok(false), "{}", data);
                    prop_assert_eq!(Vec::from(got), want, "{}", data);
                }
                Err(()) => {
                    prop_assert!(matches!(result, Err(StreamError::Provider(_))), "{}", data);
                    prop_assert!(got.is_empty());
                    return Ok(());
                }
            }
        }
    }

    #[test]
    fn truncated_chunks_are_malformed_exactly_when_serde_json_says_so(v in chunk(), cut in any::<prop::sample::Index>()) {
        let data = v.to_string();
        let cut = data.char_indices().map(|(i, _)| i).nth(cut.index(data.chars().count())).unwrap_or(0);
        let part = &data[..cut];
        prop_assume!(!part.trim().is_empty());
        let mut out = Out::new();
        let result = ChatStream::new(ProviderKind::OpenAiChat).on_data(part, &mut out);
        let valid = serde_json::from_str::<Value>(part).is_ok();
        prop_assert_eq!(matches!(result, Err(StreamError::Malformed { .. })), !valid, "{}", part);
        if !valid {
            prop_assert!(out.is_empty(), "nothing of a malformed chunk is emitted");
        }
    }
}

#[test]
fn stop_reasons() {
    assert_eq!(super::stream::stop_reason("length"), StopReason::MaxTokens);
    assert_eq!(super::stream::stop_reason("weird"), StopReason::Other);
}
