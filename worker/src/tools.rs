//! Client tools (docs/protocol.md, "Client tools"): tools the page defines and runs. The widget sends their
//! definitions with each `POST /api/chat`; the edge passes them to the provider only for a site key that allows
//! them (`site_keys.<key>.client_tools`, or the top-level `client_tools` for callers without a key), within its
//! caps. The tool loop runs in the widget: each step is a new request with the results appended, so the edge stays
//! stateless per request and counts the steps from the request itself ([`tool_steps`]).

use edgechat::conversation::{Message, Role};
use edgechat::provider::ToolSpec;
use serde_json::Value;

use crate::config::Config;
use crate::error::ApiError;
use crate::jsonread::Obj;

/// What a site key allows of client tools (`true` in the configuration: these defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientTools {
    /// Tools per request.
    pub max_tools: usize,
    /// Bytes of the tools' JSON definitions together (names, descriptions, schemas).
    pub max_bytes: usize,
    /// Tool rounds (an assistant turn with tool calls and its results) after the newest user message: a request
    /// with more is refused, so a loop ends after this many steps.
    pub max_steps: u32,
}

impl Default for ClientTools {
    fn default() -> Self {
        Self { max_tools: 8, max_bytes: 16 * 1024, max_steps: 5 }
    }
}

impl ClientTools {
    /// Reads `client_tools`: `true`, `false` (none) or `{"max_tools", "max_bytes", "max_steps"}`.
    pub fn read(v: &Value, path: &str) -> Result<Option<Self>, String> {
        if let Some(on) = v.as_bool() {
            return Ok(on.then(Self::default));
        }
        let o = Obj::new(v, path, &["max_tools", "max_bytes", "max_steps"])?;
        let d = Self::default();
        let t = Self {
            max_tools: o.u64("max_tools")?.map_or(d.max_tools, |n| n as usize),
            max_bytes: o.u64("max_bytes")?.map_or(d.max_bytes, |n| n as usize),
            max_steps: o.u32("max_steps")?.unwrap_or(d.max_steps),
        };
        if t.max_tools == 0 || t.max_steps == 0 {
            return Err(format!("{path}: max_tools and max_steps must be at least 1 (false turns client tools off)"));
        }
        Ok(Some(t))
    }

    /// The `client_tools` object of `GET /api/config`.
    pub fn to_json(self) -> Value {
        serde_json::json!({ "max_tools": self.max_tools, "max_bytes": self.max_bytes, "max_steps": self.max_steps })
    }
}

/// What the caller with site key `site` (none: a caller admitted by origin) may do with client tools.
pub fn policy(config: &Config, site: Option<&str>) -> Option<ClientTools> {
    match site {
        Some(k) => config.site_keys.get(k).and_then(|s| s.client_tools),
        None => config.client_tools,
    }
}

/// How many tool rounds follow the newest user message: assistant turns with tool calls (each answered by its
/// tool turns) since the question. A widget's step `n` (from 1) sends `n - 1`.
pub fn tool_steps(messages: &[Message]) -> u32 {
    let since = messages.iter().rposition(|m| m.role == Role::User).map_or(0, |i| i + 1);
    messages[since..].iter().filter(|m| m.role == Role::Assistant && !m.tool_calls.is_empty()).count() as u32
}

/// The request's `tools` (`[{"name", "description", "parameters"}]`) checked against the caller's `policy`.
/// Refusals: `tools_not_allowed` (403) when the key allows none; `too_many_tools`, `tools_too_large`,
/// `invalid_tool` (a definition no provider would take) and `tool_steps_exceeded` (400).
pub fn accept(
    policy: Option<ClientTools>,
    tools: Option<&Value>,
    messages: &[Message],
) -> Result<Vec<ToolSpec>, ApiError> {
    let list = match tools {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(l)) => l,
        Some(_) => return Err(invalid("tools must be an array")),
    };
    if list.is_empty() {
        return Ok(Vec::new());
    }
    let Some(p) = policy else {
        return Err(ApiError::new(403, "tools_not_allowed", "client tools are not allowed for this site key"));
    };
    if list.len() > p.max_tools {
        return Err(ApiError::new(
            400,
            "too_many_tools",
            format!("{} tools sent; this site key allows at most {}", list.len(), p.max_tools),
        ));
    }
    let bytes: usize = list.iter().map(|t| t.to_string().len()).sum();
    if bytes > p.max_bytes {
        return Err(ApiError::new(
            400,
            "tools_too_large",
            format!("the tool definitions take {bytes} bytes; this site key allows at most {}", p.max_bytes),
        ));
    }
    let specs =
        list.iter().enumerate().map(|(i, t)| read_spec(t, &format!("tools[{i}]"))).collect::<Result<Vec<_>, _>>()?;
    edgechat::provider::check_tools(&specs).map_err(|e| invalid(&e.to_string()))?;
    let steps = tool_steps(messages);
    if steps > p.max_steps {
        return Err(ApiError::new(
            400,
            "tool_steps_exceeded",
            format!("{steps} tool steps since the last user message; this site key allows at most {}", p.max_steps),
        ));
    }
    Ok(specs)
}

fn invalid(m: &str) -> ApiError {
    ApiError::new(400, "invalid_tool", format!("invalid client tool: {m}"))
}

fn read_spec(v: &Value, path: &str) -> Result<ToolSpec, ApiError> {
    let o = Obj::new(v, path, &["name", "description", "parameters"]).map_err(|e| invalid(&e))?;
    let name = o.str("name").map_err(|e| invalid(&e))?.ok_or_else(|| invalid(&format!("{path}.name is required")))?;
    Ok(ToolSpec {
        name,
        description: o.str("description").map_err(|e| invalid(&e))?.unwrap_or_default(),
        parameters: o.get("parameters").cloned().unwrap_or(Value::Null),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgechat::ToolCall;
    use serde_json::json;

    fn kind(r: Result<Vec<ToolSpec>, ApiError>) -> &'static str {
        r.map(|_| "ok").unwrap_or_else(|e| e.kind)
    }

    fn round(id: &str) -> [Message; 2] {
        let mut a = Message::assistant("");
        a.tool_calls = vec![ToolCall { id: id.into(), name: "f".into(), arguments: "{}".into() }];
        [a, Message::tool(id, "ok")]
    }

    #[test]
    fn steps_count_the_rounds_since_the_newest_question() {
        let mut m = vec![Message::user("a")];
        m.extend(round("1"));
        m.push(Message::assistant("done"));
        m.push(Message::user("b"));
        assert_eq!(tool_steps(&m), 0);
        m.extend(round("2"));
        m.extend(round("3"));
        assert_eq!(tool_steps(&m), 2);
    }

    #[test]
    fn refusals() {
        let p = Some(ClientTools { max_tools: 2, max_bytes: 200, max_steps: 1 });
        let f = json!({"name": "f", "parameters": {"type": "object"}});
        let q = [Message::user("q")];
        assert_eq!(kind(accept(None, None, &q)), "ok");
        assert_eq!(kind(accept(None, Some(&json!([])), &q)), "ok");
        assert_eq!(kind(accept(None, Some(&json!([f])), &q)), "tools_not_allowed");
        assert_eq!(kind(accept(p, Some(&json!([f])), &q)), "ok");
        assert_eq!(kind(accept(p, Some(&json!({"name": "f"})), &q)), "invalid_tool");
        assert_eq!(kind(accept(p, Some(&json!([f, f, f])), &q)), "too_many_tools");
        let big = json!([{"name": "f", "description": "x".repeat(300), "parameters": {"type": "object"}}]);
        assert_eq!(kind(accept(p, Some(&big), &q)), "tools_too_large");
        for bad in [
            json!([{"name": "a b", "parameters": {"type": "object"}}]),
            json!([{"name": "f", "parameters": {"type": "string"}}]),
            json!([{"name": "f"}]),
            json!([{"parameters": {"type": "object"}}]),
            json!([f, f]),
            json!([{"name": "f", "parameters": {"type": "object"}, "run": "x"}]),
        ] {
            assert_eq!(kind(accept(p, Some(&bad), &q)), "invalid_tool", "{bad}");
        }
        let mut m = q.to_vec();
        m.extend(round("1"));
        assert_eq!(kind(accept(p, Some(&json!([f])), &m)), "ok");
        m.extend(round("2"));
        let e = accept(p, Some(&json!([f])), &m).unwrap_err();
        assert_eq!((e.kind, e.status), ("tool_steps_exceeded", 400));
        assert!(e.message.contains("at most 1"), "{}", e.message);
    }

    #[test]
    fn config_reads_true_false_and_caps() {
        assert_eq!(ClientTools::read(&json!(true), "x"), Ok(Some(ClientTools::default())));
        assert_eq!(ClientTools::read(&json!(false), "x"), Ok(None));
        let t = ClientTools::read(&json!({"max_steps": 2}), "x").unwrap().unwrap();
        assert_eq!((t.max_steps, t.max_tools), (2, 8));
        assert!(ClientTools::read(&json!({"max_steps": 0}), "x").is_err());
        assert!(ClientTools::read(&json!({"steps": 2}), "x").unwrap_err().contains("steps"));
    }
}
