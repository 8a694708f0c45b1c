//! Conversation history: validated appends, whole-history validation, serde, token estimates, limits.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use edgechat::conversation::{
    estimate_message_tokens, estimate_text_tokens, validate_messages, Conversation, ConversationError,
    ConversationLimits, InvalidTurn, LimitError, Message, Role, MESSAGE_OVERHEAD_TOKENS, REPLY_PRIMING_TOKENS,
};
use edgechat::{ChatResponse, StopReason, ToolCall, Usage};

fn call(id: &str, name: &str) -> ToolCall {
    ToolCall { id: id.into(), name: name.into(), arguments: r#"{"city":"Paris"}"#.into() }
}

fn tool_chat() -> Conversation {
    let mut c = Conversation::new();
    c.push_user("weather in Paris and Rome?").unwrap();
    c.push_assistant_tool_calls("", vec![call("c1", "weather"), call("c2", "weather")]).unwrap();
    c
}

// ---- appends ----

#[test]
fn push_user_rejects_blank_text() {
    let mut c = Conversation::new();
    assert_eq!(c.push_user(""), Err(ConversationError::EmptyUserMessage));
    assert_eq!(c.push_user(" \n\t"), Err(ConversationError::EmptyUserMessage));
    assert!(c.messages.is_empty());
    c.push_user("hi").unwrap();
    assert_eq!(c.messages, vec![Message::user("hi")]);
}

#[test]
fn push_assistant_rejects_empty_turn() {
    let mut c = Conversation::new();
    assert_eq!(c.push_assistant("  "), Err(ConversationError::EmptyAssistantTurn));
    assert_eq!(c.push_assistant_tool_calls("", vec![]), Err(ConversationError::EmptyAssistantTurn));
    assert_eq!(c.push_assistant_partial(""), Err(ConversationError::EmptyAssistantTurn));
}

#[test]
fn assistant_may_open_history_and_follow_itself() {
    let mut c = Conversation::new();
    c.push_assistant("Hi! How can I help?").unwrap();
    c.push_assistant("(still here)").unwrap();
    c.push_user("hello").unwrap();
    assert_eq!(c.messages.len(), 3);
}

#[test]
fn tool_results_must_answer_known_calls() {
    let mut c = tool_chat();
    assert_eq!(c.push_tool_result("nope", "x"), Err(ConversationError::UnknownToolCallId { id: "nope".into() }));
    c.push_tool_result("c2", "sunny").unwrap();
    assert_eq!(c.push_tool_result("c2", "again"), Err(ConversationError::DuplicateToolResult { id: "c2".into() }));
    assert_eq!(c.pending_tool_calls(), vec!["c1"]);
    c.push_tool_result("c1", "rainy").unwrap();
    assert!(c.pending_tool_calls().is_empty());
    c.push_assistant("Paris rainy, Rome sunny.").unwrap();
    // After the assistant answered, the old calls are closed: a late result is unknown.
    assert_eq!(c.push_tool_result("c1", "late"), Err(ConversationError::UnknownToolCallId { id: "c1".into() }));
}

#[test]
fn tool_result_without_any_call_is_unknown() {
    let mut c = Conversation::new();
    c.push_user("hi").unwrap();
    assert_eq!(c.push_tool_result("c1", "x"), Err(ConversationError::UnknownToolCallId { id: "c1".into() }));
    assert_eq!(
        c.push(Message { tool_call_id: None, ..Message::tool("", "x") }),
        Err(ConversationError::MissingToolCallId)
    );
}

#[test]
fn next_turn_waits_for_all_tool_results() {
    let mut c = tool_chat();
    c.push_tool_result("c1", "rainy").unwrap();
    let pending = Err(ConversationError::PendingToolResults { ids: vec!["c2".into()] });
    assert_eq!(c.push_user("hello?"), pending);
    assert_eq!(c.push_assistant("..."), pending);
    assert_eq!(c.push_assistant_partial("..."), pending);
}

#[test]
fn tool_calls_are_checked() {
    let mut c = Conversation::new();
    c.push_user("go").unwrap();
    assert_eq!(
        c.push_assistant_tool_calls("", vec![call("", "f")]),
        Err(ConversationError::EmptyToolCallId { index: 0 })
    );
    assert_eq!(
        c.push_assistant_tool_calls("", vec![call("a", "")]),
        Err(ConversationError::EmptyToolName { id: "a".into() })
    );
    assert_eq!(
        c.push_assistant_tool_calls("", vec![call("a", "f"), call("b", "f"), call("a", "g")]),
        Err(ConversationError::DuplicateToolCallId { id: "a".into() })
    );
}

#[test]
fn misplaced_fields_are_rejected() {
    let mut c = Conversation::new();
    let user_with_calls = Message { tool_calls: vec![call("a", "f")], ..Message::user("x") };
    assert_eq!(
        c.push(user_with_calls),
        Err(ConversationError::MisplacedField { role: Role::User, field: "tool_calls" })
    );
    let interrupted_user = Message { interrupted: true, ..Message::user("x") };
    assert_eq!(
        c.push(interrupted_user),
        Err(ConversationError::MisplacedField { role: Role::User, field: "interrupted" })
    );
    let user_with_id = Message { tool_call_id: Some("a".into()), ..Message::user("x") };
    assert_eq!(
        c.push(user_with_id),
        Err(ConversationError::MisplacedField { role: Role::User, field: "tool_call_id" })
    );
}

#[test]
fn partial_assistant_turn_is_kept_and_marked() {
    let mut c = Conversation::new();
    c.push_user("write a poem").unwrap();
    c.push_assistant_partial("Roses are").unwrap();
    let last = c.messages.last().unwrap();
    assert!(last.interrupted);
    assert_eq!(last.content, "Roses are");
    c.extend_last_assistant(" red", false).unwrap();
    assert_eq!(c.messages.last().unwrap().content, "Roses are red");
    assert!(!c.messages.last().unwrap().interrupted);
    c.push_user("more").unwrap();
    assert_eq!(c.extend_last_assistant("x", false), Err(ConversationError::NoAssistantTurn));
}

#[test]
fn push_response_records_text_and_tool_calls() {
    let mut c = Conversation::new();
    c.push_user("weather?").unwrap();
    let response = ChatResponse {
        text: "Let me check.".into(),
        tool_calls: vec![call("c1", "weather")],
        stop_reason: Some(StopReason::ToolUse),
        complete: true,
        ..Default::default()
    };
    c.push_response(&response).unwrap();
    let last = c.messages.last().unwrap();
    assert_eq!((last.role, last.content.as_str(), last.interrupted), (Role::Assistant, "Let me check.", false));
    assert_eq!(last.tool_calls, response.tool_calls);
    assert_eq!(c.pending_tool_calls(), vec!["c1"]);
}

#[test]
fn push_response_marks_unfinished_responses_interrupted_and_drops_their_tool_calls() {
    for (complete, stop) in [(false, None), (true, Some(StopReason::MaxTokens))] {
        let mut c = Conversation::new();
        c.push_user("story").unwrap();
        let response = ChatResponse {
            text: "Once upon".into(),
            tool_calls: vec![call("c1", "f")],
            stop_reason: stop,
            complete,
            ..Default::default()
        };
        c.push_response(&response).unwrap();
        let last = c.messages.last().unwrap();
        assert!(last.interrupted, "complete={complete} stop={stop:?}");
        assert!(last.tool_calls.is_empty());
        c.push_user("go on").unwrap();
    }
}

#[test]
fn push_response_uses_refusal_when_there_is_no_text() {
    let mut c = Conversation::new();
    c.push_user("bad idea").unwrap();
    let response =
        ChatResponse { refusal: Some("I can't help with that.".into()), complete: true, ..Default::default() };
    c.push_response(&response).unwrap();
    assert_eq!(c.messages.last().unwrap().content, "I can't help with that.");
    let mut c2 = Conversation::new();
    c2.push_user("x").unwrap();
    assert_eq!(
        c2.push_response(&ChatResponse { complete: true, ..Default::default() }),
        Err(ConversationError::EmptyAssistantTurn)
    );
}

// ---- whole-history validation ----

#[test]
fn validate_accepts_a_good_history_including_pending_calls_at_the_end() {
    let mut c = tool_chat();
    assert_eq!(c.validate(), Ok(()));
    c.push_tool_result("c1", "a").unwrap();
    c.push_tool_result("c2", "b").unwrap();
    c.push_assistant("done").unwrap();
    assert_eq!(c.validate(), Ok(()));
    assert_eq!(Conversation::new().validate(), Ok(()));
}

#[test]
fn validate_names_the_offending_turn() {
    let c = Conversation {
        system: None,
        messages: vec![Message::user("hi"), Message::assistant("hello"), Message::tool("c9", "x")],
    };
    assert_eq!(
        c.validate(),
        Err(InvalidTurn { index: 2, error: ConversationError::UnknownToolCallId { id: "c9".into() } })
    );
    let c = Conversation { system: None, messages: vec![Message::user("hi"), Message::user("")] };
    assert_eq!(c.validate().unwrap_err().to_string(), "turn 1: user message is empty");
    assert_eq!(validate_messages(&c.messages), c.validate());
    assert_eq!(validate_messages(&c.messages[..1]), Ok(()));
}

// ---- serde ----

#[test]
fn serde_round_trip_keeps_everything() {
    let mut c = Conversation::with_system("Be brief. 日本語 ✓");
    c.push_user("héllo 🦀").unwrap();
    c.push_assistant_tool_calls("checking", vec![call("c1", "weather")]).unwrap();
    c.push_tool_result("c1", "{\"t\": 21}").unwrap();
    c.push_assistant_partial("It is 21").unwrap();
    let json = serde_json::to_string(&c).unwrap();
    let back: Conversation = serde_json::from_str(&json).unwrap();
    assert_eq!(back, c);
    assert_eq!(back.validate(), Ok(()));
}

#[test]
fn serde_shape_is_the_protocol_shape() {
    let mut c = Conversation::new();
    c.push_user("hi").unwrap();
    c.push_assistant_partial("he").unwrap();
    let v = serde_json::to_value(&c).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "he", "interrupted": true}
        ]})
    );
    let minimal: Conversation = serde_json::from_str(r#"{"messages":[{"role":"user","content":"x"}]}"#).unwrap();
    assert_eq!(minimal.messages, vec![Message::user("x")]);
    let empty: Conversation = serde_json::from_str("{}").unwrap();
    assert_eq!(empty, Conversation::new());
    assert!(serde_json::from_str::<Conversation>(r#"{"messages":[{"role":"system","content":"x"}]}"#).is_err());
}

// ---- estimates ----

#[test]
fn text_estimate_follows_the_documented_heuristic() {
    assert_eq!(estimate_text_tokens(""), 0);
    assert_eq!(estimate_text_tokens("a"), 1);
    assert_eq!(estimate_text_tokens(&"a".repeat(400)), 100);
    assert_eq!(estimate_text_tokens(&"é".repeat(10)), 5);
    assert_eq!(estimate_text_tokens(&"д".repeat(10)), 5);
    assert_eq!(estimate_text_tokens("中文字符"), 4);
    assert_eq!(estimate_text_tokens("カタカナ한국어"), 7);
    assert_eq!(estimate_text_tokens("😀😀"), 4);
    // Mixed: 4 ASCII (1) + 1 CJK (1) = 2.
    assert_eq!(estimate_text_tokens("abcd中"), 2);
}

#[test]
fn message_estimate_counts_overhead_tool_calls_and_ids() {
    assert_eq!(estimate_message_tokens(&Message::user("")), MESSAGE_OVERHEAD_TOKENS);
    let plain = estimate_message_tokens(&Message::assistant("abcd"));
    let with_call =
        estimate_message_tokens(&Message { tool_calls: vec![call("c1", "weather")], ..Message::assistant("abcd") });
    assert!(with_call > plain + 8, "{with_call} vs {plain}");
    assert!(estimate_message_tokens(&Message::tool("call_123", "abcd")) > plain);
}

#[test]
fn conversation_estimate_sums_parts() {
    assert_eq!(Conversation::new().estimate_tokens(), REPLY_PRIMING_TOKENS);
    let c = Conversation::with_system("abcd");
    assert_eq!(c.estimate_tokens(), REPLY_PRIMING_TOKENS + MESSAGE_OVERHEAD_TOKENS + 1);
    let mut c2 = c.clone();
    c2.push_user("abcdabcd").unwrap();
    assert_eq!(c2.estimate_tokens(), c.estimate_tokens() + MESSAGE_OVERHEAD_TOKENS + 2);
}

#[test]
fn calibration_uses_real_count_for_the_sent_prefix() {
    let mut c = Conversation::with_system("You are helpful.");
    c.push_user("Hello there, how are you today?").unwrap();
    let sent = c.messages.len();
    let usage = Usage { input_tokens: 100, cache_read_input_tokens: 20, ..Default::default() };
    let cal = c.calibrate(sent, &usage).unwrap();
    assert_eq!(cal.prompt_tokens, 120);
    assert_eq!(cal.estimated_tokens, c.estimate_tokens());
    // Same conversation: exactly the provider's count.
    assert_eq!(c.estimate_tokens_with(Some(&cal)), 120);
    // Newer turns are added, scaled by the (clamped) ratio.
    c.push_assistant("abcd".repeat(10)).unwrap();
    let newer = estimate_message_tokens(c.messages.last().unwrap());
    assert_eq!(c.estimate_tokens_with(Some(&cal)), 120 + cal.scale(newer));
    assert!(cal.ratio() <= 3.0 && cal.ratio() >= 0.5);
    // A changed prefix falls back to scaling the whole heuristic.
    c.messages[0].content.push('!');
    assert_eq!(c.estimate_tokens_with(Some(&cal)), cal.scale(c.estimate_tokens()));
    assert_eq!(c.estimate_tokens_with(None), c.estimate_tokens());
}

#[test]
fn calibration_keeps_provider_overhead_for_an_unchanged_prefix() {
    // Tool definitions make the real prompt far larger than the history: the ratio clamps, but the exact count
    // for the unchanged prefix is still used.
    let mut c = Conversation::new();
    c.push_user("hi").unwrap();
    let cal = c.calibrate(1, &Usage { input_tokens: 10_000, ..Default::default() }).unwrap();
    assert_eq!(cal.ratio(), 3.0);
    assert_eq!(c.estimate_tokens_with(Some(&cal)), 10_000);
    c.push_assistant("abcd").unwrap();
    assert_eq!(c.estimate_tokens_with(Some(&cal)), 10_000 + 3 * (MESSAGE_OVERHEAD_TOKENS + 1));
}

#[test]
fn calibration_ratio_is_clamped_and_needs_real_usage() {
    let mut c = Conversation::new();
    c.push_user("hi").unwrap();
    assert_eq!(c.calibrate(1, &Usage::default()), None);
    assert_eq!(c.calibrate(2, &Usage { input_tokens: 5, ..Default::default() }), None);
    let huge = c.calibrate(1, &Usage { input_tokens: 1_000_000, ..Default::default() }).unwrap();
    assert_eq!(huge.ratio(), 3.0);
    let tiny = c.calibrate(1, &Usage { input_tokens: 1, ..Default::default() }).unwrap();
    assert_eq!(tiny.ratio(), 0.5);
    let json = serde_json::to_string(&huge).unwrap();
    assert_eq!(serde_json::from_str::<edgechat::conversation::Calibration>(&json).unwrap(), huge);
}

// ---- limits ----

#[test]
fn limits_default_to_the_protocol_values_and_accept_partial_json() {
    let d = ConversationLimits::default();
    assert_eq!((d.max_messages, d.max_message_chars, d.max_total_chars), (50, 8_000, 60_000));
    let l: ConversationLimits = serde_json::from_str(r#"{"max_messages": 3}"#).unwrap();
    assert_eq!(l, ConversationLimits { max_messages: 3, ..d });
    assert!(serde_json::from_str::<ConversationLimits>(r#"{"max_mesages": 3}"#).is_err());
}

#[test]
fn limits_name_the_violated_limit() {
    let limits = ConversationLimits { max_messages: 3, max_message_chars: 10, max_total_chars: 25 };
    let mut c = Conversation::new();
    c.push_user("0123456789").unwrap();
    assert_eq!(c.check_limits(&limits), Ok(()));

    c.messages.push(Message::assistant("01234567890"));
    let e = c.check_limits(&limits).unwrap_err();
    assert_eq!(e, LimitError::MessageTooLong { index: 1, chars: 11, max: 10 });
    assert_eq!(e.type_name(), "message_too_long");
    assert_eq!(e.limit_name(), "max_message_chars");

    c.messages[1] = Message::assistant("0123456789");
    c.messages.push(Message::user("0123456"));
    let e = c.check_limits(&limits).unwrap_err();
    assert_eq!(e, LimitError::TotalTooLong { chars: 27, max: 25 });
    assert_eq!(e.type_name(), "conversation_too_long");
    assert_eq!(e.limit_name(), "max_total_chars");

    c.messages.push(Message::user("x"));
    let e = c.check_limits(&limits).unwrap_err();
    assert_eq!(e, LimitError::TooManyMessages { count: 4, max: 3 });
    assert_eq!(e.type_name(), "too_many_messages");
    assert_eq!(e.limit_name(), "max_messages");
}

#[test]
fn limits_count_characters_not_bytes_and_include_system_and_tool_calls() {
    let limits = ConversationLimits { max_messages: 10, max_message_chars: 4, max_total_chars: 100 };
    let mut c = Conversation::new();
    c.push_user("日本語🦀").unwrap(); // 4 chars, 13 bytes
    assert_eq!(c.check_limits(&limits), Ok(()));
    c.system = Some("12345".into());
    assert_eq!(c.check_limits(&limits), Err(LimitError::SystemPromptTooLong { chars: 5, max: 4 }));
    c.system = None;
    c.messages.push(Message {
        tool_calls: vec![ToolCall { id: "a".into(), name: "b".into(), arguments: "{}".into() }],
        ..Message::assistant("x")
    });
    assert_eq!(c.check_limits(&limits), Err(LimitError::MessageTooLong { index: 1, chars: 5, max: 4 }));
}
