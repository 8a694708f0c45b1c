//! Bindings-backed state: the limiter (Durable Object `LIMITER` when bound, else one per isolate), the answer
//! cache (KV `CACHE` when bound, else in-isolate memory) and the semantic indexes (Durable Object `CACHE_INDEX`,
//! one per index name, when bound, else in-isolate memory).

use std::cell::RefCell;
use std::collections::HashMap;

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;

use super::js::{call, call_async, now_ms};
use crate::cache::{SemanticEntry, SemanticHit, SemanticIndex, SemanticInsert, SemanticQuery};
use crate::limiter::{Decision, Limiter, Op};

/// Most semantic indexes one isolate keeps in memory (without `CACHE_INDEX`); beyond it the one stored into
/// longest ago is dropped.
const ISOLATE_INDEXES: usize = 1000;

thread_local! {
    static ISOLATE_LIMITER: RefCell<Limiter> = RefCell::new(Limiter::new());
    static ISOLATE_CACHE: RefCell<HashMap<String, (String, u64)>> = RefCell::new(HashMap::new());
    /// (index name, last insert, index). Single-threaded: every insert sees the one before.
    static ISOLATE_INDEXES_MAP: RefCell<Vec<(String, u64, SemanticIndex)>> = const { RefCell::new(Vec::new()) };
}

/// Which limiter serves this edge.
#[derive(Clone)]
pub enum LimiterStore {
    /// One Durable Object per client key: global and exact.
    Durable(JsValue),
    /// Per-isolate memory.
    Isolate,
}

impl LimiterStore {
    /// From the environment's bindings.
    pub fn from_env(env: &JsValue) -> Self {
        Self::of(&super::bindings(env))
    }

    /// From bindings already read.
    pub(crate) fn of(b: &super::Bindings) -> Self {
        match &b.limiter {
            Some(ns) => Self::Durable(ns.clone()),
            None => Self::Isolate,
        }
    }

    /// Log name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Durable(_) => "durable_object",
            Self::Isolate => "isolate",
        }
    }

    /// Applies `op` for client `key`.
    pub async fn apply(&self, key: &str, op: Op) -> Result<Decision, String> {
        match self {
            Self::Isolate => Ok(ISOLATE_LIMITER.with(|l| l.borrow_mut().apply(op))),
            Self::Durable(ns) => {
                let id = call(ns, "idFromName", &[JsValue::from_str(key)])?;
                let stub = call(ns, "get", &[id])?;
                // RPC (`EdgechatLimiter.apply` in entry.mjs): no HTTP request and response to build and parse.
                let text = call_async(&stub, "apply", &[JsValue::from_str(&op.encode())]).await?;
                let text = text.as_string().unwrap_or_default();
                Decision::decode(&text).ok_or_else(|| format!("limiter answered {text:?}"))
            }
        }
    }
}

/// The Durable Object's core: the same [`Limiter`], global for its client key. Exported to the JS class.
#[wasm_bindgen]
pub struct LimiterCore {
    inner: Limiter,
}

#[wasm_bindgen]
impl LimiterCore {
    /// A fresh limiter.
    #[wasm_bindgen(constructor)]
    pub fn new() -> LimiterCore {
        LimiterCore { inner: Limiter::new() }
    }

    /// Applies one encoded [`Op`] ([`Op::encode`]); returns the encoded [`Decision`], or `error|…`.
    pub fn apply(&mut self, op_line: &str) -> String {
        match Op::decode(op_line) {
            Some(op) => self.inner.apply(op).encode(),
            None => format!("error|unreadable limiter request {:?}", op_line.chars().take(80).collect::<String>()),
        }
    }
}

#[wasm_bindgen]
impl LimiterCore {
    /// The daily budgets to persist ([`Limiter::export_budgets`]).
    pub fn export_budgets(&self) -> String {
        self.inner.export_budgets()
    }

    /// Restores persisted budgets ([`Limiter::import_budgets`]).
    pub fn import_budgets(&mut self, text: &str) {
        self.inner.import_budgets(text);
    }
}

impl Default for LimiterCore {
    fn default() -> Self {
        Self::new()
    }
}

/// Where cached answers and semantic indexes live.
#[derive(Clone)]
pub struct CacheStore {
    /// Workers KV for answers, or in-isolate memory.
    kv: Option<JsValue>,
    /// The `CACHE_INDEX` Durable Object namespace for semantic indexes, or in-isolate memory.
    index: Option<JsValue>,
}

impl CacheStore {
    /// From the environment's bindings.
    pub fn from_env(env: &JsValue) -> Self {
        Self::of(&super::bindings(env))
    }

    /// From bindings already read.
    pub(crate) fn of(b: &super::Bindings) -> Self {
        Self { kv: b.cache.clone(), index: b.cache_index.clone() }
    }

    /// Reads a value.
    pub async fn get(&self, key: &str) -> Option<String> {
        match &self.kv {
            None => ISOLATE_CACHE.with(|c| {
                let mut c = c.borrow_mut();
                match c.get(key) {
                    Some((v, exp)) if *exp > now_ms() => Some(v.clone()),
                    Some(_) => {
                        c.remove(key);
                        None
                    }
                    None => None,
                }
            }),
            Some(kv) => call_async(kv, "get", &[JsValue::from_str(key)]).await.ok().and_then(|v| v.as_string()),
        }
    }

    /// Writes a value that expires after `ttl_s` (KV's minimum is 60 s: a stored answer carries its own expiry).
    pub async fn put(&self, key: &str, value: &str, ttl_s: u64) -> Result<(), String> {
        match &self.kv {
            None => {
                ISOLATE_CACHE.with(|c| {
                    let mut c = c.borrow_mut();
                    if c.len() > 500 {
                        let now = now_ms();
                        c.retain(|_, (_, exp)| *exp > now);
                    }
                    c.insert(key.to_string(), (value.to_string(), now_ms() + ttl_s * 1000));
                });
                Ok(())
            }
            Some(kv) => {
                let opts = Object::new();
                let _ = Reflect::set(&opts, &"expirationTtl".into(), &JsValue::from_f64(ttl_s.max(60) as f64));
                call_async(kv, "put", &[JsValue::from_str(key), JsValue::from_str(value), opts.into()])
                    .await
                    .map(|_| ())
            }
        }
    }

    /// The best match in semantic index `name`.
    pub async fn query(&self, name: &str, q: &SemanticQuery) -> Result<Option<SemanticHit>, String> {
        match &self.index {
            None => Ok(ISOLATE_INDEXES_MAP.with(|m| m.borrow().iter().find(|e| e.0 == name).and_then(|e| e.2.best(q)))),
            Some(ns) => {
                let text = call_async(&index_stub(ns, name)?, "query", &[JsValue::from_str(&q.to_json())]).await?;
                let text = text.as_string().unwrap_or_default();
                SemanticHit::from_json(&text).ok_or_else(|| format!("cache index answered {:?}", short(&text)))
            }
        }
    }

    /// Adds an entry to semantic index `name` (bounded there; see `crate::cache::SemanticIndex::insert`).
    pub async fn insert(&self, name: &str, ins: SemanticInsert) -> Result<(), String> {
        match &self.index {
            None => {
                ISOLATE_INDEXES_MAP.with(|m| {
                    let mut m = m.borrow_mut();
                    let i = match m.iter().position(|e| e.0 == name) {
                        Some(i) => i,
                        None => {
                            if m.len() >= ISOLATE_INDEXES {
                                let oldest = (0..m.len()).min_by_key(|&i| m[i].1).unwrap_or(0);
                                m.swap_remove(oldest);
                            }
                            m.push((name.to_string(), 0, SemanticIndex::default()));
                            m.len() - 1
                        }
                    };
                    m[i].1 = ins.now_ms;
                    m[i].2.insert(ins);
                });
                Ok(())
            }
            Some(ns) => {
                let text = call_async(&index_stub(ns, name)?, "insert", &[JsValue::from_str(&ins.to_json())]).await?;
                match text.as_string().as_deref() {
                    Some("ok") => Ok(()),
                    other => Err(format!("cache index answered {:?}", other.map(short))),
                }
            }
        }
    }
}

fn index_stub(ns: &JsValue, name: &str) -> Result<JsValue, String> {
    let id = call(ns, "idFromName", &[JsValue::from_str(name)])?;
    call(ns, "get", &[id])
}

fn short(s: &str) -> String {
    s.chars().take(120).collect()
}

/// The `CACHE_INDEX` Durable Object's core: one [`SemanticIndex`], held in memory and changed only here, so
/// concurrent stores through the one object all land. Exported to the JS class (`EdgechatCacheIndex` in
/// entry.mjs), which keeps one storage entry per index entry (`e:<answer key>`).
#[wasm_bindgen]
pub struct SemanticIndexCore {
    inner: SemanticIndex,
}

#[wasm_bindgen]
impl SemanticIndexCore {
    /// An empty index.
    #[wasm_bindgen(constructor)]
    pub fn new() -> SemanticIndexCore {
        SemanticIndexCore { inner: SemanticIndex::default() }
    }

    /// Restores one stored entry (the JSON of a [`SemanticEntry`]); unreadable ones are skipped.
    pub fn load(&mut self, entry_json: &str) {
        let entry = serde_json::from_str(entry_json).ok().and_then(|v| SemanticEntry::from_value(&v));
        if let Some(e) = entry {
            self.inner.load(e);
        }
    }

    /// A [`SemanticQuery`] in, the [`SemanticHit`] (or `null`) out, as JSON.
    pub fn query(&self, query_json: &str) -> String {
        match SemanticQuery::from_json(query_json) {
            Some(q) => SemanticHit::to_json(self.inner.best(&q).as_ref()),
            None => "error|unreadable cache index query".into(),
        }
    }

    /// A [`SemanticInsert`] in; out, the storage changes as JSON: `{"id": "e:<key>", "entry": "<entry JSON>",
    /// "evicted": ["e:<key>", …]}` (or `error|…`).
    pub fn insert(&mut self, insert_json: &str) -> String {
        let Some(ins) = SemanticInsert::from_json(insert_json) else {
            return "error|unreadable cache index insert".into();
        };
        let id = format!("e:{}", ins.entry.key);
        let entry = ins.entry.to_json();
        let evicted: Vec<String> = self.inner.insert(ins).into_iter().map(|k| format!("e:{k}")).collect();
        serde_json::json!({ "id": id, "entry": entry, "evicted": evicted }).to_string()
    }

    /// Entries held.
    pub fn size(&self) -> usize {
        self.inner.len()
    }
}

impl Default for SemanticIndexCore {
    fn default() -> Self {
        Self::new()
    }
}
