//! `POST /api/chat`: policy, caches, upstream with retries and fallback, then the widget SSE stream.

use edgechat::provider::build_request;
use sha2::{Digest, Sha256};
use web_sys::Response;

use edgechat::cost::ModelPrice;
use edgechat::provider::ProviderKind;

use super::js::{console_log, fetch, now_ms, read_all, stream_response, Writer};
use super::pump;
use super::upstream::{self, Stats, Upstream};
use super::{upstream_api_error, Ctx};
use crate::cache::{CachedAnswer, SemanticEntry, SemanticIndex};
use crate::chat::{self, hex, PreparedChat};
use crate::error::ApiError;
use crate::stream::{self, Framing, Output, Settings, StreamMachine};

pub(crate) async fn handle(mut ctx: Ctx, body: &[u8]) -> Response {
    let prepared = match chat::prepare(&ctx.config, body) {
        Ok(p) => p,
        Err(e) => return ctx.error(&e),
    };
    ctx.log.alias = Some(prepared.alias.clone());
    let chain = upstream::chain(&ctx.config, &prepared.alias);
    let primary = chain[0].1.clone();
    ctx.log.provider = Some(primary.provider.as_str().into());
    ctx.log.model = Some(primary.model.clone());
    let primary_req = prepared.request_for(&ctx.config, &primary);
    if let Err(e) = build_request(&ctx.config.provider(primary.provider), &primary_req) {
        return ctx.error(&ApiError::bad_request(e.to_string()));
    }
    let lease = match ctx.acquire().await {
        Ok(l) => l,
        Err(e) => return ctx.error(&e),
    };

    // Caches: exact match for deterministic requests, then the semantic index when enabled.
    let answer_key = chat::cache_key(primary.provider, &primary_req);
    let semantic_on = ctx.config.cache.semantic.enabled && !prepared.continue_;
    if prepared.cacheable {
        ctx.log.cache = "miss";
        if let Some(a) = load_answer(&ctx, &answer_key).await {
            return replay(ctx, &prepared, a, lease, "exact", None).await;
        }
    }
    let mut semantic: Option<(Vec<f32>, String, SemanticIndex)> = None;
    if semantic_on {
        ctx.log.cache = "miss";
        let index_key = format!("sem:{}", &hex(&Sha256::digest(format!("{}|{}", primary.provider, primary.model)))[..32]);
        match embed(&ctx, &prompt_text(&prepared)).await {
            Ok(vector) => {
                let index: SemanticIndex = ctx
                    .cache
                    .get(&index_key)
                    .await
                    .and_then(|s| serde_json::from_str(&s).ok())
                    .unwrap_or_default();
                let threshold = ctx.config.cache.semantic.threshold;
                let hit = index.best(&vector, threshold).map(|(e, s)| (e.key.clone(), s));
                if let Some((key, score)) = hit {
                    if let Some(a) = load_answer(&ctx, &key).await {
                        return replay(ctx, &prepared, a, lease, "semantic", Some(score)).await;
                    }
                }
                semantic = Some((vector, index_key, index));
            }
            Err(e) => console_log(&ctx.scrub(&crate::log::incident(&ctx.request_id, "semantic_cache_error", e))),
        }
    }

    // With the STREAMS Durable Object bound, a stream object owns the upstream request (resumable streams).
    if let Some(ns) = ctx.streams.clone() {
        return super::streams::start(ctx, ns, body, lease, answer_key, prepared.cacheable, semantic).await;
    }
    let mut stats = Stats::default();
    let config = ctx.config.clone();
    let result = upstream::send(&config, &chain, true, ctx.started_ms, &mut stats, Some(&ctx.gone), &|entry| {
        build_request(&config.provider(entry.provider), &prepared.request_for(&config, entry)).ok()
    })
    .await;
    ctx.log.attempts = stats.attempts;
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
    ctx.log.status = 200;
    let store = Store { key: answer_key, cacheable: prepared.cacheable, semantic };
    let js_ctx = ctx.js_ctx.clone();
    // The pump runs after the response is returned; waitUntil keeps the isolate alive for the log line.
    let done = wasm_bindgen_futures::future_to_promise(async move {
        pump(ctx, up, writer, prepared, lease, store).await;
        Ok(wasm_bindgen::JsValue::UNDEFINED)
    });
    super::wait_until(&js_ctx, &done);
    resp
}

struct Store {
    key: String,
    cacheable: bool,
    semantic: Option<(Vec<f32>, String, SemanticIndex)>,
}

async fn pump(mut ctx: Ctx, up: Upstream, mut writer: Writer, prepared: PreparedChat, lease: u64, store: Store) {
    let Upstream { abort, body, alias, entry, .. } = up;
    let mut settings = Settings::from_config(&ctx.config, &entry.model, prepared.prompt_tokens, &ctx.secrets);
    settings.keep_answer = store.cacheable || store.semantic.is_some();
    let start = stream::start(&ctx.request_id, &ctx.request_id, &alias, entry.provider, false);
    let mut machine = StreamMachine::new(entry.provider, Output::Widget { start, framing: Framing::Sse }, settings, now_ms());
    machine.set_model(&entry.model);
    let mut reader = pump::first(&mut machine, body);
    pump::drive(&mut machine, reader.as_mut(), pump::Out::Client(&mut writer)).await;
    let end = machine.into_ending();
    writer.close();
    pump::end_upstream(reader, &abort, end.upstream).await;
    ctx.log.record(&end);
    if let Some(answer) = end.answer {
        save(&ctx, &store, answer).await;
    }
    ctx.release(lease, end.usage.total_input_tokens() + end.usage.output_tokens, end.cost_usd.unwrap_or(0.0)).await;
    ctx.write_log();
}

async fn load_answer(ctx: &Ctx, key: &str) -> Option<CachedAnswer> {
    let s = ctx.cache.get(&format!("ans:{key}")).await?;
    CachedAnswer::from_json(&s).filter(|a| a.complete)
}

async fn save(ctx: &Ctx, store: &Store, answer: CachedAnswer) {
    let ttl = ctx.config.cache.ttl_seconds;
    if !answer.complete {
        return;
    }
    if let Err(e) = ctx.cache.put(&format!("ans:{}", store.key), &answer.to_json(), ttl).await {
        console_log(&crate::log::incident(&ctx.request_id, "cache_error", e));
        return;
    }
    if let Some((vector, index_key, index)) = &store.semantic {
        let mut index = index.clone();
        index.insert(SemanticEntry { embedding: vector.clone(), key: store.key.clone() }, ctx.config.cache.semantic.max_entries);
        let json = serde_json::to_string(&index).unwrap_or_default();
        if let Err(e) = ctx.cache.put(index_key, &json, ttl).await {
            console_log(&crate::log::incident(&ctx.request_id, "cache_error", e));
        }
    }
}

/// Replays a cached answer as a stream, marked as a hit (through the same stream machine, at no cost).
async fn replay(
    mut ctx: Ctx,
    prepared: &PreparedChat,
    answer: CachedAnswer,
    lease: u64,
    kind: &'static str,
    similarity: Option<f64>,
) -> Response {
    let provider = answer.provider.parse().unwrap_or(ProviderKind::OpenAiChat);
    let mut settings = Settings::from_config(&ctx.config, &answer.model, prepared.prompt_tokens, &ctx.secrets);
    settings.price = Some(ModelPrice { input: 0.0, output: 0.0, cache_read: None, cache_write: None });
    let start = stream::start(&ctx.request_id, &ctx.request_id, &prepared.alias, provider, false);
    let mut machine = StreamMachine::new(provider, Output::Widget { start, framing: Framing::Sse }, settings, now_ms());
    machine.on_events(answer.events());
    let out = machine.take_bytes().unwrap_or_default();
    let end = machine.into_ending();
    ctx.log.record(&end);
    ctx.log.cache = "hit";
    ctx.log.cache_kind = Some(kind);
    ctx.log.cache_similarity = similarity;
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

fn prompt_text(p: &PreparedChat) -> String {
    let mut s = p.request.system.clone().unwrap_or_default();
    for m in &p.request.messages {
        s.push('\n');
        s.push_str(&m.content);
    }
    s
}

/// Embeds `text` with the configured provider's `/embeddings` endpoint.
async fn embed(ctx: &Ctx, text: &str) -> Result<Vec<f32>, String> {
    let sc = &ctx.config.cache.semantic;
    let p = ctx.config.provider(sc.provider);
    let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
    if let Some(k) = &p.api_key {
        headers.push(("authorization".into(), format!("Bearer {k}")));
    }
    let body = serde_json::json!({ "model": sc.embedding_model, "input": text }).to_string();
    let sent = fetch("POST", &format!("{}/embeddings", p.base_url), &headers, body.as_bytes(), Some(&ctx.gone)).await?;
    let status = sent.response.status();
    let bytes = read_all(sent.response.body(), 8 << 20, ctx.config.limits.stall_timeout_ms)
        .await
        .map_err(|e| format!("embeddings body: {e:?}"))?;
    if !(200..300).contains(&status) {
        return Err(format!("embeddings returned {status}"));
    }
    let text = std::str::from_utf8(&bytes).map_err(|e| e.to_string())?;
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let arr = v["data"][0]["embedding"].as_array().ok_or("embeddings response has no data[0].embedding")?;
    Ok(arr.iter().filter_map(|x| x.as_f64()).map(|x| x as f32).collect())
}
