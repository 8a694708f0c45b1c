//! The computing of `bench/edge/reference-worker.mjs` `/widget` (its `jsWork`) in Rust, nothing more: the widget
//! body parsed and checked, the upstream request composed, the upstream's SSE turned into widget frames. The
//! reference's handler does the I/O around it (`worker.mjs`), so the benchmark can tell what this work costs in wasm
//! in this runtime from what the edge's own design adds. Written plainly, as the JS is: serde_json where the JS has
//! `JSON.parse` and `JSON.stringify`.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

mod rust_io;

const PRICE_INPUT: f64 = 0.15e-6; // gpt-4o-mini, USD per token
const PRICE_OUTPUT: f64 = 0.6e-6;

#[derive(Deserialize)]
struct WidgetBody<'a> {
    #[serde(borrow)]
    messages: Option<Vec<Message<'a>>>,
}

#[derive(Deserialize, Serialize)]
struct Message<'a> {
    #[serde(borrow)]
    role: Cow<'a, str>,
    #[serde(borrow)]
    content: Cow<'a, str>,
}

#[derive(Serialize)]
struct Upstream<'a> {
    model: &'a str,
    messages: &'a [Message<'a>],
    max_tokens: u32,
    stream: bool,
    stream_options: StreamOptions,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

/// The upstream request's body for a widget body, or the refusal as `"<status> <message>"` (the JS's `{ status,
/// message }`).
#[wasm_bindgen]
pub fn prepare(body: &[u8]) -> Result<Vec<u8>, JsValue> {
    let refuse = |status: u16, message: &str| JsValue::from_str(&format!("{status} {message}"));
    // JSON of the wrong shape (a message without a string role or content) is the JS's `message` refusal.
    let parsed: WidgetBody = serde_json::from_slice(body).map_err(|e| {
        if e.is_data() {
            refuse(400, "message")
        } else {
            refuse(400, "the body is not JSON")
        }
    })?;
    let messages = parsed.messages.unwrap_or_default();
    if messages.is_empty() || messages.len() > 100 {
        return Err(refuse(400, "messages"));
    }
    let mut chars = 0;
    for m in &messages {
        if m.role != "user" && m.role != "assistant" {
            return Err(refuse(400, "message"));
        }
        chars += m.content.encode_utf16().count();
    }
    if chars > 100_000 {
        return Err(refuse(413, "too long"));
    }
    let up = Upstream {
        model: "gpt-4o-mini",
        messages: &messages,
        max_tokens: 4096,
        stream: true,
        stream_options: StreamOptions { include_usage: true },
    };
    Ok(serde_json::to_vec(&up).expect("a struct of strings and numbers serializes"))
}

#[derive(Deserialize)]
struct Chunk<'a> {
    #[serde(default, borrow)]
    choices: Vec<Choice<'a>>,
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Choice<'a> {
    #[serde(borrow)]
    delta: Option<Delta<'a>>,
    #[serde(borrow)]
    finish_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(borrow)]
    content: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Clone, Copy)]
struct Usage {
    prompt_tokens: u64,
    completion_tokens: u64,
}

#[derive(Serialize)]
struct Start<'a> {
    request_id: &'a str,
    stream_id: &'a str,
    model: &'a str,
    provider: &'a str,
    resumable: bool,
}

#[derive(Serialize)]
struct Text<'a> {
    text: &'a str,
}

#[derive(Serialize)]
struct UsageFrame {
    input_tokens: u64,
    output_tokens: u64,
    cost_usd: f64,
    estimated: bool,
}

#[derive(Serialize)]
struct Done<'a> {
    stop_reason: &'a str,
    raw_stop_reason: Option<&'a str>,
}

/// One request's upstream SSE turned into widget frames (the JS's `frames()`).
#[wasm_bindgen]
#[derive(Default)]
pub struct Frames {
    seq: u64,
    buf: Vec<u8>,
    usage: Option<Usage>,
    finish: Option<String>,
    ended: bool,
    cost: f64,
}

#[wasm_bindgen]
impl Frames {
    /// A request's frames, none written yet.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Frames {
        Frames::default()
    }

    fn frame(&mut self, out: &mut Vec<u8>, event: &str, data: &impl Serialize) {
        out.extend_from_slice(format!("id: {}\nevent: {event}\ndata: ", self.seq).as_bytes());
        serde_json::to_writer(&mut *out, data).expect("a frame serializes");
        out.extend_from_slice(b"\n\n");
        self.seq += 1;
    }

    fn text(&mut self, chunk: &[u8], out: &mut Vec<u8>) -> Result<(), JsValue> {
        // The buffer is taken while its events are read, so each is read in place (frames are written meanwhile).
        let mut buf = std::mem::take(&mut self.buf);
        buf.extend_from_slice(chunk);
        let mut from = 0;
        let result = self.events(&buf, &mut from, out);
        buf.drain(..from);
        self.buf = buf;
        result
    }

    /// Reads the whole events of `buf` from `from` on (moving `from` past each), writing their frames to `out`.
    fn events(&mut self, buf: &[u8], from: &mut usize, out: &mut Vec<u8>) -> Result<(), JsValue> {
        while let Some(cut) = buf[*from..].windows(2).position(|w| w == b"\n\n") {
            let event = &buf[*from..*from + cut];
            *from += cut + 2;
            for line in event.split(|&b| b == b'\n') {
                let Some(data) = line.strip_prefix(b"data:") else { continue };
                let data = data.trim_ascii();
                if data == b"[DONE]" {
                    self.ended = true;
                    continue;
                }
                let j: Chunk = serde_json::from_slice(data).map_err(|e| JsValue::from_str(&e.to_string()))?;
                if let Some(choice) = j.choices.first() {
                    if let Some(text) = choice.delta.as_ref().and_then(|d| d.content.as_deref()) {
                        if !text.is_empty() {
                            self.frame(out, "delta", &Text { text });
                        }
                    }
                    if let Some(f) = &choice.finish_reason {
                        self.finish = Some(f.to_string());
                    }
                }
                if j.usage.is_some() {
                    self.usage = j.usage;
                }
            }
        }
        Ok(())
    }

    /// The start frame and the first chunk's frames (`chunk` undefined when the body ended at once).
    pub fn first(&mut self, id: &str, chunk: Option<Vec<u8>>) -> Result<Vec<u8>, JsValue> {
        let mut out = Vec::new();
        let start = Start { request_id: id, stream_id: "", model: "fast", provider: "openai", resumable: false };
        self.frame(&mut out, "start", &start);
        if let Some(c) = chunk {
            self.text(&c, &mut out)?;
        }
        Ok(out)
    }

    /// A later chunk's frames, or undefined when it made none.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Option<Vec<u8>>, JsValue> {
        let mut out = Vec::new();
        self.text(chunk, &mut out)?;
        Ok((!out.is_empty()).then_some(out))
    }

    /// The usage and done frames.
    pub fn tail(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let (input, output) = self.usage.map_or((0, 0), |u| (u.prompt_tokens, u.completion_tokens));
        self.cost = input as f64 * PRICE_INPUT + output as f64 * PRICE_OUTPUT;
        let usage = UsageFrame {
            input_tokens: input,
            output_tokens: output,
            cost_usd: self.cost,
            estimated: self.usage.is_none(),
        };
        self.frame(&mut out, "usage", &usage);
        let finish = self.finish.take();
        let stop_reason = if finish.as_deref() == Some("length") { "max_tokens" } else { "end_turn" };
        self.frame(&mut out, "done", &Done { stop_reason, raw_stop_reason: finish.as_deref() });
        out
    }

    /// Whether `[DONE]` came.
    #[wasm_bindgen(getter)]
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// Input tokens, once [`Frames::tail`] ran.
    #[wasm_bindgen(getter)]
    pub fn input(&self) -> f64 {
        self.usage.map_or(0.0, |u| u.prompt_tokens as f64)
    }

    /// Output tokens, once [`Frames::tail`] ran.
    #[wasm_bindgen(getter)]
    pub fn output(&self) -> f64 {
        self.usage.map_or(0.0, |u| u.completion_tokens as f64)
    }

    /// The cost in USD, once [`Frames::tail`] ran.
    #[wasm_bindgen(getter)]
    pub fn cost(&self) -> f64 {
        self.cost
    }
}
