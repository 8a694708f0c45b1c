//! Every ending of a stream, natively: complete, stop, client gone, stall, first-token timeout, upstream error
//! mid-stream, truncated (end and reset), budget — for the widget protocol, pass-through and translation.

use edgechat::cost::ModelPrice;
use edgechat::protocol::{Frame, WidgetEvent};
use edgechat::provider::anthropic::encode::MessagesEncoder;
use edgechat::provider::openai_chat::encode::ChunkEncoder;
use edgechat::provider::ProviderKind;
use serde_json::Value;

use super::*;
use crate::compat::Format;

const OPENAI_OK: &str = concat!(
    "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n",
    "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"}}]}\n\n",
    "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" world\"}}]}\n\n",
    "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
    "data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3,\"total_tokens\":15}}\n\n",
    "data: [DONE]\n\n",
);

/// The part of [`OPENAI_OK`] before the finish chunk.
fn openai_partial() -> &'static str {
    &OPENAI_OK[..OPENAI_OK.find("data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{},").unwrap()]
}

fn settings() -> Settings {
    Settings {
        stall_ms: 1_000,
        first_token_ms: Some(500),
        keepalive_ms: Some(200),
        prompt_tokens: 40,
        price: Some(ModelPrice { input: 1.0, output: 2.0, cache_read: None, cache_write: None }),
        budget: Budget::default(),
        keep_answer: true,
        secrets: vec!["sk-secret-key-0000".into()],
    }
}

fn widget(framing: Framing) -> Output {
    Output::Widget { start: start("req", "req", "fast", ProviderKind::OpenAiChat, false), summary: None, framing }
}

fn machine(output: Output, s: Settings) -> StreamMachine {
    StreamMachine::new(ProviderKind::OpenAiChat, output, s, 0)
}

/// The widget events in SSE bytes, as (name, data).
fn events(bytes: &[u8]) -> Vec<(String, Value)> {
    let text = std::str::from_utf8(bytes).unwrap();
    text.split("\n\n")
        .filter(|b| b.contains("event: "))
        .map(|b| {
            let name = b.lines().find_map(|l| l.strip_prefix("event: ")).unwrap().to_string();
            let data = b.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
            (name, serde_json::from_str(data).unwrap())
        })
        .collect()
}

fn names(evs: &[(String, Value)]) -> Vec<&str> {
    evs.iter().map(|(n, _)| n.as_str()).collect()
}

/// Runs the machine's outputs into one byte string until it ends (as the runtime's loop does).
fn all_bytes(m: &mut StreamMachine, out: &mut Vec<u8>) {
    if let Some(b) = m.take_bytes() {
        out.extend_from_slice(&b);
    }
}

#[test]
fn complete_answer_in_one_chunk_or_byte_by_byte() {
    for split in [OPENAI_OK.len(), 1] {
        let mut m = machine(widget(Framing::Sse), settings());
        let mut out = Vec::new();
        for (i, piece) in OPENAI_OK.as_bytes().chunks(split).enumerate() {
            assert!(!m.is_ended(), "ended early at piece {i}");
            m.on_upstream(piece, 10 + i as u64);
            all_bytes(&mut m, &mut out);
        }
        assert!(m.is_ended());
        let end = m.into_ending();
        assert_eq!(end.outcome, Outcome::Complete);
        assert_eq!(end.upstream, UpstreamEnd::Drain);
        assert_eq!((end.usage.input_tokens, end.usage.output_tokens, end.estimated), (12, 3, false));
        assert_eq!(end.cost_usd, Some(round_usd((12.0 * 1.0 + 3.0 * 2.0) / 1e6)));
        assert_eq!(end.answer.as_ref().map(|a| a.text.as_str()), Some("Hello world"));
        let evs = events(&out);
        assert_eq!(names(&evs), ["start", "delta", "delta", "usage", "done"]);
        let ids: Vec<u64> = std::str::from_utf8(&out)
            .unwrap()
            .lines()
            .filter_map(|l| l.strip_prefix("id: ").map(|n| n.parse().unwrap()))
            .collect();
        assert_eq!(ids, [1, 2, 3, 4, 5]);
        assert_eq!(evs[4].1["stop_reason"], "end_turn");
        assert_eq!(evs[4].1["raw_stop_reason"], "stop");
        assert_eq!(evs[4].1["stopped"], false);
        assert_eq!(evs[3].1["input_tokens"], 12);
    }
}

#[test]
fn frames_for_a_resumable_log_and_no_pings() {
    let mut s = settings();
    s.keepalive_ms = None;
    let mut m = machine(widget(Framing::Frames), s);
    m.on_upstream(openai_partial().as_bytes(), 5);
    let frames: Vec<Frame> = m.take_frames();
    assert_eq!(frames.iter().map(|f| f.event.name()).collect::<Vec<_>>(), ["start", "delta", "delta"]);
    assert!(m.take_bytes().is_none());
    assert_eq!(m.poll_timeout(), Some(5 + 1_000), "only the stall deadline: no keep-alive");
    m.on_stop();
    let frames = m.take_frames();
    assert_eq!(frames.iter().map(|f| f.id).collect::<Vec<_>>(), [4, 5]);
    let WidgetEvent::Done(done) = &frames[1].event else { panic!("{frames:?}") };
    assert!(done.stopped);
    assert_eq!(done.stop_reason, None, "the provider gave no stop reason before the stop");
    let end = m.into_ending();
    assert_eq!((end.outcome, end.upstream), (Outcome::Stopped, UpstreamEnd::Cancel));
    assert!(end.estimated, "a stopped stream bills the estimate");
    assert_eq!(end.usage.input_tokens, 40);
    assert!(end.answer.is_none(), "an incomplete answer is never cached");
}

#[test]
fn client_gone_sends_nothing_more_and_cancels() {
    let mut m = machine(widget(Framing::Sse), settings());
    m.on_upstream(openai_partial().as_bytes(), 5);
    m.on_client_gone();
    assert!(m.is_ended());
    assert!(m.take_bytes().is_none(), "nothing is written to a client that left");
    let end = m.into_ending();
    assert_eq!((end.outcome, end.upstream), (Outcome::Aborted, UpstreamEnd::Cancel));
    assert_eq!(end.usage.output_tokens, 3, "\"Hello world\" estimated at 11 quarter-tokens, rounded up");
}

#[test]
fn keepalive_then_stall() {
    let mut m = machine(widget(Framing::Sse), settings());
    m.on_upstream(openai_partial().as_bytes(), 100);
    let _ = m.take_bytes();
    assert_eq!(m.poll_timeout(), Some(300), "the ping comes before the stall deadline");
    m.on_timeout(250); // early wake-up: nothing
    assert!(m.take_bytes().is_none());
    m.on_timeout(300);
    assert_eq!(m.take_bytes().as_deref(), Some(&b": ping\n\n"[..]));
    assert_eq!(m.poll_timeout(), Some(500));
    for t in [500, 700, 900] {
        m.on_timeout(t);
        assert!(!m.is_ended());
    }
    let _ = m.take_bytes();
    assert_eq!(m.poll_timeout(), Some(1_100));
    m.on_timeout(1_100);
    assert!(m.is_ended());
    let evs = events(&m.take_bytes().unwrap());
    assert_eq!(names(&evs), ["usage", "error"]);
    assert_eq!(evs[1].1["type"], "stalled");
    assert_eq!(evs[1].1["truncated"], true);
    assert_eq!(evs[1].1["retryable"], true);
    let end = m.into_ending();
    assert_eq!((end.outcome, end.upstream), (Outcome::Truncated, UpstreamEnd::Cancel));
}

#[test]
fn first_token_timeout_before_any_text() {
    let mut m = machine(widget(Framing::Sse), settings());
    // The role chunk arrives at once, then nothing: the first-token limit (500 ms from the start) comes before
    // the stall limit (1,000 ms after the last byte).
    m.on_upstream(&OPENAI_OK.as_bytes()[..OPENAI_OK.find("\n\n").unwrap() + 2], 10);
    assert_eq!(m.poll_timeout(), Some(210));
    for t in [210, 410] {
        m.on_timeout(t);
        assert!(!m.is_ended());
    }
    assert_eq!(m.poll_timeout(), Some(500));
    m.on_timeout(500);
    let evs = events(&m.take_bytes().unwrap());
    assert_eq!(names(&evs), ["start", "usage", "error"]);
    assert_eq!(evs[2].1["type"], "first_token_timeout");
    assert_eq!(evs[2].1["truncated"], false);
    assert_eq!(m.into_ending().outcome, Outcome::Error);
}

#[test]
fn upstream_error_mid_stream_is_scrubbed() {
    let mut m = StreamMachine::new(
        ProviderKind::Anthropic,
        Output::Widget {
            start: start("r", "r", "claude", ProviderKind::Anthropic, false),
            summary: None,
            framing: Framing::Sse,
        },
        settings(),
        0,
    );
    let body = concat!(
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude\",\"usage\":{\"input_tokens\":9,\"output_tokens\":1}}}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Partial answer\"}}\n\n",
        "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded, key sk-secret-key-0000\"}}\n\n",
    );
    m.on_upstream(body.as_bytes(), 3);
    assert!(m.is_ended());
    let evs = events(&m.take_bytes().unwrap());
    assert_eq!(names(&evs), ["start", "delta", "usage", "error"]);
    assert_eq!(evs[3].1["type"], "overloaded");
    assert_eq!(evs[3].1["retryable"], true);
    assert!(!evs[3].1["message"].as_str().unwrap().contains("sk-secret"), "{}", evs[3].1);
    assert_eq!(evs[2].1["input_tokens"], 9, "the reported input is kept");
    assert_eq!(evs[2].1["output_tokens"], 4, "\"Partial answer\" estimated, above the reported 1");
    let end = m.into_ending();
    assert_eq!((end.outcome, end.upstream), (Outcome::Error, UpstreamEnd::Cancel));
}

#[test]
fn truncated_by_an_early_end_or_a_reset() {
    for reset in [false, true] {
        let mut m = machine(widget(Framing::Sse), settings());
        m.on_upstream(openai_partial().as_bytes(), 1);
        if reset {
            m.on_upstream_error("terminated: ECONNRESET", 2);
        } else {
            m.on_upstream_end(2);
        }
        let evs = events(&m.take_bytes().unwrap());
        assert_eq!(names(&evs), ["start", "delta", "delta", "usage", "error"]);
        assert_eq!(evs[4].1["type"], "truncated");
        assert_eq!(evs[4].1["truncated"], true);
        assert_eq!(evs[3].1["estimated"], true);
        let end = m.into_ending();
        assert_eq!(end.outcome, Outcome::Truncated);
    }
}

#[test]
fn a_failure_the_client_never_received_counts_as_aborted() {
    let mut m = machine(widget(Framing::Sse), settings());
    m.on_upstream(openai_partial().as_bytes(), 1);
    m.on_upstream_end(2);
    assert!(m.take_bytes().is_some());
    m.on_client_gone(); // the final write failed
    assert_eq!(m.into_ending().outcome, Outcome::Aborted);
}

#[test]
fn malformed_event_ends_the_widget_stream() {
    let mut m = machine(widget(Framing::Sse), settings());
    m.on_upstream(b"data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: {not json\n\n", 1);
    let evs = events(&m.take_bytes().unwrap());
    assert_eq!(names(&evs)[names(&evs).len() - 1], "error");
    assert_eq!(m.into_ending().outcome, Outcome::Error);
}

#[test]
fn budget_ends_the_answer_with_done() {
    let mut s = settings();
    s.budget = Budget { usd: None, tokens: Some(42) };
    let mut m = machine(widget(Framing::Sse), s);
    m.on_upstream(openai_partial().as_bytes(), 1);
    assert!(m.is_ended(), "40 prompt + 3 output tokens > 42");
    let evs = events(&m.take_bytes().unwrap());
    assert_eq!(names(&evs), ["start", "delta", "delta", "usage", "done"]);
    assert_eq!(evs[4].1["stopped"], true);
    assert_eq!(evs[4].1["reason"], "budget");
    let end = m.into_ending();
    assert_eq!((end.outcome, end.upstream), (Outcome::Budget, UpstreamEnd::Cancel));

    let mut s = settings();
    s.budget = Budget { usd: Some(1.0), tokens: Some(10_000) };
    let mut m = machine(widget(Framing::Sse), s);
    m.on_upstream(OPENAI_OK.as_bytes(), 1);
    assert_eq!(m.into_ending().outcome, Outcome::Complete, "within budget");
}

#[test]
fn passthrough_forwards_bytes_unchanged_and_meters() {
    let mut m = machine(Output::Passthrough { format: Format::OpenAiChat, forward: true }, settings());
    let mut out = Vec::new();
    for piece in OPENAI_OK.as_bytes().chunks(7) {
        m.on_upstream(piece, 1);
        all_bytes(&mut m, &mut out);
    }
    assert_eq!(out, OPENAI_OK.as_bytes());
    let end = m.into_ending();
    assert_eq!((end.outcome, end.usage.output_tokens), (Outcome::Complete, 3));

    // Not forwarded by the machine (the runtime sends the body itself): only metering.
    let mut m = machine(Output::Passthrough { format: Format::OpenAiChat, forward: false }, settings());
    m.on_upstream(openai_partial().as_bytes(), 1);
    assert!(m.take_bytes().is_none());
    m.on_upstream_end(2);
    let tail = String::from_utf8(m.take_bytes().unwrap()).unwrap();
    assert!(tail.starts_with("data: {\"error\":{") && tail.contains("\"truncated\""), "{tail}");
    assert_eq!(m.into_ending().outcome, Outcome::Truncated);
}

#[test]
fn passthrough_keeps_forwarding_after_a_provider_error() {
    let mut m = machine(Output::Passthrough { format: Format::OpenAiChat, forward: true }, settings());
    let err = "data: {\"error\":{\"message\":\"server_error\",\"type\":\"server_error\"}}\n\n";
    m.on_upstream(err.as_bytes(), 1);
    assert!(!m.is_ended(), "the bytes keep flowing until the upstream ends");
    m.on_upstream(b": trailing\n\n", 2);
    m.on_upstream_end(3);
    let out = m.take_bytes().unwrap();
    assert_eq!(out, [err.as_bytes(), b": trailing\n\n"].concat(), "no second error frame: the provider's passed");
    let end = m.into_ending();
    assert_eq!(end.outcome, Outcome::Error);
    assert_eq!(end.error.map(|e| e.kind), Some("server_error".into()));
}

#[test]
fn translation_to_anthropic_and_openai() {
    let enc = Encoder::Messages(MessagesEncoder::new("msg_1".into(), "fast".into()));
    let mut m = machine(Output::Translate(enc), settings());
    m.on_upstream(OPENAI_OK.as_bytes(), 1);
    let text = String::from_utf8(m.take_bytes().unwrap()).unwrap();
    let names: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("event: ")).collect();
    assert_eq!(names.first(), Some(&"message_start"));
    assert_eq!(names.last(), Some(&"message_stop"));
    assert!(text.contains("\"output_tokens\":3"));
    assert_eq!(m.into_ending().outcome, Outcome::Complete);

    let enc = Encoder::Chat(ChunkEncoder::new("chatcmpl-1".into(), "fast".into(), 1, true));
    let mut m = StreamMachine::new(ProviderKind::Anthropic, Output::Translate(enc), settings(), 0);
    m.on_upstream(
        b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":3}}}\n\n",
        1,
    );
    m.on_upstream_end(2);
    let text = String::from_utf8(m.take_bytes().unwrap()).unwrap();
    assert!(text.trim_end().lines().last().unwrap().contains("\"code\":\"truncated\""), "{text}");
    assert!(!text.contains("[DONE]"), "no [DONE] after an error, so the SDK raises");
}

#[test]
fn replayed_events_take_the_same_path() {
    let mut s = settings();
    s.price = Some(ModelPrice { input: 0.0, output: 0.0, cache_read: None, cache_write: None });
    let mut m = machine(widget(Framing::Sse), s);
    let answer = {
        let mut a = CachedAnswer::new("openai-chat", "gpt");
        a.text = "cached".into();
        a.complete = true;
        a.stop = Some((edgechat::StopReason::EndTurn, "stop".into()));
        a.usage = Usage { input_tokens: 5, output_tokens: 2, ..Usage::default() };
        a
    };
    m.on_events(answer.events());
    let evs = events(&m.take_bytes().unwrap());
    assert_eq!(names(&evs), ["start", "delta", "usage", "done"]);
    assert_eq!(evs[2].1["cost_usd"], 0.0);
    assert_eq!(m.into_ending().outcome, Outcome::Complete);
}

#[test]
fn nothing_happens_after_the_end() {
    let mut m = machine(widget(Framing::Sse), settings());
    m.on_upstream(OPENAI_OK.as_bytes(), 1);
    let _ = m.take_bytes();
    m.on_upstream(b"data: {}\n\n", 2);
    m.on_timeout(10_000);
    m.on_stop();
    m.on_upstream_end(3);
    assert!(m.take_bytes().is_none());
    assert_eq!(m.poll_timeout(), None);
    assert_eq!(m.into_ending().outcome, Outcome::Complete);
}

#[test]
fn the_summary_event_comes_right_after_start() {
    let mut st = start("r", "r", "fast", ProviderKind::OpenAiChat, false);
    st.trimmed = 0;
    st.task = Some("chat".into());
    let summary = edgechat::protocol::Summary { covers: 4, text: "Earlier: x.".into(), token: "t".into() };
    let mut m = machine(Output::Widget { start: st, summary: Some(summary), framing: Framing::Sse }, settings());
    m.on_upstream(OPENAI_OK.as_bytes(), 1);
    let evs = events(&m.take_bytes().unwrap());
    assert_eq!(names(&evs), ["start", "summary", "delta", "delta", "usage", "done"]);
    assert_eq!(evs[0].1["task"], "chat");
    assert_eq!((evs[1].1["covers"].as_u64(), evs[1].1["text"].as_str()), (Some(4), Some("Earlier: x.")));
}
