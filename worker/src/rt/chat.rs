//! `POST /api/chat`: policy, caches, upstream with retries and fallback, then the widget SSE stream.

use edgechat::provider::{build_request, StreamDecoder};
use sha2::{Digest, Sha256};
use web_sys::Response;

use super::js::{console_log, fetch, read_all, stream_response, ChunkReader, Read, Writer};
use super::upstream::{self, Body, Stats, Upstream};
use super::{upstream_api_error, Ctx};
use crate::cache::{CachedAnswer, SemanticEntry, SemanticIndex};
use crate::chat::{self, hex, PreparedChat};
use crate::error::ApiError;
use crate::events::{encode_sse, round_usd, ErrorInfo, Outcome, Producer};

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
            Err(e) => console_log(&ctx.scrub(&format!(
                "{{\"request_id\":\"{}\",\"semantic_cache_error\":{:?}}}",
                ctx.request_id, e
            ))),
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

/// What draining the decoder led to.
enum Step {
    Continue,
    Aborted,
    Failed(ErrorInfo),
}

async fn pump(mut ctx: Ctx, up: Upstream, mut writer: Writer, prepared: PreparedChat, lease: u64, store: Store) {
    let Upstream { abort, body, alias, entry, .. } = up;
    let mut producer = Producer::new();
    let mut decoder = StreamDecoder::new(entry.provider);
    let mut kept = CachedAnswer::new(entry.provider.as_str(), &entry.model);
    let start = encode_sse(&producer.start(&ctx.request_id, &ctx.request_id, &alias, entry.provider.as_str()));
    let scrub = |s: &str| crate::error::scrub(s, &ctx.secrets);
    let (mut reader, first): (Option<ChunkReader>, Option<Vec<u8>>) = match body {
        Body::Stream { reader, first } => (Some(reader), first),
        Body::Full(b) => (None, Some(b)),
    };
    // `start` goes out with the events of the first chunk, in one write.
    decoder.feed(first.as_deref().unwrap_or_default());
    let mut step = drain(&mut decoder, &mut producer, &mut writer, &mut kept, &scrub, start);
    let stall = ctx.config.limits.stall_timeout_ms;
    let keepalive = ctx.config.limits.keepalive_ms;
    let mut ended = first.is_none() || reader.is_none();
    while matches!(step, Step::Continue) && !producer.is_done() && !ended {
        let reader = reader.as_mut().expect("checked by `ended`");
        match reader.read_for_client(&mut writer, stall, keepalive).await {
            Read::Chunk(c) => {
                decoder.feed(&c);
                step = drain(&mut decoder, &mut producer, &mut writer, &mut kept, &scrub, String::new());
            }
            Read::Done => ended = true,
            Read::Timeout => step = Step::Failed(ErrorInfo::stalled(stall)),
            Read::Failed(_) => ended = true,
            Read::Gone => step = Step::Aborted,
        }
    }
    if matches!(step, Step::Continue) && !producer.is_done() {
        decoder.finish();
        step = drain(&mut decoder, &mut producer, &mut writer, &mut kept, &scrub, String::new());
        if matches!(step, Step::Continue) && !producer.is_done() {
            step = Step::Failed(ErrorInfo::from_stream_error(&edgechat::StreamError::Truncated, scrub));
        }
    }
    if !producer.is_done() {
        if let Some(r) = reader.take() {
            r.cancel();
        }
        abort.abort();
    }
    let (usage, estimated) = producer.usage(prepared.prompt_chars);
    let cost = ctx.config.pricing.cost(&entry.model, &usage).map(round_usd);
    let outcome = match &step {
        Step::Aborted => Outcome::Aborted,
        Step::Failed(e) => {
            let tail: String = producer.fail(e, usage, estimated, cost).iter().map(encode_sse).collect();
            let delivered = writer.write(tail.as_bytes());
            ctx.log.error = Some(e.kind.clone());
            if !delivered {
                // The client had already gone: that, not the upstream, ended this stream.
                Outcome::Aborted
            } else if e.truncated {
                Outcome::Truncated
            } else {
                Outcome::Error
            }
        }
        Step::Continue => {
            let tail: String = producer.finish(usage, estimated, cost).iter().map(encode_sse).collect();
            let _ = writer.write(tail.as_bytes());
            Outcome::Complete
        }
    };
    writer.close();
    if let Some(r) = reader {
        r.finish().await; // the answer is complete: keep the upstream connection for reuse
    }
    ctx.log.outcome = outcome.as_str();
    ctx.log.set_usage(&usage, estimated);
    ctx.log.cost_usd = cost;
    if outcome == Outcome::Complete && (store.cacheable || store.semantic.is_some()) {
        save(&ctx, &store, kept).await;
    }
    ctx.release(lease, usage.total_input_tokens() + usage.output_tokens, cost.unwrap_or(0.0)).await;
    ctx.write_log();
}

/// Decodes what the decoder holds and writes the widget events it yields in one write (one enqueue per upstream
/// chunk); `out` starts with anything to send before them.
fn drain(
    decoder: &mut StreamDecoder,
    producer: &mut Producer,
    writer: &mut Writer,
    kept: &mut CachedAnswer,
    scrub: &impl Fn(&str) -> String,
    mut out: String,
) -> Step {
    let mut step = Step::Continue;
    while let Some(item) = decoder.next_event() {
        match item {
            Ok(ev) => {
                kept.push(&ev);
                if let Some(we) = producer.push(&ev) {
                    out.push_str(&encode_sse(&we));
                }
            }
            Err(e) => {
                step = Step::Failed(ErrorInfo::from_stream_error(&e, scrub));
                break;
            }
        }
    }
    if !writer.write(out.as_bytes()) {
        return Step::Aborted;
    }
    step
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
        console_log(&format!("{{\"request_id\":\"{}\",\"cache_error\":{:?}}}", ctx.request_id, e));
        return;
    }
    if let Some((vector, index_key, index)) = &store.semantic {
        let mut index = index.clone();
        index.insert(SemanticEntry { embedding: vector.clone(), key: store.key.clone() }, ctx.config.cache.semantic.max_entries);
        let json = serde_json::to_string(&index).unwrap_or_default();
        if let Err(e) = ctx.cache.put(index_key, &json, ttl).await {
            console_log(&format!("{{\"request_id\":\"{}\",\"cache_error\":{:?}}}", ctx.request_id, e));
        }
    }
}

/// Replays a cached answer as a stream, marked as a hit.
async fn replay(
    mut ctx: Ctx,
    prepared: &PreparedChat,
    answer: CachedAnswer,
    lease: u64,
    kind: &'static str,
    similarity: Option<f64>,
) -> Response {
    let mut producer = Producer::new();
    let mut out = encode_sse(&producer.start(&ctx.request_id, &ctx.request_id, &prepared.alias, &answer.provider));
    for ev in &answer.events() {
        if let Some(we) = producer.push(ev) {
            out.push_str(&encode_sse(&we));
        }
    }
    let (usage, estimated) = producer.usage(prepared.prompt_chars);
    for ev in producer.finish(usage, estimated, Some(0.0)) {
        out.push_str(&encode_sse(&ev));
    }
    ctx.log.cache = "hit";
    ctx.log.cache_kind = Some(kind);
    ctx.log.cache_similarity = similarity;
    ctx.log.provider = Some(answer.provider.clone());
    ctx.log.model = Some(answer.model.clone());
    ctx.log.status = 200;
    ctx.log.outcome = "complete";
    ctx.log.cost_usd = Some(0.0);
    ctx.log.ttfb_ms = Some(super::js::now_ms().saturating_sub(ctx.started_ms));
    ctx.release(lease, 0, 0.0).await;
    ctx.write_log();
    let mut h = ctx.headers();
    h.push(("content-type".into(), "text/event-stream; charset=utf-8".into()));
    h.push(("cache-control".into(), "no-cache, no-transform".into()));
    h.push(("x-edgechat-cache".into(), "hit".into()));
    h.push(("x-edgechat-cache-kind".into(), kind.into()));
    super::js::response(200, &h, &out)
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
