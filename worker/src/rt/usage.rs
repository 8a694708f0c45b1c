//! The usage store's runtime side: every recorded request's [`Record`] goes, after the response and in
//! `waitUntil`, to the store (`usage/store.mjs`: the `USAGE` Durable Object shard its id hashes to, or the
//! in-process store) and to the OpenTelemetry exporter when one is configured (`super::otel`). A failing store or
//! collector is logged and counted, never the request's failure.

use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

use super::js::{console_log, js_error};
use crate::config::Config;
use crate::log::LogLine;
use crate::usage::Record;

#[wasm_bindgen(module = "/src/usage/store.mjs")]
extern "C" {
    /// Keeps one record (rejects when the store fails).
    #[wasm_bindgen(js_name = usageWrite)]
    fn usage_write(env: &JsValue, record_json: &str, settings_json: &str) -> js_sys::Promise;
    /// Answers an admin query: `ok\n<JSON>`, `bad\n<param>\n<message>` or `fail\n<why>`.
    #[wasm_bindgen(js_name = usageAdmin)]
    fn usage_admin(env: &JsValue, kind: &str, url: &str, settings_json: &str, now: f64) -> js_sys::Promise;
}

#[wasm_bindgen(module = "/src/otel.mjs")]
extern "C" {
    /// Queues a record's span for the exporter (never rejects; drops are counted and logged there).
    #[wasm_bindgen(js_name = otelPush)]
    fn otel_push(record_json: &str, exporter_json: &str) -> js_sys::Promise;
}

/// The store's settings as `usageWrite` takes them: made once per configuration (an isolate keeps one), not per
/// record.
fn settings_json(config: &Rc<Config>) -> Rc<str> {
    thread_local! {
        static SEEN: std::cell::RefCell<Option<(Rc<Config>, Rc<str>)>> = const { std::cell::RefCell::new(None) };
    }
    SEEN.with_borrow_mut(|seen| match seen {
        Some((c, json)) if Rc::ptr_eq(c, config) => json.clone(),
        _ => {
            let json: Rc<str> = config.usage.to_json(&config.limits).into();
            *seen = Some((config.clone(), json.clone()));
            json
        }
    })
}

/// An admin query's answer (see `usage_admin`).
pub(crate) async fn admin(env: &JsValue, config: &Rc<Config>, kind: &str, url: &str) -> Result<String, String> {
    let settings = settings_json(config);
    let p = usage_admin(env, kind, url, &settings, js_sys::Date::now());
    let v = JsFuture::from(p).await.map_err(|e| js_error(&e))?;
    Ok(v.as_string().unwrap_or_default())
}

/// What a request records into (set on the recorded routes only).
#[derive(Clone)]
pub(crate) struct Sink {
    pub env: JsValue,
    pub config: Rc<Config>,
}

impl Sink {
    /// The sink for a request served with `env`'s bindings.
    pub fn new(env: &JsValue, config: Rc<Config>) -> Self {
        Self { env: env.clone(), config }
    }

    /// Records `line` after the response: stores its record and hands its span to the exporter, in a task that
    /// `js_ctx.waitUntil` keeps alive (when given; a Durable Object's task lives as long as the object). Never
    /// fails: a store error is logged (`usage_store_error`: how many records were lost, and in this isolate so far).
    pub fn record(&self, line: &LogLine, js_ctx: Option<&JsValue>) {
        if !self.config.usage.enabled && self.config.otel.is_none() {
            return;
        }
        let record = Record::from_log(line);
        let this = self.clone();
        let task = future_to_promise(async move {
            let settings = settings_json(&this.config);
            let json = record.to_json();
            let written = match this.config.usage.enabled {
                true => JsFuture::from(usage_write(&this.env, &json, &settings)).await.map(|_| ()),
                false => Ok(()),
            };
            if let Err(e) = written {
                // The store says how many records it lost, and how many in this isolate so far.
                let error: String = js_error(&e).chars().take(300).collect();
                console_log(&crate::log::incident(&record.id, "usage_store_error", error));
            }
            if let Some(exporter) = &this.config.otel {
                let _ = JsFuture::from(otel_push(&json, &exporter.to_json())).await;
            }
            Ok(JsValue::UNDEFINED)
        });
        match js_ctx {
            Some(c) => super::wait_until(c, &task),
            None => super::js::handled(&task),
        }
    }
}
