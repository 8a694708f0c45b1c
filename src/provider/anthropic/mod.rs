//! Anthropic Messages.
//!
//! References: request <https://docs.anthropic.com/en/api/messages>; streaming events
//! <https://docs.anthropic.com/en/docs/build-with-claude/streaming>; tool use
//! <https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/implement-tool-use>; prompt caching
//! <https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching>; errors
//! <https://docs.anthropic.com/en/api/errors>.
//!
//! Choices made here:
//! - `max_tokens` is required by the API: [`DEFAULT_MAX_TOKENS`] when the request sets none.
//! - Roles must alternate: consecutive turns of the same role (tool results count as `user`) are merged into one
//!   message, tool results first. Empty text is never sent (the API rejects empty text blocks); an interrupted
//!   assistant turn is sent as its text alone; trailing whitespace of a final assistant turn (a prefill) is trimmed,
//!   as the API requires.
//! - Structured output uses a forced tool: `tools:[{name, input_schema}]` with `tool_choice: {"type":"tool",
//!   "name"}`; the answer arrives as a [`ToolCall`](crate::ToolCall) of that name whose arguments are the JSON.
//!   [`ResponseFormat::JsonObject`](crate::structured::ResponseFormat) uses the tool [`JSON_TOOL_NAME`] with
//!   schema `{"type":"object"}`.
//! - `prompt_cache` places `cache_control: {"type":"ephemeral"}` breakpoints (at most 3 of the API's 4): on the
//!   last tool, on the system prompt, and on the last block of the message before the newest user turn (the
//!   stable history prefix).
//! - A `tool_use` block without `input_json_delta` (a tool without parameters) has arguments `{}`, as in the
//!   non-streaming body.

pub mod encode;
mod request;
mod response;
mod stream;

pub(crate) use request::build_request;
pub(crate) use response::decode_response;
pub(crate) use stream::AnthropicStream;

/// `max_tokens` sent when the request sets none (the Messages API requires it).
pub const DEFAULT_MAX_TOKENS: u32 = 1024;

/// The `anthropic-version` header value sent with every request.
pub const API_VERSION: &str = "2023-06-01";

/// Name of the forced tool that carries a [`ResponseFormat::JsonObject`](crate::structured::ResponseFormat)
/// answer.
pub const JSON_TOOL_NAME: &str = "json_response";
