//! Response caches, pure: the stored form of an answer ([`CachedAnswer`] for the widget route, [`StoredResponse`]
//! for the SDK routes), who may reuse it and what a request asked ([`Scope`], [`Control`], [`Plan`], the keys),
//! and the semantic index ([`SemanticIndex`]). The runtime side is `rt/cache.rs` and `rt/store.rs`.

mod scope;
mod semantic;

use edgechat::{StopReason, StreamEvent, ToolCall, Usage};
use serde::Serialize;

pub use self::scope::{answer_key, chat_key, hex, index_name, semantic_context, Control, Mode, Plan, Scope};
pub use self::semantic::{cosine, SemanticEntry, SemanticHit, SemanticIndex, SemanticInsert, SemanticQuery};

/// A cached answer: what a complete stream said, replayed as a stream on a hit. Stored as JSON
/// ([`CachedAnswer::to_json`]), written and read by hand (derived deserializers cost wasm size).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CachedAnswer {
    /// Provider that produced it.
    pub provider: String,
    /// Provider model id.
    pub model: String,
    /// Reasoning text.
    pub reasoning: String,
    /// Answer text.
    pub text: String,
    /// Tool calls.
    pub tool_calls: Vec<ToolCall>,
    /// Stop reason and the provider's raw value.
    pub stop: Option<(StopReason, String)>,
    /// Usage of the original request.
    pub usage: Usage,
    /// The terminal event arrived.
    pub complete: bool,
    /// When it was stored (ms since the epoch; 0 before it is).
    pub stored_ms: u64,
    /// When it expires (ms since the epoch): a store with a short TTL (the KV minimum is 60 s) ends here.
    pub expires_ms: u64,
}

impl CachedAnswer {
    /// An empty answer from `provider`/`model`; fill it with [`CachedAnswer::push`].
    pub fn new(provider: &str, model: &str) -> Self {
        Self { provider: provider.into(), model: model.into(), ..Self::default() }
    }

    /// Records one upstream event.
    pub fn push(&mut self, ev: &StreamEvent) {
        match ev {
            StreamEvent::TextDelta { text } | StreamEvent::Refusal { text } => self.text.push_str(text),
            StreamEvent::ReasoningDelta { text } => self.reasoning.push_str(text),
            StreamEvent::ToolCall { call } => self.tool_calls.push(call.clone()),
            StreamEvent::Usage { usage } => self.usage.merge_max(usage),
            StreamEvent::Stop { reason, raw } => self.stop = Some((*reason, raw.clone())),
            StreamEvent::Done => self.complete = true,
            _ => {}
        }
    }

    /// The stored form.
    pub fn to_json(&self) -> String {
        self.to_value().to_string()
    }

    fn to_value(&self) -> serde_json::Value {
        let calls: Vec<serde_json::Value> = self
            .tool_calls
            .iter()
            .map(|c| serde_json::json!({ "id": c.id, "name": c.name, "arguments": c.arguments }))
            .collect();
        let u = &self.usage;
        serde_json::json!({
            "provider": self.provider, "model": self.model, "reasoning": self.reasoning, "text": self.text,
            "tool_calls": calls,
            "stop": self.stop.as_ref().map(|(r, raw)| serde_json::json!([r, raw])),
            "usage": [u.input_tokens, u.output_tokens, u.cache_read_input_tokens, u.cache_creation_input_tokens],
            "complete": self.complete,
            "stored_ms": self.stored_ms, "expires_ms": self.expires_ms,
        })
    }

    /// Reads [`CachedAnswer::to_json`]'s form; `None` for anything else (treated as a miss).
    pub fn from_json(text: &str) -> Option<Self> {
        let v: serde_json::Value = serde_json::from_str(text).ok()?;
        let s = |f: &str| v.get(f).and_then(serde_json::Value::as_str).map(str::to_string);
        let mut tool_calls = Vec::new();
        for c in v.get("tool_calls")?.as_array()? {
            let f = |k: &str| c.get(k).and_then(serde_json::Value::as_str).map(str::to_string);
            tool_calls.push(ToolCall { id: f("id")?, name: f("name")?, arguments: f("arguments")? });
        }
        let stop = match v.get("stop") {
            Some(serde_json::Value::Array(pair)) => {
                Some((stop_reason(pair.first()?.as_str()?)?, pair.get(1)?.as_str()?.to_string()))
            }
            _ => None,
        };
        let u: Vec<u64> = v.get("usage")?.as_array()?.iter().map(serde_json::Value::as_u64).collect::<Option<_>>()?;
        Some(Self {
            provider: s("provider")?,
            model: s("model")?,
            reasoning: s("reasoning")?,
            text: s("text")?,
            tool_calls,
            stop,
            usage: Usage {
                input_tokens: *u.first()?,
                output_tokens: *u.get(1)?,
                cache_read_input_tokens: *u.get(2)?,
                cache_creation_input_tokens: *u.get(3)?,
            },
            complete: v.get("complete")?.as_bool()?,
            stored_ms: v.get("stored_ms").and_then(serde_json::Value::as_u64).unwrap_or(0),
            expires_ms: v.get("expires_ms").and_then(serde_json::Value::as_u64).unwrap_or(0),
        })
    }

    /// Whether a request with `plan` may reuse it at `now_ms`: complete, not expired, and stored within the
    /// request's TTL.
    pub fn fresh(&self, plan: &Plan, now_ms: u64) -> bool {
        self.complete && fresh(self.stored_ms, self.expires_ms, plan, now_ms)
    }

    /// The events to replay, ending with `Done`.
    pub fn events(&self) -> Vec<StreamEvent> {
        let mut out = Vec::new();
        if !self.reasoning.is_empty() {
            out.push(StreamEvent::ReasoningDelta { text: self.reasoning.clone() });
        }
        if !self.text.is_empty() {
            out.push(StreamEvent::TextDelta { text: self.text.clone() });
        }
        out.extend(self.tool_calls.iter().map(|c| StreamEvent::ToolCall { call: c.clone() }));
        out.push(StreamEvent::Usage { usage: self.usage });
        if let Some((reason, raw)) = &self.stop {
            out.push(StreamEvent::Stop { reason: *reason, raw: raw.clone() });
        }
        out.push(StreamEvent::Done);
        out
    }
}

/// Serializes as [`CachedAnswer::to_json`] (so `serde_json::to_string(&answer)` stores the same form).
impl Serialize for CachedAnswer {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(serializer)
    }
}

/// A complete SDK-route response as its client received it (JSON, or the whole SSE stream), replayed byte for
/// byte on a hit. Keyed by route and streaming mode, so it is always replayed in the format it was made in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoredResponse {
    /// `content-type` of the response.
    pub content_type: String,
    /// The body.
    pub body: String,
    /// Provider that produced it.
    pub provider: String,
    /// Provider model id.
    pub model: String,
    /// Usage of the original request.
    pub usage: Usage,
    /// When it was stored (ms since the epoch).
    pub stored_ms: u64,
    /// When it expires (ms since the epoch).
    pub expires_ms: u64,
}

impl StoredResponse {
    /// The stored form: a JSON array (written and read by hand, for wasm size).
    pub fn to_json(&self) -> String {
        let u = &self.usage;
        let usage = [u.input_tokens, u.output_tokens, u.cache_read_input_tokens, u.cache_creation_input_tokens];
        let row = (&self.content_type, &self.provider, &self.model, usage, self.stored_ms, self.expires_ms, &self.body);
        serde_json::to_string(&row).unwrap_or_default()
    }

    /// Reads [`StoredResponse::to_json`]'s form; `None` for anything else (a miss).
    pub fn from_json(text: &str) -> Option<Self> {
        let v: serde_json::Value = serde_json::from_str(text).ok()?;
        let a = v.as_array()?;
        let u = a.get(3)?;
        let n = |i: usize| u.get(i)?.as_u64();
        Some(Self {
            content_type: at_str(a, 0)?,
            provider: at_str(a, 1)?,
            model: at_str(a, 2)?,
            usage: Usage {
                input_tokens: n(0)?,
                output_tokens: n(1)?,
                cache_read_input_tokens: n(2)?,
                cache_creation_input_tokens: n(3)?,
            },
            stored_ms: at_u64(a, 4)?,
            expires_ms: at_u64(a, 5)?,
            body: at_str(a, 6)?,
        })
    }

    /// Whether a request with `plan` may reuse it at `now_ms` (as [`CachedAnswer::fresh`]).
    pub fn fresh(&self, plan: &Plan, now_ms: u64) -> bool {
        fresh(self.stored_ms, self.expires_ms, plan, now_ms)
    }
}

/// Element `i` of a JSON array as a string.
pub(crate) fn at_str(a: &[serde_json::Value], i: usize) -> Option<String> {
    a.get(i)?.as_str().map(str::to_string)
}

/// Element `i` of a JSON array as an unsigned integer.
pub(crate) fn at_u64(a: &[serde_json::Value], i: usize) -> Option<u64> {
    a.get(i)?.as_u64()
}

/// A JSON array of numbers as an embedding.
pub(crate) fn embedding_of(v: &serde_json::Value) -> Option<Vec<f32>> {
    v.as_array()?.iter().map(|x| x.as_f64().map(|f| f as f32)).collect()
}

fn fresh(stored_ms: u64, expires_ms: u64, plan: &Plan, now_ms: u64) -> bool {
    expires_ms > now_ms && stored_ms >= plan.stored_after_ms(now_ms)
}

fn stop_reason(s: &str) -> Option<StopReason> {
    Some(match s {
        "end_turn" => StopReason::EndTurn,
        "max_tokens" => StopReason::MaxTokens,
        "stop_sequence" => StopReason::StopSequence,
        "tool_use" => StopReason::ToolUse,
        "content_filter" => StopReason::ContentFilter,
        "refusal" => StopReason::Refusal,
        "pause_turn" => StopReason::PauseTurn,
        "other" => StopReason::Other,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_answer_round_trips_and_replays() {
        let mut a = CachedAnswer::new("openai-chat", "m");
        a.push(&StreamEvent::TextDelta { text: "He".into() });
        a.push(&StreamEvent::TextDelta { text: "llo".into() });
        a.push(&StreamEvent::Stop { reason: StopReason::EndTurn, raw: "stop".into() });
        assert!(!a.complete);
        a.push(&StreamEvent::Done);
        a.push(&StreamEvent::ToolCall { call: ToolCall { id: "c".into(), name: "f".into(), arguments: "{}".into() } });
        a.push(&StreamEvent::Usage {
            usage: Usage {
                input_tokens: 1,
                output_tokens: 2,
                cache_read_input_tokens: 3,
                cache_creation_input_tokens: 4,
            },
        });
        let back = CachedAnswer::from_json(&a.to_json()).unwrap();
        assert_eq!(back, a);
        assert_eq!(serde_json::to_string(&a).unwrap(), a.to_json());
        assert_eq!(CachedAnswer::from_json("{}"), None);
        for r in [StopReason::MaxTokens, StopReason::ToolUse, StopReason::PauseTurn, StopReason::Other] {
            assert_eq!(stop_reason(serde_json::to_value(r).unwrap().as_str().unwrap()), Some(r));
        }
        let plan = Plan { exact: true, semantic: false, read: true, ttl_s: 10 };
        assert!(!back.fresh(&plan, 1000), "never stored: no time stamps");
        let stored = CachedAnswer { stored_ms: 5000, expires_ms: 15_000, ..back.clone() };
        let stored = CachedAnswer::from_json(&stored.to_json()).unwrap();
        assert!(stored.fresh(&plan, 14_000));
        assert!(!stored.fresh(&plan, 15_000), "expired");
        assert!(!stored.fresh(&Plan { ttl_s: 2, ..plan }, 8000), "older than the request's ttl");
        let ev = back.events();
        assert_eq!(ev[0], StreamEvent::TextDelta { text: "Hello".into() });
        assert_eq!(ev.last(), Some(&StreamEvent::Done));
    }

    #[test]
    fn stored_response_round_trips() {
        let r = StoredResponse {
            content_type: "text/event-stream".into(),
            body: "data: {\"x\":\"é\"}\n\n".into(),
            provider: "anthropic".into(),
            model: "m".into(),
            usage: Usage { input_tokens: 1, output_tokens: 2, ..Usage::default() },
            stored_ms: 10,
            expires_ms: 20,
        };
        assert_eq!(StoredResponse::from_json(&r.to_json()), Some(r.clone()));
        assert!(StoredResponse::from_json("{}").is_none());
        let plan = Plan { exact: true, semantic: false, read: true, ttl_s: 60 };
        assert!(r.fresh(&plan, 19) && !r.fresh(&plan, 20));
    }
}
