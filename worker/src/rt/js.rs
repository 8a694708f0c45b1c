//! Thin bindings to the Workers runtime: global `fetch`, timers, console, streams and responses.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::task::{Poll, Waker};

use js_sys::{Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, ReadableStreamDefaultReader, Response, WritableStreamDefaultWriter};

use super::marks::{mark, Mark};
pub use super::wait::Signal;
pub use super::wait::Timer;
use super::wait::{now, set_timeout};

// The runtime calls that take one crossing of the wasm boundary each instead of one per header or field
// (`glue.mjs`).
#[wasm_bindgen(module = "/src/rt/glue.mjs")]
extern "C" {
    #[wasm_bindgen(js_name = edgeFetch, catch)]
    fn edge_fetch(
        url: &str,
        method: &str,
        lines: &str,
        body: &[u8],
        signal: &web_sys::AbortSignal,
    ) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_name = edgeResponse, catch)]
    fn edge_response(status: u16, lines: &str, body: &JsValue) -> Result<Response, JsValue>;
    #[wasm_bindgen(js_name = edgeStreamResponse, catch)]
    fn edge_stream_response(status: u16, lines: &str, on_closed: &JsValue) -> Result<js_sys::Array, JsValue>;
    #[wasm_bindgen(js_name = edgeRead)]
    fn edge_read(reader: &ReadableStreamDefaultReader, on_chunk: &JsValue, on_error: &JsValue) -> Promise;
    #[wasm_bindgen(js_name = edgeWrite)]
    fn edge_write(writer: &WritableStreamDefaultWriter, bytes: &[u8], ok: &JsValue, err: &JsValue);
    #[wasm_bindgen(js_name = edgeWaitUntil, catch)]
    fn edge_wait_until(ctx: &JsValue, promise: &Promise) -> Result<(), JsValue>;
    #[wasm_bindgen(js_name = edgeRequestHeaders)]
    fn edge_request_headers(request: &web_sys::Request, names: &str) -> String;
}

/// Header pairs as one `name\nvalue\n…` string (`glue.mjs`). A pair holding a newline (which no valid header has)
/// is left out, as the runtime leaves out a response header it refuses; [`fetch`] refuses such a request first.
fn header_lines(headers: &[(String, String)]) -> String {
    let mut lines = String::with_capacity(headers.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
    for (k, v) in headers.iter().filter(|(k, v)| !k.contains('\n') && !v.contains('\n')) {
        if !lines.is_empty() {
            lines.push('\n');
        }
        lines.push_str(k);
        lines.push('\n');
        lines.push_str(v);
    }
    lines
}

/// `ctx.waitUntil(promise)`: keeps the isolate alive for `promise` after the response, when the runtime has it.
/// A runtime that refuses (one that throws once its request is over) leaves `promise` running unkept, which may cut
/// off what it was to finish (a log line, a usage record): a `wait_until_error` line says so. (`catch` also gives
/// the import a JS shim: two imports of `glue.mjs` that wasm-bindgen can call directly, this one and `edgeRead`,
/// would each get a namespace import under the same key, a duplicate key that bundlers warn about.)
pub fn wait_until(js_ctx: &JsValue, promise: &Promise) {
    if let Err(e) = edge_wait_until(js_ctx, promise) {
        let error: String = js_error(&e).chars().take(300).collect();
        console_log(&crate::log::incident("", "wait_until_error", error));
    }
}

/// The request headers named in `names` (lowercase), read in one call: `None` for each one the request lacks.
pub fn request_headers(req: &web_sys::Request, names: &[&str]) -> Vec<Option<String>> {
    let joined = names.join("\n");
    let values = edge_request_headers(req, &joined);
    let mut out: Vec<Option<String>> = values.split('\n').map(|v| v.strip_prefix('+').map(str::to_string)).collect();
    out.resize(names.len(), None);
    out
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = log)]
    pub fn console_log(s: &str);
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// A value in `[0, 1)`.
pub fn random() -> f64 {
    js_sys::Math::random()
}

/// 16 random hex characters (two draws of 32 bits: `Math.random` has 52).
pub fn random_id() -> String {
    let draw = || (random() * 4_294_967_296.0) as u64 & 0xffff_ffff;
    format!("{:016x}", draw() << 32 | draw())
}

/// Resolves after `ms`.
pub async fn sleep(ms: u64) {
    let p = Promise::new(&mut |resolve, _| {
        set_timeout(&resolve, ms as f64);
    });
    let _ = JsFuture::from(p).await;
}

/// What a timed read produced.
pub enum Read {
    /// A chunk of bytes.
    Chunk(Vec<u8>),
    /// The stream ended.
    Done,
    /// Nothing arrived in time.
    Timeout,
    /// The stream failed (connection reset, aborted).
    Failed(String),
    /// The other side went away (the client, or a stop).
    Gone,
}

/// The settled outcome of the read in flight, filled in by the reader's two persistent callbacks.
#[derive(Default)]
struct ReadSlot {
    result: Option<Got>,
    waker: Option<Waker>,
}

/// What a read settled with (`edgeRead` in `glue.mjs`).
enum Got {
    Chunk(Vec<u8>),
    Done,
    NotBytes,
    Failed(JsValue),
}

type Callback = Closure<dyn FnMut(JsValue)>;
/// `edgeRead`'s chunk callback: (bytes, their length, or -1 at the end, -2 for a chunk that is not bytes).
type ChunkCallback = Closure<dyn FnMut(JsValue, i32)>;

/// A stream reader whose reads can time out without losing data: a read still pending after a timeout is awaited
/// again by the next call instead of issuing a second read. One [`Timer`] (its callback made once) and two result
/// callbacks serve every read, so a chunk costs one `reader.read()` and one `setTimeout`, and no `Promise.race` or
/// closure allocation.
pub struct ChunkReader {
    reader: ReadableStreamDefaultReader,
    slot: Rc<RefCell<ReadSlot>>,
    /// The promise of the read in flight (its callbacks fill `slot`).
    pending: Option<Promise>,
    /// The callbacks of every read: (chunk, error).
    callbacks: Option<(ChunkCallback, Callback)>,
    timer: Timer,
    /// A read returned [`Read::Done`] or [`Read::Failed`]: the body is over.
    ended: bool,
}

impl ChunkReader {
    /// Wraps a reader.
    pub fn new(reader: ReadableStreamDefaultReader) -> Self {
        let slot: Rc<RefCell<ReadSlot>> = Rc::default();
        let settle = |slot: &Rc<RefCell<ReadSlot>>, got: Got| {
            let mut s = slot.borrow_mut();
            s.result = Some(got);
            if let Some(w) = s.waker.take() {
                w.wake();
            }
        };
        let on_chunk = {
            let slot = slot.clone();
            Closure::<dyn FnMut(JsValue, i32)>::new(move |bytes: JsValue, n: i32| {
                let got = match usize::try_from(n) {
                    Ok(n) => {
                        let mut out = vec![0; n];
                        bytes.unchecked_ref::<Uint8Array>().copy_to(&mut out);
                        Got::Chunk(out)
                    }
                    Err(_) if n == -1 => Got::Done,
                    Err(_) => Got::NotBytes,
                };
                settle(&slot, got);
            })
        };
        let on_error = {
            let slot = slot.clone();
            Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| settle(&slot, Got::Failed(e)))
        };
        let callbacks = Some((on_chunk, on_error));
        Self { reader, slot, pending: None, callbacks, timer: Timer::default(), ended: false }
    }

    /// Reads one chunk, giving up after `timeout_ms` ([`Read::Timeout`]) or when `gone` is set ([`Read::Gone`]).
    pub async fn read(&mut self, timeout_ms: u32, gone: Option<&Signal>) -> Read {
        self.read_until(now() + f64::from(timeout_ms), gone).await
    }

    /// The timer its reads wait on (a write's backpressure wait may share it: see [`Writer::ready`]).
    pub fn timer(&self) -> &Timer {
        &self.timer
    }

    /// Reads one chunk, giving up at `deadline` (ms since the epoch) or when `gone` is set.
    pub async fn read_until(&mut self, deadline: f64, gone: Option<&Signal>) -> Read {
        if self.pending.is_none() {
            let Some((on_chunk, on_error)) = &self.callbacks else { return Read::Done };
            self.pending = Some(edge_read(&self.reader, on_chunk.as_ref(), on_error.as_ref()));
        }
        let (slot, timer) = (&self.slot, &self.timer);
        let settled = std::future::poll_fn(|cx| {
            let mut s = slot.borrow_mut();
            if let Some(r) = s.result.take() {
                return Poll::Ready(Ok(r));
            }
            s.waker = Some(cx.waker().clone());
            drop(s);
            if gone.is_some_and(|g| g.poll_set(cx)) {
                return Poll::Ready(Err(Read::Gone));
            }
            if timer.poll_until(deadline, cx) {
                return Poll::Ready(Err(Read::Timeout));
            }
            Poll::Pending
        })
        .await;
        // The timeout stays armed across reads: a stream's deadlines only move later while chunks keep coming, so
        // the armed timeout fires early at most once per keep-alive period and is re-armed then (`Timer`), instead
        // of a setTimeout and a clearTimeout per chunk. It is cleared when the reader is dropped.
        let got = match settled {
            Err(unsettled) => return unsettled, // the read stays in flight for the next call
            Ok(got) => got,
        };
        self.pending = None;
        match got {
            Got::Chunk(bytes) => Read::Chunk(bytes),
            Got::Done => {
                self.ended = true;
                Read::Done
            }
            Got::NotBytes => Read::Failed("stream yielded a non-byte chunk".into()),
            Got::Failed(e) => {
                self.ended = true;
                Read::Failed(js_error(&e))
            }
        }
    }

    /// Cancels the stream (the upstream connection is dropped). On a stream that already failed (a reset upstream
    /// connection) the cancel rejects with that error; nothing awaits it, so it is marked handled (an unhandled
    /// rejection ends a Node process; workerd only logs it).
    pub fn cancel(&self) {
        handled(&self.reader.cancel());
    }

    /// Ends an upstream body whose answer is complete (its terminal event was seen): reads on to the body's end —
    /// which follows the last event at once from a well-behaved provider — so the runtime can reuse the connection
    /// for the next request, then cancels whatever is left after [`DRAIN_MS`] or a few more chunks. Cancelling
    /// right away dropped the connection: under workerd every request then paid for a new one (a TCP connect, and
    /// the runtime's setup and teardown — ~5% of its CPU per request in a profile), where reading to the end lets
    /// one connection serve request after request. Call it after the client's stream is closed.
    pub async fn finish(mut self) {
        let deadline = now() + f64::from(DRAIN_MS);
        for _ in 0..4 {
            if self.ended {
                return;
            }
            if !matches!(self.read_until(deadline, None).await, Read::Chunk(_)) {
                break;
            }
        }
        if !self.ended {
            self.cancel();
        }
    }
}

/// How long [`ChunkReader::finish`] waits for the end of a complete answer's body.
pub const DRAIN_MS: u32 = 250;

impl Drop for ChunkReader {
    fn drop(&mut self) {
        // A read still in flight calls back later: keep its callbacks alive until it settles, and end it now.
        if let (Some(p), Some(callbacks)) = (self.pending.take(), self.callbacks.take()) {
            let mut keep = Some(callbacks);
            let release = Closure::once_into_js(move |_: JsValue| drop(keep.take()));
            p.unchecked_ref::<Thenable>().then_both(&release, &release);
            self.cancel();
        }
    }
}

pub use crate::stream::WRITE_GIVE_UP_MS;

/// Marks a promise's rejection as handled (a rejection nobody handles ends a Node process; workerd logs it).
pub fn handled(p: &Promise) {
    thread_local! {
        static IGNORE: JsValue = Reflect::get(&js_sys::global(), &"Boolean".into()).unwrap_or(JsValue::UNDEFINED);
    }
    IGNORE.with(|f| {
        if f.is_function() {
            p.unchecked_ref::<Thenable>().catch_with(f);
        }
    });
}

/// A short description of a thrown JS value.
pub fn js_error(e: &JsValue) -> String {
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        return String::from(err.message());
    }
    e.as_string().unwrap_or_else(|| "unknown error".into())
}

/// A reader over a stream.
pub fn reader_of(stream: &web_sys::ReadableStream) -> ReadableStreamDefaultReader {
    stream.get_reader().unchecked_into()
}

/// An upstream request in flight.
pub struct Sent {
    /// The response, once headers arrived.
    pub response: Response,
    /// Aborts the upstream request.
    pub abort: AbortController,
}

/// Sends a request with the global `fetch`; the returned controller aborts it. Aborted when `gone` is set before
/// the response headers arrive.
pub async fn fetch(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
    gone: Option<&Signal>,
) -> Result<Sent, String> {
    let abort = AbortController::new().map_err(|e| js_error(&e))?;
    if let Some((k, _)) = headers.iter().find(|(k, v)| k.contains('\n') || v.contains('\n')) {
        return Err(format!("header {k:?} holds a newline"));
    }
    let lines = header_lines(headers);
    mark(Mark::FetchCall);
    let mut sent = JsFuture::from(edge_fetch(url, method, &lines, body, &abort.signal()).map_err(|e| js_error(&e))?);
    mark(Mark::FetchReturned);
    let resp = std::future::poll_fn(|cx| match std::pin::Pin::new(&mut sent).poll(cx) {
        Poll::Ready(r) => Poll::Ready(r.map_err(|e| js_error(&e))),
        Poll::Pending if gone.is_some_and(|g| g.poll_set(cx)) => Poll::Ready(Err("the client went away".into())),
        Poll::Pending => Poll::Pending,
    })
    .await
    .inspect_err(|_| abort.abort())?;
    mark(Mark::UpstreamHeaders);
    Ok(Sent { response: resp.unchecked_into(), abort })
}

/// Reads a whole body, at most `limit` bytes, each read within `timeout_ms`.
pub async fn read_all(
    stream: Option<web_sys::ReadableStream>,
    limit: usize,
    timeout_ms: u32,
) -> Result<Vec<u8>, ReadAllError> {
    let Some(stream) = stream else { return Ok(Vec::new()) };
    let mut reader = ChunkReader::new(reader_of(&stream));
    let mut out = Vec::new();
    loop {
        match reader.read(timeout_ms, None).await {
            Read::Chunk(c) => {
                out.extend_from_slice(&c);
                if out.len() > limit {
                    reader.cancel();
                    return Err(ReadAllError::TooLarge);
                }
            }
            Read::Done => return Ok(out),
            Read::Timeout => {
                reader.cancel();
                return Err(ReadAllError::Timeout);
            }
            Read::Failed(e) => return Err(ReadAllError::Failed(e)),
            Read::Gone => return Err(ReadAllError::Failed("the stream went away".into())),
        }
    }
}

/// A request's whole body when its length is declared (and already checked against the limit: the runtime ends
/// the body there): one `arrayBuffer()`, read by the runtime, instead of a reader, its callbacks and a timer.
/// A client that stops sending is cut off by the server's own request timeout (`worker/node.mjs`: 30 s; the Workers
/// platform's limits in workerd).
pub async fn read_declared(req: &web_sys::Request) -> Result<Vec<u8>, ReadAllError> {
    let p = req.array_buffer().map_err(|e| ReadAllError::Failed(js_error(&e)))?;
    let buf = JsFuture::from(p).await.map_err(|e| ReadAllError::Failed(js_error(&e)))?;
    Ok(Uint8Array::new(&buf).to_vec())
}

/// Why [`read_all`] failed.
#[derive(Debug)]
pub enum ReadAllError {
    /// Over the limit.
    TooLarge,
    /// A read took too long.
    Timeout,
    /// The stream failed.
    Failed(String),
}

/// A response with a string body.
pub fn response(status: u16, headers: &[(String, String)], body: &str) -> Response {
    response_with(status, headers, &JsValue::from_str(body))
}

/// A response whose body is `body` (another response's, relayed), or none.
pub fn stream_body_response(
    status: u16,
    headers: &[(String, String)],
    body: Option<web_sys::ReadableStream>,
) -> Response {
    response_with(status, headers, &body.map_or(JsValue::UNDEFINED, JsValue::from))
}

fn response_with(status: u16, headers: &[(String, String)], body: &JsValue) -> Response {
    edge_response(status, &header_lines(headers), body).unwrap_or_else(|_| Response::error())
}

/// A streaming response and the writer that feeds it. `gone` is this request's client-gone signal
/// ([`client_gone`]); the body's stream failing (the runtime errors it on the first write after the client left)
/// sets it too.
pub fn stream_response(
    status: u16,
    headers: &[(String, String)],
    gone: &Signal,
) -> Result<(Response, Writer), JsValue> {
    let lines = header_lines(headers);
    let settled: Rc<std::cell::Cell<u64>> = Rc::default();
    let waker: Rc<RefCell<Option<Waker>>> = Rc::default();
    let settle = |ok: bool| {
        let (settled, gone, waker) = (settled.clone(), gone.clone(), waker.clone());
        Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| {
            if !ok {
                gone.fire();
            }
            settled.set(settled.get() + 1);
            if let Some(w) = waker.borrow_mut().take() {
                w.wake();
            }
        })
    };
    let callbacks = [settle(true), settle(false)];
    // `closed` settles when the client side goes away (or after our close): the error callback serves it.
    let made = edge_stream_response(status, &lines, callbacks[1].as_ref())?;
    let (resp, writer): (Response, WritableStreamDefaultWriter) =
        (made.get(0).unchecked_into(), made.get(1).unchecked_into());
    let writer = Writer {
        writer,
        gone: gone.clone(),
        settled,
        waker,
        written: 0,
        callbacks: Some(callbacks),
        state: WriterState::Open,
        recording: None,
    };
    Ok((resp, writer))
}

/// One signal per request that is set when its client goes away: the request's `signal` aborts (workerd with the
/// `enable_request_signal` compatibility flag, as soon as the runtime sees the connection drop) or the response
/// body fails ([`stream_response`]; the runtime errors it on the first write after the drop).
pub fn client_gone(req: &web_sys::Request) -> Signal {
    Signal::from_abort(req.signal())
}

#[wasm_bindgen]
extern "C" {
    /// A promise, seen only through `then` / `catch` with plain JS functions.
    type Thenable;
    #[wasm_bindgen(method, js_name = then)]
    fn then_both(this: &Thenable, on_value: &JsValue, on_error: &JsValue) -> JsValue;
    #[wasm_bindgen(method, js_name = catch)]
    fn catch_with(this: &Thenable, on_error: &JsValue) -> JsValue;
}

#[derive(PartialEq)]
enum WriterState {
    Open,
    Closed,
}

/// The writing end of a streaming response: a write is one `writer.write()`, not awaited where it is made;
/// [`Writer::ready`] waits for it (backpressure), and its failure sets [`Writer::gone`].
pub struct Writer {
    writer: WritableStreamDefaultWriter,
    /// Set when the client goes away.
    pub gone: Signal,
    /// How many of the writes (and `closed`) settled.
    settled: Rc<std::cell::Cell<u64>>,
    waker: Rc<RefCell<Option<Waker>>>,
    /// Writes made.
    written: u64,
    /// `then` callbacks of every write: (value, error); the error one also serves `closed`.
    callbacks: Option<[Callback; 2]>,
    state: WriterState,
    /// A copy of every write while recording ([`Writer::record`]; the SDK routes' response cache).
    recording: Option<Vec<u8>>,
}

/// Most bytes [`Writer::record`] keeps; a longer response is not recorded.
pub const RECORD_MAX_BYTES: usize = 1 << 20;

impl Writer {
    /// Keeps a copy of what is written from now on (up to [`RECORD_MAX_BYTES`]).
    pub fn record(&mut self) {
        self.recording = Some(Vec::new());
    }

    /// What was written since [`Writer::record`]; `None` when not recording or over the limit.
    pub fn take_recording(&mut self) -> Option<Vec<u8>> {
        self.recording.take()
    }

    /// Sends bytes (one write); `false` once the client has gone away.
    pub fn write(&mut self, bytes: &[u8]) -> bool {
        if self.state != WriterState::Open || self.gone.is_set() {
            return false;
        }
        if let (false, Some([ok, err])) = (bytes.is_empty(), &self.callbacks) {
            edge_write(&self.writer, bytes, ok.as_ref(), err.as_ref());
            self.written += 1;
        }
        if let Some(r) = &mut self.recording {
            r.extend_from_slice(bytes);
            if r.len() > RECORD_MAX_BYTES {
                self.recording = None;
            }
        }
        true
    }

    /// Whether a write is still in flight (the client has not taken all that was written).
    pub fn pending(&self) -> bool {
        self.settled.get() < self.written
    }

    /// Waits until the client has taken what was written (backpressure, as awaiting each write would); `false`
    /// once the client has gone away — or has not taken the last write by `give_up_at` (ms since the epoch; see
    /// [`WRITE_GIVE_UP_MS`]), which sets [`Writer::gone`]. Under workerd (raw, behind Miniflare, and inside a
    /// Durable Object), a client that closes (FIN) while events are still coming can leave the write pending
    /// forever with nothing fired (not `request.signal`, not the body's `cancel`, not `writer.closed`): without a
    /// deadline the pump (or the object's relay) stays parked on it — or, with no timer pending at all, workerd
    /// cancels the whole request as hung, unlogged. `timer` keeps the task alive and wakes it to give up; pass the
    /// one the task waits on next (the reader's, or the relay's keep-alive timer), so it is left armed for that
    /// wait's deadline `first_at` and a chunk still costs at most one `setTimeout`.
    pub async fn ready(&self, first_at: f64, give_up_at: f64, timer: &Timer) -> bool {
        let (settled, written, gone) = (&self.settled, self.written, &self.gone);
        let mut at = first_at;
        let taken = std::future::poll_fn(|cx| {
            if settled.get() >= written {
                return Poll::Ready(true);
            }
            if gone.poll_set(cx) {
                return Poll::Ready(false);
            }
            *self.waker.borrow_mut() = Some(cx.waker().clone());
            while timer.poll_until(at, cx) {
                if at >= give_up_at {
                    return Poll::Ready(false);
                }
                at = give_up_at;
            }
            Poll::Pending
        })
        .await;
        if !taken {
            self.gone.fire();
        }
        taken && !self.gone.is_set()
    }

    /// Ends the stream: closes it (normal end), or aborts it once the client is gone — which also settles a write
    /// the client never took, so the runtime's pipe to it and the write callbacks are freed.
    pub fn close(&mut self) {
        if self.state == WriterState::Open {
            self.state = WriterState::Closed;
            let end = if self.gone.is_set() { self.writer.abort() } else { self.writer.close() };
            handled(&end);
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.close();
        // Writes settle before `closed` does (either way): free the callbacks once `closed` has called them.
        if let Some(callbacks) = self.callbacks.take() {
            let mut keep = Some(callbacks);
            let release = Closure::once_into_js(move |_: JsValue| drop(keep.take()));
            self.writer.closed().unchecked_ref::<Thenable>().then_both(&release, &release);
        }
    }
}

/// Reads a JS property as a string.
pub fn get_str(obj: &JsValue, name: &str) -> Option<String> {
    Reflect::get(obj, &JsValue::from_str(name)).ok().and_then(|v| v.as_string())
}

/// Reads a JS property, `None` when undefined or null.
pub fn get_obj(obj: &JsValue, name: &str) -> Option<JsValue> {
    Reflect::get(obj, &JsValue::from_str(name)).ok().filter(|v| !v.is_undefined() && !v.is_null())
}

/// Calls the method `obj.name(args...)` (the one way the edge calls a binding it has no typed import for:
/// Durable Object namespaces and stubs, storage, KV).
pub fn call(obj: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, String> {
    let f: js_sys::Function = Reflect::get(obj, &JsValue::from_str(name))
        .map_err(|e| js_error(&e))?
        .dyn_into()
        .map_err(|_| format!("{name} is not a function"))?;
    let arr: js_sys::Array = args.iter().collect();
    Reflect::apply(&f, obj, &arr).map_err(|e| js_error(&e))
}

/// [`call`], then awaits the returned promise (or value).
pub async fn call_async(obj: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, String> {
    let r = call(obj, name, args)?;
    JsFuture::from(Promise::resolve(&r)).await.map_err(|e| js_error(&e))
}

/// Response headers as lower-case pairs.
pub fn header_pairs(h: &Headers) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Ok(Some(iter)) = js_sys::try_iter(h) {
        for entry in iter.flatten() {
            let arr: js_sys::Array = entry.unchecked_into();
            if let (Some(k), Some(v)) = (arr.get(0).as_string(), arr.get(1).as_string()) {
                out.push((k.to_ascii_lowercase(), v));
            }
        }
    }
    out
}
