//! The usage store's runtime side: every recorded request's [`Record`] goes to the `USAGE` Durable Object shard
//! its id hashes to (SQL in `EdgechatUsage`, worker/entry.mjs), or, without the binding, to the in-process
//! [`MemoryStore`]; and to the OpenTelemetry exporter when one is configured (`super::otel`). All of it runs after
//! the response in `waitUntil`, and a failing store or collector is logged and counted, never the request's
//! failure.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

use super::js::{call, call_async, console_log, get_obj, get_str, now_ms};
use crate::config::Config;
use crate::log::LogLine;
use crate::usage::aggregate::{Listed, Row, Today};
use crate::usage::memory::MemoryStore;
use crate::usage::query::{RequestsQuery, UsageQuery};
use crate::usage::{ttfb_bucket, Record};

thread_local! {
    /// The store without the `USAGE` binding: one per isolate (on Node: per process).
    static MEMORY: RefCell<MemoryStore> = RefCell::new(MemoryStore::default());
    /// Writes that failed in this isolate.
    static FAILURES: Cell<u64> = const { Cell::new(0) };
}

/// Where records go.
#[derive(Clone)]
pub(crate) enum UsageStore {
    /// The `USAGE` Durable Object namespace: `usage.shards` SQLite objects named `usage-<n>`.
    Durable(JsValue),
    /// In-process memory. `fault`: the test-only `EDGECHAT_USAGE_FAULT=throw` makes every write fail.
    Memory { fault: bool },
}

impl UsageStore {
    /// From the environment's bindings.
    pub fn from_env(env: &JsValue) -> Self {
        match get_obj(env, "USAGE") {
            Some(ns) => Self::Durable(ns),
            None => Self::Memory { fault: get_str(env, "EDGECHAT_USAGE_FAULT").as_deref() == Some("throw") },
        }
    }

    fn shard(ns: &JsValue, n: u32) -> Result<JsValue, String> {
        let id = call(ns, "idFromName", &[JsValue::from_str(&format!("usage-{n}"))])?;
        call(ns, "get", &[id])
    }

    /// Keeps one record.
    pub async fn write(&self, r: &Record, config: &Config) -> Result<(), String> {
        let s = &config.usage;
        match self {
            Self::Memory { fault: true } => Err("usage store fault injected (EDGECHAT_USAGE_FAULT=throw)".into()),
            Self::Memory { fault: false } => {
                MEMORY.with(|m| m.borrow_mut().write(r, s, now_ms()));
                Ok(())
            }
            Self::Durable(ns) => {
                let meta = serde_json::json!({
                    "key": r.key(),
                    "bucket": ttfb_bucket(r.ttfb_ms),
                    "cached": u8::from(r.cached()),
                    "keep_records_ms": s.retention_ms(),
                    "keep_rollups_ms": s.rollup_ms(),
                });
                let stub = Self::shard(ns, r.shard(s.shards))?;
                let args = [JsValue::from_str(&r.to_json()), JsValue::from_str(&meta.to_string())];
                call_async(&stub, "write", &args).await.map(|_| ())
            }
        }
    }

    /// Asks every shard at once; their answers (JSON text) in shard order.
    async fn ask_all(ns: &JsValue, shards: u32, method: &str, query: &str) -> Result<Vec<Value>, String> {
        let all = js_sys::Array::new();
        for n in 0..shards {
            all.push(&call(&Self::shard(ns, n)?, method, &[JsValue::from_str(query)])?);
        }
        let done = JsFuture::from(js_sys::Promise::all(&all)).await.map_err(|e| super::js::js_error(&e))?;
        let done: js_sys::Array = done.into();
        done.iter()
            .map(|v| {
                let text = v.as_string().unwrap_or_default();
                serde_json::from_str(&text).map_err(|_| format!("a usage shard answered {:?}", short(&text)))
            })
            .collect()
    }

    /// The roll-up rows for `q` and today's sums, from every shard.
    pub async fn usage(&self, q: &UsageQuery, config: &Config) -> Result<(Vec<Row>, Today), String> {
        let Self::Durable(ns) = self else {
            return Ok(MEMORY.with(|m| m.borrow().usage(q)));
        };
        let (mut rows, mut today) = (Vec::new(), Today::default());
        for answer in Self::ask_all(ns, config.usage.shards, "usage", &q.shard_json()).await? {
            for r in answer["rows"].as_array().into_iter().flatten() {
                rows.push(Row::from_value(r).ok_or("a usage shard answered a row without an outcome")?);
            }
            today.usd += answer["today"]["cost_usd"].as_f64().unwrap_or(0.0);
            today.tokens += answer["today"]["tokens"].as_u64().unwrap_or(0);
        }
        Ok((rows, today))
    }

    /// The newest records for `q` from every shard (each shard's newest `limit + 1`).
    pub async fn requests(&self, q: &RequestsQuery, config: &Config) -> Result<Vec<Listed>, String> {
        let Self::Durable(ns) = self else {
            return Ok(MEMORY.with(|m| m.borrow().requests(q)));
        };
        let mut out = Vec::new();
        for answer in Self::ask_all(ns, config.usage.shards, "requests", &q.shard_json()).await? {
            for r in answer.as_array().into_iter().flatten() {
                let listed = (|| {
                    Some(Listed {
                        time: r["time"].as_u64()?,
                        id: r["id"].as_str()?.to_string(),
                        json: r["json"].as_str()?.to_string(),
                    })
                })();
                out.push(listed.ok_or("a usage shard answered a malformed record")?);
            }
        }
        Ok(out)
    }
}

fn short(s: &str) -> String {
    s.chars().take(120).collect()
}

/// What a request records into: the store and the configuration (set on the recorded routes only).
#[derive(Clone)]
pub(crate) struct Sink {
    pub store: UsageStore,
    pub config: Rc<Config>,
}

impl Sink {
    /// The sink for a request served with `env`'s bindings.
    pub fn new(env: &JsValue, config: Rc<Config>) -> Self {
        Self { store: UsageStore::from_env(env), config }
    }

    /// Records `line` after the response: stores its record and hands its span to the exporter, in a task that
    /// `js_ctx.waitUntil` keeps alive (when given; a Durable Object's task lives as long as the object). Never
    /// fails: a store error is logged (`usage_store_error`, with this isolate's count of failed writes).
    pub fn record(&self, line: &LogLine, js_ctx: Option<&JsValue>) {
        let record = Record::from_log(line);
        let this = self.clone();
        let task = future_to_promise(async move {
            if let Err(e) = this.store.write(&record, &this.config).await {
                let failures = FAILURES.with(|f| {
                    f.set(f.get() + 1);
                    f.get()
                });
                let detail = serde_json::json!({ "error": short(&e), "failures": failures });
                console_log(&crate::log::incident(&record.id, "usage_store_error", detail));
            }
            if let Some(exporter) = &this.config.otel {
                super::otel::push(exporter, crate::otel::span(&record).to_string()).await;
            }
            Ok(JsValue::UNDEFINED)
        });
        match js_ctx {
            Some(c) => super::wait_until(c, &task),
            None => super::js::handled(&task),
        }
    }
}
