//! Response caches: the stored form of an answer, and the semantic index (cosine similarity of embeddings).

use edgechat::{StopReason, StreamEvent, ToolCall, Usage};
use serde::{Deserialize, Serialize};

/// A cached answer: what a complete stream said, replayed as a stream on a hit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CachedAnswer {
    /// Provider that produced it.
    pub provider: String,
    /// Provider model id.
    pub model: String,
    /// Reasoning text.
    #[serde(default)]
    pub reasoning: String,
    /// Answer text.
    #[serde(default)]
    pub text: String,
    /// Tool calls.
    #[serde(default)]
    pub tool_calls: Vec<ToolCall>,
    /// Stop reason and the provider's raw value.
    #[serde(default)]
    pub stop: Option<(StopReason, String)>,
    /// Usage of the original request.
    #[serde(default)]
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
        let back: CachedAnswer = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        assert_eq!(back, a);
        let ev = back.events();
        assert_eq!(ev[0], StreamEvent::TextDelta { text: "Hello".into() });
        assert_eq!(ev.last(), Some(&StreamEvent::Done));
    }
}
