//! [`ProviderKind`]: which wire format a provider speaks. Its own module because both the providers and the
//! crate's error types name it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Which wire format a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ProviderKind {
    /// OpenAI Chat Completions (`POST {base}/chat/completions`, `Authorization: Bearer`).
    OpenAiChat,
    /// OpenAI Responses (`POST {base}/responses`).
    OpenAiResponses,
    /// Anthropic Messages (`POST {base}/messages`, `x-api-key`, `anthropic-version`).
    Anthropic,
    /// Any server speaking the Chat Completions format at its own base URL; the key is optional.
    OpenAiCompatible,
}

impl ProviderKind {
    /// Stable name: `openai-chat`, `openai-responses`, `anthropic`, `openai-compatible`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OpenAiChat => "openai-chat",
            Self::OpenAiResponses => "openai-responses",
            Self::Anthropic => "anthropic",
            Self::OpenAiCompatible => "openai-compatible",
        }
    }

    /// The provider's public API base URL (including the version path segment).
    pub fn default_base_url(self) -> &'static str {
        match self {
            Self::OpenAiChat | Self::OpenAiResponses | Self::OpenAiCompatible => "https://api.openai.com/v1",
            Self::Anthropic => "https://api.anthropic.com/v1",
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ProviderKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "openai-chat" | "openai" => Ok(Self::OpenAiChat),
            "openai-responses" => Ok(Self::OpenAiResponses),
            "anthropic" => Ok(Self::Anthropic),
            "openai-compatible" | "compat" => Ok(Self::OpenAiCompatible),
            other => Err(format!("unknown provider {other:?}")),
        }
    }
}
