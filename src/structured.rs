//! Structured output: ask for JSON, parse it into the caller's type.
//!
//! The request side is [`ResponseFormat`] on [`crate::provider::ChatRequest`]: OpenAI gets a JSON mode
//! (`json_object` / `json_schema`); Anthropic, which has no JSON mode, gets a forced tool named
//! [`ResponseFormat::tool_name`] whose input schema is the schema, and answers with a tool call. The response side
//! is [`parse_structured`] / [`parse_structured_for`], which read whichever of the two the provider produced, so
//! the caller does not need to know which provider answered.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::event::{ChatResponse, StopReason, ToolCall};

/// What shape of output to ask for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    /// Any JSON object (OpenAI `json_object`).
    JsonObject,
    /// JSON matching a schema (OpenAI `json_schema`; Anthropic: a forced tool whose input schema is `schema`).
    JsonSchema {
        /// Schema name (letters, digits, `_`, `-`).
        name: String,
        /// The JSON Schema.
        schema: serde_json::Value,
        /// OpenAI strict mode.
        #[serde(default)]
        strict: bool,
    },
}

/// Name of the tool forced to carry a [`ResponseFormat::JsonObject`] answer on providers without a JSON mode
/// (Anthropic); [`ResponseFormat::JsonSchema`] uses the schema's `name` instead. The same constant as
/// [`crate::provider::anthropic::JSON_TOOL_NAME`], which builds the request.
pub const JSON_OBJECT_TOOL_NAME: &str = crate::provider::anthropic::JSON_TOOL_NAME;

impl ResponseFormat {
    /// The name of the forced tool that carries the output where the provider has no JSON mode (Anthropic): the
    /// schema name, or [`JSON_OBJECT_TOOL_NAME`].
    pub fn tool_name(&self) -> &str {
        match self {
            Self::JsonObject => JSON_OBJECT_TOOL_NAME,
            Self::JsonSchema { name, .. } => name,
        }
    }
}

/// Where the structured output was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OutputSource {
    /// The response text (OpenAI JSON modes, or a model that answered in text).
    Text,
    /// The arguments of the tool call with this name (Anthropic's forced tool).
    ToolCall {
        /// The tool name.
        name: String,
    },
}

/// Why structured output could not be parsed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StructuredError {
    /// The model refused; there is no output to parse. Show the refusal.
    #[error("the model refused: {refusal}")]
    Refused {
        /// The refusal text.
        refusal: String,
    },
    /// The response has neither text nor tool calls.
    #[error("the response has no output to parse")]
    Empty,
    /// The output is not JSON of the expected shape. `raw` is the whole output; `truncated` says the response
    /// hit its output limit (raise `max_tokens`).
    #[error("structured output does not match the expected type: {message}{hint}; raw output ({from}): {excerpt}",
        hint = if *truncated { " (the response was cut off at max_tokens)" } else { "" },
        from = match source_of_output { OutputSource::Text => "text".to_owned(), OutputSource::ToolCall { name } => format!("tool call {name:?}") },
        excerpt = excerpt(raw))]
    Mismatch {
        /// serde_json's message, with line and column.
        message: String,
        /// The text that was parsed, unmodified (fences included).
        raw: String,
        /// Where it came from.
        source_of_output: OutputSource,
        /// The response stopped at its output limit, so the JSON is probably incomplete.
        truncated: bool,
    },
}

/// At most this many characters of raw output appear in an error's `Display`; the `raw` field has all of it.
pub const ERROR_EXCERPT_CHARS: usize = 2_000;

fn excerpt(raw: &str) -> String {
    match raw.char_indices().nth(ERROR_EXCERPT_CHARS) {
        None => raw.to_owned(),
        Some((at, _)) => format!("{}… ({} more bytes)", &raw[..at], raw.len() - at),
    }
}

/// Parses a response's structured output into `T`, wherever the provider put it: the text (OpenAI JSON modes),
/// or, when the text is blank and the response has a tool call, the first tool call's arguments (Anthropic's
/// forced tool, which comes without text). Use [`parse_structured_for`] when the format is at hand: it picks the
/// tool call by name.
///
/// Leading and trailing whitespace and a Markdown code fence around the JSON (```` ```json … ``` ````) are
/// tolerated.
///
/// ```
/// use edgechat::{structured::parse_structured, ChatResponse};
/// #[derive(serde::Deserialize, Debug, PartialEq)]
/// struct City { name: String }
///
/// let response = ChatResponse { text: "```json\n{\"name\": \"Paris\"}\n```".into(), ..Default::default() };
/// assert_eq!(parse_structured::<City>(&response)?, City { name: "Paris".into() });
///
/// let bad = ChatResponse { text: "Paris".into(), ..Default::default() };
/// let err = parse_structured::<City>(&bad).unwrap_err();
/// assert!(err.to_string().contains("raw output (text): Paris"));
/// # Ok::<(), edgechat::structured::StructuredError>(())
/// ```
pub fn parse_structured<T: DeserializeOwned>(response: &ChatResponse) -> Result<T, StructuredError> {
    let tool = response.tool_calls.first().filter(|_| response.text.trim().is_empty());
    parse_from(response, tool)
}

/// Like [`parse_structured`], but prefers the tool call named [`ResponseFormat::tool_name`] (the forced tool the
/// request asked for) and otherwise reads the text.
pub fn parse_structured_for<T: DeserializeOwned>(
    response: &ChatResponse,
    format: &ResponseFormat,
) -> Result<T, StructuredError> {
    let tool = response.tool_calls.iter().find(|c| c.name == format.tool_name());
    parse_from(response, tool)
}

fn parse_from<T: DeserializeOwned>(response: &ChatResponse, tool: Option<&ToolCall>) -> Result<T, StructuredError> {
    let (raw, source_of_output) = match tool {
        Some(call) => (call.arguments.as_str(), OutputSource::ToolCall { name: call.name.clone() }),
        None => {
            if response.text.trim().is_empty() {
                return Err(match &response.refusal {
                    Some(refusal) => StructuredError::Refused { refusal: refusal.clone() },
                    None => StructuredError::Empty,
                });
            }
            (response.text.as_str(), OutputSource::Text)
        }
    };
    parse_json_text(raw).map_err(|e| StructuredError::Mismatch {
        message: e.to_string(),
        raw: raw.to_owned(),
        source_of_output,
        truncated: response.stop_reason == Some(StopReason::MaxTokens),
    })
}

/// Parses JSON text that may be wrapped in whitespace or a Markdown code fence. When the text as a whole is not
/// JSON but contains a fenced block, the block is parsed instead (models sometimes write a sentence before the
/// fence) and its error is the one reported. Text that is JSON of the wrong shape is reported as such.
pub fn parse_json_text<T: DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    let trimmed = text.trim();
    match serde_json::from_str(trimmed) {
        Ok(value) => Ok(value),
        // Valid JSON of the wrong shape: a fence inside one of its strings is not the answer.
        Err(e) if e.classify() == serde_json::error::Category::Data => Err(e),
        Err(e) => match fenced_block(trimmed) {
            Some(inner) => serde_json::from_str(inner),
            None => Err(e),
        },
    }
}

/// The content of the first ```` ``` ```` fenced block in `text` (the info string such as `json` on the opening
/// line is skipped). The block ends at the first ```` ``` ```` that closes a whole JSON value, so one inside a JSON
/// string (`["```"]`) does not end it, and one right after the value (`{"a": 1}```` ``` ````) or indented (in a list
/// item) does; failing that, at a fence that starts a line, or at the end of the text (an unclosed fence).
fn fenced_block(text: &str) -> Option<&str> {
    let open = text.find("```")?;
    let after = &text[open + 3..];
    let body_start = after.find('\n').map_or(after.len(), |i| i + 1);
    let body = &after[body_start..];
    let closes_json = |end: usize| serde_json::from_str::<serde::de::IgnoredAny>(body[..end].trim()).is_ok();
    let end = body
        .match_indices("```")
        .map(|(i, _)| i)
        .find(|&i| closes_json(i))
        .or_else(|| if body.starts_with("```") { Some(0) } else { body.find("\n```").map(|i| i + 1) })
        .unwrap_or(body.len());
    Some(body[..end].trim())
}
