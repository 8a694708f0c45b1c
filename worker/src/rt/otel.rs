//! Sending spans (`crate::otel`): batched per isolate and posted as OTLP/HTTP JSON from `waitUntil`. The first
//! span of a batch makes its task wait up to [`MAX_WAIT_MS`] for more (or until [`MAX_BATCH`] have come, when the
//! task that adds the last one sends them at once). A collector that is down, slow (over [`TIMEOUT_MS`]) or
//! answers non-2xx costs the batch: it is dropped and counted (`otel_dropped` log line), never retried, and never
//! touches a request.

use std::cell::RefCell;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{AbortSignal, Headers, Request, RequestInit, Response};

use super::js::{call, call_async, console_log, js_error, sleep};
use crate::otel::{export_body, Exporter};

/// Most spans in one export.
pub const MAX_BATCH: usize = 100;
/// Longest a span waits for its batch to fill, ms.
pub const MAX_WAIT_MS: u64 = 1000;
/// Most spans queued; beyond it new spans are dropped (counted) until a batch is sent.
pub const MAX_QUEUE: usize = 2000;
/// Longest an export may take, ms.
pub const TIMEOUT_MS: u32 = 5000;

#[derive(Default)]
struct Batch {
    spans: Vec<String>,
    /// A task is waiting to send the current batch.
    timer: bool,
    /// Spans dropped in this isolate so far.
    dropped: u64,
}

thread_local! {
    static BATCH: RefCell<Batch> = RefCell::new(Batch::default());
}

/// Queues `span`; sends the batch when it is full, or (the first span's task) after [`MAX_WAIT_MS`].
pub(crate) async fn push(exporter: &Exporter, span: String) {
    enum Next {
        Nothing,
        SendNow(Vec<String>),
        Wait,
    }
    let next = BATCH.with(|b| {
        let mut b = b.borrow_mut();
        if b.spans.len() >= MAX_QUEUE {
            b.dropped += 1;
            return Next::Nothing;
        }
        b.spans.push(span);
        if b.spans.len() >= MAX_BATCH {
            Next::SendNow(b.spans.drain(..MAX_BATCH).collect())
        } else if !b.timer {
            b.timer = true;
            Next::Wait
        } else {
            Next::Nothing
        }
    });
    let spans = match next {
        Next::Nothing => return,
        Next::SendNow(spans) => spans,
        Next::Wait => {
            sleep(MAX_WAIT_MS).await;
            BATCH.with(|b| {
                let mut b = b.borrow_mut();
                b.timer = false;
                let n = b.spans.len().min(MAX_BATCH);
                b.spans.drain(..n).collect()
            })
        }
    };
    if spans.is_empty() {
        return;
    }
    if let Err(e) = send(exporter, &export_body(&spans)).await {
        let total = BATCH.with(|b| {
            let mut b = b.borrow_mut();
            b.dropped += spans.len() as u64;
            b.dropped
        });
        let line = serde_json::json!({ "otel_dropped": spans.len(), "otel_dropped_total": total, "otel_error": e });
        console_log(&line.to_string());
    }
}

async fn send(exporter: &Exporter, body: &str) -> Result<(), String> {
    let headers = Headers::new().map_err(|e| js_error(&e))?;
    headers.set("content-type", "application/json").map_err(|e| js_error(&e))?;
    for (k, v) in &exporter.headers {
        headers.set(k, v).map_err(|e| js_error(&e))?;
    }
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&JsValue::from_str(body));
    init.set_signal(Some(&AbortSignal::timeout_with_u32(TIMEOUT_MS)));
    let req = Request::new_with_str_and_init(&exporter.url, &init).map_err(|e| js_error(&e))?;
    let resp: Response = call_async(&js_sys::global(), "fetch", &[req.into()]).await?.unchecked_into();
    if let Some(b) = resp.body() {
        let _ = call(&b, "cancel", &[]);
    }
    match resp.status() {
        200..=299 => Ok(()),
        s => Err(format!("the collector answered {s}")),
    }
}
