//! Property tests for conversations: trimming against a naive reference, estimates, serde round trips.
#![cfg(not(target_arch = "wasm32"))]

use edgechat::conversation::{estimate_text_tokens, Conversation, Message, Role, TrimError, TrimOptions};
use edgechat::ToolCall;
use proptest::prelude::*;

/// Text with ASCII, accented, Cyrillic, CJK and emoji characters.
fn text() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-z ]{0,40}|[a-zéд日本🦀 ]{1,30}").unwrap()
}

fn nonblank() -> impl Strategy<Value = String> {
    text().prop_map(|t| format!("x{t}"))
}

#[derive(Debug, Clone)]
enum Step {
    User(String),
    Assistant(String),
    Tools(Vec<String>, String),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => nonblank().prop_map(Step::User),
        2 => nonblank().prop_map(Step::Assistant),
        1 => (proptest::collection::vec(text(), 1..4), text()).prop_map(|(r, t)| Step::Tools(r, t)),
    ]
}

/// A valid conversation built through the validated API (steps that do not fit are skipped).
fn conversation() -> impl Strategy<Value = Conversation> {
    (proptest::option::of(text()), proptest::collection::vec(step(), 0..30)).prop_map(|(system, steps)| {
        let mut c = Conversation { system, messages: Vec::new() };
        let mut next_id = 0;
        for s in steps {
            match s {
                Step::User(t) => drop(c.push_user(t)),
                Step::Assistant(t) => drop(c.push_assistant(t)),
                Step::Tools(results, t) => {
                    let calls: Vec<ToolCall> = results
                        .iter()
                        .map(|_| {
                            next_id += 1;
                            ToolCall { id: format!("call_{next_id}"), name: "f".into(), arguments: "{}".into() }
                        })
                        .collect();
                    if c.push_assistant_tool_calls(t, calls.clone()).is_ok() {
                        for (call, r) in calls.iter().zip(results) {
                            c.push_tool_result(call.id.clone(), r).unwrap();
                        }
                    }
                }
            }
        }
        c
    })
}

/// Naive reference: the smallest `i` where `messages[i..]` starts with a user turn, is a valid history on its
/// own, and fits.
fn reference_drop(c: &Conversation, budget: u64) -> Option<usize> {
    (0..c.messages.len()).find(|&i| {
        let rest = Conversation { system: c.system.clone(), messages: c.messages[i..].to_vec() };
        c.messages[i].role == Role::User && rest.validate().is_ok() && rest.estimate_tokens() <= budget
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn generated_conversations_are_valid(c in conversation()) {
        prop_assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn trim_matches_naive_reference(c in conversation(), budget in 0u64..400) {
        let plan = c.plan_trim(&TrimOptions::new(budget));
        let empty = Conversation { system: c.system.clone(), messages: Vec::new() };
        if empty.estimate_tokens() > budget {
            let is_system_error = matches!(plan, Err(TrimError::SystemPromptTooLarge { .. }));
            prop_assert!(is_system_error, "{:?}", plan);
        } else if c.messages.is_empty() {
            prop_assert_eq!(plan.map(|p| p.drop_count()), Ok(0));
        } else if !c.messages.iter().any(|m| m.role == Role::User) {
            prop_assert_eq!(plan, Err(TrimError::NoUserTurn));
        } else {
            match reference_drop(&c, budget) {
                Some(i) => prop_assert_eq!(plan.map(|p| p.drop_count()), Ok(i)),
                None => {
                    let is_newest_error = matches!(plan, Err(TrimError::NewestTurnTooLarge { .. }));
                    prop_assert!(is_newest_error, "{:?}", plan);
                }
            }
        }
    }

    #[test]
    fn trimmed_history_is_valid_fits_and_starts_with_user(c in conversation(), budget in 0u64..400) {
        let mut t = c.clone();
        match t.trim_to_budget(&TrimOptions::new(budget)) {
            Ok(outcome) => {
                prop_assert!(t.estimate_tokens() <= budget);
                prop_assert_eq!(t.validate(), Ok(()));
                if let Some(first) = t.messages.first() {
                    prop_assert_eq!(first.role, Role::User);
                }
                let mut rebuilt = outcome.dropped.clone();
                rebuilt.extend(t.messages.iter().cloned());
                prop_assert_eq!(rebuilt, c.messages);
            }
            Err(_) => prop_assert_eq!(t, c),
        }
    }

    #[test]
    fn serde_round_trip(c in conversation()) {
        let json = serde_json::to_string(&c).unwrap();
        prop_assert_eq!(serde_json::from_str::<Conversation>(&json).unwrap(), c);
    }

    #[test]
    fn text_estimate_is_monotonic_and_nearly_additive(a in text(), b in text()) {
        let (ea, eb, eab) = (estimate_text_tokens(&a), estimate_text_tokens(&b), estimate_text_tokens(&(a.clone() + &b)));
        prop_assert!(eab >= ea.max(eb));
        prop_assert!(eab <= ea + eb);
        prop_assert!(eab + 1 >= ea + eb);
        prop_assert!(eab <= 2 * (a.chars().count() + b.chars().count()) as u64);
    }

    #[test]
    fn validate_never_panics_on_arbitrary_histories(
        roles in proptest::collection::vec((0u8..3, text(), proptest::option::of("[a-c]"), 0usize..3), 0..12)
    ) {
        let messages = roles
            .into_iter()
            .map(|(r, content, id, calls)| {
                let role = [Role::User, Role::Assistant, Role::Tool][r as usize];
                let tool_calls = (0..calls)
                    .map(|i| ToolCall { id: ["a", "b", "c"][i].into(), name: "f".into(), arguments: String::new() })
                    .collect();
                Message { role, content, tool_calls, tool_call_id: id, interrupted: false, is_error: false, attachments: Vec::new() }
            })
            .collect();
        let c = Conversation { system: None, messages };
        let _ = c.validate();
        let _ = c.clone().trim_to_budget(&TrimOptions::new(50));
    }
}
