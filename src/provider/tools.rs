//! What every provider requires of a tool definition ([`ToolSpec`]), checked before a request is built.
//!
//! The rules are the intersection of the providers' own: OpenAI Chat Completions and Responses (`function.name`:
//! "a-z, A-Z, 0-9, or contain underscores and dashes, with a maximum length of 64"; `parameters`: a JSON Schema
//! object, <https://platform.openai.com/docs/api-reference/chat/create#chat-create-tools>) and Anthropic Messages
//! (`name` matching `^[a-zA-Z0-9_-]{1,64}$`, `input_schema` a JSON Schema of `"type": "object"`,
//! <https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/implement-tool-use>). A set of tools has distinct
//! names.

use super::ToolSpec;

/// The longest tool name every provider accepts.
pub const MAX_TOOL_NAME_LEN: usize = 64;

/// Why a tool definition would be refused by a provider.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ToolSpecError {
    /// The name is empty, longer than [`MAX_TOOL_NAME_LEN`], or has a character other than ASCII letters, digits,
    /// `_` and `-`. Rename the tool.
    #[error("tool name {name:?} must be 1-64 characters of a-z, A-Z, 0-9, _ or -")]
    BadName {
        /// The name.
        name: String,
    },
    /// Two tools have the same name. Drop or rename one.
    #[error("tool name {name:?} is used twice")]
    DuplicateName {
        /// The name.
        name: String,
    },
    /// `parameters` is not a JSON Schema object of `"type": "object"`. Describe the arguments as an object.
    #[error("tool {name:?}: parameters must be a JSON Schema object with \"type\": \"object\"")]
    BadParameters {
        /// The tool.
        name: String,
    },
}

impl ToolSpec {
    /// Checks this definition against every provider's rules (see the module doc).
    pub fn check(&self) -> Result<(), ToolSpecError> {
        self.check_name()?;
        let object = self.parameters.as_object().is_some_and(|o| o.get("type").is_some_and(|t| t == "object"));
        if !object {
            return Err(ToolSpecError::BadParameters { name: self.name.clone() });
        }
        Ok(())
    }

    fn check_name(&self) -> Result<(), ToolSpecError> {
        let n = &self.name;
        if n.is_empty()
            || n.len() > MAX_TOOL_NAME_LEN
            || !n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(ToolSpecError::BadName { name: n.clone() });
        }
        Ok(())
    }
}

/// Checks every tool ([`ToolSpec::check`]) and that their names are distinct.
pub fn check_tools(tools: &[ToolSpec]) -> Result<(), ToolSpecError> {
    check_each(tools, ToolSpec::check)
}

/// What a request build checks: names only (the OpenAI APIs also take a schema without `"type": "object"`, which
/// translated SDK requests may carry; the edge checks client tools in full with [`check_tools`]).
pub(crate) fn check_names(tools: &[ToolSpec]) -> Result<(), ToolSpecError> {
    check_each(tools, ToolSpec::check_name)
}

fn check_each(tools: &[ToolSpec], check: fn(&ToolSpec) -> Result<(), ToolSpecError>) -> Result<(), ToolSpecError> {
    for (i, t) in tools.iter().enumerate() {
        check(t)?;
        if tools[..i].iter().any(|o| o.name == t.name) {
            return Err(ToolSpecError::DuplicateName { name: t.name.clone() });
        }
    }
    Ok(())
}
