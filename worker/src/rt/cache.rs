//! The caches at run time, for `/api/chat` (and its resumable stream object) and the SDK routes: look up (exact,
//! then semantic), and store a complete answer. What is cached for whom is decided by the pure `crate::cache`
//! (scope, keys, plan); this moves answers and embeddings to and from the stores (`store.rs`).

use edgechat::provider::ChatRequest;
use serde_json::{json, Value};

use super::js::{console_log, fetch, now_ms, read_all};
use super::store::CacheStore;
use super::Ctx;
use crate::cache::{
    at_str, chat_key, embedding_of, index_name, semantic_context, CachedAnswer, Plan, Scope, SemanticEntry,
    SemanticInsert, SemanticQuery, StoredResponse,
};
use crate::chat::PreparedChat;
use crate::config::{Config, ModelEntry};

/// What a `/api/chat` request that missed will store once its answer is complete (handed to the stream object
/// with resumable streams as JSON, written and read by hand for wasm size).
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    /// The request's cache plan (TTL included).
    pub plan: Plan,
    /// The exact-cache key the answer is stored under (also what a semantic entry points at).
    pub key: String,
    /// The semantic entry to add, when the semantic cache applies and the embedding worked.
    pub semantic: Option<Draft>,
}

/// A semantic entry waiting for its answer.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    /// Index name ([`index_name`]).
    pub index: String,
    /// [`semantic_context`] of the request.
    pub context: String,
    /// The prompt's embedding.
    pub embedding: Vec<f32>,
}

impl Pending {
    /// The JSON form: `[plan, key, [index, context, embedding] | null]`.
    pub fn to_value(&self) -> Value {
        let semantic = self.semantic.as_ref().map(|d| json!([d.index, d.context, d.embedding]));
        json!([self.plan.to_value(), self.key, semantic])
    }

    /// Reads [`Pending::to_value`]'s form.
    pub fn from_value(v: &Value) -> Option<Self> {
        let a = v.as_array()?;
        let semantic = match a.get(2)? {
            Value::Null => None,
            d => {
                let d = d.as_array()?;
                Some(Draft { index: at_str(d, 0)?, context: at_str(d, 1)?, embedding: embedding_of(d.get(2)?)? })
            }
        };
        Some(Self { plan: Plan::from_value(a.first()?)?, key: at_str(a, 1)?, semantic })
    }
}

/// A stored answer a request may reuse.
pub(crate) struct Hit {
    pub answer: CachedAnswer,
    /// `exact` or `semantic`.
    pub kind: &'static str,
    /// Cosine similarity of a semantic hit.
    pub similarity: Option<f64>,
    /// The key of the answer reused.
    pub key: String,
}

/// What the lookup found.
pub(crate) enum Lookup {
    Hit(Hit),
    /// No answer to reuse; what to store after the upstream answers (`None`: nothing, the caches do not apply).
    Miss(Option<Pending>),
}

/// Looks `/api/chat` up: the exact cache, then the semantic index, in the request's scope. `request` is the
/// request for the first model of the chain, as sent upstream.
pub(crate) async fn lookup_chat(
    ctx: &Ctx,
    prepared: &PreparedChat,
    primary: &ModelEntry,
    request: &ChatRequest,
    plan: Plan,
) -> Lookup {
    if !plan.active() {
        return Lookup::Miss(None);
    }
    let scope = Scope::of(&ctx.config, &ctx.principal);
    let key = chat_key(primary.provider, request, &scope);
    let now = now_ms();
    if plan.exact && plan.read {
        if let Some(answer) = load_answer(&ctx.cache, &key, &plan, now).await {
            return Lookup::Hit(Hit { answer, kind: "exact", similarity: None, key });
        }
    }
    let mut semantic = None;
    if plan.semantic {
        match embed(ctx, &prompt_text(prepared)).await {
            Ok(embedding) => {
                let draft = Draft {
                    index: index_name(primary.provider, &primary.model, &scope),
                    context: semantic_context(request),
                    embedding,
                };
                if plan.read {
                    if let Some(hit) = semantic_hit(ctx, &draft, &plan, now).await {
                        return Lookup::Hit(hit);
                    }
                }
                semantic = Some(draft);
            }
            Err(e) => console_log(&ctx.scrub(&crate::log::incident(&ctx.request_id, "semantic_cache_error", e))),
        }
    }
    Lookup::Miss(Some(Pending { plan, key, semantic }))
}

async fn semantic_hit(ctx: &Ctx, draft: &Draft, plan: &Plan, now: u64) -> Option<Hit> {
    let q = SemanticQuery {
        embedding: draft.embedding.clone(),
        threshold: ctx.config.cache.semantic.threshold,
        context: draft.context.clone(),
        now_ms: now,
        stored_after_ms: plan.stored_after_ms(now),
    };
    match ctx.cache.query(&draft.index, &q).await {
        Ok(Some(hit)) => {
            let answer = load_answer(&ctx.cache, &hit.key, plan, now).await?;
            Some(Hit { answer, kind: "semantic", similarity: Some(hit.score), key: hit.key })
        }
        Ok(None) => None,
        Err(e) => {
            console_log(&crate::log::incident(&ctx.request_id, "semantic_cache_error", e));
            None
        }
    }
}

async fn load_answer(store: &CacheStore, key: &str, plan: &Plan, now: u64) -> Option<CachedAnswer> {
    let s = store.get(&format!("ans:{key}")).await?;
    CachedAnswer::from_json(&s).filter(|a| a.fresh(plan, now))
}

/// Stores a complete answer (and its semantic entry); returns the key it is stored under, for the log line.
pub(crate) async fn save_answer(
    store: &CacheStore,
    config: &Config,
    pending: &Pending,
    mut answer: CachedAnswer,
    request_id: &str,
) -> Option<String> {
    if !answer.complete || !(pending.plan.exact || pending.semantic.is_some()) {
        return None;
    }
    let now = now_ms();
    answer.stored_ms = now;
    answer.expires_ms = pending.plan.expires_ms(now);
    if let Err(e) = store.put(&format!("ans:{}", pending.key), &answer.to_json(), pending.plan.ttl_s).await {
        console_log(&crate::log::incident(request_id, "cache_error", e));
        return None;
    }
    if let Some(d) = &pending.semantic {
        let entry = SemanticEntry {
            embedding: d.embedding.clone(),
            key: pending.key.clone(),
            context: d.context.clone(),
            stored_ms: now,
            expires_ms: answer.expires_ms,
        };
        let ins = SemanticInsert { entry, max: config.cache.semantic.max_entries, now_ms: now };
        if let Err(e) = store.insert(&d.index, ins).await {
            console_log(&crate::log::incident(request_id, "semantic_cache_error", e));
        }
    }
    Some(pending.key.clone())
}

/// An SDK route's stored response under `key`, if `plan` may reuse it now.
pub(crate) async fn load_response(store: &CacheStore, key: &str, plan: &Plan) -> Option<StoredResponse> {
    let s = store.get(&format!("sdk:{key}")).await?;
    StoredResponse::from_json(&s).filter(|r| r.fresh(plan, now_ms()))
}

/// Stores an SDK route's complete response; returns the key, for the log line.
pub(crate) async fn save_response(
    store: &CacheStore,
    key: &str,
    plan: &Plan,
    mut r: StoredResponse,
    request_id: &str,
) -> Option<String> {
    let now = now_ms();
    r.stored_ms = now;
    r.expires_ms = plan.expires_ms(now);
    match store.put(&format!("sdk:{key}"), &r.to_json(), plan.ttl_s).await {
        Ok(()) => Some(key.to_string()),
        Err(e) => {
            console_log(&crate::log::incident(request_id, "cache_error", e));
            None
        }
    }
}

/// What the semantic cache embeds: the system prompt and every turn.
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
