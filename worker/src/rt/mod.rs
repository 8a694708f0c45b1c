//! Runtime glue (wasm32 only): the fetch entry, routing, and per-route handlers over the pure policy modules.

mod admin;
mod cache;
mod chat;
mod compat;
mod context;
mod js;
mod marks;
mod pump;
mod store;
mod streams;
mod upstream;
mod usage;
mod wait;

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Object;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;
use web_sys::{Request, Response};

use self::js::{client_gone, console_log, get_obj, get_str, now_ms, random_id, read_all, response, ReadAllError};
use self::marks::Mark;
use self::store::{CacheStore, LimiterStore};
use crate::config::{Config, ConfigError, Env};
use crate::error::{scrub, ApiError};
use crate::limiter::{Decision, Op, Rule};
use crate::log::LogLine;
use crate::policy::{self, Credentials, Principal};

/// Runs once, when the module is instantiated: makes wasm-bindgen's task queue (every spawned future and every
/// JS promise awaited is polled from it) schedule its runs with a resolved promise's `then` rather than with
/// `queueMicrotask`. It picks `queueMicrotask` whenever the global has one, when it is first used; workerd's wraps
/// every callback it queues (async context) and cost 5-10% of the edge's CPU per request at c=64 (`bench/edge`,
/// same-run A/B). Both run the callback as a microtask of the same queue, so the order of work is unchanged. The
/// global is hidden only while the queue is made, and put back at once.
#[wasm_bindgen(start)]
fn start() {
    let global = js_sys::global();
    let name = JsValue::from_str("queueMicrotask");
    let Ok(original) = js_sys::Reflect::get(&global, &name) else { return };
    if js_sys::Reflect::set(&global, &name, &JsValue::UNDEFINED) != Ok(true) {
        return;
    }
    wasm_bindgen_futures::spawn_local(async {});
    let _ = js_sys::Reflect::set(&global, &name, &original);
}

/// The fetch handler: `export default { fetch: (req, env, ctx) => handle(req, env, ctx) }`.
#[wasm_bindgen]
pub fn handle(req: Request, env: JsValue, ctx: JsValue) -> js_sys::Promise {
    let js_ctx = ctx.clone();
    let answer = future_to_promise(async move { Ok(route(req, env, ctx).await.into()) });
    // A client that leaves before the response cancels the request: waitUntil lets the handler finish anyway
    // (abort the upstream, release the limiter lease, write the log line).
    wait_until(&js_ctx, &answer);
    answer
}

/// Per-request state shared by the handlers.
pub(crate) struct Ctx {
    pub config: Rc<Config>,
    pub secrets: Rc<Vec<String>>,
    pub request_id: String,
    pub started_ms: u64,
    /// The request's Origin when it is allowed (for CORS headers).
    pub cors_origin: Option<String>,
    pub limiter: LimiterStore,
    pub cache: CacheStore,
    pub js_ctx: JsValue,
    pub log: LogLine,
    pub principal: Principal,
    /// The `STREAMS` Durable Object namespace, when bound (resumable streams).
    pub streams: Option<JsValue>,
    /// Set when the client goes away (request aborted, response body cancelled).
    pub gone: js::Signal,
    /// Per-request cache control from the `x-edgechat-cache` / `x-edgechat-cache-ttl` headers.
    pub cache_control: Option<crate::cache::Control>,
    /// What the client may still spend today (from the limiter when the request was admitted).
    pub budget: crate::stream::Budget,
    /// Where the request's usage record goes (`None`: a route that is not recorded).
    pub usage: Option<usage::Sink>,
}

impl Ctx {
    /// `x-request-id` plus CORS headers for an allowed origin.
    pub fn headers(&self) -> Vec<(String, String)> {
        let mut h = vec![("x-request-id".to_string(), self.request_id.clone())];
        if let Some(o) = &self.cors_origin {
            h.extend(policy::cors_headers(o).into_iter().map(|(k, v)| (k.to_string(), v)));
        }
        h
    }

    /// The JSON error response (logged).
    pub fn error(&mut self, e: &ApiError) -> Response {
        let mut h = self.headers();
        h.push(("content-type".into(), "application/json".into()));
        if let Some(s) = e.retry_after_s {
            h.push(("retry-after".into(), s.to_string()));
        }
        self.log.status = e.status;
        self.log.outcome = "error";
        self.log.error.get_or_insert_with(|| e.kind.to_string());
        self.write_log();
        response(e.status, &h, &self.scrub(&e.body(&self.request_id)))
    }

    /// Removes secrets and echoed key fragments.
    pub fn scrub(&self, s: &str) -> String {
        scrub(s, &self.secrets)
    }

    /// Prints the log line (once).
    pub fn write_log(&mut self) {
        self.log.duration_ms = now_ms().saturating_sub(self.started_ms);
        console_log(&self.scrub(&self.log.to_json()));
        if let Some(sink) = &self.usage {
            sink.record(&self.log, Some(&self.js_ctx));
        }
    }

    /// Counts the request and takes a stream slot; the lease is released by [`Ctx::release`].
    pub async fn acquire(&mut self) -> Result<u64, ApiError> {
        let key = self.log.client.clone();
        let op = Op::Acquire { key: key.clone(), rule: Rule::from(&self.config.limits), now_ms: now_ms() };
        match self.limiter.apply(&key, op).await {
            Ok(Decision::Allowed { lease, left }) => {
                self.budget = crate::stream::Budget { usd: left.usd, tokens: left.tokens };
                Ok(lease)
            }
            Ok(Decision::Limited { kind, message, retry_after_s }) => {
                let kind = if kind == "budget_exceeded" { "budget_exceeded" } else { "rate_limited" };
                Err(ApiError::rate_limited(kind, message, retry_after_s))
            }
            Err(e) => {
                console_log(&crate::log::incident(&self.request_id, "limiter_error", e.to_string()));
                Err(ApiError::internal())
            }
        }
    }

    /// Waits (up to `provider_wait_ms`) until the provider account's per-minute limits for `entry`'s model admit a
    /// request of `tokens`, counted across all clients (one limiter object per model), or refuses it with `429`.
    pub async fn admit_provider(&self, entry: &crate::config::ModelEntry, tokens: u64) -> Result<(), ApiError> {
        if entry.provider_rpm == 0 && entry.provider_tpm == 0 {
            return Ok(());
        }
        let key = format!("provider:{}", entry.model);
        let give_up_at = now_ms() + u64::from(self.config.provider_wait_ms);
        loop {
            let op = Op::Provider {
                key: key.clone(),
                rpm: entry.provider_rpm,
                tpm: entry.provider_tpm,
                tokens,
                now_ms: now_ms(),
            };
            match self.limiter.apply(&key, op).await {
                Ok(Decision::Allowed { .. }) => return Ok(()),
                Ok(Decision::Limited { retry_after_s, .. }) => {
                    // Wait only when the window frees in time; otherwise say so at once.
                    let wait_ms = (retry_after_s * 1000).min(1000);
                    if now_ms() + retry_after_s * 1000 > give_up_at + 1000 || self.gone.is_set() {
                        let msg =
                            format!("the provider's per-minute limit for {} is reached; retry later", entry.model);
                        return Err(ApiError::rate_limited("rate_limited", msg, retry_after_s));
                    }
                    js::sleep(wait_ms).await;
                }
                Err(e) => {
                    console_log(&crate::log::incident(&self.request_id, "limiter_error", e));
                    return Ok(()); // the provider's own 429 still protects the account
                }
            }
        }
    }

    /// Gives back the stream slot and records the usage against the daily budget.
    pub async fn release(&self, lease: u64, tokens: u64, spend_usd: f64) {
        let key = self.log.client.clone();
        let op = Op::Release { key: key.clone(), lease, tokens, spend_usd, now_ms: now_ms() };
        if let Err(e) = self.limiter.apply(&key, op).await {
            console_log(&crate::log::incident(&self.request_id, "limiter_error", e.to_string()));
        }
    }
}

pub(crate) use self::js::wait_until;

/// Every request header the edge reads: all of them fetched in one call at the start of a request.
const READ_HEADERS: &[&str] = &[
    "origin",
    "authorization",
    "x-api-key",
    "x-edgechat-site-key",
    "cf-connecting-ip",
    "x-forwarded-for",
    "content-length",
    "x-edgechat-cache",
    "x-edgechat-cache-ttl",
    "anthropic-version",
    "anthropic-beta",
    "last-event-id",
];

async fn route(req: Request, env: JsValue, js_ctx: JsValue) -> Response {
    marks::mark(Mark::Start);
    let started_ms = now_ms();
    let request_id = random_id();
    let url = req.url();
    let path = url_path(&url);
    let method = req.method();
    let values = js::request_headers(&req, READ_HEADERS);
    marks::mark(Mark::Headers);
    let header = |name: &str| {
        let i = READ_HEADERS.iter().position(|n| *n == name);
        debug_assert!(i.is_some(), "{name} is not in READ_HEADERS");
        i.and_then(|i| values[i].clone())
    };
    let log = LogLine {
        request_id: request_id.clone(),
        time: started_ms,
        route: path.to_string(),
        cache: "bypass",
        outcome: "error",
        ..LogLine::default()
    };
    let (config, secrets) = match environment(&env) {
        Ok(c) => c,
        Err((e, secrets)) => {
            console_log(&scrub(&crate::log::incident(&request_id, "config_error", e.to_string()), &secrets));
            let err = ApiError::new(500, "internal", "the edge's configuration is invalid (see its log)");
            let h = vec![
                ("x-request-id".to_string(), request_id.clone()),
                ("content-type".into(), "application/json".into()),
            ];
            return response(500, &h, &err.body(&request_id));
        }
    };
    let origin = header("origin");
    let cors_origin = origin.clone().filter(|o| {
        policy::origin_matches(&config.allowed_origins, o)
            || config.site_keys.values().any(|s| policy::origin_matches(&s.origins, o))
    });
    let bound = bindings(&env);
    let mut ctx = Ctx {
        limiter: LimiterStore::of(&bound),
        cache: CacheStore::of(&bound),
        config,
        secrets,
        request_id,
        started_ms,
        cors_origin,
        js_ctx,
        log,
        principal: Principal::default(),
        streams: bound.streams.clone(),
        gone: client_gone(&req),
        cache_control: None,
        budget: crate::stream::Budget::default(),
        usage: None,
    };
    ctx.log.limiter = ctx.limiter.name();
    marks::mark(Mark::Context);

    let stream = crate::resume::parse_stream_path(path);
    const ROUTES: &[&str] = &["/api/config", "/api/chat", "/v1/chat/completions", "/v1/responses", "/v1/messages"];
    if path.starts_with("/api/admin/") {
        return admin::route(ctx, &env, &method, path, &url, header("authorization")).await;
    }
    if method == "OPTIONS" {
        return preflight(&mut ctx, origin.as_deref(), ROUTES.contains(&path) || stream.is_some());
    }
    let expected = match path {
        "/api/config" => "GET",
        p if ROUTES.contains(&p) => "POST",
        _ if stream.is_some() => stream.map_or("GET", |(_, a)| crate::resume::method_of(a)),
        _ => return ctx.error(&ApiError::new(404, "not_found", format!("no route for {path}"))),
    };
    if method != expected {
        return ctx.error(&ApiError::new(
            405,
            "method_not_allowed",
            format!("{path} accepts {expected}, not {method}"),
        ));
    }
    if crate::usage::RECORDED_ROUTES.contains(&path) {
        ctx.usage = Some(usage::Sink::new(&env, ctx.config.clone()));
    }

    // Authentication: origin, site key, session token.
    let auth = header("authorization");
    let bearer = auth
        .as_deref()
        .and_then(|a| a.strip_prefix("Bearer ").or_else(|| a.strip_prefix("bearer ")))
        .map(str::trim)
        .map(str::to_string)
        .or_else(|| header("x-api-key"));
    let site_key = header("x-edgechat-site-key");
    let creds = Credentials { origin: origin.as_deref(), site_key: site_key.as_deref(), bearer: bearer.as_deref() };
    match policy::authenticate(&ctx.config, &creds, now_ms() / 1000) {
        Ok(p) => ctx.principal = p,
        Err(e) => return ctx.error(&e),
    }
    ctx.log.site_key = ctx.principal.site.clone();
    ctx.log.subject = ctx.principal.subject.as_deref().map(|s| crate::usage::subject_of(&ctx.config, s));
    ctx.log.client =
        policy::client_key(&ctx.principal, header("cf-connecting-ip").as_deref(), header("x-forwarded-for").as_deref());

    if path == "/api/config" {
        return api_config(&mut ctx);
    }
    if let Some((id, action)) = stream {
        return streams::route(ctx, id, action, header("last-event-id")).await;
    }
    // Body: refuse a declared size over the limit before reading, and enforce the limit while reading.
    let declared = header("content-length");
    if let Err(e) = policy::check_content_length(&ctx.config.limits, declared.as_deref()) {
        return ctx.error(&e);
    }
    match crate::cache::Control::from_headers(
        header("x-edgechat-cache").as_deref(),
        header("x-edgechat-cache-ttl").as_deref(),
    ) {
        Ok(c) => ctx.cache_control = c,
        Err(e) => return ctx.error(&ApiError::bad_request(e)),
    }
    // A declared length was checked above (the runtime ends the body there); a chunked body is read with the limit
    // enforced as it comes.
    let body = match declared {
        Some(_) => js::read_declared(&req).await,
        None => read_all(req.body(), ctx.config.limits.body_limit(), 30_000).await,
    };
    marks::mark(Mark::BodyRead);
    let body = match body {
        Ok(b) => b,
        Err(ReadAllError::TooLarge) => return ctx.error(&policy::body_too_large(&ctx.config.limits)),
        Err(_) => return ctx.error(&ApiError::bad_request("could not read the request body")),
    };
    match path {
        "/api/chat" => chat::handle(ctx, &body).await,
        "/v1/chat/completions" => {
            compat::handle(
                ctx,
                crate::compat::Format::OpenAiChat,
                &body,
                header("anthropic-version"),
                header("anthropic-beta"),
            )
            .await
        }
        "/v1/responses" => compat::handle(ctx, crate::compat::Format::OpenAiResponses, &body, None, None).await,
        _ => {
            compat::handle(
                ctx,
                crate::compat::Format::Anthropic,
                &body,
                header("anthropic-version"),
                header("anthropic-beta"),
            )
            .await
        }
    }
}

/// The configuration and the secrets to scrub from logs and errors, for the environment `env`. An isolate is handed
/// the same environment object request after request, so its strings are read (and compared with the ones the
/// configuration was parsed from, [`Config::cached`]) only when the object is another one; the object is not
/// watched for changes made to it in place (a Workers environment is not changed that way). An invalid
/// configuration is not kept: each request reads and reports it again (with the secrets it found).
pub(crate) fn environment(env: &JsValue) -> Result<Resolved, (ConfigError, Vec<String>)> {
    thread_local! {
        static SEEN: EnvSlot<Resolved> = const { RefCell::new(None) };
    }
    per_env(&SEEN, env, || {
        let vars = Env::from_pairs(Env::NAMES.iter().filter_map(|n| get_str(env, n).map(|v| (*n, v))));
        let secrets = vars.secrets();
        let config = Config::cached(&vars).map_err(|e| (e, secrets.clone()))?;
        Ok((config, Rc::new(secrets)))
    })
}

/// What was last made from an environment object, and that object.
type EnvSlot<T> = RefCell<Option<(JsValue, T)>>;

/// The value `make` makes from the environment `env`, made again only when `env` is another object than last time
/// (an isolate is handed the same one request after request; it is not watched for changes made in place). A
/// failure is not kept: the next request makes it again.
fn per_env<T: Clone, E>(
    slot: &'static std::thread::LocalKey<EnvSlot<T>>,
    env: &JsValue,
    make: impl FnOnce() -> Result<T, E>,
) -> Result<T, E> {
    if let Some(v) = slot.with_borrow(|s| s.as_ref().filter(|(e, _)| Object::is(e, env)).map(|(_, v)| v.clone())) {
        return Ok(v);
    }
    let v = make()?;
    slot.set(Some((env.clone(), v.clone())));
    Ok(v)
}

/// The bindings the edge looks up in its environment, read once per environment object (as [`environment`] reads
/// its strings): each lookup by name from wasm costs microseconds per request otherwise.
#[derive(Default)]
pub(crate) struct Bindings {
    /// `STREAMS`: the resumable streams' Durable Object namespace.
    pub streams: Option<JsValue>,
    /// `LIMITER`: the limiter's Durable Object namespace.
    pub limiter: Option<JsValue>,
    /// `CACHE`: Workers KV for cached answers.
    pub cache: Option<JsValue>,
    /// `CACHE_INDEX`: the semantic indexes' Durable Object namespace.
    pub cache_index: Option<JsValue>,
}

/// The bindings of the environment `env` ([`Bindings`]).
pub(crate) fn bindings(env: &JsValue) -> Rc<Bindings> {
    thread_local! {
        static SEEN: EnvSlot<Rc<Bindings>> = const { RefCell::new(None) };
    }
    // Reading a binding cannot fail: `Infallible` makes the `Ok` pattern irrefutable.
    let Ok(bindings) = per_env(&SEEN, env, || {
        Ok::<_, std::convert::Infallible>(Rc::new(Bindings {
            streams: get_obj(env, "STREAMS"),
            limiter: get_obj(env, "LIMITER"),
            cache: get_obj(env, "CACHE"),
            cache_index: get_obj(env, "CACHE_INDEX"),
        }))
    });
    bindings
}

/// A configuration and the secrets of the environment it came from ([`environment`]).
pub(crate) type Resolved = (Rc<Config>, Rc<Vec<String>>);

fn url_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest.find('/').map_or("/", |i| &rest[i..]);
    path.split(['?', '#']).next().unwrap_or("/")
}

fn preflight(ctx: &mut Ctx, origin: Option<&str>, known: bool) -> Response {
    if !known {
        return ctx.error(&ApiError::new(404, "not_found", "no such route"));
    }
    match (origin, ctx.cors_origin.is_some()) {
        (Some(o), false) => ctx.error(&ApiError::new(403, "origin_not_allowed", format!("Origin {o} is not allowed"))),
        _ => {
            let mut h = ctx.headers();
            h.extend(policy::preflight_headers().into_iter().map(|(k, v)| (k.to_string(), v)));
            ctx.log.status = 204;
            ctx.log.outcome = "complete";
            ctx.write_log();
            response(204, &h, "")
        }
    }
}

fn api_config(ctx: &mut Ctx) -> Response {
    let c = &ctx.config;
    // With routing by task, its alias comes first: the model picker offers it as the default choice.
    let auto = c.routing.iter().map(|r| serde_json::json!({ "alias": r.alias, "label": r.label, "provider": "auto" }));
    let models: Vec<serde_json::Value> = auto
        .chain(c.models.iter().map(|(alias, e)| {
            serde_json::json!({ "alias": alias, "label": e.label.clone().unwrap_or_else(|| alias.clone()), "provider": e.provider.as_str(), "vision": e.vision, "documents": e.documents })
        }))
        .collect();
    let site = ctx.principal.site.as_deref().and_then(|k| c.site_keys.get(k));
    let files = crate::attach::AttachLimits::of(&c.limits, site);
    let mut body = serde_json::json!({
        "models": models,
        "default_model": c.default_model,
        "limits": {
            "max_tokens": c.limits.max_tokens,
            "max_messages": c.limits.max_messages,
            "max_message_chars": c.limits.max_message_chars,
            "max_total_chars": c.limits.max_total_chars,
            "keepalive_ms": c.limits.keepalive_ms,
            "max_attachments": files.max_attachments,
            "max_attachment_bytes": files.max_attachment_bytes,
            "attachment_types": files.types,
        },
        "allow_system_prompt": c.allow_system_prompt,
        "resumable": ctx.streams.is_some(),
        "simulated": c.simulated,
    });
    if let Some(t) = crate::tools::policy(c, ctx.principal.site.as_deref()) {
        body["client_tools"] = t.to_json();
    }
    let mut h = ctx.headers();
    h.push(("content-type".into(), "application/json".into()));
    h.push(("cache-control".into(), "no-store".into()));
    ctx.log.status = 200;
    ctx.log.outcome = "complete";
    ctx.write_log();
    response(200, &h, &body.to_string())
}

/// The response for a request whose upstream attempts failed: the error, or — when the client went away before
/// the first byte — a log line that says `aborted` (nobody reads the response).
pub(crate) fn failed(ctx: &mut Ctx, f: &upstream::Failure, e: &ApiError) -> Response {
    if !f.client_gone {
        return ctx.error(e);
    }
    ctx.log.status = 499;
    ctx.log.outcome = "aborted";
    ctx.log.error = Some("client_gone".into());
    ctx.write_log();
    response(499, &ctx.headers(), "")
}

/// Maps the final upstream failure to the client error for the widget route.
pub(crate) fn upstream_api_error(f: &upstream::Failure, scrubbed: &str) -> ApiError {
    use edgechat::ErrorKind::*;
    match f.error.kind {
        InvalidRequest | RequestTooLarge => {
            ApiError::bad_request(format!("the provider rejected the request: {scrubbed}"))
        }
        Authentication | PermissionDenied => {
            ApiError::new(502, "upstream_error", "the provider refused the edge's credentials (check the provider key)")
        }
        RateLimited | ServerError | Overloaded => {
            let mut e = ApiError::new(502, "upstream_error", format!("the provider failed after retries: {scrubbed}"));
            e.retry_after_s = f.error.retry_after_ms.map(|ms| ms.div_ceil(1000));
            e
        }
        _ => ApiError::new(502, "upstream_error", format!("the provider failed: {scrubbed}")),
    }
}
