//! The same `/widget` handler with its I/O driven from Rust, as the edge's `rt/` drives its own: an `async fn`
//! polled by wasm-bindgen-futures, every runtime promise awaited through `JsFuture`, one call into `io.mjs` per step.
//! Beside the JS-driven floor (`worker.mjs`), it tells what that way of driving the I/O costs, apart from the work.

use js_sys::{Array, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

use crate::{prepare, Frames};

#[wasm_bindgen(module = "/io.mjs")]
extern "C" {
    fn header(req: &JsValue, name: &str) -> Option<String>;
    #[wasm_bindgen(js_name = envText)]
    fn env_text(env: &JsValue, name: &str) -> Option<String>;
    #[wasm_bindgen(js_name = bodyBytes)]
    fn body_bytes(req: &JsValue) -> Promise;
    fn uuid() -> String;
    fn status(resp: &JsValue) -> u16;
    fn reader(resp: &JsValue) -> JsValue;
    fn read(reader: &JsValue) -> Promise;
    fn drain(reader: &JsValue) -> Promise;
    fn write(writer: &JsValue, bytes: &[u8]) -> Promise;
    fn close(writer: &JsValue) -> Promise;
    #[wasm_bindgen(js_name = waitUntil)]
    fn wait_until(ctx: &JsValue, promise: &Promise);
    #[wasm_bindgen(js_name = abortController)]
    fn abort_controller() -> JsValue;
    #[wasm_bindgen(js_name = signalOf)]
    fn signal_of(controller: &JsValue) -> JsValue;
    fn abort(controller: &JsValue);
}

#[wasm_bindgen]
extern "C" {
    /// The reference's own pieces (`reference-worker.mjs`: its upstream request, response stream, refusal and
    /// response), handed in by `worker-async.mjs`.
    pub type Reference;
    #[wasm_bindgen(method)]
    fn post(this: &Reference, url: &str, body: Uint8Array, signal: &JsValue) -> Promise;
    #[wasm_bindgen(method)]
    fn stream(this: &Reference) -> Array;
    #[wasm_bindgen(method)]
    fn refuse(this: &Reference, status: u16, message: &str) -> JsValue;
    #[wasm_bindgen(method)]
    fn respond(this: &Reference, readable: &JsValue, id: &str, origin: Option<String>) -> JsValue;
    #[wasm_bindgen(js_namespace = console, js_name = log)]
    fn console_log(s: &str);
    #[wasm_bindgen(js_namespace = Date)]
    fn now() -> f64;
}

const SITE_KEY: &str = "pk_bench_0000";
const ORIGIN_PREFIX: &str = "http://127.0.0.1:";

/// The named points of `bench/edge/marks.json` this handler passes, printed as one `MARKS` line at the first write
/// when the `MARKS` binding is set (as the JS handler does).
struct Marks(Option<Vec<(&'static str, f64)>>);

impl Marks {
    fn mark(&mut self, name: &'static str) {
        if let Some(m) = &mut self.0 {
            m.push((name, now()));
        }
    }

    fn print(&mut self) {
        if let Some(m) = self.0.take() {
            let flat: Vec<String> = m.iter().map(|(n, t)| format!("\"{n}\",{t}")).collect();
            console_log(&format!("MARKS [{}]", flat.join(",")));
        }
    }
}

/// Makes wasm-bindgen's task queue now (`worker-async.mjs` calls it with the global `queueMicrotask` hidden, as the
/// edge's `rt::start` does, so the queue schedules with a resolved promise's `then` as the edge's does).
#[wasm_bindgen(js_name = makeQueue)]
pub fn make_queue() {
    wasm_bindgen_futures::spawn_local(async {});
}

/// The request's log line (the JS handler's).
#[derive(serde::Serialize)]
struct LogLine<'a> {
    request_id: &'a str,
    route: &'a str,
    model: &'a str,
    status: u16,
    outcome: &'a str,
    input_tokens: f64,
    output_tokens: f64,
    cost_usd: f64,
    duration_ms: f64,
}

/// The Worker's `fetch`: the JS handler's steps, in Rust.
#[wasm_bindgen]
pub fn handle(req: JsValue, env: JsValue, ctx: JsValue, reference: Reference) -> Promise {
    future_to_promise(async move { Ok(widget(req, env, ctx, reference).await) })
}

async fn widget(req: JsValue, env: JsValue, ctx: JsValue, reference: Reference) -> JsValue {
    let started = now();
    let mut marks = Marks(env_text(&env, "MARKS").map(|_| vec![("Start", started)]));
    let id = uuid();
    let origin = header(&req, "origin");
    if header(&req, "x-edgechat-site-key").as_deref() != Some(SITE_KEY) {
        return reference.refuse(401, "unknown site key");
    }
    if origin.as_deref().is_some_and(|o| !o.starts_with(ORIGIN_PREFIX)) {
        return reference.refuse(403, "origin not allowed");
    }
    marks.mark("Headers");
    let Ok(body) = JsFuture::from(body_bytes(&req)).await else {
        return reference.refuse(400, "could not read the body");
    };
    let body = Uint8Array::from(body).to_vec();
    marks.mark("BodyRead");
    let upstream_body = match prepare(&body) {
        Ok(b) => b,
        Err(e) => {
            let s = e.as_string().unwrap_or_default();
            let (status, message) = s.split_once(' ').unwrap_or(("400", "bad request"));
            return reference.refuse(status.parse().unwrap_or(400), message);
        }
    };
    marks.mark("Prepared");
    let controller = abort_controller();
    let url = format!("{}/v1/chat/completions", env_text(&env, "UP").unwrap_or_default());
    marks.mark("FetchCall");
    let sent = reference.post(&url, Uint8Array::from(&upstream_body[..]), &signal_of(&controller));
    marks.mark("FetchReturned");
    let up = match JsFuture::from(sent).await {
        Ok(r) => r,
        Err(_) => return reference.refuse(502, "upstream unreachable"),
    };
    marks.mark("UpstreamHeaders");
    if status(&up) != 200 {
        return reference.refuse(502, &format!("upstream {}", status(&up)));
    }
    let r = reader(&up);
    let first = JsFuture::from(read(&r)).await;
    marks.mark("FirstChunk");
    let first = match first {
        Ok(v) if v.is_undefined() => None,
        Ok(v) => Some(Uint8Array::from(v).to_vec()),
        Err(_) => return reference.refuse(502, "upstream failed"),
    };

    let mut frames = Frames::new();
    let pair = reference.stream();
    let (readable, writer) = (pair.get(0), pair.get(1));
    marks.mark("ResponseMade");
    let Ok(start) = frames.first(&id, first) else { return reference.refuse(502, "upstream sent a malformed event") };
    let first_write = write(&writer, &start);
    marks.mark("Write");
    marks.print();
    let response = reference.respond(&readable, &id, origin);
    let pump = async move {
        let _ = JsFuture::from(first_write).await;
        while !frames.ended() {
            let Ok(v) = JsFuture::from(read(&r)).await else { break };
            if v.is_undefined() {
                break;
            }
            match frames.feed(&Uint8Array::from(v).to_vec()) {
                Ok(Some(out)) => {
                    let _ = JsFuture::from(write(&writer, &out)).await;
                }
                Ok(None) => {}
                Err(_) => break,
            }
        }
        let _ = JsFuture::from(write(&writer, &frames.tail())).await;
        let _ = JsFuture::from(close(&writer)).await;
        let _ = JsFuture::from(drain(&r)).await;
        let line = LogLine {
            request_id: &id,
            route: "/api/chat",
            model: "gpt-4o-mini",
            status: 200,
            outcome: if frames.ended() { "complete" } else { "truncated" },
            input_tokens: frames.input(),
            output_tokens: frames.output(),
            cost_usd: frames.cost(),
            duration_ms: now() - started,
        };
        console_log(&serde_json::to_string(&line).expect("a struct of strings and numbers serializes"));
        Ok::<_, JsValue>(JsValue::UNDEFINED)
    };
    let done = future_to_promise(async move {
        let r = pump.await;
        if r.is_err() {
            abort(&controller);
        }
        r
    });
    wait_until(&ctx, &done);
    response
}
