//! `POST /api/chat`: policy, caches, upstream with retries and fallback, then the widget SSE stream.

use edgechat::provider::build_request;
use web_sys::Response;

use edgechat::cost::ModelPrice;
use edgechat::provider::ProviderKind;

use super::cache;
use super::context::Fitted;
use super::js::{now_ms, stream_response, Writer};
use super::marks::{mark, Mark};
use super::pump;
use super::upstream::{self, Stats, Upstream};
use super::{upstream_api_error, Ctx};
use crate::chat::{self, PreparedChat};
use crate::error::ApiError;
use crate::stream::{self, Framing, Output, Settings, StreamMachine};

pub(crate) async fn handle(mut ctx: Ctx, body: &[u8]) -> Response {
    let prepared = {
        let p = &ctx.principal;
        let caller = chat::Caller { site: p.site.as_deref(), subject: p.subject.as_deref(), ctx: p.ctx.as_deref() };
        chat::prepare(&ctx.config, body, &caller)
    };
    mark(Mark::Prepared);
    let mut prepared = match prepared {
        Ok(p) => p,
        Err(e) => return ctx.error(&e),
    };
    let mut primary = match check(&mut ctx, &prepared) {
        Ok(p) => p,
        Err(resp) => return resp,
    };
    mark(Mark::Built);
    let lease = match ctx.acquire().await {
        Ok(l) => l,
        Err(e) => return ctx.error(&e),
    };
    // `auto` with a classifier model: it names the task (a call of its own, billed with this request).
    let (mut asked_tokens, mut asked_usd) = (0, 0.0);
    if let Some((classifier, question)) = prepared.ask.take() {
        if let Some(c) = super::context::classify(&ctx, &classifier, &question).await {
            (asked_tokens, asked_usd) = (c.tokens, c.usd);
            if let Some(task) = c.task.filter(|t| Some(*t) != prepared.task) {
                let p = &ctx.principal;
                let caller =
                    chat::Caller { site: p.site.as_deref(), subject: p.subject.as_deref(), ctx: p.ctx.as_deref() };
                let routed = chat::prepare_as(&ctx.config, body, &caller, Some(task));
                let next = match routed {
                    Ok(p) => {
                        prepared = p;
                        check(&mut ctx, &prepared)
                    }
                    Err(e) => Err(ctx.error(&e)),
                };
                match next {
                    Ok(p) => primary = p,
                    Err(resp) => {
                        ctx.release(lease, asked_tokens, asked_usd).await;
                        return resp;
                    }
                }
            }
        }
    }
    // The turns that no longer fit the model's context are summarized (or dropped) before anything else.
    let mut fitted = match super::context::fit(&ctx, &mut prepared, &primary.entry).await {
        Ok(f) => f,
        Err(e) => {
            ctx.release(lease, asked_tokens, asked_usd).await;
            return ctx.error(&e);
        }
    };
    fitted.extra_tokens += asked_tokens;
    fitted.extra_usd += asked_usd;
    let chain = upstream::chain(&ctx.config, &prepared.alias);
    let cap = u64::from(prepared.request.max_tokens.unwrap_or(ctx.config.limits.max_tokens));
    if let Err(e) = ctx.admit_provider(&primary.entry, prepared.prompt_tokens + cap).await {
        ctx.release(lease, fitted.extra_tokens, fitted.extra_usd).await;
        return ctx.error(&e);
    }
    ctx.log.trimmed = fitted.trimmed;
    ctx.log.summarized = fitted.summary.as_ref().map_or(0, |s| s.0);
    // Fitting may have dropped turns: the primary's request is made (and built) again only then.
    if fitted.trimmed > 0 || fitted.summary.is_some() {
        primary.request = prepared.request_for(&ctx.config, &primary.entry);
        primary.built = build_request(&ctx.config.provider(primary.entry.provider), &primary.request).ok();
    }
    let Checked { entry: primary, request: primary_req, built } = primary;
    let built = std::cell::RefCell::new(built);

    // Caches: exact match for deterministic requests, then the semantic index when enabled, in the caller's scope.
    let plan = prepared.cache_plan(&ctx.config, ctx.cache_control);
    ctx.log.cache = plan.status();
    let pending = match cache::lookup_chat(&ctx, &prepared, &primary, &primary_req, plan).await {
        cache::Lookup::Hit(hit) => return replay(ctx, &prepared, hit, lease).await,
        cache::Lookup::Miss(pending) => pending,
    };

    // With the STREAMS Durable Object bound, a stream object owns the upstream request (resumable streams).
    if let Some(ns) = ctx.streams.clone() {
        let body = prepared.rewrite_body(body);
        return super::streams::start(ctx, ns, &body, lease, pending, fitted).await;
    }
    mark(Mark::Admitted);
    let mut stats = Stats::default();
    let config = ctx.config.clone();
    let build = |entry: &crate::config::ModelEntry| {
        // The primary's request as `check` built it (the chain's first entry is built first, once).
        if let Some(req) = built.borrow_mut().take().filter(|_| *entry == primary) {
            return Some(req);
        }
        // A fallback that cannot take the conversation's files is skipped.
        let req = prepared.takes_files(entry).then(|| prepared.request_for(&config, entry))?;
        build_request(&config.provider(entry.provider), &req).ok()
    };
    let result = upstream::send(&config, &chain, true, ctx.started_ms, &mut stats, Some(&ctx.gone), &build).await;
    mark(Mark::FirstChunk);
    ctx.log.attempts = stats.attempts;
    ctx.log.fallback = stats.fallback;
    ctx.log.ttfb_ms = stats.ttfb_ms;
    let up = match result {
        Ok(up) => up,
        Err(f) => {
            ctx.log.provider = Some(f.entry.provider.as_str().into());
            ctx.log.model = Some(f.entry.model.clone());
            ctx.log.error = Some(format!("{}:{}", f.error.status, crate::error::scrub(&f.error.message, &ctx.secrets)));
            ctx.release(lease, 0, 0.0).await;
            let msg = ctx.scrub(&f.error.message);
            return super::failed(&mut ctx, &f, &upstream_api_error(&f, &msg));
        }
    };
    ctx.log.provider = Some(up.entry.provider.as_str().into());
    ctx.log.model = Some(up.entry.model.clone());
    let mut headers = ctx.headers();
    headers.push(("content-type".into(), "text/event-stream; charset=utf-8".into()));
    headers.push(("cache-control".into(), "no-cache, no-transform".into()));
    headers.push(("x-edgechat-cache".into(), ctx.log.cache.into()));
    let (resp, writer) = match stream_response(200, &headers, &ctx.gone) {
        Ok(x) => x,
        Err(_) => {
            up.abort.abort();
            ctx.release(lease, 0, 0.0).await;
            return ctx.error(&ApiError::internal());
        }
    };
    mark(Mark::ResponseMade);
    ctx.log.status = 200;
    let js_ctx = ctx.js_ctx.clone();
    // The pump runs after the response is returned; waitUntil keeps the isolate alive for the log line.
    let done = wasm_bindgen_futures::future_to_promise(async move {
        pump(ctx, up, writer, prepared, lease, pending, fitted).await;
        Ok(wasm_bindgen::JsValue::UNDEFINED)
    });
    super::wait_until(&js_ctx, &done);
    resp
}

/// The primary model of a request, its request, and that request as sent (built when the request was checked).
struct Checked {
    entry: crate::config::ModelEntry,
    request: edgechat::provider::ChatRequest,
    built: Option<edgechat::HttpRequest>,
}

/// Logs the alias and task a request is routed to and checks its primary model can take it (the model that serves,
/// with its request built, or the response refusing the request).
fn check(ctx: &mut Ctx, prepared: &PreparedChat) -> Result<Checked, Response> {
    ctx.log.alias = Some(prepared.alias.clone());
    ctx.log.task = prepared.task.map(crate::task::Task::as_str);
    let Some(entry) = ctx.config.models.get(&prepared.alias).cloned() else {
        return Err(ctx.error(&ApiError::internal()));
    };
    ctx.log.provider = Some(entry.provider.as_str().into());
    ctx.log.model = Some(entry.model.clone());
    let request = prepared.request_for(&ctx.config, &entry);
    match build_request(&ctx.config.provider(entry.provider), &request) {
        Ok(built) => Ok(Checked { entry, request, built: Some(built) }),
        Err(e) => Err(ctx.error(&ApiError::bad_request(e.to_string()))),
    }
}

#[allow(clippy::too_many_arguments)]
async fn pump(
    mut ctx: Ctx,
    up: Upstream,
    mut writer: Writer,
    prepared: PreparedChat,
    lease: u64,
    pending: Option<cache::Pending>,
    fitted: Fitted,
) {
    let Upstream { abort, body, alias, entry, .. } = up;
    let mut settings = Settings::from_config(&ctx.config, &entry.model, prepared.prompt_tokens, &ctx.secrets);
    settings.keep_answer = pending.is_some();
    settings.budget = ctx.budget;
    let mut start = stream::start(&ctx.request_id, &ctx.request_id, &alias, entry.provider, false);
    start.trimmed = fitted.trimmed;
    start.task = prepared.task.map(|t| t.as_str().to_string());
    let output = Output::Widget { start, summary: fitted.event(), framing: Framing::Sse };
    let mut machine = StreamMachine::new(entry.provider, output, settings, now_ms());
    machine.set_model(&entry.model);
    mark(Mark::MachineMade);
    let mut reader = pump::first(&mut machine, body);
    pump::drive(&mut machine, reader.as_mut(), pump::Out::Client(&mut writer)).await;
    let end = machine.into_ending();
    writer.close();
    pump::end_upstream(reader, &abort, end.upstream).await;
    ctx.log.record(&end);
    if let (Some(answer), Some(p)) = (end.answer, &pending) {
        ctx.log.cache_key = cache::save_answer(&ctx.cache, &ctx.config, p, answer, &ctx.request_id).await;
    }
    let tokens = end.usage.total_input_tokens() + end.usage.output_tokens + fitted.extra_tokens;
    ctx.release(lease, tokens, end.cost_usd.unwrap_or(0.0) + fitted.extra_usd).await;
    ctx.write_log();
}

/// Replays a cached answer as a stream, marked as a hit (through the same stream machine, at no cost).
async fn replay(mut ctx: Ctx, prepared: &PreparedChat, hit: cache::Hit, lease: u64) -> Response {
    let cache::Hit { answer, kind, similarity, key } = hit;
    let provider = answer.provider.parse().unwrap_or(ProviderKind::OpenAiChat);
    let mut settings = Settings::from_config(&ctx.config, &answer.model, prepared.prompt_tokens, &ctx.secrets);
    settings.price = Some(ModelPrice { input: 0.0, output: 0.0, cache_read: None, cache_write: None });
    let mut start = stream::start(&ctx.request_id, &ctx.request_id, &prepared.alias, provider, false);
    start.task = prepared.task.map(|t| t.as_str().to_string());
    let output = Output::Widget { start, summary: None, framing: Framing::Sse };
    let mut machine = StreamMachine::new(provider, output, settings, now_ms());
    machine.on_events(answer.events());
    let out = machine.take_bytes().unwrap_or_default();
    let end = machine.into_ending();
    ctx.log.record(&end);
    ctx.log.cache = "hit";
    ctx.log.cache_kind = Some(kind);
    ctx.log.cache_similarity = similarity;
    ctx.log.cache_key = Some(key);
    ctx.log.provider = Some(answer.provider.clone());
    ctx.log.model = Some(answer.model.clone());
    ctx.log.status = 200;
    ctx.log.ttfb_ms = Some(now_ms().saturating_sub(ctx.started_ms));
    ctx.release(lease, 0, 0.0).await;
    ctx.write_log();
    let mut h = ctx.headers();
    h.push(("content-type".into(), "text/event-stream; charset=utf-8".into()));
    h.push(("cache-control".into(), "no-cache, no-transform".into()));
    h.push(("x-edgechat-cache".into(), "hit".into()));
    h.push(("x-edgechat-cache-kind".into(), kind.into()));
    super::js::response(200, &h, &String::from_utf8_lossy(&out))
}
