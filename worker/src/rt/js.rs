//! Thin bindings to the Workers runtime: global `fetch`, timers, console, streams and responses.

use std::cell::Cell;
use std::rc::Rc;

use js_sys::{Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortController, Headers, ReadableStreamDefaultReader, Request, RequestInit, Response, ResponseInit,
    WritableStreamDefaultWriter,
};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(req: &Request) -> Promise;
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(cb: &js_sys::Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout_with_arg(cb: &js_sys::Function, ms: f64, arg: &JsValue) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
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

/// 16 random hex characters.
pub fn random_id() -> String {
    (0..4).map(|_| format!("{:04x}", (random() * 65536.0) as u32 & 0xffff)).collect()
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
    /// The other side went away (the client stopped reading).
    Gone,
}

/// A stream reader whose reads can time out without losing data: a read still pending after a timeout is
/// raced again by the next call instead of issuing a second read.
pub struct ChunkReader {
    reader: ReadableStreamDefaultReader,
    pending: Option<Promise>,
}

impl ChunkReader {
    /// Wraps a reader.
    pub fn new(reader: ReadableStreamDefaultReader) -> Self {
        Self { reader, pending: None }
    }

    /// Reads one chunk, giving up after `timeout_ms`; `gone` is a promise that resolves to `undefined` when the
    /// client disconnects ([`Writer::closed`]).
    pub async fn read(&mut self, timeout_ms: u32, gone: Option<&Promise>) -> Read {
        let read = self.pending.take().unwrap_or_else(|| self.reader.read());
        let timer = Rc::new(Cell::new(JsValue::UNDEFINED));
        let t = timer.clone();
        let timeout = Promise::new(&mut |resolve, _| {
            t.set(set_timeout_with_arg(&resolve, f64::from(timeout_ms), &JsValue::from_str("timeout")));
        });
        let race = js_sys::Array::new();
        race.push(&read);
        race.push(&timeout);
        if let Some(g) = gone {
            race.push(g);
        }
        let result = JsFuture::from(Promise::race(&race)).await;
        clear_timeout(&timer.take());
        match result {
            Err(e) => Read::Failed(js_error(&e)),
            Ok(v) if v.as_string().as_deref() == Some("timeout") => {
                self.pending = Some(read);
                Read::Timeout
            }
            Ok(v) if v.is_undefined() => {
                self.pending = Some(read);
                Read::Gone
            }
            Ok(v) => {
                let done = Reflect::get(&v, &"done".into()).map(|d| d.is_truthy()).unwrap_or(true);
                if done {
                    return Read::Done;
                }
                match Reflect::get(&v, &"value".into()) {
                    Ok(value) if value.is_instance_of::<Uint8Array>() => Read::Chunk(value.unchecked_into::<Uint8Array>().to_vec()),
                    Ok(value) if value.is_string() => Read::Chunk(value.as_string().unwrap_or_default().into_bytes()),
                    _ => Read::Failed("stream yielded a non-byte chunk".into()),
                }
            }
        }
    }

    /// Reads the next upstream chunk for a client stream: gives up after `stall_ms` of silence
    /// ([`Read::Timeout`]), and every `keepalive_ms` of silence writes an SSE comment (`: ping`) to the client,
    /// which is also how a client that went away is noticed while the upstream is quiet ([`Read::Gone`]).
    pub async fn read_for_client(&mut self, writer: &mut Writer, stall_ms: u32, keepalive_ms: u32) -> Read {
        let mut waited = 0u32;
        loop {
            let slice = keepalive_ms.max(1).min(stall_ms.saturating_sub(waited).max(1));
            let closed = writer.closed.clone();
            match self.read(slice, Some(&closed)).await {
                Read::Timeout => {
                    waited = waited.saturating_add(slice);
                    if waited >= stall_ms {
                        return Read::Timeout;
                    }
                    if !writer.write(b": ping\n\n").await {
                        return Read::Gone;
                    }
                }
                other => return other,
            }
        }
    }

    /// Cancels the stream (the upstream connection is dropped).
    pub fn cancel(&self) {
        let _ = self.reader.cancel();
    }
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

/// Sends a request with the global `fetch`; the returned controller aborts it.
pub async fn fetch(method: &str, url: &str, headers: &[(String, String)], body: &[u8]) -> Result<Sent, String> {
    let abort = AbortController::new().map_err(|e| js_error(&e))?;
    let h = Headers::new().map_err(|e| js_error(&e))?;
    for (k, v) in headers {
        h.append(k, v).map_err(|e| js_error(&e))?;
    }
    let init = RequestInit::new();
    init.set_method(method);
    init.set_headers(&h);
    if !body.is_empty() {
        init.set_body(&Uint8Array::from(body));
    }
    init.set_signal(Some(&abort.signal()));
    let req = Request::new_with_str_and_init(url, &init).map_err(|e| js_error(&e))?;
    let resp = JsFuture::from(global_fetch(&req)).await.map_err(|e| js_error(&e))?;
    Ok(Sent { response: resp.unchecked_into(), abort })
}

/// Reads a whole body, at most `limit` bytes, each read within `timeout_ms`.
pub async fn read_all(stream: Option<web_sys::ReadableStream>, limit: usize, timeout_ms: u32) -> Result<Vec<u8>, ReadAllError> {
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
    let init = response_init(status, headers);
    Response::new_with_opt_str_and_init(if body.is_empty() { None } else { Some(body) }, &init)
        .unwrap_or_else(|_| Response::error())
}

/// A streaming response and the writer that feeds it.
pub fn stream_response(status: u16, headers: &[(String, String)]) -> Result<(Response, Writer), JsValue> {
    let ts = web_sys::TransformStream::new()?;
    let writer = ts.writable().get_writer()?;
    let init = response_init(status, headers);
    let resp = Response::new_with_opt_readable_stream_and_init(Some(&ts.readable()), &init)?;
    // `closed` settles (either way) when the client side goes away; both outcomes become `undefined`.
    let mark = Closure::<dyn FnMut(JsValue)>::new(|_| {});
    let closed = writer.closed().then2(&mark, &mark);
    Ok((resp, Writer { writer, closed, _mark: mark, broken: false }))
}

fn response_init(status: u16, headers: &[(String, String)]) -> ResponseInit {
    let init = ResponseInit::new();
    init.set_status(status);
    if let Ok(h) = Headers::new() {
        for (k, v) in headers {
            let _ = h.append(k, v);
        }
        init.set_headers(&h);
    }
    init
}

/// The writing end of a streaming response.
pub struct Writer {
    writer: WritableStreamDefaultWriter,
    /// Resolves to `undefined` when the client side goes away (or the stream is closed).
    pub closed: Promise,
    _mark: Closure<dyn FnMut(JsValue)>,
    broken: bool,
}

impl Writer {
    /// Writes bytes; `false` once the client has gone away.
    pub async fn write(&mut self, bytes: &[u8]) -> bool {
        if self.broken {
            return false;
        }
        if bytes.is_empty() {
            return true;
        }
        let chunk = Uint8Array::from(bytes);
        match JsFuture::from(self.writer.write_with_chunk(&chunk)).await {
            Ok(_) => true,
            Err(_) => {
                self.broken = true;
                false
            }
        }
    }

    /// Closes the stream (normal end).
    pub async fn close(&mut self) {
        if !self.broken {
            let _ = JsFuture::from(self.writer.close()).await;
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

/// Calls `obj.name(args...)` and awaits the returned promise.
pub async fn call_async(obj: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, String> {
    let f: js_sys::Function = Reflect::get(obj, &JsValue::from_str(name))
        .map_err(|e| js_error(&e))?
        .dyn_into()
        .map_err(|_| format!("{name} is not a function"))?;
    let arr = js_sys::Array::new();
    for a in args {
        arr.push(a);
    }
    let r = Reflect::apply(&f, obj, &arr).map_err(|e| js_error(&e))?;
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
