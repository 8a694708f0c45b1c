//! `/v1/chat/completions`, `/v1/responses`, `/v1/messages`: SDK-compatible routes. Same-format responses pass
//! through byte for byte (decoded alongside for metering); `/v1/chat/completions` over an Anthropic or Responses
//! model is translated.

use edgechat::provider::{build_request, decode_response, ProviderKind, StreamDecoder};
use edgechat::{HttpRequest, StreamEvent};
use web_sys::Response;

use super::js::{now_ms, response, stream_response, Read, Writer};
use super::upstream::{self, Body, Stats, Upstream};
use super::{upstream_api_error, wait_until, Ctx};
use crate::compat::{self, CompatRequest, Format};
use crate::config::ModelEntry;
use crate::error::ApiError;
use crate::events::{round_usd, ErrorInfo, Outcome, Producer};
use crate::translate::{self, ChunkEncoder, MessagesEncoder};
use crate::policy;

const ANTHROPIC_VERSION: &str = "2023-06-01";

pub(crate) async fn handle(
    mut ctx: Ctx,
    format: Format,
    body: &[u8],
    anthropic_version: Option<String>,
    anthropic_beta: Option<String>,
) -> Response {
    let mut req = match compat::parse(format, body) {
        Ok(r) => r,
        Err(e) => return ctx.error(&e),
    };
    let (alias, entry) = match policy::resolve_model(&ctx.config, Some(&req.model)) {
        Ok((a, e)) => (a.to_string(), e.clone()),
        Err(e) => return ctx.error(&e),
    };
    ctx.log.alias = Some(alias.clone());
    ctx.log.provider = Some(entry.provider.as_str().into());
    ctx.log.model = Some(entry.model.clone());
    if let Err(e) = req.check_limits(&ctx.config.limits, entry.provider) {
        return ctx.error(&e);
    }
    let translated = if format.native_to(entry.provider) {
        None
    } else {
        match req.to_chat_request(&entry.model, ctx.config.limits.max_tokens) {
            Ok(r) => Some(r),
            Err(e) => return ctx.error(&e),
        }
    };
    let lease = match ctx.acquire().await {
        Ok(l) => l,
        Err(e) => return ctx.error(&e),
    };
    let chain = upstream::chain(&ctx.config, &alias);
    let config = ctx.config.clone();
    let mut stats = Stats::default();
    let result = upstream::send(&config, &chain, req.stream, ctx.started_ms, &mut stats, Some(&ctx.gone), &|e| {
        if format.native_to(e.provider) {
            Some(passthrough_request(&config, &req, e, anthropic_version.as_deref(), anthropic_beta.as_deref()))
        } else {
            let mut r = translated.clone()?;
            r.model = e.model.clone();
            r.prompt_cache = e.provider == ProviderKind::Anthropic && config.prompt_cache;
            build_request(&config.provider(e.provider), &r).ok()
        }
    })
    .await;
    ctx.log.attempts = stats.attempts;
    ctx.log.ttfb_ms = stats.ttfb_ms;
    let up = match result {
        Ok(up) => up,
        Err(f) => {
            ctx.log.provider = Some(f.entry.provider.as_str().into());
            ctx.log.model = Some(f.entry.model.clone());
            ctx.log.error = Some(format!("{}:{}", f.error.status, ctx.scrub(&f.error.message)));
            ctx.release(lease, 0, 0.0).await;
            if f.client_gone {
                return super::failed(&mut ctx, &f, &ApiError::new(499, "client_gone", "the client went away"));
            }
            // Same format: the SDK understands the provider's own error body (scrubbed of key fragments).
            if let (Some((status, ct, raw)), true) = (&f.raw, format.native_to(f.entry.provider)) {
                let mut h = ctx.headers();
                h.push(("content-type".into(), if ct.is_empty() { "application/json".into() } else { ct.clone() }));
                if let Some(ms) = f.error.retry_after_ms {
                    h.push(("retry-after".into(), ms.div_ceil(1000).to_string()));
                }
                ctx.log.status = *status;
                ctx.log.outcome = "error";
                ctx.write_log();
                let text = ctx.scrub(&String::from_utf8_lossy(raw));
                return response(*status, &h, &text);
            }
            let msg = ctx.scrub(&f.error.message);
            return ctx.error(&upstream_api_error(&f, &msg));
        }
    };
    ctx.log.provider = Some(up.entry.provider.as_str().into());
    ctx.log.model = Some(up.entry.model.clone());
    ctx.log.status = 200;
    let native = format.native_to(up.entry.provider);
    let mut headers = ctx.headers();
    if let Body::Full(bytes) = &up.body {
        // Non-streaming.
        let (text, usage, estimated) = if native {
            let ct = up.headers.iter().find(|(k, _)| k == "content-type").map(|(_, v)| v.clone());
            headers.push(("content-type".into(), ct.unwrap_or_else(|| "application/json".into())));
            let (u, est) = match decode_response(format.decoder_kind(), bytes) {
                Ok(r) => (r.usage, false),
                Err(_) => (Default::default(), true),
            };
            (String::from_utf8_lossy(bytes).into_owned(), u, est)
        } else {
            headers.push(("content-type".into(), "application/json".into()));
            match decode_response(up.entry.provider, bytes) {
                Ok(r) => {
                    let body = if format == Format::Anthropic {
                        translate::message(&format!("msg_{}", ctx.request_id), &req.model, &r)
                    } else {
                        translate::completion(&format!("chatcmpl-{}", ctx.request_id), &req.model, now_ms() / 1000, &r)
                    };
                    (body.to_string(), r.usage, false)
                }
                Err(e) => {
                    ctx.release(lease, 0, 0.0).await;
                    return ctx.error(&ApiError::new(502, "upstream_error", ctx.scrub(&e.to_string())));
                }
            }
        };
        let cost = ctx.config.pricing.cost(&up.entry.model, &usage).map(round_usd);
        ctx.log.set_usage(&usage, estimated);
        ctx.log.cost_usd = cost;
        ctx.log.outcome = "complete";
        ctx.release(lease, usage.total_input_tokens() + usage.output_tokens, cost.unwrap_or(0.0)).await;
        ctx.write_log();
        return response(200, &headers, &text);
    }
    headers.push(("content-type".into(), "text/event-stream; charset=utf-8".into()));
    headers.push(("cache-control".into(), "no-cache, no-transform".into()));
    let (resp, writer) = match stream_response(200, &headers, &ctx.gone) {
        Ok(x) => x,
        Err(_) => {
            up.abort.abort();
            ctx.release(lease, 0, 0.0).await;
            return ctx.error(&ApiError::internal());
        }
    };
    let js_ctx = ctx.js_ctx.clone();
    let mode = if native {
        Mode::Passthrough(format)
    } else {
        Mode::Translate(if format == Format::Anthropic {
            Encoder::Messages(MessagesEncoder::new(format!("msg_{}", ctx.request_id), req.model.clone()))
        } else {
            Encoder::Chat(ChunkEncoder::new(format!("chatcmpl-{}", ctx.request_id), req.model.clone(), now_ms() / 1000, req.include_usage()))
        })
    };
    let done = wasm_bindgen_futures::future_to_promise(async move {
        pump(ctx, up, writer, mode, req, lease).await;
        Ok(wasm_bindgen::JsValue::UNDEFINED)
    });
    wait_until(&js_ctx, &done);
    resp
}

fn passthrough_request(
    config: &crate::config::Config,
    req: &CompatRequest,
    entry: &ModelEntry,
    anthropic_version: Option<&str>,
    anthropic_beta: Option<&str>,
) -> HttpRequest {
    let p = config.provider(entry.provider);
    let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
    if req.stream {
        headers.push(("accept".into(), "text/event-stream".into()));
    }
    match (entry.provider, &p.api_key) {
        (ProviderKind::Anthropic, key) => {
            if let Some(k) = key {
                headers.push(("x-api-key".into(), k.clone()));
            }
            headers.push(("anthropic-version".into(), anthropic_version.unwrap_or(ANTHROPIC_VERSION).to_string()));
            if let Some(b) = anthropic_beta {
                headers.push(("anthropic-beta".into(), b.to_string()));
            }
        }
        (_, Some(k)) => headers.push(("authorization".into(), format!("Bearer {k}"))),
        (_, None) => {}
    }
    headers.extend(p.extra_headers.iter().cloned());
    HttpRequest {
        method: "POST".into(),
        url: format!("{}{}", p.base_url, req.format.path()),
        headers,
        body: req.upstream_body(&entry.model),
    }
}

enum Mode {
    Passthrough(Format),
    Translate(Encoder),
}

/// The output format of a translated stream.
enum Encoder {
    Chat(ChunkEncoder),
    Messages(MessagesEncoder),
}

impl Encoder {
    fn push(&mut self, ev: &StreamEvent) -> String {
        match self {
            Self::Chat(e) => e.push(ev),
            Self::Messages(e) => e.push(ev),
        }
    }
    fn finish(&mut self, usage: &edgechat::Usage) -> String {
        match self {
            Self::Chat(e) => e.finish(usage),
            Self::Messages(e) => e.finish(usage),
        }
    }
    fn error(&self, kind: &str, message: &str) -> String {
        match self {
            Self::Chat(e) => e.error(kind, message),
            Self::Messages(e) => e.error(kind, message),
        }
    }
}

async fn pump(mut ctx: Ctx, up: Upstream, mut writer: Writer, mut mode: Mode, req: CompatRequest, lease: u64) {
    let Upstream { abort, body, entry, .. } = up;
    let Body::Stream { mut reader, first } = body else { return };
    let mut decoder = StreamDecoder::new(entry.provider);
    let mut meter = Producer::new();
    let mut failure: Option<ErrorInfo> = None;
    let mut aborted = false;
    let mut ended = first.is_none();
    let stall = ctx.config.limits.stall_timeout_ms;
    let keepalive = ctx.config.limits.keepalive_ms;
    let mut chunk = first;
    loop {
        if let Some(c) = chunk.take() {
            if let Mode::Passthrough(_) = mode {
                if !writer.write(&c) {
                    aborted = true;
                    break;
                }
            }
            if failure.is_none() {
                decoder.feed(&c);
                if !step(&mut decoder, &mut meter, &mut mode, &mut writer, &mut failure, &ctx) {
                    aborted = true;
                    break;
                }
            }
        }
        if ended || meter.is_done() || (failure.is_some() && matches!(mode, Mode::Translate(_))) {
            break;
        }
        match reader.read_for_client(&mut writer, stall, keepalive).await {
            Read::Chunk(c) => chunk = Some(c),
            Read::Done | Read::Failed(_) => ended = true,
            Read::Timeout => {
                failure = Some(ErrorInfo::stalled(stall));
                break;
            }
            Read::Gone => {
                aborted = true;
                break;
            }
        }
    }
    if !aborted && failure.is_none() && !meter.is_done() {
        decoder.finish();
        if !step(&mut decoder, &mut meter, &mut mode, &mut writer, &mut failure, &ctx) {
            aborted = true;
        }
        if failure.is_none() && !meter.is_done() && !aborted {
            failure = Some(ErrorInfo::from_stream_error(&edgechat::StreamError::Truncated, |s| s.to_string()));
        }
    }
    let reader = if meter.is_done() {
        Some(reader)
    } else {
        reader.cancel();
        abort.abort();
        None
    };
    let (usage, estimated) = meter.usage(req.prompt_chars);
    let cost = ctx.config.pricing.cost(&entry.model, &usage).map(round_usd);
    let outcome = if aborted {
        Outcome::Aborted
    } else if let Some(f) = &failure {
        // Tell the SDK the stream failed, in the endpoint's own error shape (no terminal event follows).
        let text = match &mode {
            Mode::Translate(enc) => enc.error(&f.kind, &f.message),
            Mode::Passthrough(Format::Anthropic) => format!(
                "event: error\ndata: {}\n\n",
                serde_json::json!({ "type": "error", "error": { "type": "api_error", "message": f.message } })
            ),
            Mode::Passthrough(Format::OpenAiResponses) => format!(
                "event: error\ndata: {}\n\n",
                serde_json::json!({ "type": "error", "code": f.kind, "message": f.message, "sequence_number": 0 })
            ),
            Mode::Passthrough(Format::OpenAiChat) => {
                format!("data: {}\n\n", serde_json::json!({ "error": { "type": f.kind, "message": f.message } }))
            }
        };
        // A provider's own mid-stream error already passed through.
        if !(matches!(mode, Mode::Passthrough(_)) && f.kind != "truncated" && f.kind != "stalled") {
            let _ = writer.write(text.as_bytes());
        }
        ctx.log.error = Some(f.kind.clone());
        if f.truncated {
            Outcome::Truncated
        } else {
            Outcome::Error
        }
    } else {
        if let Mode::Translate(enc) = &mut mode {
            let _ = writer.write(enc.finish(&usage).as_bytes());
        }
        Outcome::Complete
    };
    writer.close();
    if let Some(r) = reader {
        r.finish().await; // the answer is complete: keep the upstream connection for reuse
    }
    ctx.log.outcome = outcome.as_str();
    ctx.log.set_usage(&usage, estimated);
    ctx.log.cost_usd = cost;
    ctx.release(lease, usage.total_input_tokens() + usage.output_tokens, cost.unwrap_or(0.0)).await;
    ctx.write_log();
}

/// Drains the decoder into the meter (and the translator, whose output goes out in one write); `false` when the
/// client went away.
fn step(
    decoder: &mut StreamDecoder,
    meter: &mut Producer,
    mode: &mut Mode,
    writer: &mut Writer,
    failure: &mut Option<ErrorInfo>,
    ctx: &Ctx,
) -> bool {
    let mut out = String::new();
    while let Some(item) = decoder.next_event() {
        match item {
            Ok(ev) => {
                meter.push(&ev);
                if let Mode::Translate(enc) = mode {
                    if !matches!(ev, StreamEvent::Done) {
                        out.push_str(&enc.push(&ev));
                    }
                }
            }
            Err(e) => {
                *failure = Some(ErrorInfo::from_stream_error(&e, |s| ctx.scrub(s)));
                break;
            }
        }
    }
    writer.write(out.as_bytes())
}
