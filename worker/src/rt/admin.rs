//! The admin API (docs/admin-api.md): `GET /api/admin/usage` (aggregates) and `GET /api/admin/requests`
//! (records, newest first). Behind `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time; without
//! `ADMIN_TOKEN` every admin route is `404`, as an unknown route. Never CORS-exposed: no `Access-Control-*`
//! headers, and preflights for these paths are `404`.

use web_sys::Response;

use super::js::response;
use super::Ctx;
use crate::error::ApiError;
use crate::usage::secret_eq;

/// The parameters an admin query's `400` may name.
const PARAMS: &[&str] = &["from", "to", "group_by", "limit", "before", "model", "outcome", "site_key", "query"];

/// Serves `path` (under `/api/admin/`).
pub(crate) async fn route(
    mut ctx: Ctx,
    env: &wasm_bindgen::JsValue,
    method: &str,
    path: &str,
    url: &str,
    authorization: Option<String>,
) -> Response {
    // Same-origin tools only: whatever the Origin, no CORS headers on any answer.
    ctx.cors_origin = None;
    let Some(token) = ctx.config.admin_token.clone() else {
        return ctx.error(&ApiError::new(404, "not_found", format!("no route for {path}")));
    };
    // A preflight is a 404 as for an unknown route: no browser on another origin gets to send the token.
    if method == "OPTIONS" || !matches!(path, "/api/admin/usage" | "/api/admin/requests") {
        return ctx.error(&ApiError::new(404, "not_found", format!("no route for {path}")));
    }
    if method != "GET" {
        return ctx.error(&ApiError::new(405, "method_not_allowed", format!("{path} accepts GET, not {method}")));
    }
    let presented = authorization.as_deref().and_then(|a| a.strip_prefix("Bearer ")).map(str::trim);
    // Both sides hashed, then compared whole: the time says nothing about the token.
    if !presented.is_some_and(|p| secret_eq(p, &token)) {
        let mut h = admin_headers(&ctx);
        h.push(("www-authenticate".into(), "Bearer".into()));
        let e = ApiError::unauthorized("the admin API needs Authorization: Bearer <ADMIN_TOKEN>");
        ctx.log.status = 401;
        ctx.log.error = Some(e.kind.into());
        ctx.write_log();
        return response(401, &h, &e.body(&ctx.request_id));
    }
    // Parameters, the fan-out to the shards and the merge are usage/store.mjs's.
    let kind = if path == "/api/admin/usage" { "usage" } else { "requests" };
    let answer = super::usage::admin(env, &ctx.config, kind, url).await;
    let answer = answer.and_then(|text| match text.split_once('\n') {
        Some(("ok", body)) => Ok(Ok(body.to_string())),
        Some(("bad", rest)) => {
            let (param, message) = rest.split_once('\n').unwrap_or(("query", rest));
            let param = PARAMS.iter().find(|k| **k == param).copied().unwrap_or("query");
            Ok(Err(ApiError::bad_param(param, message.to_string())))
        }
        Some(("fail", why)) => Err(why.to_string()),
        _ => Err("the usage store answered nothing it should".to_string()),
    });
    match answer {
        Ok(Err(e)) => ctx.error(&e),
        Ok(Ok(body)) => {
            ctx.log.status = 200;
            ctx.log.outcome = "complete";
            ctx.write_log();
            response(200, &admin_headers(&ctx), &body)
        }
        Err(e) => {
            super::js::console_log(&crate::log::incident(&ctx.request_id, "usage_store_error", e));
            ctx.error(&ApiError::new(503, "unavailable", "the usage store did not answer (see the edge's log)"))
        }
    }
}

fn admin_headers(ctx: &Ctx) -> Vec<(String, String)> {
    vec![
        ("x-request-id".into(), ctx.request_id.clone()),
        ("content-type".into(), "application/json".into()),
        ("cache-control".into(), "no-store".into()),
    ]
}
