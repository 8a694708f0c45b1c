//! Size limits for a conversation received from an untrusted client (the edge checks every request).
//!
//! Sizes are counted in Unicode scalar values (`char`s), not bytes, so a limit means the same for every script.
//! A turn's size is its text plus, for tool turns, the call id and, for assistant turns, each tool call's id,
//! name and arguments. The system prompt counts toward the total and has the same per-message limit.

use serde::{Deserialize, Serialize};

use super::{Conversation, Message};

/// Limits on a conversation. Deserializes from partial JSON (missing fields take the defaults below) and rejects
/// unknown fields, so a typo in configuration is an error rather than a silent default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConversationLimits {
    /// Most turns (default 50).
    pub max_messages: usize,
    /// Most characters in one turn or in the system prompt (default 8000).
    pub max_message_chars: usize,
    /// Most characters in the system prompt and all turns together (default 60000).
    pub max_total_chars: usize,
}

impl Default for ConversationLimits {
    fn default() -> Self {
        Self { max_messages: 50, max_message_chars: 8_000, max_total_chars: 60_000 }
    }
}

/// The limit a conversation exceeds. Reject the request (HTTP 400 or 413) with [`LimitError::type_name`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LimitError {
    /// More turns than `max_messages`.
    #[error("{count} messages exceed the limit of {max}")]
    TooManyMessages {
        /// Turns received.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// One turn is longer than `max_message_chars`.
    #[error("message {index} has {chars} characters, over the limit of {max}")]
    MessageTooLong {
        /// Index of the turn.
        index: usize,
        /// Its size in characters.
        chars: usize,
        /// The limit.
        max: usize,
    },
    /// The system prompt is longer than `max_message_chars`.
    #[error("system prompt has {chars} characters, over the limit of {max}")]
    SystemPromptTooLong {
        /// Its size in characters.
        chars: usize,
        /// The limit.
        max: usize,
    },
    /// Everything together is longer than `max_total_chars`.
    #[error("conversation has {chars} characters, over the limit of {max}")]
    TotalTooLong {
        /// Total size in characters.
        chars: usize,
        /// The limit.
        max: usize,
    },
}

impl LimitError {
    /// The [`ConversationLimits`] field that was exceeded: `max_messages`, `max_message_chars` or
    /// `max_total_chars`.
    pub fn limit_name(&self) -> &'static str {
        match self {
            Self::TooManyMessages { .. } => "max_messages",
            Self::MessageTooLong { .. } | Self::SystemPromptTooLong { .. } => "max_message_chars",
            Self::TotalTooLong { .. } => "max_total_chars",
        }
    }

    /// Machine-readable name for the edge's error body: `too_many_messages`, `message_too_long` (one turn or the
    /// system prompt), `conversation_too_long`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::TooManyMessages { .. } => "too_many_messages",
            Self::MessageTooLong { .. } | Self::SystemPromptTooLong { .. } => "message_too_long",
            Self::TotalTooLong { .. } => "conversation_too_long",
        }
    }
}

/// Size of one turn in characters (see the [module docs](self)).
pub fn message_chars(message: &Message) -> usize {
    let calls: usize = message.tool_calls.iter().map(|c| chars(&c.id) + chars(&c.name) + chars(&c.arguments)).sum();
    chars(&message.content) + calls + message.tool_call_id.as_deref().map_or(0, chars)
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

impl ConversationLimits {
    /// Checks `system` and `messages` against the limits; the first violation found is returned, checked in the
    /// order: message count, system prompt, each turn, total.
    pub fn check(&self, system: Option<&str>, messages: &[Message]) -> Result<(), LimitError> {
        if messages.len() > self.max_messages {
            return Err(LimitError::TooManyMessages { count: messages.len(), max: self.max_messages });
        }
        let mut total = 0usize;
        if let Some(system) = system {
            let n = chars(system);
            if n > self.max_message_chars {
                return Err(LimitError::SystemPromptTooLong { chars: n, max: self.max_message_chars });
            }
            total += n;
        }
        for (index, message) in messages.iter().enumerate() {
            let n = message_chars(message);
            if n > self.max_message_chars {
                return Err(LimitError::MessageTooLong { index, chars: n, max: self.max_message_chars });
            }
            total = total.saturating_add(n);
        }
        if total > self.max_total_chars {
            return Err(LimitError::TotalTooLong { chars: total, max: self.max_total_chars });
        }
        Ok(())
    }
}

impl Conversation {
    /// Checks this conversation against `limits` (see [`ConversationLimits::check`]).
    pub fn check_limits(&self, limits: &ConversationLimits) -> Result<(), LimitError> {
        limits.check(self.system.as_deref(), &self.messages)
    }
}
