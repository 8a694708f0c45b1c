//! Multi-turn history. Provider APIs are stateless: the whole history goes out with every turn.
//!
//! A [`Conversation`] is an optional system prompt plus turns, oldest first. It serializes with serde (the widget
//! persists it, the edge accepts it) and offers:
//! - validated appends ([`Conversation::push_user`], [`Conversation::push_assistant`],
//!   [`Conversation::push_tool_result`], [`Conversation::push_response`], [`Conversation::push_assistant_partial`])
//!   that refuse histories a provider would reject, with a typed [`ConversationError`];
//!   [`Conversation::validate`] / [`validate_messages`] replay the same rules over a whole history (e.g. one
//!   received from a client);
//! - token estimates ([`estimate_text_tokens`], [`Conversation::estimate_tokens`]) calibrated by the provider's
//!   reported usage ([`Calibration`]);
//! - trimming to a token budget with an optional summary of what was dropped ([`Conversation::plan_trim`],
//!   [`Conversation::apply_trim`], [`Conversation::trim_to_budget`], [`Conversation::trim_with`]);
//! - size limits for untrusted input ([`ConversationLimits`]).
//!
//! ```
//! use edgechat::conversation::{Conversation, TrimOptions};
//!
//! let mut chat = Conversation::with_system("Be brief.");
//! chat.push_user("Hello")?;
//! chat.push_assistant("Hi! How can I help?")?;
//! chat.push_user("What is 2 + 2?")?;
//! assert!(chat.estimate_tokens() > 0);
//! let outcome = chat.trim_to_budget(&TrimOptions::new(1_000))?;
//! assert!(outcome.dropped.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::event::ToolCall;

pub mod attachment;
pub mod estimate;
pub mod history;
pub mod limits;
pub mod trim;

pub use attachment::{Attachment, AttachmentKind, Source, DOCUMENT_TYPES, IMAGE_TYPES};
pub use estimate::{
    estimate_attachment_tokens, estimate_image_tokens, estimate_message_tokens, estimate_text_tokens, Calibration,
    TokenCounter, IMAGE_MAX_SIDE, IMAGE_UNKNOWN_TOKENS, MAX_CALIBRATION_RATIO, MESSAGE_OVERHEAD_TOKENS,
    MIN_CALIBRATION_RATIO, REPLY_PRIMING_TOKENS, TOOL_CALL_OVERHEAD_TOKENS,
};
pub use history::{validate_messages, ConversationError, InvalidTurn};
pub use limits::{message_chars, ConversationLimits, LimitError};
pub use trim::{Summary, SummaryPlacement, TrimError, TrimOptions, TrimOutcome, TrimPlan, SUMMARY_MARKER};

/// Who said a turn. The system prompt is not a turn; it lives on [`Conversation::system`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The person.
    User,
    /// The model.
    Assistant,
    /// A tool's result, answering an assistant tool call.
    Tool,
}

/// One turn of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Who said it.
    pub role: Role,
    /// Text content (for a tool turn, the tool's result).
    #[serde(default)]
    pub content: String,
    /// Tool calls the assistant made in this turn.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// For a tool turn: the id of the call it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// An assistant turn cut off before it finished (stopped, truncated, failed). Kept in history.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
    /// For a tool turn: the tool failed and `content` says why (Anthropic's `tool_result` `is_error`; the OpenAI
    /// APIs have no flag and get the content alone).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_error: bool,
    /// Files of a user turn (images, PDFs), sent before its text ([`attachment`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

impl Message {
    /// A user turn.
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: content.into(),
            tool_calls: Vec::new(),
            tool_call_id: None,
            interrupted: false,
            is_error: false,
            attachments: Vec::new(),
        }
    }
    /// A user turn with files.
    pub fn user_with(content: impl Into<String>, attachments: Vec<Attachment>) -> Self {
        Self { attachments, ..Self::user(content) }
    }
    /// An assistant turn.
    pub fn assistant(content: impl Into<String>) -> Self {
        Self { role: Role::Assistant, ..Self::user(content) }
    }
    /// A tool result answering call `tool_call_id`.
    pub fn tool(tool_call_id: impl Into<String>, content: impl Into<String>) -> Self {
        Self { role: Role::Tool, tool_call_id: Some(tool_call_id.into()), ..Self::user(content) }
    }
    /// A tool's failure answering call `tool_call_id`: `content` says what went wrong ([`Message::is_error`]).
    pub fn tool_error(tool_call_id: impl Into<String>, content: impl Into<String>) -> Self {
        Self { is_error: true, ..Self::tool(tool_call_id, content) }
    }
}

/// A conversation: optional system prompt plus turns, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    /// System prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// Turns, oldest first.
    #[serde(default)]
    pub messages: Vec<Message>,
}
