//! OpenAI Chat Completions, and every OpenAI-compatible server (Ollama, vLLM, llama.cpp, Groq, OpenRouter,
//! DeepSeek, Together) by base URL.
//!
//! References: request <https://platform.openai.com/docs/api-reference/chat/create>; streamed
//! `chat.completion.chunk` objects <https://platform.openai.com/docs/api-reference/chat-streaming>; the response
//! object <https://platform.openai.com/docs/api-reference/chat/object>.
//!
//! Choices made here:
//! - Output cap: `max_completion_tokens` for OpenAI itself (`max_tokens` is deprecated there and rejected by
//!   reasoning models), `max_tokens` for [`ProviderKind::OpenAiCompatible`](crate::provider::ProviderKind) servers,
//!   many of which do not know the new name and would silently ignore it.
//! - Streaming always asks for `stream_options: {"include_usage": true}`; the usage chunk arrives after the
//!   `finish_reason` chunk, with empty `choices`.
//! - Only choice 0 is decoded (the builder never asks for `n > 1`).
//! - Reasoning text is read from the non-standard delta fields compatible servers use: `reasoning_content` (vLLM,
//!   DeepSeek, llama.cpp) and `reasoning` (OpenRouter, Ollama).
//! - Streamed chunks are read with a small validating JSON reader (`provider/json.rs`) instead of generic
//!   `Deserialize` structs: the chunk is the hot path of every OpenAI-style stream (one small object per token).
//!   A property test checks it against a `serde_json::Value` reference.
//! - `prompt_cache` needs nothing here: OpenAI caches long prompt prefixes automatically and reports
//!   `prompt_tokens_details.cached_tokens`.

pub mod encode;
mod request;
mod response;
mod stream;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;

pub(crate) use request::build_request;
pub(crate) use response::decode_response;
pub(crate) use stream::ChatStream;
