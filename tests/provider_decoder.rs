//! StreamDecoder behaviour beyond the fixtures: misuse after the end, size limits, keep-alives, odd servers.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::result_large_err)] // `StreamError` is large by design (it carries a whole `ProviderError`).

use edgechat::provider::{ProviderKind, StreamDecoder};
use edgechat::{StopReason, StreamError, StreamEvent, ToolCall};

type Item = Result<StreamEvent, StreamError>;

fn drain(d: &mut StreamDecoder) -> Vec<Item> {
    std::iter::from_fn(|| d.next_event()).collect()
}

fn decode(kind: ProviderKind, input: &str) -> Vec<Item> {
    let mut d = StreamDecoder::new(kind);
    d.feed(input.as_bytes());
    d.finish();
    drain(&mut d)
}

fn text(s: &str) -> Item {
    Ok(StreamEvent::TextDelta { text: s.into() })
}

#[test]
fn feeding_after_finish_is_already_finished_not_truncated() {
    let mut d = StreamDecoder::new(ProviderKind::OpenAiChat);
    d.feed(b"data: [DONE]\n\n");
    d.finish();
    assert_eq!(drain(&mut d), vec![Ok(StreamEvent::Done)]);
    d.feed(b"data: {}\n\n");
    assert_eq!(drain(&mut d), vec![Err(StreamError::AlreadyFinished)]);
    d.finish();
    assert_eq!(drain(&mut d), vec![], "finish twice is a no-op");
}

#[test]
fn data_after_the_terminal_event_is_already_finished_but_trailing_newlines_are_not() {
    let mut d = StreamDecoder::new(ProviderKind::Anthropic);
    d.feed(b"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    d.feed(b"\r\n\n");
    assert_eq!(drain(&mut d), vec![Ok(StreamEvent::Done)]);
    d.feed(b"event: ping\ndata: {\"type\":\"ping\"}\n\n");
    assert_eq!(drain(&mut d), vec![Err(StreamError::AlreadyFinished)]);
}

#[test]
fn truncated_only_after_finish() {
    let mut d = StreamDecoder::new(ProviderKind::OpenAiChat);
    d.feed(b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\n");
    assert_eq!(drain(&mut d), vec![text("a")], "incomplete input is not an error");
    d.finish();
    assert_eq!(drain(&mut d), vec![Err(StreamError::Truncated)]);
}

#[test]
fn an_unterminated_final_event_is_discarded_so_the_stream_is_truncated() {
    let out = decode(ProviderKind::OpenAiChat, "data: [DONE]");
    assert_eq!(out, vec![Err(StreamError::Truncated)]);
}

#[test]
fn oversized_event_is_too_large() {
    let mut d = StreamDecoder::with_max_size(ProviderKind::OpenAiChat, 64);
    let big = format!("data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{}\"}}}}]}}\n\n", "x".repeat(100));
    d.feed(big.as_bytes());
    assert_eq!(drain(&mut d), vec![Err(StreamError::TooLarge { limit: 64 })]);
    d.feed(b"data: [DONE]\n\n");
    d.finish();
    assert_eq!(drain(&mut d), vec![Err(StreamError::AlreadyFinished)], "the stream is over after an error");
}

#[test]
fn empty_body_is_truncated() {
    for kind in [ProviderKind::OpenAiChat, ProviderKind::OpenAiResponses, ProviderKind::Anthropic] {
        assert_eq!(decode(kind, ""), vec![Err(StreamError::Truncated)], "{kind}");
    }
}

#[test]
fn comments_pings_and_unknown_events_are_ignored() {
    let input = ": keep-alive\n\nevent: ping\ndata: {\"type\": \"ping\"}\n\n\
        event: future_event\ndata: {\"type\":\"future_event\",\"x\":1}\n\n\
        event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    assert_eq!(decode(ProviderKind::Anthropic, input), vec![Ok(StreamEvent::Done)]);
    let input = "event: response.queued\ndata: {\"type\":\"response.queued\"}\n\n\
        event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"status\":\"completed\"}}\n\n";
    let out = decode(ProviderKind::OpenAiResponses, input);
    assert_eq!(out.last(), Some(&Ok(StreamEvent::Done)));
}

#[test]
fn anthropic_delta_for_a_block_that_never_started_is_malformed() {
    let input = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":3,\"delta\":{\"type\":\"text_delta\",\"text\":\"x\"}}\n\n";
    match decode(ProviderKind::Anthropic, input).as_slice() {
        [Err(StreamError::Malformed { provider, message })] => {
            assert_eq!(*provider, ProviderKind::Anthropic);
            assert!(message.contains("block 3"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn malformed_json_names_the_provider_and_quotes_an_excerpt() {
    let long = format!("data: {{\"choices\": [{}\n\n", "1,".repeat(500));
    match decode(ProviderKind::OpenAiCompatible, &long).as_slice() {
        [Err(e @ StreamError::Malformed { provider: ProviderKind::OpenAiCompatible, message })] => {
            assert!(message.contains("{\\\"choices\\\""), "{message}");
            assert!(message.len() < 400, "excerpt is short: {}", message.len());
            assert_eq!(e.type_name(), "malformed_event");
        }
        other => panic!("{other:?}"),
    }
    let wrong_shape = "data: {\"choices\":\"nope\"}\n\n";
    assert!(matches!(decode(ProviderKind::OpenAiChat, wrong_shape)[0], Err(StreamError::Malformed { .. })));
}

#[test]
fn openai_error_object_mid_stream_is_a_provider_error() {
    let input = "data: {\"error\":{\"message\":\"Rate limit reached\",\"type\":\"tokens\",\"code\":\"rate_limit_exceeded\"}}\n\n";
    match decode(ProviderKind::OpenAiChat, input).as_slice() {
        [Err(StreamError::Provider(e))] => {
            assert_eq!(
                (e.status, e.code.as_deref(), e.message.as_str()),
                (429, Some("rate_limit_exceeded"), "Rate limit reached")
            );
            assert!(e.is_retryable());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn openai_tool_calls_without_finish_reason_complete_at_done() {
    let input = "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]}}]}\n\ndata: [DONE]\n\n";
    let out = decode(ProviderKind::OpenAiCompatible, input);
    assert_eq!(
        out[1..],
        [
            Ok(StreamEvent::ToolCall { call: ToolCall { id: "c".into(), name: "f".into(), arguments: "{}".into() } }),
            Ok(StreamEvent::Done)
        ]
    );
}

#[test]
fn openai_tool_call_fragments_are_deltas_then_one_whole_call() {
    let input = "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"\"}}]}}]}\n\n\
        data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"a\\\":1}\"}}]}}]}\n\n\
        data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\ndata: [DONE]\n\n";
    assert_eq!(
        decode(ProviderKind::OpenAiChat, input),
        vec![
            Ok(StreamEvent::ToolCallDelta {
                index: 0,
                id: Some("c".into()),
                name: Some("f".into()),
                arguments: String::new()
            }),
            Ok(StreamEvent::ToolCallDelta { index: 0, id: None, name: None, arguments: "{\"a\":1}".into() }),
            Ok(StreamEvent::ToolCall {
                call: ToolCall { id: "c".into(), name: "f".into(), arguments: "{\"a\":1}".into() }
            }),
            Ok(StreamEvent::Stop { reason: StopReason::ToolUse, raw: "tool_calls".into() }),
            Ok(StreamEvent::Done),
        ]
    );
}

#[test]
fn other_choices_and_odd_reasoning_shapes_do_not_break_decoding() {
    let input = "data: {\"choices\":[{\"index\":1,\"delta\":{\"content\":\"other\"}},{\"index\":0,\"delta\":{\"content\":\"mine\",\"reasoning\":{\"effort\":\"low\"}}}]}\n\ndata: [DONE]\n\n";
    assert_eq!(decode(ProviderKind::OpenAiCompatible, input), vec![text("mine"), Ok(StreamEvent::Done)]);
}

#[test]
fn escaped_and_multibyte_text_survives() {
    let input = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\\nb \\u00e9 \\ud83d\\ude00 \\\"q\\\"\"}}]}\n\ndata: [DONE]\n\n";
    assert_eq!(decode(ProviderKind::OpenAiChat, input)[0], text("a\nb é 😀 \"q\""));
}

#[test]
fn responses_failed_and_error_events_are_provider_errors() {
    let failed = "event: response.failed\ndata: {\"type\":\"response.failed\",\"response\":{\"status\":\"failed\",\"error\":{\"code\":\"server_error\",\"message\":\"boom\"}}}\n\n";
    match decode(ProviderKind::OpenAiResponses, failed).as_slice() {
        [Err(StreamError::Provider(e))] => assert_eq!((e.status, e.message.as_str()), (500, "boom")),
        other => panic!("{other:?}"),
    }
    let error = "event: error\ndata: {\"type\":\"error\",\"code\":\"rate_limit_exceeded\",\"message\":\"slow down\",\"param\":null}\n\n";
    match decode(ProviderKind::OpenAiResponses, error).as_slice() {
        [Err(e @ StreamError::Provider(p))] => {
            assert_eq!((p.status, p.message.as_str()), (429, "slow down"));
            assert_eq!(e.type_name(), "rate_limited");
        }
        other => panic!("{other:?}"),
    }
}
