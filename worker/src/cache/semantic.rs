//! The semantic index: prompt embeddings, each pointing at an answer in the exact cache, searched by cosine
//! similarity. There is one index per model and cache scope ([`super::Scope`]), and an entry only matches a query
//! with the same `context` (what else the answer depends on: the system prompt, structured output, tools), so
//! an answer is never reused for another tenant, user or instruction set however similar the question.
//!
//! Pure: the runtime keeps an index in a Durable Object per index name (every write goes through that one
//! object, so concurrent stores cannot overwrite each other) or in isolate memory, and hands in the time.
//!
//! # Bounds and eviction
//! At most `max` entries ([`SemanticIndex::insert`]). When an entry is added: an entry for the same answer key is
//! replaced; expired entries are dropped; then, while over `max`, the entry stored longest ago goes.

use serde_json::Value;

use super::{at_str, at_u64, embedding_of};

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

// The messages below travel as JSON arrays between the worker and the index's Durable Object; they are written
// and read by hand (derived deserializers cost wasm size).

/// One stored embedding and the exact-cache key of its answer.
#[derive(Debug, Clone, PartialEq)]
pub struct SemanticEntry {
    /// Embedding of the prompt.
    pub embedding: Vec<f32>,
    /// Key of the [`super::CachedAnswer`].
    pub key: String,
    /// What else the answer depends on ([`super::semantic_context`]); only equal contexts match.
    pub context: String,
    /// When it was stored (ms since the epoch).
    pub stored_ms: u64,
    /// When it expires (ms since the epoch).
    pub expires_ms: u64,
}

impl SemanticEntry {
    fn live(&self, now_ms: u64) -> bool {
        self.expires_ms > now_ms
    }

    /// The JSON form: `[key, context, stored_ms, expires_ms, embedding]`.
    pub fn to_json(&self) -> String {
        let row = (&self.key, &self.context, self.stored_ms, self.expires_ms, &self.embedding);
        serde_json::to_string(&row).unwrap_or_default()
    }

    /// Reads [`SemanticEntry::to_json`]'s form.
    pub fn from_value(v: &Value) -> Option<Self> {
        let a = v.as_array()?;
        Some(Self {
            key: at_str(a, 0)?,
            context: at_str(a, 1)?,
            stored_ms: at_u64(a, 2)?,
            expires_ms: at_u64(a, 3)?,
            embedding: embedding_of(a.get(4)?)?,
        })
    }
}

/// A search of the index.
#[derive(Debug, Clone, PartialEq)]
pub struct SemanticQuery {
    /// Embedding of the prompt.
    pub embedding: Vec<f32>,
    /// Lowest cosine similarity that counts as a match.
    pub threshold: f64,
    /// The request's [`super::semantic_context`].
    pub context: String,
    /// Now (ms since the epoch).
    pub now_ms: u64,
    /// Entries stored before this are too old for the request (its `ttl`); 0 = any age.
    pub stored_after_ms: u64,
}

impl SemanticQuery {
    /// The JSON form: `[context, threshold, now_ms, stored_after_ms, embedding]`.
    pub fn to_json(&self) -> String {
        let row = (&self.context, self.threshold, self.now_ms, self.stored_after_ms, &self.embedding);
        serde_json::to_string(&row).unwrap_or_default()
    }

    /// Reads [`SemanticQuery::to_json`]'s form.
    pub fn from_json(text: &str) -> Option<Self> {
        let v: Value = serde_json::from_str(text).ok()?;
        let a = v.as_array()?;
        Some(Self {
            context: at_str(a, 0)?,
            threshold: a.get(1)?.as_f64()?,
            now_ms: at_u64(a, 2)?,
            stored_after_ms: at_u64(a, 3)?,
            embedding: embedding_of(a.get(4)?)?,
        })
    }
}

/// The best match of a [`SemanticQuery`].
#[derive(Debug, Clone, PartialEq)]
pub struct SemanticHit {
    /// Answer key of the entry.
    pub key: String,
    /// Its cosine similarity to the query.
    pub score: f64,
}

impl SemanticHit {
    /// The JSON form of a search's result: `[key, score]`, or `null` for no match.
    pub fn to_json(hit: Option<&Self>) -> String {
        serde_json::to_string(&hit.map(|h| (&h.key, h.score))).unwrap_or_default()
    }

    /// Reads [`SemanticHit::to_json`]'s form: `Some(None)` for no match; `None` for anything else.
    pub fn from_json(text: &str) -> Option<Option<Self>> {
        let v: Value = serde_json::from_str(text).ok()?;
        if v.is_null() {
            return Some(None);
        }
        let a = v.as_array()?;
        Some(Some(Self { key: at_str(a, 0)?, score: a.get(1)?.as_f64()? }))
    }
}

/// A store into the index: the entry and the bound.
#[derive(Debug, Clone, PartialEq)]
pub struct SemanticInsert {
    /// The new entry.
    pub entry: SemanticEntry,
    /// Most entries kept.
    pub max: usize,
    /// Now (ms since the epoch).
    pub now_ms: u64,
}

impl SemanticInsert {
    /// The JSON form: `[max, now_ms, entry]`.
    pub fn to_json(&self) -> String {
        format!("[{},{},{}]", self.max, self.now_ms, self.entry.to_json())
    }

    /// Reads [`SemanticInsert::to_json`]'s form.
    pub fn from_json(text: &str) -> Option<Self> {
        let v: Value = serde_json::from_str(text).ok()?;
        let a = v.as_array()?;
        Some(Self {
            max: usize::try_from(at_u64(a, 0)?).ok()?,
            now_ms: at_u64(a, 1)?,
            entry: SemanticEntry::from_value(a.get(2)?)?,
        })
    }
}

/// The entries of one index, in no particular order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SemanticIndex {
    entries: Vec<SemanticEntry>,
}

impl SemanticIndex {
    /// Entries held (expired ones included until the next insert drops them).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the index holds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The most similar live entry of the query's context, stored after `stored_after_ms`, at or above the
    /// threshold.
    pub fn best(&self, q: &SemanticQuery) -> Option<SemanticHit> {
        self.entries
            .iter()
            .filter(|e| e.live(q.now_ms) && e.context == q.context && e.stored_ms >= q.stored_after_ms)
            .map(|e| (e, cosine(&e.embedding, &q.embedding)))
            .filter(|(_, s)| *s >= q.threshold)
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(e, score)| SemanticHit { key: e.key.clone(), score })
    }

    /// Adds an entry (replacing one for the same answer key) and returns the keys of the entries evicted to stay
    /// within `max` (see the [module docs](self) for the order).
    pub fn insert(&mut self, ins: SemanticInsert) -> Vec<String> {
        let SemanticInsert { entry, max, now_ms } = ins;
        self.entries.retain(|e| e.key != entry.key);
        let mut evicted = Vec::new();
        self.entries.retain(|e| {
            let keep = e.live(now_ms);
            if !keep {
                evicted.push(e.key.clone());
            }
            keep
        });
        self.entries.push(entry);
        while self.entries.len() > max.max(1) {
            let oldest = (0..self.entries.len()).min_by_key(|&i| self.entries[i].stored_ms).unwrap_or(0);
            evicted.push(self.entries.swap_remove(oldest).key);
        }
        evicted
    }

    /// Restores one stored entry (no bound applied; the next insert applies it).
    pub fn load(&mut self, entry: SemanticEntry) {
        self.entries.retain(|e| e.key != entry.key);
        self.entries.push(entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str, embedding: Vec<f32>, stored_ms: u64) -> SemanticEntry {
        SemanticEntry { embedding, key: key.into(), context: "c".into(), stored_ms, expires_ms: stored_ms + 1000 }
    }

    fn query(embedding: Vec<f32>, now_ms: u64) -> SemanticQuery {
        SemanticQuery { embedding, threshold: 0.9, context: "c".into(), now_ms, stored_after_ms: 0 }
    }

    #[test]
    fn cosine_basics() {
        assert!((cosine(&[1.0, 0.0], &[2.0, 0.0]) - 1.0).abs() < 1e-9);
        assert!(cosine(&[1.0, 0.0], &[0.0, 1.0]).abs() < 1e-9);
        assert_eq!(cosine(&[1.0], &[1.0, 2.0]), 0.0);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 2.0]), 0.0);
    }

    #[test]
    fn finds_the_best_live_entry_of_the_same_context_above_the_threshold() {
        let mut i = SemanticIndex::default();
        i.insert(SemanticInsert { entry: entry("a", vec![1.0, 0.0], 10), max: 10, now_ms: 10 });
        i.insert(SemanticInsert { entry: entry("b", vec![0.6, 0.8], 20), max: 10, now_ms: 20 });
        assert_eq!(i.best(&query(vec![0.7, 0.7], 30)).unwrap().key, "b");
        assert!(i.best(&query(vec![0.0, 1.0], 30)).is_none(), "below the threshold");
        let other_context = SemanticQuery { context: "d".into(), ..query(vec![0.6, 0.8], 30) };
        assert!(i.best(&other_context).is_none(), "another system prompt never matches");
        assert!(i.best(&query(vec![0.6, 0.8], 1020)).is_none(), "expired");
        let recent_only = SemanticQuery { stored_after_ms: 15, ..query(vec![1.0, 0.0], 30) };
        assert!(i.best(&recent_only).is_none(), "older than the request's ttl");
    }

    #[test]
    fn stays_bounded_dropping_expired_entries_then_the_oldest() {
        let mut i = SemanticIndex::default();
        i.insert(SemanticInsert { entry: entry("a", vec![1.0], 10), max: 3, now_ms: 10 });
        i.insert(SemanticInsert { entry: entry("b", vec![1.0], 500), max: 3, now_ms: 500 });
        i.insert(SemanticInsert { entry: entry("c", vec![1.0], 600), max: 3, now_ms: 600 });
        // "a" expired at 1010: it goes first, and nothing else has to.
        assert_eq!(i.insert(SemanticInsert { entry: entry("d", vec![1.0], 1100), max: 3, now_ms: 1100 }), ["a"]);
        // Over the bound: the oldest stored ("b") goes.
        assert_eq!(i.insert(SemanticInsert { entry: entry("e", vec![1.0], 1200), max: 3, now_ms: 1200 }), ["b"]);
        // The same answer key replaces its entry without evicting anything.
        assert!(i.insert(SemanticInsert { entry: entry("e", vec![1.0], 1300), max: 3, now_ms: 1300 }).is_empty());
        assert_eq!(i.len(), 3);
    }

    #[test]
    fn messages_round_trip_as_json() {
        let q = query(vec![0.5, -0.25], 7);
        assert_eq!(SemanticQuery::from_json(&q.to_json()), Some(q));
        let ins = SemanticInsert { entry: entry("k", vec![0.125, 3.0], 5), max: 9, now_ms: 6 };
        assert_eq!(SemanticInsert::from_json(&ins.to_json()), Some(ins));
        let hit = SemanticHit { key: "k".into(), score: 0.97 };
        assert_eq!(SemanticHit::from_json(&SemanticHit::to_json(Some(&hit))), Some(Some(hit)));
        assert_eq!(SemanticHit::from_json(&SemanticHit::to_json(None)), Some(None));
        assert!(SemanticHit::from_json("error|x").is_none());
        let e = entry("k", vec![0.5], 1);
        assert_eq!(SemanticEntry::from_value(&serde_json::from_str(&e.to_json()).unwrap()), Some(e));
        assert_eq!(
            SemanticEntry::from_value(&serde_json::json!({"embedding": [1.0], "key": "k"})),
            None,
            "an old entry"
        );
    }
}
