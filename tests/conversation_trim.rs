//! Trimming a conversation to a token budget: what is kept, what is refused, and summaries.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use edgechat::conversation::{
    estimate_message_tokens, Conversation, Message, Role, Summary, TrimError, TrimOptions, SUMMARY_MARKER,
};
use edgechat::{ToolCall, Usage};

fn call(id: &str) -> ToolCall {
    ToolCall { id: id.into(), name: "lookup".into(), arguments: "{}".into() }
}

/// `turns` user/assistant pairs of ~`words` words each, plus a final user turn.
fn long_chat(turns: usize, words: usize) -> Conversation {
    let mut c = Conversation::with_system("You are terse.");
    for i in 0..turns {
        c.push_user(format!("q{i} {}", "word ".repeat(words))).unwrap();
        c.push_assistant(format!("a{i} {}", "word ".repeat(words))).unwrap();
    }
    c.push_user("last question").unwrap();
    c
}

fn assert_starts_with_user(c: &Conversation) {
    if let Some(first) = c.messages.first() {
        assert_eq!(first.role, Role::User, "history starts with {:?}", first.role);
    }
}

#[test]
fn fitting_conversation_is_untouched() {
    let mut c = long_chat(3, 5);
    let before = c.clone();
    let outcome = c.trim_to_budget(&TrimOptions::new(10_000)).unwrap();
    assert!(outcome.dropped.is_empty());
    assert!(!outcome.summarized);
    assert_eq!(outcome.estimated_tokens, c.estimate_tokens());
    assert_eq!(c, before);
}

#[test]
fn trimming_keeps_system_prompt_and_newest_turns_within_budget() {
    let mut c = long_chat(20, 40);
    let before = c.clone();
    let budget = before.estimate_tokens() / 3;
    let outcome = c.trim_to_budget(&TrimOptions::new(budget)).unwrap();
    assert!(!outcome.dropped.is_empty());
    assert!(c.estimate_tokens() <= budget);
    assert_eq!(outcome.estimated_tokens, c.estimate_tokens());
    assert_eq!(c.system, before.system);
    // The kept turns are exactly the newest ones, and the dropped ones the oldest.
    let n = c.messages.len();
    assert_eq!(c.messages[..], before.messages[before.messages.len() - n..]);
    assert_eq!(outcome.dropped[..], before.messages[..before.messages.len() - n]);
    assert_starts_with_user(&c);
    // Maximal: adding back the previous pair would exceed the budget.
    let mut bigger = c.clone();
    bigger
        .messages
        .splice(0..0, before.messages[before.messages.len() - n - 2..before.messages.len() - n].iter().cloned());
    assert!(bigger.estimate_tokens() > budget);
}

#[test]
fn empty_history_and_only_system_prompt() {
    let mut empty = Conversation::new();
    assert!(empty.trim_to_budget(&TrimOptions::new(10)).unwrap().dropped.is_empty());
    let mut only_system = Conversation::with_system("abcd".repeat(10));
    let needed = only_system.estimate_tokens();
    assert!(only_system.trim_to_budget(&TrimOptions::new(needed)).is_ok());
    assert_eq!(
        only_system.trim_to_budget(&TrimOptions::new(needed - 1)),
        Err(TrimError::SystemPromptTooLarge { needed_tokens: needed, budget_tokens: needed - 1 })
    );
}

#[test]
fn huge_newest_message_is_a_typed_error_and_changes_nothing() {
    let mut c = long_chat(2, 5);
    c.messages.push(Message::assistant("ok"));
    c.push_user("x".repeat(100_000)).unwrap();
    let before = c.clone();
    let err = c.trim_to_budget(&TrimOptions::new(1_000)).unwrap_err();
    match err {
        TrimError::NewestTurnTooLarge { needed_tokens, budget_tokens } => {
            assert_eq!(budget_tokens, 1_000);
            assert!(needed_tokens > 25_000, "{needed_tokens}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(c, before);
}

#[test]
fn leading_assistant_greeting_is_dropped_even_when_everything_fits() {
    let mut c = Conversation::new();
    c.push_assistant("Hi! How can I help?").unwrap();
    c.push_user("hello").unwrap();
    let outcome = c.trim_to_budget(&TrimOptions::new(10_000)).unwrap();
    assert_eq!(outcome.dropped, vec![Message::assistant("Hi! How can I help?")]);
    assert_eq!(c.messages, vec![Message::user("hello")]);
}

#[test]
fn history_without_user_turn_is_refused() {
    let mut c = Conversation::new();
    c.push_assistant("Hi!").unwrap();
    assert_eq!(c.trim_to_budget(&TrimOptions::new(10_000)), Err(TrimError::NoUserTurn));
}

#[test]
fn tool_call_at_the_cut_point_stays_with_its_results() {
    // user, assistant(tool calls), tool, tool, assistant, user(newest)
    let mut c = Conversation::new();
    c.push_user("old question ".repeat(50)).unwrap();
    c.push_assistant_tool_calls("", vec![call("c1"), call("c2")]).unwrap();
    c.push_tool_result("c1", "result one ".repeat(50)).unwrap();
    c.push_tool_result("c2", "result two ".repeat(50)).unwrap();
    c.push_assistant("summary of results").unwrap();
    c.push_user("new question").unwrap();
    // Budget that would fit the tail from the second tool result on, but not a valid cut there.
    let tail_from_tool2: u64 = c.messages[3..].iter().map(estimate_message_tokens).sum::<u64>() + 3;
    let outcome = c.trim_to_budget(&TrimOptions::new(tail_from_tool2 + 5)).unwrap();
    assert_eq!(outcome.dropped.len(), 5);
    assert_eq!(c.messages, vec![Message::user("new question")]);
}

#[test]
fn tool_loop_in_progress_is_kept_whole() {
    // The newest user turn is followed by a tool call and its result: the request must carry all three.
    let mut c = long_chat(5, 30);
    c.push_assistant_tool_calls("", vec![call("c1")]).unwrap();
    c.push_tool_result("c1", "42").unwrap();
    let outcome = c.trim_to_budget(&TrimOptions::new(60)).unwrap();
    assert!(!outcome.dropped.is_empty());
    let roles: Vec<Role> = c.messages.iter().map(|m| m.role).collect();
    assert_eq!(roles, vec![Role::User, Role::Assistant, Role::Tool]);
    assert_eq!(c.validate(), Ok(()));
}

#[test]
fn orphan_ordering_never_cuts_between_call_and_result() {
    // A malformed (deserialized) history where a user turn sits between a call and its result: a cut at that
    // user turn would separate them, so it is not a valid cut point.
    let c = Conversation {
        system: None,
        messages: vec![
            Message::user("a ".repeat(100)),
            Message { tool_calls: vec![call("c1")], ..Message::assistant("") },
            Message::user("b"),
            Message::tool("c1", "r"),
            Message::user("c"),
        ],
    };
    let plan = c.plan_trim(&TrimOptions::new(40)).unwrap();
    assert_eq!(plan.drop_count(), 4);
}

#[test]
fn unicode_heavy_history_trims_on_turn_boundaries() {
    let mut c = Conversation::new();
    for i in 0..10 {
        c.push_user(format!("{i} 日本語のテキスト🦀 {}", "漢字".repeat(30))).unwrap();
        c.push_assistant(format!("{i} ответ на русском {}", "слово ".repeat(30))).unwrap();
    }
    c.push_user("最後").unwrap();
    let budget = c.estimate_tokens() / 2;
    c.trim_to_budget(&TrimOptions::new(budget)).unwrap();
    assert!(c.estimate_tokens() <= budget);
    assert_starts_with_user(&c);
    assert_eq!(c.validate(), Ok(()));
}

#[test]
fn two_step_summary_into_system_prompt() {
    let mut c = long_chat(10, 30);
    let plan = c.plan_trim(&TrimOptions::new(300).with_summary_reserve(40)).unwrap();
    let dropped = plan.dropped(&c).to_vec();
    assert_eq!(dropped.len(), plan.drop_count());
    assert!(plan.estimated_tokens() <= 260);
    let outcome = c.apply_trim(&plan, Some(Summary::in_system("The user asked ten questions."))).unwrap();
    assert!(outcome.summarized);
    assert_eq!(outcome.dropped, dropped);
    assert!(c.estimate_tokens() <= 300);
    assert_eq!(
        c.system.as_deref(),
        Some("You are terse.\n\n[Summary of the earlier conversation]\nThe user asked ten questions.")
    );
    assert_eq!(c.summary(), Some("The user asked ten questions."));
    assert_starts_with_user(&c);

    // A second trim replaces the summary instead of stacking another.
    for i in 0..10 {
        c.push_assistant(format!("more {i} {}", "word ".repeat(30))).unwrap();
        c.push_user(format!("next {i}")).unwrap();
    }
    c.trim_with(&TrimOptions::new(300).with_summary_reserve(40), |_| Some(Summary::in_system("Newer summary.")))
        .unwrap();
    assert_eq!(c.system.as_deref().unwrap().matches(SUMMARY_MARKER).count(), 1);
    assert_eq!(c.summary(), Some("Newer summary."));
}

#[test]
fn summary_as_leading_user_turn() {
    let mut c = long_chat(10, 30);
    let outcome = c
        .trim_with(&TrimOptions::new(300).with_summary_reserve(40), |dropped| {
            Some(Summary::as_user_turn(format!("{} turns dropped.", dropped.len())))
        })
        .unwrap();
    assert!(outcome.summarized);
    assert_eq!(c.messages[0].content, format!("{SUMMARY_MARKER}{} turns dropped.", outcome.dropped.len()));
    assert_eq!(c.summary(), Some(format!("{} turns dropped.", outcome.dropped.len()).as_str()));
    assert_eq!(c.system.as_deref(), Some("You are terse."));
    assert!(c.estimate_tokens() <= 300);
    assert_eq!(c.validate(), Ok(()));
}

#[test]
fn summary_without_system_prompt_creates_one() {
    let mut c = long_chat(10, 30);
    c.system = None;
    c.trim_with(&TrimOptions::new(300).with_summary_reserve(40), |_| Some(Summary::in_system("S."))).unwrap();
    assert_eq!(c.system.as_deref(), Some("[Summary of the earlier conversation]\nS."));
}

#[test]
fn summary_is_not_added_when_nothing_was_dropped() {
    let mut c = long_chat(1, 1);
    let mut asked = false;
    let outcome = c
        .trim_with(&TrimOptions::new(10_000), |_| {
            asked = true;
            Some(Summary::in_system("never"))
        })
        .unwrap();
    assert!(!asked);
    assert!(!outcome.summarized);
    assert_eq!(c.summary(), None);
}

#[test]
fn stale_plan_and_oversized_or_empty_summary_are_refused_without_changes() {
    let mut c = long_chat(10, 30);
    let plan = c.plan_trim(&TrimOptions::new(300)).unwrap();

    let before = c.clone();
    let err = c.apply_trim(&plan, Some(Summary::in_system("word ".repeat(500)))).unwrap_err();
    assert!(matches!(err, TrimError::SummaryTooLarge { budget_tokens: 300, .. }), "{err:?}");
    assert_eq!(c.apply_trim(&plan, Some(Summary::in_system("  "))), Err(TrimError::EmptySummary));
    assert_eq!(c, before);

    c.messages.last_mut().unwrap().content.push('?');
    assert_eq!(c.apply_trim(&plan, None), Err(TrimError::StalePlan));
    c.push_assistant("x").unwrap();
    assert_eq!(c.apply_trim(&plan, None), Err(TrimError::StalePlan));
    assert!(plan.dropped(&c).is_empty());
}

#[test]
fn calibration_changes_how_much_fits() {
    let c = long_chat(20, 20);
    let budget = c.estimate_tokens() / 2;
    let plain = c.plan_trim(&TrimOptions::new(budget)).unwrap();
    // The provider counted twice what the heuristic said: fewer turns fit.
    let real = c.estimate_tokens() * 2;
    let cal = c.calibrate(c.messages.len(), &Usage { input_tokens: real, ..Default::default() }).unwrap();
    let calibrated = c.plan_trim(&TrimOptions::new(budget).with_calibration(cal)).unwrap();
    assert!(calibrated.drop_count() > plain.drop_count());
    let mut trimmed = c.clone();
    let outcome = trimmed.apply_trim(&calibrated, None).unwrap();
    assert!(outcome.estimated_tokens <= budget);
    assert_eq!(outcome.estimated_tokens, cal.scale(trimmed.estimate_tokens()));
}

#[test]
fn trim_options_serde_round_trip() {
    let opts = TrimOptions::new(1234).with_summary_reserve(56);
    let back: TrimOptions = serde_json::from_str(&serde_json::to_string(&opts).unwrap()).unwrap();
    assert_eq!(back, opts);
    let minimal: TrimOptions = serde_json::from_str(r#"{"budget_tokens": 9}"#).unwrap();
    assert_eq!(minimal, TrimOptions::new(9));
    let s = Summary::as_user_turn("x");
    assert_eq!(serde_json::from_str::<Summary>(&serde_json::to_string(&s).unwrap()).unwrap(), s);
}
