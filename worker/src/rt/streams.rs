//! Resumable streams (wasm32 only): with the `STREAMS` Durable Object bound, every `/api/chat` stream is owned by
//! one `EdgechatStream` object that makes the upstream request, keeps the encoded widget events
//! ([`crate::resume::StreamLog`]) and serves any number of clients from their `Last-Event-ID`. A client that goes
//! away does not stop generation; `POST /api/chat/streams/{id}/stop` does.
//!
//! Worker side: [`start`] (from the `/api/chat` handler, after policy, limits and caches) and [`route`] (resume,
//! stop). Object side: [`StreamCore`], which `entry.mjs`'s `EdgechatStream` class delegates to. The worker talks to
//! the object over internal requests: `POST /start` (JSON [`StartMsg`]), `GET /events` and `POST /stop` (owner in
//! the `x-edgechat-owner` header, JSON).

use js_sys::{Object, Reflect};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::Response;

use super::js::{call, call_async, console_log};
use super::Ctx;
use crate::error::ApiError;
use crate::resume::{self, Owner, StreamAction};

mod object;
mod relay;
mod run;
mod state;

const OWNER_HEADER: &str = "x-edgechat-owner";
const ID_HEADER: &str = "x-edgechat-stream-id";
/// While generating, the object wakes itself this often so the runtime keeps it in memory without clients.
const HEARTBEAT_MS: u64 = 30_000;
/// Largest storage value written (the runtime's limit is 128 KiB).
const STORAGE_PIECE: usize = 100_000;

/// What the worker hands the object to start a stream.
#[derive(Serialize, Deserialize)]
pub(crate) struct StartMsg {
    stream_id: String,
    request_id: String,
    started_ms: u64,
    /// The client's `/api/chat` body (validated again by the object with the same configuration).
    body: String,
    owner: Owner,
    client: String,
    lease: u64,
    /// The cache status for the log line (`miss`, `refresh`, `bypass`).
    cache: String,
    /// What to store once the answer is complete ([`super::cache::Pending::to_value`]).
    store: Option<serde_json::Value>,
    /// The session token's `ctx` claim (the object composes the same system prompt).
    ctx: Option<String>,
    /// What fitting the request to the context did (the `summary` event, `trimmed`).
    fitted: super::context::Fitted,
    /// The task `auto` routed the request as.
    task: Option<String>,
    /// What the client may still spend today.
    budget: crate::stream::Budget,
}

// ---------------------------------------------------------------------------------------------------------------
// Worker side

fn owner_of(ctx: &Ctx) -> Owner {
    Owner { origin: ctx.cors_origin.clone(), site: ctx.principal.site.clone(), subject: ctx.principal.subject.clone() }
}

/// Sends one internal request to the object `stub`.
async fn to_object(
    stub: &JsValue,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: Option<String>,
) -> Result<Response, String> {
    let init = Object::new();
    let h = Object::new();
    for (k, v) in headers {
        let _ = Reflect::set(&h, &JsValue::from_str(k), &JsValue::from_str(v));
    }
    let _ = Reflect::set(&init, &"method".into(), &method.into());
    let _ = Reflect::set(&init, &"headers".into(), &h);
    if let Some(b) = body {
        let _ = Reflect::set(&init, &"body".into(), &JsValue::from_str(&b));
    }
    let url = format!("https://streams.internal{path}");
    let resp = call_async(stub, "fetch", &[JsValue::from_str(&url), init.into()]).await?;
    resp.dyn_into::<Response>().map_err(|_| "the stream object did not answer with a Response".to_string())
}

/// Relays the object's answer to the client with this request's headers (CORS, request id).
fn relay(ctx: &Ctx, from: &Response, stream_id: Option<&str>) -> Response {
    let mut h = ctx.headers();
    if stream_id.is_some() && ctx.log.route == "/api/chat" {
        h.push(("x-edgechat-cache".into(), ctx.log.cache.into()));
    }
    let headers = from.headers();
    for name in ["content-type", "cache-control", "retry-after"] {
        if let Ok(Some(v)) = headers.get(name) {
            h.push((name.into(), v));
        }
    }
    if let Some(id) = stream_id {
        h.push((ID_HEADER.into(), id.into()));
        if ctx.cors_origin.is_some() {
            h.push(("access-control-expose-headers".into(), ID_HEADER.into()));
        }
    }
    super::js::stream_body_response(from.status(), &h, from.body())
}

/// Starts `/api/chat` in a new stream object and streams its events to the client. The object writes the
/// request's log line and releases the limiter lease when the stream ends.
pub(crate) async fn start(
    mut ctx: Ctx,
    ns: JsValue,
    body: &[u8],
    lease: u64,
    store: Option<super::cache::Pending>,
    fitted: super::context::Fitted,
) -> Response {
    let made = call(&ns, "newUniqueId", &[]).and_then(|id| {
        let stream_id = call(&id, "toString", &[])?.as_string().unwrap_or_default();
        Ok((stream_id, call(&ns, "get", &[id])?))
    });
    let (stream_id, stub) = match made {
        Ok(x) => x,
        Err(e) => return object_failed(ctx, lease, &e).await,
    };
    let msg = StartMsg {
        stream_id: stream_id.clone(),
        request_id: ctx.request_id.clone(),
        started_ms: ctx.started_ms,
        body: String::from_utf8_lossy(body).into_owned(),
        owner: owner_of(&ctx),
        client: ctx.log.client.clone(),
        lease,
        cache: ctx.log.cache.to_string(),
        store: store.as_ref().map(super::cache::Pending::to_value),
        ctx: ctx.principal.ctx.clone(),
        fitted,
        task: ctx.log.task.map(str::to_string),
        budget: ctx.budget,
    };
    let json = serde_json::to_string(&msg).unwrap_or_default();
    match to_object(&stub, "POST", "/start", &[("content-type", "application/json".into())], Some(json)).await {
        Ok(r) => {
            let ok = r.status() == 200;
            ctx.log.status = r.status();
            relay(&ctx, &r, ok.then_some(stream_id.as_str()))
        }
        Err(e) => object_failed(ctx, lease, &e).await,
    }
}

async fn object_failed(mut ctx: Ctx, lease: u64, e: &str) -> Response {
    console_log(&ctx.scrub(&crate::log::incident(&ctx.request_id, "stream_object_error", e)));
    ctx.release(lease, 0, 0.0).await;
    ctx.error(&ApiError::internal())
}

/// `GET /api/chat/streams/{id}` and `POST /api/chat/streams/{id}/stop`.
pub(crate) async fn route(mut ctx: Ctx, id: &str, action: StreamAction, last_event_id: Option<String>) -> Response {
    let Some(ns) = ctx.streams.clone() else {
        return ctx.error(&ApiError::new(
            404,
            "not_found",
            "resumable streams are not enabled on this edge (no STREAMS Durable Object is bound)",
        ));
    };
    let after = match resume::parse_last_event_id(last_event_id.as_deref()) {
        Ok(n) => n,
        Err(e) => return ctx.error(&e),
    };
    // An id this namespace never made does not parse: the same 404 as an unknown stream.
    let stub = match call(&ns, "idFromString", &[JsValue::from_str(id)]).and_then(|i| call(&ns, "get", &[i])) {
        Ok(s) => s,
        Err(_) => return ctx.error(&resume::stream_not_found()),
    };
    let owner = serde_json::to_string(&owner_of(&ctx)).unwrap_or_default();
    let (method, path) = match action {
        StreamAction::Resume => ("GET", format!("/events?after={after}")),
        StreamAction::Stop => ("POST", "/stop".to_string()),
    };
    let headers = [(OWNER_HEADER, owner), ("x-request-id", ctx.request_id.clone())];
    match to_object(&stub, method, &path, &headers, None).await {
        Ok(r) => {
            ctx.log.status = r.status();
            ctx.log.outcome = if r.status() < 300 { "complete" } else { "error" };
            if r.status() >= 300 {
                ctx.log.error = Some(format!("stream_{}", r.status()));
            }
            ctx.write_log();
            relay(&ctx, &r, (r.status() == 200).then_some(id))
        }
        Err(e) => {
            console_log(&ctx.scrub(&crate::log::incident(&ctx.request_id, "stream_object_error", e)));
            ctx.error(&ApiError::internal())
        }
    }
}
