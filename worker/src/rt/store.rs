//! Bindings-backed state: the limiter (Durable Object `LIMITER` when bound, else one per isolate) and the cache
//! (KV `CACHE` when bound, else in-isolate memory).

use std::cell::RefCell;
use std::collections::HashMap;

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;

use super::js::{call, call_async, get_obj, now_ms};
use crate::limiter::{Decision, Limiter, Op};

thread_local! {
    static ISOLATE_LIMITER: RefCell<Limiter> = RefCell::new(Limiter::new());
    static ISOLATE_CACHE: RefCell<HashMap<String, (String, u64)>> = RefCell::new(HashMap::new());
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
        match get_obj(env, "LIMITER") {
            Some(ns) => Self::Durable(ns),
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

/// Where cached answers live.
#[derive(Clone)]
pub enum CacheStore {
    /// Workers KV.
    Kv(JsValue),
    /// In-isolate memory.
    Isolate,
}

impl CacheStore {
    /// From the environment's bindings.
    pub fn from_env(env: &JsValue) -> Self {
        match get_obj(env, "CACHE") {
            Some(kv) => Self::Kv(kv),
            None => Self::Isolate,
        }
    }

    /// Reads a value.
    pub async fn get(&self, key: &str) -> Option<String> {
        match self {
            Self::Isolate => ISOLATE_CACHE.with(|c| {
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
            Self::Kv(kv) => call_async(kv, "get", &[JsValue::from_str(key)]).await.ok().and_then(|v| v.as_string()),
        }
    }

    /// Writes a value that expires after `ttl_s` (KV's minimum is 60 s).
    pub async fn put(&self, key: &str, value: &str, ttl_s: u64) -> Result<(), String> {
        match self {
            Self::Isolate => {
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
            Self::Kv(kv) => {
                let opts = Object::new();
                let _ = Reflect::set(&opts, &"expirationTtl".into(), &JsValue::from_f64(ttl_s.max(60) as f64));
                call_async(kv, "put", &[JsValue::from_str(key), JsValue::from_str(value), opts.into()]).await.map(|_| ())
            }
        }
    }
}
