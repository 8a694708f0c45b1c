//! The recorded transcripts of `provider_fixtures.rs`, decoded by the core compiled to wasm (run in Node by
//! wasm-bindgen-test): whole and split at every byte, each must give its checked-in expected result.
//! `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner cargo test -p edgechat
//! --target wasm32-unknown-unknown --test provider_wasm`.
#![cfg(target_arch = "wasm32")]

use edgechat::provider::{ProviderKind, StreamDecoder};
use edgechat::{ResponseAccumulator, StreamError, StreamEvent};
use serde_json::{json, Value};
use wasm_bindgen_test::wasm_bindgen_test;

type Fixture = (&'static str, ProviderKind, &'static [u8], &'static str);

const FIXTURES: &[Fixture] = &[
    (
        "openai-chat/error_midstream",
        ProviderKind::OpenAiChat,
        include_bytes!("fixtures/openai-chat/error_midstream.sse"),
        include_str!("fixtures/openai-chat/error_midstream.expected.json"),
    ),
    (
        "openai-chat/malformed",
        ProviderKind::OpenAiChat,
        include_bytes!("fixtures/openai-chat/malformed.sse"),
        include_str!("fixtures/openai-chat/malformed.expected.json"),
    ),
    (
        "openai-chat/max_tokens",
        ProviderKind::OpenAiChat,
        include_bytes!("fixtures/openai-chat/max_tokens.sse"),
        include_str!("fixtures/openai-chat/max_tokens.expected.json"),
    ),
    (
        "openai-chat/reasoning_content",
        ProviderKind::OpenAiChat,
        include_bytes!("fixtures/openai-chat/reasoning_content.sse"),
        include_str!("fixtures/openai-chat/reasoning_content.expected.json"),
    ),
    (
        "openai-chat/reasoning_openrouter_pings",
        ProviderKind::OpenAiChat,
        include_bytes!("fixtures/openai-chat/reasoning_openrouter_pings.sse"),
        include_str!("fixtures/openai-chat/reasoning_openrouter_pings.expected.json"),
    ),
    (
        "openai-chat/refusal",
        ProviderKind::OpenAiChat,
        include_bytes!("fixtures/openai-chat/refusal.sse"),
        include_str!("fixtures/openai-chat/refusal.expected.json"),
    ),
    (
        "openai-chat/text",
        ProviderKind::OpenAiChat,
        include_bytes!("fixtures/openai-chat/text.sse"),
        include_str!("fixtures/openai-chat/text.expected.json"),
    ),
    (
        "openai-chat/tool_calls_parallel",
        ProviderKind::OpenAiChat,
        include_bytes!("fixtures/openai-chat/tool_calls_parallel.sse"),
        include_str!("fixtures/openai-chat/tool_calls_parallel.expected.json"),
    ),
    (
        "openai-chat/truncated",
        ProviderKind::OpenAiChat,
        include_bytes!("fixtures/openai-chat/truncated.sse"),
        include_str!("fixtures/openai-chat/truncated.expected.json"),
    ),
    (
        "openai-chat/usage_cached",
        ProviderKind::OpenAiChat,
        include_bytes!("fixtures/openai-chat/usage_cached.sse"),
        include_str!("fixtures/openai-chat/usage_cached.expected.json"),
    ),
    (
        "openai-responses/error_event",
        ProviderKind::OpenAiResponses,
        include_bytes!("fixtures/openai-responses/error_event.sse"),
        include_str!("fixtures/openai-responses/error_event.expected.json"),
    ),
    (
        "openai-responses/failed",
        ProviderKind::OpenAiResponses,
        include_bytes!("fixtures/openai-responses/failed.sse"),
        include_str!("fixtures/openai-responses/failed.expected.json"),
    ),
    (
        "openai-responses/function_calls_parallel",
        ProviderKind::OpenAiResponses,
        include_bytes!("fixtures/openai-responses/function_calls_parallel.sse"),
        include_str!("fixtures/openai-responses/function_calls_parallel.expected.json"),
    ),
    (
        "openai-responses/incomplete_max_tokens",
        ProviderKind::OpenAiResponses,
        include_bytes!("fixtures/openai-responses/incomplete_max_tokens.sse"),
        include_str!("fixtures/openai-responses/incomplete_max_tokens.expected.json"),
    ),
    (
        "openai-responses/reasoning",
        ProviderKind::OpenAiResponses,
        include_bytes!("fixtures/openai-responses/reasoning.sse"),
        include_str!("fixtures/openai-responses/reasoning.expected.json"),
    ),
    (
        "openai-responses/refusal",
        ProviderKind::OpenAiResponses,
        include_bytes!("fixtures/openai-responses/refusal.sse"),
        include_str!("fixtures/openai-responses/refusal.expected.json"),
    ),
    (
        "openai-responses/text",
        ProviderKind::OpenAiResponses,
        include_bytes!("fixtures/openai-responses/text.sse"),
        include_str!("fixtures/openai-responses/text.expected.json"),
    ),
    (
        "openai-responses/truncated",
        ProviderKind::OpenAiResponses,
        include_bytes!("fixtures/openai-responses/truncated.sse"),
        include_str!("fixtures/openai-responses/truncated.expected.json"),
    ),
    (
        "openai-responses/usage_cached",
        ProviderKind::OpenAiResponses,
        include_bytes!("fixtures/openai-responses/usage_cached.sse"),
        include_str!("fixtures/openai-responses/usage_cached.expected.json"),
    ),
    (
        "anthropic/error_overloaded",
        ProviderKind::Anthropic,
        include_bytes!("fixtures/anthropic/error_overloaded.sse"),
        include_str!("fixtures/anthropic/error_overloaded.expected.json"),
    ),
    (
        "anthropic/malformed",
        ProviderKind::Anthropic,
        include_bytes!("fixtures/anthropic/malformed.sse"),
        include_str!("fixtures/anthropic/malformed.expected.json"),
    ),
    (
        "anthropic/max_tokens",
        ProviderKind::Anthropic,
        include_bytes!("fixtures/anthropic/max_tokens.sse"),
        include_str!("fixtures/anthropic/max_tokens.expected.json"),
    ),
    (
        "anthropic/refusal",
        ProviderKind::Anthropic,
        include_bytes!("fixtures/anthropic/refusal.sse"),
        include_str!("fixtures/anthropic/refusal.expected.json"),
    ),
    (
        "anthropic/stop_sequence",
        ProviderKind::Anthropic,
        include_bytes!("fixtures/anthropic/stop_sequence.sse"),
        include_str!("fixtures/anthropic/stop_sequence.expected.json"),
    ),
    (
        "anthropic/text",
        ProviderKind::Anthropic,
        include_bytes!("fixtures/anthropic/text.sse"),
        include_str!("fixtures/anthropic/text.expected.json"),
    ),
    (
        "anthropic/thinking",
        ProviderKind::Anthropic,
        include_bytes!("fixtures/anthropic/thinking.sse"),
        include_str!("fixtures/anthropic/thinking.expected.json"),
    ),
    (
        "anthropic/tool_use_parallel",
        ProviderKind::Anthropic,
        include_bytes!("fixtures/anthropic/tool_use_parallel.sse"),
        include_str!("fixtures/anthropic/tool_use_parallel.expected.json"),
    ),
    (
        "anthropic/truncated",
        ProviderKind::Anthropic,
        include_bytes!("fixtures/anthropic/truncated.sse"),
        include_str!("fixtures/anthropic/truncated.expected.json"),
    ),
    (
        "anthropic/usage_cached",
        ProviderKind::Anthropic,
        include_bytes!("fixtures/anthropic/usage_cached.sse"),
        include_str!("fixtures/anthropic/usage_cached.expected.json"),
    ),
];

fn run(kind: ProviderKind, pieces: &[&[u8]]) -> Vec<Result<StreamEvent, StreamError>> {
    let mut d = StreamDecoder::new(kind);
    let mut out = Vec::new();
    for p in pieces {
        d.feed(p);
        out.extend(std::iter::from_fn(|| d.next_event()));
    }
    d.finish();
    out.extend(std::iter::from_fn(|| d.next_event()));
    out
}

fn fold(items: &[Result<StreamEvent, StreamError>]) -> Value {
    let mut acc = ResponseAccumulator::new();
    for item in items {
        match item {
            Ok(e) => acc.push(e),
            Err(e) => acc.set_error(e.clone()),
        }
    }
    json!({
        "response": acc.response(),
        "error": acc.error().map(|e| json!({"type": e.type_name(), "message": e.to_string()})),
    })
}

#[wasm_bindgen_test]
fn every_transcript_matches_its_expected_result_in_wasm() {
    assert!(FIXTURES.len() >= 24);
    for (name, kind, input, expected) in FIXTURES {
        let whole = run(*kind, &[input]);
        let expected: Value = serde_json::from_str(expected).unwrap();
        assert_eq!(fold(&whole), expected, "{name}");
        for i in (0..=input.len()).step_by(7) {
            assert_eq!(run(*kind, &[&input[..i], b"", &input[i..]]), whole, "{name} split at {i}");
        }
    }
}
