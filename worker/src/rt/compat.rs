//! `/v1/chat/completions`, `/v1/responses`, `/v1/messages`: SDK-compatible routes. Same-format responses pass
//! through byte for byte (decoded alongside for metering); `/v1/chat/completions` over an Anthropic or Responses
//! model is translated.

use edgechat::provider::anthropic::encode::MessagesEncoder;
use edgechat::provider::openai_chat::encode::ChunkEncoder;
use edgechat::provider::{anthropic, build_request, decode_response, openai_chat, ProviderKind};
use edgechat::HttpRequest;
use web_sys::Response;

use super::cache;
use super::js::{now_ms, response, stream_response, Writer};
use super::pump;
use super::upstream::{self, Body, Stats, Upstream};
use super::{upstream_api_error, wait_until, Ctx};
use crate::cache::{answer_key, Plan, Scope, StoredResponse};
use crate::compat::{self, CompatRequest, Format};
use crate::config::ModelEntry;
use crate::error::ApiError;
use crate::policy;
use crate::stream::{round_usd, Encoder, Outcome, Output, Settings, StreamMachine};

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
    let site = ctx.principal.site.as_deref().and_then(|k| ctx.config.site_keys.get(k));
    let files = crate::attach::AttachLimits::of(&ctx.config.limits, site);
    if let Err(e) = req.check_attachments(&files, &alias, &entry) {
        return ctx.error(&e);
    }
    if ctx.config.sdk_instructions {
        let parts = crate::prompt::Parts {
            global: ctx.config.instructions.as_deref(),
            model: entry.instructions.as_deref(),
            ..crate::prompt::Parts::default()
        };
        if let Some(text) = crate::prompt::compose(&parts) {
            req.apply_instructions(&text);
        }
    }
    // The translated request, and the primary model's request as sent (built once, here).
    let (translated, built) = if format.native_to(entry.provider) {
        (None, None)
    } else {
        match req.to_chat_request(&entry.model, ctx.config.limits.max_tokens) {
            // What the provider's builder refuses (a document by URL to Chat Completions) is the client's error.
            Ok(mut r) => {
                r.prompt_cache = entry.provider == ProviderKind::Anthropic && ctx.config.prompt_cache;
                match build_request(&ctx.config.provider(entry.provider), &r) {
                    Ok(b) => (Some(r), Some(b)),
                    Err(e) => return ctx.error(&crate::error::ApiError::bad_request(e.to_string())),
                }
            }
            Err(e) => return ctx.error(&e),
        }
    };
    let built = std::cell::RefCell::new(built);
    let lease = match ctx.acquire().await {
        Ok(l) => l,
        Err(e) => return ctx.error(&e),
    };
    if let Err(e) = ctx.admit_provider(&entry, req.prompt_tokens + u64::from(ctx.config.limits.max_tokens)).await {
        ctx.release(lease, 0, 0.0).await;
        return ctx.error(&e);
    }
    // The exact cache, when `cache.sdk` turns it on: whole responses, per route, streaming mode and scope.
    let deterministic = req.body.get("temperature").and_then(serde_json::Value::as_f64) == Some(0.0);
    let plan =
        Plan::new(&ctx.config.cache, ctx.cache_control.unwrap_or_default(), deterministic, ctx.config.cache.sdk, false);
    ctx.log.cache = plan.status();
    let cache_key = plan.active().then(|| {
        let route = format!(
            "sdk{}|{}|{}|{}",
            format.path(),
            req.stream,
            anthropic_version.as_deref().unwrap_or(""),
            anthropic_beta.as_deref().unwrap_or("")
        );
        answer_key(&route, entry.provider, &req.upstream_body(&entry.model), &Scope::of(&ctx.config, &ctx.principal))
    });
    if let (Some(key), true) = (&cache_key, plan.read) {
        if let Some(r) = cache::load_response(&ctx.cache, key, &plan).await {
            return replay(ctx, r, key.clone(), lease).await;
        }
    }
    let chain = upstream::chain(&ctx.config, &alias);
    let config = ctx.config.clone();
    let mut stats = Stats::default();
    let build = |e: &ModelEntry| {
        if format.native_to(e.provider) {
            Some(passthrough_request(&config, &req, e, anthropic_version.as_deref(), anthropic_beta.as_deref()))
        } else if let Some(b) = built.borrow_mut().take().filter(|_| *e == entry) {
            Some(b)
        } else {
            let mut r = translated.clone()?;
            r.model = e.model.clone();
            r.prompt_cache = e.provider == ProviderKind::Anthropic && config.prompt_cache;
            build_request(&config.provider(e.provider), &r).ok()
        }
    };
    let result = upstream::send(&config, &chain, req.stream, ctx.started_ms, &mut stats, Some(&ctx.gone), &build).await;
    ctx.log.attempts = stats.attempts;
    ctx.log.fallback = stats.fallback;
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
    headers.push(("x-edgechat-cache".into(), ctx.log.cache.into()));
    if let Body::Full(bytes) = &up.body {
        // Non-streaming.
        let (text, usage, estimated) = if native {
            let ct = up.content_type.clone();
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
                        anthropic::encode::message(&format!("msg_{}", ctx.request_id), &req.model, &r)
                    } else {
                        openai_chat::encode::completion(
                            &format!("chatcmpl-{}", ctx.request_id),
                            &req.model,
                            now_ms() / 1000,
                            &r,
                        )
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
        if let (Some(key), false) = (&cache_key, estimated) {
            let content_type =
                headers.iter().find(|(k, _)| k == "content-type").map(|(_, v)| v.clone()).unwrap_or_default();
            let r = StoredResponse {
                content_type,
                body: text.clone(),
                provider: up.entry.provider.as_str().into(),
                model: up.entry.model.clone(),
                usage,
                ..StoredResponse::default()
            };
            ctx.log.cache_key = cache::save_response(&ctx.cache, key, &plan, r, &ctx.request_id).await;
        }
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
    let output = if native {
        Output::Passthrough { format, forward: true }
    } else if format == Format::Anthropic {
        Output::Translate(Encoder::Messages(MessagesEncoder::new(format!("msg_{}", ctx.request_id), req.model.clone())))
    } else {
        let id = format!("chatcmpl-{}", ctx.request_id);
        Output::Translate(Encoder::Chat(ChunkEncoder::new(id, req.model.clone(), now_ms() / 1000, req.include_usage())))
    };
    let store = cache_key.map(|key| (key, plan));
    let done = wasm_bindgen_futures::future_to_promise(async move {
        pump(ctx, up, writer, output, req.prompt_tokens, lease, store).await;
        Ok(wasm_bindgen::JsValue::UNDEFINED)
    });
    wait_until(&js_ctx, &done);
    resp
}

/// Replays a stored SDK response byte for byte, marked as a hit (at no cost).
async fn replay(mut ctx: Ctx, r: StoredResponse, key: String, lease: u64) -> Response {
    ctx.log.cache = "hit";
    ctx.log.cache_kind = Some("exact");
    ctx.log.cache_key = Some(key);
    ctx.log.provider = Some(r.provider.clone());
    ctx.log.model = Some(r.model.clone());
    ctx.log.status = 200;
    ctx.log.outcome = "complete";
    ctx.log.set_usage(&r.usage, false);
    ctx.log.cost_usd = Some(0.0);
    ctx.log.ttfb_ms = Some(now_ms().saturating_sub(ctx.started_ms));
    ctx.release(lease, 0, 0.0).await;
    ctx.write_log();
    let mut h = ctx.headers();
    h.push(("content-type".into(), r.content_type.clone()));
    if r.content_type.starts_with("text/event-stream") {
        h.push(("cache-control".into(), "no-cache, no-transform".into()));
    }
    h.push(("x-edgechat-cache".into(), "hit".into()));
    h.push(("x-edgechat-cache-kind".into(), "exact".into()));
    response(200, &h, &r.body)
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

async fn pump(
    mut ctx: Ctx,
    up: Upstream,
    mut writer: Writer,
    output: Output,
    prompt_tokens: u64,
    lease: u64,
    store: Option<(String, Plan)>,
) {
    let Upstream { abort, body, entry, .. } = up;
    let settings = Settings::from_config(&ctx.config, &entry.model, prompt_tokens, &ctx.secrets);
    let mut machine = StreamMachine::new(entry.provider, output, settings, now_ms());
    if store.is_some() {
        writer.record();
    }
    let mut reader = pump::first(&mut machine, body);
    pump::drive(&mut machine, reader.as_mut(), pump::Out::Client(&mut writer)).await;
    let end = machine.into_ending();
    writer.close();
    pump::end_upstream(reader, &abort, end.upstream).await;
    ctx.log.record(&end);
    let recorded = writer.take_recording().and_then(|b| String::from_utf8(b).ok());
    if let (Some((key, plan)), Some(body), Outcome::Complete) = (&store, recorded, end.outcome) {
        let content_type = "text/event-stream; charset=utf-8".to_string();
        let r = StoredResponse {
            content_type,
            body,
            provider: entry.provider.as_str().into(),
            model: entry.model.clone(),
            usage: end.usage,
            ..StoredResponse::default()
        };
        ctx.log.cache_key = cache::save_response(&ctx.cache, key, plan, r, &ctx.request_id).await;
    }
    ctx.release(lease, end.usage.total_input_tokens() + end.usage.output_tokens, end.cost_usd.unwrap_or(0.0)).await;
    ctx.write_log();
}
