//! Response caches: the stored form of an answer, and the semantic index (cosine similarity of embeddings).

use edgechat::{StopReason, StreamEvent, ToolCall, Usage};
use serde::{Deserialize, Serialize};

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
        let calls: Vec<serde_json::Value> =
            self.tool_calls.iter().map(|c| serde_json::json!({ "id": c.id, "name": c.name, "arguments": c.arguments })).collect();
        let u = &self.usage;
        serde_json::json!({
            "provider": self.provider, "model": self.model, "reasoning": self.reasoning, "text": self.text,
            "tool_calls": calls,
            "stop": self.stop.as_ref().map(|(r, raw)| serde_json::json!([r, raw])),
            "usage": [u.input_tokens, u.output_tokens, u.cache_read_input_tokens, u.cache_creation_input_tokens],
            "complete": self.complete,
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
            Some(serde_json::Value::Array(pair)) => Some((stop_reason(pair.first()?.as_str()?)?, pair.get(1)?.as_str()?.to_string())),
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
        })
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

/// Cosine similarity of two vectors (0 when either is empty, zero or the lengths differ).
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    if a.len() != b.len() || a.is_empty() {
        return 0.0;
    }
    let (mut dot, mut na, mut nb) = (0.0f64, 0.0f64, 0.0f64);
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (f64::from(*x), f64::from(*y));
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na.sqrt() * nb.sqrt())
    }
}

/// One stored embedding and the exact-cache key of its answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SemanticEntry {
    /// Embedding of the prompt.
    pub embedding: Vec<f32>,
    /// Key of the [`CachedAnswer`].
    pub key: String,
}

/// The semantic index of one model: newest entries last, at most `max` kept.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SemanticIndex {
    /// Entries.
    pub entries: Vec<SemanticEntry>,
}

impl SemanticIndex {
    /// The most similar entry at or above `threshold`, with its score.
    pub fn best(&self, query: &[f32], threshold: f64) -> Option<(&SemanticEntry, f64)> {
        self.entries
            .iter()
            .map(|e| (e, cosine(&e.embedding, query)))
            .filter(|(_, s)| *s >= threshold)
            .max_by(|a, b| a.1.total_cmp(&b.1))
    }

    /// Adds an entry, dropping the oldest beyond `max`.
    pub fn insert(&mut self, entry: SemanticEntry, max: usize) {
        self.entries.retain(|e| e.key != entry.key);
        self.entries.push(entry);
        let over = self.entries.len().saturating_sub(max.max(1));
        self.entries.drain(..over);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_basics() {
        assert!((cosine(&[1.0, 0.0], &[2.0, 0.0]) - 1.0).abs() < 1e-9);
        assert!(cosine(&[1.0, 0.0], &[0.0, 1.0]).abs() < 1e-9);
        assert_eq!(cosine(&[1.0], &[1.0, 2.0]), 0.0);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 2.0]), 0.0);
    }

    #[test]
    fn index_finds_the_best_above_threshold_and_stays_bounded() {
        let mut i = SemanticIndex::default();
        i.insert(SemanticEntry { embedding: vec![1.0, 0.0], key: "a".into() }, 2);
        i.insert(SemanticEntry { embedding: vec![0.6, 0.8], key: "b".into() }, 2);
        assert_eq!(i.best(&[0.7, 0.7], 0.9).unwrap().0.key, "b");
        assert!(i.best(&[0.0, 1.0], 0.9).is_none());
        i.insert(SemanticEntry { embedding: vec![0.0, 1.0], key: "c".into() }, 2);
        assert_eq!(i.entries.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(), ["b", "c"]);
    }

    #[test]
    fn cached_answer_round_trips_and_replays() {
        let mut a = CachedAnswer::new("openai-chat", "m");
        a.push(&StreamEvent::TextDelta { text: "He".into() });
        a.push(&StreamEvent::TextDelta { text: "llo".into() });
        a.push(&StreamEvent::Stop { reason: StopReason::EndTurn, raw: "stop".into() });
        assert!(!a.complete);
        a.push(&StreamEvent::Done);
        a.push(&StreamEvent::ToolCall { call: ToolCall { id: "c".into(), name: "f".into(), arguments: "{}".into() } });
        a.push(&StreamEvent::Usage { usage: Usage { input_tokens: 1, output_tokens: 2, cache_read_input_tokens: 3, cache_creation_input_tokens: 4 } });
        let back = CachedAnswer::from_json(&a.to_json()).unwrap();
        assert_eq!(back, a);
        assert_eq!(serde_json::to_string(&a).unwrap(), a.to_json());
        assert_eq!(CachedAnswer::from_json("{}"), None);
        for r in [StopReason::MaxTokens, StopReason::ToolUse, StopReason::PauseTurn, StopReason::Other] {
            assert_eq!(stop_reason(serde_json::to_value(r).unwrap().as_str().unwrap()), Some(r));
        }
        let ev = back.events();
        assert_eq!(ev[0], StreamEvent::TextDelta { text: "Hello".into() });
        assert_eq!(ev.last(), Some(&StreamEvent::Done));
    }
}
