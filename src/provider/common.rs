//! Pieces every provider shares: history validation, tool-call assembly, lenient JSON text fields, excerpts.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::conversation::{Message, Role};
use crate::error::StreamError;
use crate::event::{StreamEvent, ToolCall};
use crate::http::HttpRequest;
use crate::provider::{BuildError, ChatRequest, ProviderConfig, ProviderKind};

/// A JSON value read as text when it is a string, and as "nothing" when it is `null`, absent, or any other type.
///
/// Providers disagree on some fields (OpenRouter's `reasoning` is a string, other servers send an object there);
/// a field this decoder only reads as text must not make a whole event malformed. Borrows from the input when the
/// string has no escapes.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Text<'a>(pub Option<Cow<'a, str>>);

impl<'a> Text<'a> {
    /// The text when present and non-empty.
    pub fn non_empty(&self) -> Option<&str> {
        self.0.as_deref().filter(|s| !s.is_empty())
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or null")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(v.to_owned()))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(v))))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Text(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Text(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Text(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Text(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Text(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Text(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Text(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Text(None))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// Cuts `s` to at most `max` bytes on a character boundary, marking the cut with `…`.
pub(crate) fn excerpt(s: &str, max: usize) -> Cow<'_, str> {
    if s.len() <= max {
        return Cow::Borrowed(s);
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}…", &s[..end]))
}

/// A `Malformed` error for event `data` that failed to parse with `err`.
pub(crate) fn malformed(provider: ProviderKind, data: &str, err: impl fmt::Display) -> StreamError {
    StreamError::Malformed { provider, message: format!("{err} in {:?}", excerpt(data, 160)) }
}

/// Parses JSON event data into `T`, mapping failures to [`StreamError::Malformed`].
pub(crate) fn parse_event<'a, T: Deserialize<'a>>(provider: ProviderKind, data: &'a str) -> Result<T, StreamError> {
    serde_json::from_str(data).map_err(|e| malformed(provider, data, e))
}

/// Where provider decoders put the events they produce.
pub(crate) type Out = std::collections::VecDeque<StreamEvent>;

/// One tool call being assembled from fragments.
#[derive(Debug, Default)]
struct PendingCall {
    key: usize,
    id: String,
    name: String,
    arguments: String,
    done: bool,
}

/// Assembles streamed tool-call fragments into whole calls.
///
/// Calls are keyed by the provider's own position value (OpenAI `index`, Anthropic content block index,
/// Responses `output_index`); the `index` of the emitted [`StreamEvent::ToolCallDelta`] is the call's ordinal
/// within the response (0, 1, …), the same for every provider.
#[derive(Debug, Default)]
pub(crate) struct ToolCalls {
    calls: Vec<PendingCall>,
}

impl ToolCalls {
    fn position(&self, key: usize) -> Option<usize> {
        self.calls.iter().position(|c| c.key == key)
    }

    /// Whether a call with `key` was started.
    pub fn contains(&self, key: usize) -> bool {
        self.position(key).is_some()
    }

    /// Whether any call was started.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// Adds a fragment of call `key` and returns the matching delta event. The id and name are taken from the
    /// first fragment that carries them.
    pub fn fragment(&mut self, key: usize, id: Option<&str>, name: Option<&str>, arguments: &str) -> StreamEvent {
        let pos = match self.position(key) {
            Some(p) => p,
            None => {
                self.calls.push(PendingCall { key, ..PendingCall::default() });
                self.calls.len() - 1
            }
        };
        let call = &mut self.calls[pos];
        let id = id.filter(|s| !s.is_empty());
        let name = name.filter(|s| !s.is_empty());
        if let (Some(id), true) = (id, call.id.is_empty()) {
            call.id.push_str(id);
        }
        if let (Some(name), true) = (name, call.name.is_empty()) {
            call.name.push_str(name);
        }
        call.arguments.push_str(arguments);
        StreamEvent::ToolCallDelta {
            index: pos,
            id: id.map(str::to_owned),
            name: name.map(str::to_owned),
            arguments: arguments.to_owned(),
        }
    }

    /// Replaces the arguments of call `key` with the provider's final text (Responses `arguments.done`).
    pub fn set_arguments(&mut self, key: usize, arguments: &str) {
        if let Some(p) = self.position(key) {
            self.calls[p].arguments.clear();
            self.calls[p].arguments.push_str(arguments);
        }
    }

    /// Completes call `key`, returning it once (later calls return `None`). `empty_args` replaces empty
    /// arguments (Anthropic sends no `input_json_delta` for a tool without input: its input is `{}`).
    pub fn complete(&mut self, key: usize, empty_args: &str) -> Option<StreamEvent> {
        let pos = self.position(key)?;
        let call = &mut self.calls[pos];
        if call.done {
            return None;
        }
        call.done = true;
        let arguments =
            if call.arguments.is_empty() { empty_args.to_owned() } else { std::mem::take(&mut call.arguments) };
        Some(StreamEvent::ToolCall {
            call: ToolCall { id: std::mem::take(&mut call.id), name: std::mem::take(&mut call.name), arguments },
        })
    }

    /// Completes every call not completed yet, in order.
    pub fn complete_all(&mut self, empty_args: &str, out: &mut Out) {
        let keys: Vec<usize> = self.calls.iter().filter(|c| !c.done).map(|c| c.key).collect();
        for key in keys {
            out.extend(self.complete(key, empty_args));
        }
    }
}

/// Checks what every provider requires of a request: a model, at least one message, tool results that answer a
/// call of the assistant turn before them, tool calls that are answered before the next user turn, and
/// attachments only on user turns, each passing [`crate::conversation::Attachment::check`].
pub(crate) fn validate(kind: ProviderKind, config: &ProviderConfig, req: &ChatRequest) -> Result<(), BuildError> {
    let fail = |message: String| Err(BuildError { provider: kind, message });
    if req.model.trim().is_empty() {
        return fail("the model is empty".into());
    }
    if req.messages.is_empty() {
        return fail("there are no messages".into());
    }
    if kind != ProviderKind::OpenAiCompatible && api_key(config).is_none() {
        return fail("an API key is required (only openai-compatible servers may go without)".into());
    }
    if let Err(e) = super::tools::check_names(&req.tools) {
        return fail(e.to_string());
    }
    let mut open: Vec<&str> = Vec::new();
    for (i, m) in req.messages.iter().enumerate() {
        if m.role != Role::User && !m.attachments.is_empty() {
            return fail(format!("message {i}: only user turns carry attachments"));
        }
        for (j, a) in m.attachments.iter().enumerate() {
            if let Err(e) = a.check() {
                return fail(format!("message {i}, attachment {j}: {e}"));
            }
        }
        match m.role {
            Role::Tool => {
                let Some(id) = m.tool_call_id.as_deref() else {
                    return fail(format!("message {i} is a tool result without a tool_call_id"));
                };
                let Some(p) = open.iter().position(|o| *o == id) else {
                    return fail(format!(
                        "message {i} is a tool result for call {id:?}, which no earlier assistant turn left open"
                    ));
                };
                open.remove(p);
            }
            Role::User | Role::Assistant => {
                if let Some(id) = open.first() {
                    return fail(format!("tool call {id:?} has no tool result before message {i}"));
                }
                if m.role == Role::Assistant && !m.interrupted {
                    for c in &m.tool_calls {
                        if c.id.is_empty() || c.name.is_empty() {
                            return fail(format!("message {i} has a tool call with an empty id or name"));
                        }
                        open.push(&c.id);
                    }
                }
            }
        }
    }
    if let Some(id) = open.first() {
        return fail(format!("tool call {id:?} of the last assistant turn has no tool result"));
    }
    Ok(())
}

/// Tool calls of an assistant turn as they should be sent: none for an interrupted turn (sent as plain text).
pub(crate) fn sent_tool_calls(m: &Message) -> &[ToolCall] {
    if m.interrupted {
        &[]
    } else {
        &m.tool_calls
    }
}

/// The API key, treating an empty string as none.
pub(crate) fn api_key(config: &ProviderConfig) -> Option<&str> {
    config.api_key.as_deref().filter(|k| !k.trim().is_empty())
}

/// `{base}{path}` without doubling the slash.
pub(crate) fn endpoint(config: &ProviderConfig, path: &str) -> String {
    let base = if config.base_url.is_empty() { config.kind.default_base_url() } else { &config.base_url };
    format!("{}{path}", base.trim_end_matches('/'))
}

/// A JSON POST with `headers` then the configured extra headers (an extra header replaces a built-in one of the
/// same name, so `anthropic-version` or `authorization` can be overridden).
pub(crate) fn post_json(
    config: &ProviderConfig,
    url: String,
    mut headers: Vec<(String, String)>,
    stream: bool,
    body: Vec<u8>,
) -> HttpRequest {
    headers.push(("content-type".into(), "application/json".into()));
    headers.push(("accept".into(), if stream { "text/event-stream" } else { "application/json" }.into()));
    for (k, v) in &config.extra_headers {
        headers.retain(|(h, _)| !h.eq_ignore_ascii_case(k));
        headers.push((k.to_ascii_lowercase(), v.clone()));
    }
    HttpRequest { method: "POST".into(), url, headers, body }
}

/// Serializes a request body; our body types always serialize.
pub(crate) fn to_body<T: serde::Serialize>(kind: ProviderKind, body: &T) -> Result<Vec<u8>, BuildError> {
    serde_json::to_vec(body).map_err(|e| BuildError { provider: kind, message: format!("cannot serialize: {e}") })
}

/// Folds decoded events into the final response (how `decode_response` gives what a stream would).
pub(crate) fn fold(events: Out) -> crate::event::ChatResponse {
    let mut acc = crate::event::ResponseAccumulator::new();
    for e in &events {
        acc.push(e);
    }
    acc.into_parts().0
}

/// Rejects a temperature outside the provider's range.
pub(crate) fn check_temperature(kind: ProviderKind, t: Option<f32>, max: f32) -> Result<(), BuildError> {
    match t {
        Some(t) if !(0.0..=max).contains(&t) => {
            Err(BuildError { provider: kind, message: format!("temperature {t} is outside 0..={max}") })
        }
        _ => Ok(()),
    }
}
