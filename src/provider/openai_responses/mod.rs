//! OpenAI Responses API.
//!
//! References: request <https://platform.openai.com/docs/api-reference/responses/create>; streaming events
//! <https://platform.openai.com/docs/api-reference/responses-streaming>; the response object
//! <https://platform.openai.com/docs/api-reference/responses/object>; function calling
//! <https://platform.openai.com/docs/guides/function-calling?api-mode=responses>.
//!
//! Choices made here:
//! - The system prompt goes in `instructions`; history goes in `input` as `message` items, assistant tool calls as
//!   `function_call` items and tool results as `function_call_output` items. `store` is `false`: every request
//!   carries its whole history, nothing needs to live on OpenAI's side.
//! - Function tools are sent with `strict: false` (strict mode rejects schemas that do not list every property as
//!   required); structured output goes in `text.format`.
//! - The Responses API has no stop sequences: a request with `stop` is a [`BuildError`](crate::provider::BuildError).
//! - The stream ends with `response.completed` or `response.incomplete` (no `[DONE]`); `response.failed` and
//!   `error` events are provider errors. A completed response that called functions stops with
//!   [`StopReason::ToolUse`](crate::StopReason) (raw `completed`); an incomplete one stops with its
//!   `incomplete_details.reason` (`max_output_tokens` → `MaxTokens`, `content_filter` → `ContentFilter`).
//! - Reasoning text is the reasoning summary (`response.reasoning_summary_text.delta`) or, from servers that
//!   expose it, the raw reasoning (`response.reasoning_text.delta`); separate parts are joined with a blank line.

pub mod encode;
mod request;
mod response;
mod stream;

pub(crate) use request::build_request;
pub(crate) use response::decode_response;
pub(crate) use stream::ResponsesStream;
