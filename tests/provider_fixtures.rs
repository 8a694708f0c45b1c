//! Every recorded transcript under `tests/fixtures/<provider>/` decodes to its checked-in expected result
//! (`<name>.expected.json`), identically when fed whole and when split at every byte; non-streaming bodies
//! (`response_*.json`, `message_*.json`) decode to theirs and agree with the matching stream.
//!
//! To regenerate expectations after a deliberate change: `UPDATE_FIXTURES=1 cargo test --test provider_fixtures`,
//! then review the diff.
#![cfg(not(target_arch = "wasm32"))]

use std::fs;
use std::path::{Path, PathBuf};

use edgechat::provider::{decode_response, ProviderKind, StreamDecoder};
use edgechat::{ChatResponse, ResponseAccumulator, StreamError, StreamEvent};
use serde_json::{json, Value};

const PROVIDERS: [(&str, ProviderKind); 3] = [
    ("openai-chat", ProviderKind::OpenAiChat),
    ("openai-responses", ProviderKind::OpenAiResponses),
    ("anthropic", ProviderKind::Anthropic),
];

fn dir(provider: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(provider)
}

fn files(provider: &str, pred: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir(provider))
        .expect("fixture dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(&pred))
        .collect();
    v.sort();
    v
}

type Item = Result<StreamEvent, StreamError>;

/// Feeds `pieces` in order (then `finish`) and collects every item the decoder yields.
fn run(kind: ProviderKind, pieces: &[&[u8]]) -> Vec<Item> {
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

fn report(response: &ChatResponse, error: Option<&StreamError>) -> Value {
    json!({
        "response": response,
        "error": error.map(|e| json!({"type": e.type_name(), "message": e.to_string()})),
    })
}

fn fold(items: &[Item]) -> Value {
    let mut acc = ResponseAccumulator::new();
    for item in items {
        match item {
            Ok(e) => acc.push(e),
            Err(e) => acc.set_error(e.clone()),
        }
    }
    report(acc.response(), acc.error())
}

fn check_expected(path: &Path, actual: &Value) {
    let expected_path = path.with_extension("expected.json");
    let text = serde_json::to_string_pretty(actual).unwrap() + "\n";
    if std::env::var_os("UPDATE_FIXTURES").is_some() {
        fs::write(&expected_path, text).unwrap();
        return;
    }
    let expected = fs::read_to_string(&expected_path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_FIXTURES=1 and review)", expected_path.display()));
    let expected: Value = serde_json::from_str(&expected).unwrap();
    assert_eq!(actual, &expected, "{} differs from {}", path.display(), expected_path.display());
}

#[test]
fn every_transcript_matches_its_expected_result_whole_and_split_at_every_byte() {
    let mut count = 0;
    for (provider, kind) in PROVIDERS {
        for path in files(provider, |n| n.ends_with(".sse")) {
            // setup
            let input = fs::read(&path).unwrap();
            // exec
            let whole = run(kind, &[&input]);
            // check
            assert!(!whole.is_empty(), "{}", path.display());
            check_expected(&path, &fold(&whole));
            for i in 0..=input.len() {
                let split = run(kind, &[&input[..i], b"", &input[i..]]);
                assert_eq!(split, whole, "{} split at byte {i}", path.display());
            }
            let bytewise: Vec<&[u8]> = input.chunks(1).collect();
            assert_eq!(run(kind, &bytewise), whole, "{} fed one byte at a time", path.display());
            count += 1;
        }
    }
    assert!(count >= 24, "expected at least 24 transcripts, found {count}");
}

#[test]
fn every_non_streaming_body_matches_its_expected_result() {
    let mut count = 0;
    for (provider, kind) in PROVIDERS {
        for path in files(provider, |n| {
            (n.starts_with("response_") || n.starts_with("message_"))
                && n.ends_with(".json")
                && !n.contains(".expected.")
        }) {
            let body = fs::read(&path).unwrap();
            let actual = match decode_response(kind, &body) {
                Ok(r) => report(&r, None),
                Err(e) => report(&ChatResponse::default(), Some(&e)),
            };
            check_expected(&path, &actual);
            count += 1;
        }
    }
    assert!(count >= 7, "expected at least 7 bodies, found {count}");
}

/// Tool-call arguments compared as JSON values (a streamed body keeps the model's spacing; a parsed `input`
/// object is re-serialized compactly).
fn normalized(mut r: ChatResponse) -> ChatResponse {
    for c in &mut r.tool_calls {
        c.arguments = serde_json::from_str::<Value>(&c.arguments).map(|v| v.to_string()).unwrap_or_default();
    }
    r
}

#[test]
fn non_streaming_bodies_give_the_same_response_as_the_stream() {
    let pairs = [
        ("openai-chat", ProviderKind::OpenAiChat, "response_tool_calls.json", "tool_calls_parallel.sse"),
        ("openai-responses", ProviderKind::OpenAiResponses, "response_text.json", "text.sse"),
        (
            "openai-responses",
            ProviderKind::OpenAiResponses,
            "response_function_calls.json",
            "function_calls_parallel.sse",
        ),
        ("openai-responses", ProviderKind::OpenAiResponses, "response_reasoning.json", "reasoning.sse"),
        ("anthropic", ProviderKind::Anthropic, "message_tool_use.json", "tool_use_parallel.sse"),
    ];
    for (provider, kind, body, stream) in pairs {
        let from_body = decode_response(kind, &fs::read(dir(provider).join(body)).unwrap()).unwrap();
        let items = run(kind, &[&fs::read(dir(provider).join(stream)).unwrap()]);
        let mut acc = ResponseAccumulator::new();
        for item in &items {
            acc.push(item.as_ref().expect("stream without error"));
        }
        let (from_stream, _) = acc.into_parts();
        assert_eq!(normalized(from_body), normalized(from_stream), "{provider}: {body} vs {stream}");
    }
}
