//! Validated appends and whole-history validation.
//!
//! The rules are the ones providers enforce (OpenAI Chat Completions and Anthropic Messages reject a request that
//! breaks them), checked here so the caller gets a typed error before a round trip:
//! - a user turn has non-blank text or an attachment, and its attachments pass [`Attachment::check`](super::Attachment::check);
//! - an assistant turn has text or tool calls; its tool calls have non-empty, distinct ids and non-empty names;
//! - every tool call of an assistant turn is answered by a tool turn before any other turn follows;
//! - a tool turn answers a call of the nearest assistant turn before it, once;
//! - fields only make sense on their role (`tool_calls` on assistant, `tool_call_id` and `is_error` on tool,
//!   `interrupted` on assistant).
//!
//! An assistant turn may open the history (a widget's greeting) and may follow another assistant turn (a
//! continuation); trimming removes a leading assistant turn before a request is sent (see [`super::trim`]).

use crate::event::{ChatResponse, StopReason, ToolCall};

use super::{Conversation, Message, Role};

/// Why a turn cannot be appended, or why a history is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConversationError {
    /// The user turn's text is empty or only whitespace. Ask the person to type something.
    #[error("user message is empty")]
    EmptyUserMessage,
    /// An assistant turn with neither text nor tool calls (e.g. a response stopped before its first token).
    /// Nothing worth keeping: do not record it.
    #[error("assistant turn has neither text nor tool calls")]
    EmptyAssistantTurn,
    /// A tool call without an id: the provider could not match its result.
    #[error("tool call {index} of the assistant turn has an empty id")]
    EmptyToolCallId {
        /// Position of the call in the turn.
        index: usize,
    },
    /// A tool call without a name.
    #[error("tool call {id:?} has an empty name")]
    EmptyToolName {
        /// The call id.
        id: String,
    },
    /// Two tool calls of one assistant turn share an id.
    #[error("tool call id {id:?} appears twice in one assistant turn")]
    DuplicateToolCallId {
        /// The repeated id.
        id: String,
    },
    /// A tool result whose id matches no call of the assistant turn it follows. Check the id you echo back.
    #[error("tool result for unknown tool call id {id:?}")]
    UnknownToolCallId {
        /// The id the tool turn carried.
        id: String,
    },
    /// A second result for the same call.
    #[error("tool call {id:?} already has a result")]
    DuplicateToolResult {
        /// The call id.
        id: String,
    },
    /// A tool turn without `tool_call_id`.
    #[error("tool turn has no tool_call_id")]
    MissingToolCallId,
    /// The last assistant turn asked for tools whose results have not been appended yet. Append a tool result
    /// for each id first (an error text is a valid result).
    #[error("tool calls {ids:?} are still waiting for their results")]
    PendingToolResults {
        /// The unanswered call ids, in call order.
        ids: Vec<String>,
    },
    /// A field set on a role it does not belong to (e.g. `tool_calls` on a user turn).
    #[error("{field} is not allowed on a {role:?} turn")]
    MisplacedField {
        /// The turn's role.
        role: Role,
        /// The offending field's serde name.
        field: &'static str,
    },
    /// An attachment of a user turn breaks a rule of [`Attachment::check`](super::Attachment::check) (type, source, encoding).
    #[error("attachment {index}: {reason}")]
    InvalidAttachment {
        /// Position of the attachment in the turn.
        index: usize,
        /// The broken rule.
        reason: String,
    },
    /// [`Conversation::extend_last_assistant`] was called but the last turn is not an assistant turn.
    #[error("the last turn is not an assistant turn")]
    NoAssistantTurn,
}

/// A history that breaks a rule: which turn, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("turn {index}: {error}")]
pub struct InvalidTurn {
    /// Index of the offending turn in `messages`.
    pub index: usize,
    /// The broken rule.
    #[source]
    pub error: ConversationError,
}

impl Conversation {
    /// An empty conversation without a system prompt.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty conversation with a system prompt.
    pub fn with_system(system: impl Into<String>) -> Self {
        Self { system: Some(system.into()), messages: Vec::new() }
    }

    /// Tool call ids of the last assistant turn that have no result yet, in call order. Empty when no tool call
    /// is outstanding.
    pub fn pending_tool_calls(&self) -> Vec<&str> {
        pending_tool_calls(&self.messages)
    }

    /// Appends a user turn. Fails on blank text or while tool results are outstanding.
    pub fn push_user(&mut self, text: impl Into<String>) -> Result<(), ConversationError> {
        self.push(Message::user(text))
    }

    /// Appends a finished assistant turn with text only.
    pub fn push_assistant(&mut self, text: impl Into<String>) -> Result<(), ConversationError> {
        self.push(Message::assistant(text))
    }

    /// Appends a finished assistant turn that calls tools (text may be empty). Append one
    /// [`push_tool_result`](Self::push_tool_result) per call before the next user turn.
    pub fn push_assistant_tool_calls(
        &mut self,
        text: impl Into<String>,
        tool_calls: Vec<ToolCall>,
    ) -> Result<(), ConversationError> {
        self.push(Message { tool_calls, ..Message::assistant(text) })
    }

    /// Appends an assistant turn that was cut off (stopped by the person, output limit, stream error), marked
    /// `interrupted: true`. The partial text stays in history so the model (and the person) see what was said;
    /// the edge's `continue` can carry on from it. Blank text is refused with
    /// [`ConversationError::EmptyAssistantTurn`]: nothing was said, so record nothing.
    pub fn push_assistant_partial(&mut self, text: impl Into<String>) -> Result<(), ConversationError> {
        self.push(Message { interrupted: true, ..Message::assistant(text) })
    }

    /// Records a response as an assistant turn: its text (or, when there is no text, its refusal) and its tool
    /// calls.
    ///
    /// The turn is marked interrupted when the response did not finish: `complete` is false (the stream ended
    /// early or failed) or it stopped at the output limit ([`StopReason::MaxTokens`]). An interrupted turn keeps
    /// its text but not its tool calls: the model never finished the turn, so the tools are not run and no
    /// results will follow.
    pub fn push_response(&mut self, response: &ChatResponse) -> Result<(), ConversationError> {
        let text = match (&response.refusal, response.text.trim().is_empty()) {
            (Some(refusal), true) => refusal.clone(),
            _ => response.text.clone(),
        };
        let interrupted = !response.complete || response.stop_reason == Some(StopReason::MaxTokens);
        if interrupted {
            self.push_assistant_partial(text)
        } else {
            self.push_assistant_tool_calls(text, response.tool_calls.clone())
        }
    }

    /// Appends a tool's result for call `tool_call_id` of the last assistant turn. An error the tool hit is a
    /// valid result: pass its message as `content`.
    pub fn push_tool_result(
        &mut self,
        tool_call_id: impl Into<String>,
        content: impl Into<String>,
    ) -> Result<(), ConversationError> {
        self.push(Message::tool(tool_call_id, content))
    }

    /// Appends text to the last assistant turn (a continuation) and sets its `interrupted` flag to
    /// `interrupted` (false once the continuation finished).
    pub fn extend_last_assistant(&mut self, text: &str, interrupted: bool) -> Result<(), ConversationError> {
        match self.messages.last_mut() {
            Some(m) if m.role == Role::Assistant => {
                m.content.push_str(text);
                m.interrupted = interrupted;
                Ok(())
            }
            _ => Err(ConversationError::NoAssistantTurn),
        }
    }

    /// Appends any turn after checking it against the rules in the [module docs](self).
    pub fn push(&mut self, message: Message) -> Result<(), ConversationError> {
        check_next(&self.messages, &message)?;
        self.messages.push(message);
        Ok(())
    }

    /// Checks the whole history (e.g. one received from a client or loaded from storage); see
    /// [`validate_messages`].
    pub fn validate(&self) -> Result<(), InvalidTurn> {
        validate_messages(&self.messages)
    }
}

/// Checks a history against the rules in the [module docs](self), as if each turn had been appended in order.
/// A history may end with tool calls still waiting for results (the next request's tool turns answer them).
/// Linear in the history's size, plus the number of consecutive tool turns squared.
pub fn validate_messages(messages: &[Message]) -> Result<(), InvalidTurn> {
    for (index, message) in messages.iter().enumerate() {
        check_next(&messages[..index], message).map_err(|error| InvalidTurn { index, error })?;
    }
    Ok(())
}

/// Unanswered call ids of the last assistant turn of `history`, in call order.
fn pending_tool_calls(history: &[Message]) -> Vec<&str> {
    let Some((asked, answered)) = open_tool_turn(history) else {
        return Vec::new();
    };
    asked.tool_calls.iter().map(|c| c.id.as_str()).filter(|id| !answered.contains(id)).collect()
}

/// The assistant turn whose tool results are being collected (the last non-tool turn, when it has tool calls)
/// and the ids answered since.
fn open_tool_turn(history: &[Message]) -> Option<(&Message, Vec<&str>)> {
    let mut answered = Vec::new();
    for m in history.iter().rev() {
        match m.role {
            Role::Tool => answered.extend(m.tool_call_id.as_deref()),
            Role::Assistant if !m.tool_calls.is_empty() => return Some((m, answered)),
            _ => return None,
        }
    }
    None
}

fn ensure_no_pending(history: &[Message]) -> Result<(), ConversationError> {
    let ids = pending_tool_calls(history);
    if ids.is_empty() {
        Ok(())
    } else {
        Err(ConversationError::PendingToolResults { ids: ids.into_iter().map(str::to_owned).collect() })
    }
}

/// Checks that `message` may follow `history`.
fn check_next(history: &[Message], message: &Message) -> Result<(), ConversationError> {
    check_fields(message)?;
    match message.role {
        Role::User => {
            if message.content.trim().is_empty() && message.attachments.is_empty() {
                return Err(ConversationError::EmptyUserMessage);
            }
            for (index, a) in message.attachments.iter().enumerate() {
                a.check().map_err(|reason| ConversationError::InvalidAttachment { index, reason })?;
            }
            ensure_no_pending(history)
        }
        Role::Assistant => {
            if message.content.trim().is_empty() && message.tool_calls.is_empty() {
                return Err(ConversationError::EmptyAssistantTurn);
            }
            check_tool_calls(&message.tool_calls)?;
            ensure_no_pending(history)
        }
        Role::Tool => {
            let id = message.tool_call_id.as_deref().ok_or(ConversationError::MissingToolCallId)?;
            let unknown = || ConversationError::UnknownToolCallId { id: id.to_owned() };
            let (asked, answered) = open_tool_turn(history).ok_or_else(unknown)?;
            if !asked.tool_calls.iter().any(|c| c.id == id) {
                return Err(unknown());
            }
            if answered.contains(&id) {
                return Err(ConversationError::DuplicateToolResult { id: id.to_owned() });
            }
            Ok(())
        }
    }
}

fn check_fields(message: &Message) -> Result<(), ConversationError> {
    let misplaced = |field| Err(ConversationError::MisplacedField { role: message.role, field });
    if message.role != Role::Assistant && !message.tool_calls.is_empty() {
        return misplaced("tool_calls");
    }
    if message.role != Role::Assistant && message.interrupted {
        return misplaced("interrupted");
    }
    if message.role != Role::Tool && message.tool_call_id.is_some() {
        return misplaced("tool_call_id");
    }
    if message.role != Role::Tool && message.is_error {
        return misplaced("is_error");
    }
    if message.role != Role::User && !message.attachments.is_empty() {
        return misplaced("attachments");
    }
    Ok(())
}

fn check_tool_calls(calls: &[ToolCall]) -> Result<(), ConversationError> {
    let mut seen = std::collections::BTreeSet::new();
    for (index, call) in calls.iter().enumerate() {
        if call.id.is_empty() {
            return Err(ConversationError::EmptyToolCallId { index });
        }
        if call.name.is_empty() {
            return Err(ConversationError::EmptyToolName { id: call.id.clone() });
        }
        if !seen.insert(call.id.as_str()) {
            return Err(ConversationError::DuplicateToolCallId { id: call.id.clone() });
        }
    }
    Ok(())
}
