//! Trimming a conversation to a prompt token budget, optionally replacing what was dropped with a summary.
//!
//! # What trimming keeps
//! The system prompt and the newest turns. It drops whole turns from the front and only cuts before a user turn,
//! so the history it leaves
//! - never starts with an assistant or tool turn (Anthropic rejects that; a leading greeting from the widget is
//!   dropped even when everything fits);
//! - never separates an assistant turn's tool calls from their tool results.
//!
//! It keeps as many turns as fit. When even the history from the newest user turn on does not fit it fails with
//! [`TrimError::NewestTurnTooLarge`] rather than send something the person did not write.
//!
//! # Two steps, with a summary
//! Summarizing usually means another model call, so trimming is split in two:
//! 1. [`Conversation::plan_trim`] computes which turns would go ([`TrimPlan::dropped`]) without changing anything.
//!    Set [`TrimOptions::summary_reserve_tokens`] to leave room for the summary.
//! 2. The caller summarizes those turns (including an earlier summary, [`Conversation::summary`]), then calls
//!    [`Conversation::apply_trim`] with a [`Summary`]. The plan is refused with [`TrimError::StalePlan`] if the
//!    conversation changed in between, and the summary with [`TrimError::SummaryTooLarge`] if the result would
//!    not fit.
//!
//! The summary goes into the system prompt (default) or into a leading user turn, in both cases after
//! [`SUMMARY_MARKER`]; a later summary replaces an earlier one. [`Conversation::trim_to_budget`] is the one-step
//! form without a summary; [`Conversation::trim_with`] takes a synchronous summarizer.
//!
//! ```
//! use edgechat::conversation::{Conversation, Summary, TrimOptions};
//!
//! let mut chat = Conversation::with_system("Be brief.");
//! for i in 0..20 {
//!     chat.push_user(format!("question {i}: {}", "words ".repeat(50)))?;
//!     chat.push_assistant(format!("answer {i}: {}", "words ".repeat(50)))?;
//! }
//! chat.push_user("and now?")?;
//!
//! let plan = chat.plan_trim(&TrimOptions::new(1_000).with_summary_reserve(100))?;
//! assert!(!plan.dropped(&chat).is_empty());
//! let summary = format!("We discussed {} earlier questions.", plan.dropped(&chat).len() / 2);
//! chat.apply_trim(&plan, Some(Summary::in_system(summary)))?;
//! assert!(chat.estimate_tokens() <= 1_000);
//! assert!(chat.summary().unwrap().starts_with("We discussed"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use serde::{Deserialize, Serialize};

use super::estimate::{estimate_message_tokens, scale, system_tokens, Calibration, REPLY_PRIMING_TOKENS};
use super::{Conversation, Message, Role};

/// Precedes a summary in the system prompt or in the summary's user turn. Used to find and replace it.
pub const SUMMARY_MARKER: &str = "[Summary of the earlier conversation]\n";

/// How much to keep.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct TrimOptions {
    /// Most prompt tokens the trimmed conversation may estimate at (context window minus the output you want
    /// to leave room for, minus tool definitions you send beside it).
    pub budget_tokens: u64,
    /// Tokens to leave free for a summary added by [`Conversation::apply_trim`].
    #[serde(default)]
    pub summary_reserve_tokens: u64,
    /// Calibration from an earlier response; scales the heuristic (see [`super::estimate`]).
    #[serde(default)]
    pub calibration: Option<Calibration>,
}

impl TrimOptions {
    /// A budget of `budget_tokens`, no summary reserve, no calibration.
    pub fn new(budget_tokens: u64) -> Self {
        Self { budget_tokens, summary_reserve_tokens: 0, calibration: None }
    }

    /// Leaves `tokens` free for a summary.
    pub fn with_summary_reserve(mut self, tokens: u64) -> Self {
        self.summary_reserve_tokens = tokens;
        self
    }

    /// Calibrates estimates with `calibration`.
    pub fn with_calibration(mut self, calibration: Calibration) -> Self {
        self.calibration = Some(calibration);
        self
    }
}

/// Which turns a trim would drop. Made by [`Conversation::plan_trim`]; applied by [`Conversation::apply_trim`].
#[derive(Debug, Clone, PartialEq)]
#[must_use = "a plan changes nothing until applied"]
pub struct TrimPlan {
    drop: usize,
    planned_len: usize,
    fingerprint: u64,
    estimated_tokens: u64,
    options: TrimOptions,
}

impl TrimPlan {
    /// How many leading turns would be dropped.
    pub fn drop_count(&self) -> usize {
        self.drop
    }

    /// True when nothing would be dropped.
    pub fn is_noop(&self) -> bool {
        self.drop == 0
    }

    /// The turns that would be dropped, oldest first: what a summary should cover. Empty if `conversation` is
    /// not the one planned on.
    pub fn dropped<'a>(&self, conversation: &'a Conversation) -> &'a [Message] {
        if conversation.messages.len() == self.planned_len {
            &conversation.messages[..self.drop]
        } else {
            &[]
        }
    }

    /// Estimated prompt tokens after the trim, without a summary.
    pub fn estimated_tokens(&self) -> u64 {
        self.estimated_tokens
    }
}

/// Where a summary of dropped turns goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SummaryPlacement {
    /// Appended to the system prompt after [`SUMMARY_MARKER`] (replacing an earlier summary there). The history
    /// itself keeps only real turns.
    #[default]
    System,
    /// A user turn `SUMMARY_MARKER + text` inserted before the kept turns. Two user turns then follow each
    /// other; OpenAI accepts that and Anthropic merges consecutive same-role turns.
    LeadingUserTurn,
}

/// Text that replaces dropped turns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// The summary.
    pub text: String,
    /// Where it goes.
    #[serde(default)]
    pub placement: SummaryPlacement,
}

impl Summary {
    /// A summary for the system prompt.
    pub fn in_system(text: impl Into<String>) -> Self {
        Self { text: text.into(), placement: SummaryPlacement::System }
    }

    /// A summary as a leading user turn.
    pub fn as_user_turn(text: impl Into<String>) -> Self {
        Self { text: text.into(), placement: SummaryPlacement::LeadingUserTurn }
    }
}

/// What a trim did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TrimOutcome {
    /// The dropped turns, oldest first.
    pub dropped: Vec<Message>,
    /// Whether a summary was added (never when nothing was dropped).
    pub summarized: bool,
    /// Estimated prompt tokens of the conversation now.
    pub estimated_tokens: u64,
}

/// Why a conversation cannot be trimmed to the budget.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrimError {
    /// The system prompt (plus the summary reserve) alone exceeds the budget. Shorten it or raise the budget.
    #[error("system prompt needs {needed_tokens} tokens, over the {budget_tokens}-token budget")]
    SystemPromptTooLarge {
        /// Estimated tokens of the system prompt, reply priming and summary reserve.
        needed_tokens: u64,
        /// The budget.
        budget_tokens: u64,
    },
    /// Even the history from the newest user turn on does not fit. Ask for a shorter message (HTTP 413 at the
    /// edge) or raise the budget.
    #[error("the newest turn needs {needed_tokens} tokens, over the {budget_tokens}-token budget")]
    NewestTurnTooLarge {
        /// Estimated tokens of the smallest history that could be sent.
        needed_tokens: u64,
        /// The budget.
        budget_tokens: u64,
    },
    /// The history has turns but none is a user turn, so no valid history can be cut from it.
    #[error("the history has no user turn to start from")]
    NoUserTurn,
    /// The conversation changed between [`Conversation::plan_trim`] and [`Conversation::apply_trim`]. Plan again.
    #[error("the conversation changed since the trim was planned")]
    StalePlan,
    /// The summary would push the conversation over the budget. Shorten it or reserve more.
    #[error("with the summary the conversation needs {needed_tokens} tokens, over the {budget_tokens}-token budget")]
    SummaryTooLarge {
        /// Estimated tokens with the summary.
        needed_tokens: u64,
        /// The budget.
        budget_tokens: u64,
    },
    /// The summary text is blank.
    #[error("summary text is empty")]
    EmptySummary,
}

impl Conversation {
    /// Works out which leading turns to drop so the rest fits `options` (see the [module docs](self)). Changes
    /// nothing.
    pub fn plan_trim(&self, options: &TrimOptions) -> Result<TrimPlan, TrimError> {
        let cal = options.calibration.as_ref();
        let budget = options.budget_tokens;
        let fixed = system_tokens(self.system.as_deref()) + REPLY_PRIMING_TOKENS;
        let total = |messages_raw: u64| scale(cal, fixed + messages_raw).saturating_add(options.summary_reserve_tokens);
        let plan = |drop: usize, estimated_tokens: u64| TrimPlan {
            drop,
            planned_len: self.messages.len(),
            fingerprint: self.fingerprint(self.messages.len()),
            estimated_tokens,
            options: *options,
        };
        if total(0) > budget {
            return Err(TrimError::SystemPromptTooLarge { needed_tokens: total(0), budget_tokens: budget });
        }
        if self.messages.is_empty() {
            return Ok(plan(0, total(0) - options.summary_reserve_tokens));
        }
        // suffix[i] = raw tokens of messages[i..].
        let mut suffix = vec![0u64; self.messages.len() + 1];
        for (i, m) in self.messages.iter().enumerate().rev() {
            suffix[i] = suffix[i + 1] + estimate_message_tokens(m);
        }
        let cuts = self.valid_cuts();
        let last = *cuts.last().ok_or(TrimError::NoUserTurn)?;
        match cuts.iter().find(|&&i| total(suffix[i]) <= budget) {
            Some(&i) => Ok(plan(i, total(suffix[i]) - options.summary_reserve_tokens)),
            None => Err(TrimError::NewestTurnTooLarge { needed_tokens: total(suffix[last]), budget_tokens: budget }),
        }
    }

    /// Indices `i` where `messages[i..]` is a valid history start: a user turn, with no tool call before `i`
    /// answered at or after `i`. Ascending.
    fn valid_cuts(&self) -> Vec<usize> {
        // blocked[i] > 0: some assistant turn before i has a tool result at or after i.
        let mut delta = vec![0i64; self.messages.len() + 1];
        for (j, m) in self.messages.iter().enumerate() {
            let Some(id) = m.tool_call_id.as_deref() else { continue };
            let caller = self.messages[..j]
                .iter()
                .rposition(|a| a.role == Role::Assistant && a.tool_calls.iter().any(|c| c.id == id));
            if let Some(k) = caller {
                delta[k + 1] += 1;
                delta[j + 1] -= 1;
            }
        }
        let mut blocked = 0i64;
        let mut cuts = Vec::new();
        for (i, m) in self.messages.iter().enumerate() {
            blocked += delta[i];
            if m.role == Role::User && blocked == 0 {
                cuts.push(i);
            }
        }
        cuts
    }

    /// Drops the turns `plan` names and, when given and something was dropped, adds `summary`. Fails without
    /// changing anything when the conversation changed since planning or the summary does not fit.
    pub fn apply_trim(&mut self, plan: &TrimPlan, summary: Option<Summary>) -> Result<TrimOutcome, TrimError> {
        if self.messages.len() != plan.planned_len || self.fingerprint(self.messages.len()) != plan.fingerprint {
            return Err(TrimError::StalePlan);
        }
        let cal = plan.options.calibration.as_ref();
        let summary = summary.filter(|_| plan.drop > 0);
        let Some(summary) = summary else {
            let dropped = self.messages.drain(..plan.drop).collect();
            let estimated_tokens = scale(cal, self.estimate_tokens());
            return Ok(TrimOutcome { dropped, summarized: false, estimated_tokens });
        };
        if summary.text.trim().is_empty() {
            return Err(TrimError::EmptySummary);
        }
        let mut next = Conversation { system: self.system.clone(), messages: self.messages[plan.drop..].to_vec() };
        match summary.placement {
            SummaryPlacement::System => next.system = Some(system_with_summary(self.system.as_deref(), &summary.text)),
            SummaryPlacement::LeadingUserTurn => {
                next.messages.insert(0, Message::user(format!("{SUMMARY_MARKER}{}", summary.text)));
            }
        }
        let needed = scale(cal, next.estimate_tokens());
        if needed > plan.options.budget_tokens {
            return Err(TrimError::SummaryTooLarge {
                needed_tokens: needed,
                budget_tokens: plan.options.budget_tokens,
            });
        }
        let dropped = self.messages[..plan.drop].to_vec();
        *self = next;
        Ok(TrimOutcome { dropped, summarized: true, estimated_tokens: needed })
    }

    /// Plans and applies a trim without a summary.
    pub fn trim_to_budget(&mut self, options: &TrimOptions) -> Result<TrimOutcome, TrimError> {
        let plan = self.plan_trim(options)?;
        self.apply_trim(&plan, None)
    }

    /// Plans a trim, asks `summarize` for a summary of the turns to drop (only when some are; it may return
    /// `None` to drop them without one), then applies it. Reserve room for the summary in `options`.
    pub fn trim_with(
        &mut self,
        options: &TrimOptions,
        summarize: impl FnOnce(&[Message]) -> Option<Summary>,
    ) -> Result<TrimOutcome, TrimError> {
        let plan = self.plan_trim(options)?;
        let summary = if plan.is_noop() { None } else { summarize(plan.dropped(self)) };
        self.apply_trim(&plan, summary)
    }

    /// The current summary of earlier turns, if a trim added one: from the system prompt, or from a leading
    /// user turn that starts with [`SUMMARY_MARKER`].
    pub fn summary(&self) -> Option<&str> {
        if let Some(at) = self.system.as_deref().and_then(|s| s.rfind(SUMMARY_MARKER)) {
            return self.system.as_deref().map(|s| &s[at + SUMMARY_MARKER.len()..]);
        }
        self.messages.first().filter(|m| m.role == Role::User)?.content.strip_prefix(SUMMARY_MARKER)
    }
}

/// `system` with its earlier summary (if any) replaced by `text`.
fn system_with_summary(system: Option<&str>, text: &str) -> String {
    let base = system.unwrap_or("");
    let base = match base.rfind(SUMMARY_MARKER) {
        Some(at) => base[..at].trim_end(),
        None => base.trim_end(),
    };
    if base.is_empty() {
        format!("{SUMMARY_MARKER}{text}")
    } else {
        format!("{base}\n\n{SUMMARY_MARKER}{text}")
    }
}
