//! Structured output: ask for JSON, parse it into the caller's type.

use serde::{Deserialize, Serialize};

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
