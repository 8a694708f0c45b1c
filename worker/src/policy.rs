//! Request policy as pure functions: origins and CORS, site keys and session tokens, the model allowlist, and
//! request limits. Each returns the precise [`ApiError`] a violation gets.

use crate::config::{Config, Limits, ModelEntry};
use crate::error::ApiError;
use crate::token::{self, Session};

/// Whether `origin` matches one of `patterns`: exact `scheme://host[:port]`, `scheme://host:*` (any port), or `*`.
pub fn origin_matches(patterns: &[String], origin: &str) -> bool {
    patterns.iter().any(|p| {
        if p == "*" || p.eq_ignore_ascii_case(origin) {
            return true;
        }
        match p.strip_suffix(":*") {
            Some(prefix) => origin.strip_prefix(prefix).is_some_and(|rest| {
                rest.is_empty() || (rest.starts_with(':') && rest[1..].bytes().all(|b| b.is_ascii_digit()))
            }),
            None => false,
        }
    })
}

/// CORS headers for an allowed origin: the exact origin echoed (never `*`, since credentials are allowed) and
/// `Vary: Origin`.
pub fn cors_headers(origin: &str) -> Vec<(&'static str, String)> {
    vec![
        ("access-control-allow-origin", origin.to_string()),
        ("access-control-allow-credentials", "true".into()),
        ("access-control-expose-headers", "x-request-id, x-edgechat-cache, x-edgechat-cache-kind, retry-after".into()),
        ("vary", "Origin".into()),
    ]
}

/// Extra headers of a preflight answer.
pub fn preflight_headers() -> Vec<(&'static str, String)> {
    vec![
        ("access-control-allow-methods", "GET, POST, OPTIONS".into()),
        (
            "access-control-allow-headers",
            "content-type, authorization, x-api-key, x-edgechat-site-key, x-edgechat-cache, x-edgechat-cache-ttl, anthropic-version, anthropic-beta, last-event-id, x-stainless-arch, x-stainless-lang, x-stainless-os, x-stainless-package-version, x-stainless-retry-count, x-stainless-runtime, x-stainless-runtime-version, x-stainless-timeout, anthropic-dangerous-direct-browser-access".into(),
        ),
        ("access-control-max-age", "600".into()),
    ]
}

/// The credentials a request carried.
#[derive(Debug, Clone, Default)]
pub struct Credentials<'a> {
    /// `Origin` header.
    pub origin: Option<&'a str>,
    /// `x-edgechat-site-key` header.
    pub site_key: Option<&'a str>,
    /// `Authorization: Bearer` value or `x-api-key` (the SDKs' key slot): a site key or a session token.
    pub bearer: Option<&'a str>,
}

/// Who is calling, once authenticated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Principal {
    /// The site key used, if any.
    pub site: Option<String>,
    /// The session subject, if a session token was presented.
    pub subject: Option<String>,
    /// The session token carries context claims beyond its identity ([`Session::context`]).
    pub context: bool,
    /// The session token's `ctx` claim (checked against [`crate::prompt::MAX_CONTEXT_CHARS`]).
    pub ctx: Option<String>,
}

/// Checks the origin and credentials. `now_s` is the current Unix time in seconds.
pub fn authenticate(config: &Config, creds: &Credentials<'_>, now_s: u64) -> Result<Principal, ApiError> {
    // The bearer slot holds either a site key or a session token (tokens contain a '.').
    let mut site_key = creds.site_key;
    let mut token = None;
    if let Some(b) = creds.bearer {
        if b.contains('.') {
            token = Some(b);
        } else if config.site_keys.contains_key(b) && site_key.is_none() {
            site_key = Some(b);
        } else if !config.site_keys.is_empty() && site_key.is_none() {
            return Err(ApiError::unauthorized("the API key is neither a known site key nor a session token"));
        }
    }
    let session = match token {
        Some(t) => Some(verify_session(config, t, now_s)?),
        None => None,
    };
    let site_name = site_key.map(str::to_string).or_else(|| session.as_ref().and_then(|s| s.site.clone()));
    if let (Some(s), Some(k)) = (session.as_ref().and_then(|s| s.site.as_deref()), site_key) {
        if s != k {
            return Err(ApiError::unauthorized("session token was minted for a different site key"));
        }
    }
    let site = match &site_name {
        Some(k) => Some(
            config.site_keys.get(k).ok_or_else(|| ApiError::unauthorized(format!("unknown site key {}", short(k))))?,
        ),
        None => None,
    };
    if let Some(origin) = creds.origin {
        let allowed = match site {
            Some(s) => origin_matches(&s.origins, origin),
            None => origin_matches(&config.allowed_origins, origin),
        };
        if !allowed {
            return Err(ApiError::new(403, "origin_not_allowed", format!("Origin {origin} is not allowed")));
        }
    }
    if !config.site_keys.is_empty() && site.is_none() && session.is_none() {
        return Err(ApiError::unauthorized("a site key (x-edgechat-site-key) or a session token is required"));
    }
    if let Some(s) = site {
        if s.require_session && session.is_none() {
            return Err(ApiError::unauthorized("this site key requires a session token (Authorization: Bearer)"));
        }
        if creds.origin.is_none() && session.is_none() && !s.allow_no_origin {
            return Err(ApiError::unauthorized(
                "this site key is only valid from a browser on its allowed origins (no Origin header was sent)",
            ));
        }
    }
    let context = session.as_ref().is_some_and(|s| s.context);
    let ctx = session.as_ref().and_then(|s| s.ctx.clone());
    if let Some(c) = &ctx {
        crate::prompt::check_context(c)?;
    }
    Ok(Principal { site: site_name, subject: session.map(|s| s.sub), context, ctx })
}

fn verify_session(config: &Config, token: &str, now_s: u64) -> Result<Session, ApiError> {
    let secret = config
        .session_secret
        .as_deref()
        .ok_or_else(|| ApiError::unauthorized("session tokens are not enabled on this edge (no SESSION_SECRET)"))?;
    token::verify(secret.as_bytes(), token, now_s).map_err(|e| ApiError::unauthorized(e.message()))
}

fn short(key: &str) -> String {
    let k: String = key.chars().take(12).collect();
    if k.len() < key.len() {
        format!("{k}…")
    } else {
        k
    }
}

/// The rate-limit identity of a caller: site key plus session subject, or site key plus client IP.
pub fn client_key(principal: &Principal, cf_connecting_ip: Option<&str>, forwarded_for: Option<&str>) -> String {
    let site = principal.site.as_deref().unwrap_or("-");
    match &principal.subject {
        Some(sub) => format!("site:{site}|sub:{sub}"),
        None => {
            let ip = cf_connecting_ip
                .or_else(|| forwarded_for.and_then(|f| f.split(',').next()))
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .unwrap_or("unknown");
            format!("site:{site}|ip:{ip}")
        }
    }
}

/// Resolves a requested model (alias, or a configured provider model id when `allow_model_ids`) to its alias and
/// entry. `None` means the default model.
pub fn resolve_model<'c>(config: &'c Config, requested: Option<&str>) -> Result<(&'c str, &'c ModelEntry), ApiError> {
    let name = requested.filter(|s| !s.is_empty()).unwrap_or(&config.default_model);
    if let Some((alias, entry)) = config.models.get_key_value(name) {
        return Ok((alias.as_str(), entry));
    }
    if config.allow_model_ids {
        if let Some((alias, entry)) = config.models.iter().find(|(_, e)| e.model == name) {
            return Ok((alias.as_str(), entry));
        }
    }
    let aliases: Vec<&str> = config.models.keys().map(String::as_str).collect();
    Err(ApiError::new(
        400,
        "model_not_allowed",
        format!("model {name:?} is not allowed; use one of: {}", aliases.join(", ")),
    ))
}

/// Rejects a body whose declared `Content-Length` is over the limit (before reading it).
pub fn check_content_length(limits: &Limits, content_length: Option<&str>) -> Result<(), ApiError> {
    match content_length.and_then(|v| v.trim().parse::<u64>().ok()) {
        Some(n) if n > limits.body_limit() as u64 => Err(body_too_large(limits)),
        _ => Ok(()),
    }
}

/// The error for a body over the limit.
pub fn body_too_large(limits: &Limits) -> ApiError {
    ApiError::new(
        413,
        "body_too_large",
        format!(
            "request body exceeds {} bytes ({} of text and {} attachments of at most {} bytes each, base64)",
            limits.body_limit(),
            limits.max_body_bytes,
            limits.max_attachments,
            limits.max_attachment_bytes
        ),
    )
}

/// Applies the output token cap: a request over it is refused; a request without one gets the cap.
pub fn cap_max_tokens(limits: &Limits, requested: Option<u64>) -> Result<u32, ApiError> {
    match requested {
        Some(0) => Err(ApiError::bad_request("max_tokens must be at least 1")),
        Some(n) if n > u64::from(limits.max_tokens) => Err(ApiError::new(
            400,
            "max_tokens_exceeded",
            format!("max_tokens {n} exceeds the limit of {}", limits.max_tokens),
        )),
        Some(n) => Ok(n as u32),
        None => Ok(limits.max_tokens),
    }
}

/// Checks message count and sizes. `messages` yields the character count of each message; `system_chars` is the
/// system prompt's.
pub fn check_messages(limits: &Limits, messages: &[usize], system_chars: usize) -> Result<(), ApiError> {
    if messages.is_empty() {
        return Err(ApiError::bad_request("messages must not be empty"));
    }
    if messages.len() > limits.max_messages {
        return Err(ApiError::new(
            400,
            "too_many_messages",
            format!("{} messages exceed the limit of {}", messages.len(), limits.max_messages),
        ));
    }
    for (i, &n) in messages.iter().enumerate() {
        if n > limits.max_message_chars {
            return Err(ApiError::new(
                400,
                "message_too_long",
                format!("message {i} has {n} characters; the limit is {}", limits.max_message_chars),
            ));
        }
    }
    if system_chars > limits.max_message_chars {
        return Err(ApiError::new(
            400,
            "message_too_long",
            format!("the system prompt has {system_chars} characters; the limit is {}", limits.max_message_chars),
        ));
    }
    let total: usize = messages.iter().sum::<usize>() + system_chars;
    if total > limits.max_total_chars {
        return Err(ApiError::new(
            400,
            "conversation_too_long",
            format!("the conversation has {total} characters; the limit is {}", limits.max_total_chars),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Env;
    use crate::token::mint;

    fn config(json: &str) -> Config {
        Config::from_env(&Env::from_pairs([
            ("EDGECHAT_CONFIG", json),
            ("OPENAI_API_KEY", "sk-test-openai-0000"),
            ("SESSION_SECRET", "test-secret"),
        ]))
        .unwrap()
    }

    fn keyed() -> Config {
        config(
            r#"{"allowed_origins":["https://a.example"],"site_keys":{
                "pk_a":{"origins":["https://a.example"]},
                "pk_srv":{"origins":[],"allow_no_origin":true},
                "pk_sess":{"origins":["https://a.example"],"require_session":true}}}"#,
        )
    }

    fn creds<'a>(origin: Option<&'a str>, key: Option<&'a str>, bearer: Option<&'a str>) -> Credentials<'a> {
        Credentials { origin, site_key: key, bearer }
    }

    #[test]
    fn origin_patterns() {
        let p = vec!["https://a.example".to_string(), "http://127.0.0.1:*".to_string()];
        assert!(origin_matches(&p, "https://a.example"));
        assert!(origin_matches(&p, "http://127.0.0.1:8080"));
        assert!(origin_matches(&p, "http://127.0.0.1"));
        assert!(!origin_matches(&p, "http://127.0.0.1.evil.example"));
        assert!(!origin_matches(&p, "http://127.0.0.1:80x"));
        assert!(!origin_matches(&p, "https://a.example.evil"));
    }

    #[test]
    fn open_mode_checks_only_the_origin() {
        let c = config("{}");
        assert!(authenticate(&c, &creds(Some("http://localhost:3000"), None, None), 0).is_ok());
        assert!(authenticate(&c, &creds(None, None, Some("sk-anything")), 0).is_ok());
        let e = authenticate(&c, &creds(Some("https://evil.example"), None, None), 0).unwrap_err();
        assert_eq!((e.status, e.kind), (403, "origin_not_allowed"));
    }

    #[test]
    fn site_keys_are_bound_to_origins() {
        let c = keyed();
        let p = authenticate(&c, &creds(Some("https://a.example"), Some("pk_a"), None), 0).unwrap();
        assert_eq!(p.site.as_deref(), Some("pk_a"));
        let e = authenticate(&c, &creds(Some("https://b.example"), Some("pk_a"), None), 0).unwrap_err();
        assert_eq!(e.kind, "origin_not_allowed");
        let e = authenticate(&c, &creds(Some("https://a.example"), Some("pk_nope"), None), 0).unwrap_err();
        assert_eq!((e.status, e.kind), (401, "unauthorized"));
        let e = authenticate(&c, &creds(Some("https://a.example"), None, None), 0).unwrap_err();
        assert!(e.message.contains("site key"));
        // No Origin: only keys marked allow_no_origin.
        assert!(authenticate(&c, &creds(None, None, Some("pk_a")), 0).is_err());
        assert!(authenticate(&c, &creds(None, None, Some("pk_srv")), 0).is_ok());
        assert!(authenticate(&c, &creds(None, None, Some("sk-random")), 0).is_err());
    }

    #[test]
    fn session_tokens() {
        let c = keyed();
        let s = |site: &str, exp| Session { site: Some(site.into()), sub: "v1".into(), exp, context: false, ctx: None };
        let good = mint(b"test-secret", &s("pk_sess", 100));
        let p = authenticate(&c, &creds(Some("https://a.example"), Some("pk_sess"), Some(&good)), 50).unwrap();
        assert_eq!(p.subject.as_deref(), Some("v1"));
        // The token alone names its site; it also works without an Origin (server-side SDK).
        assert!(authenticate(&c, &creds(None, None, Some(&good)), 50).is_ok());
        let e = authenticate(&c, &creds(Some("https://a.example"), Some("pk_sess"), Some(&good)), 100).unwrap_err();
        assert_eq!(e.message, "session token has expired");
        let bad = mint(b"wrong", &s("pk_sess", 100));
        let e = authenticate(&c, &creds(Some("https://a.example"), Some("pk_sess"), Some(&bad)), 50).unwrap_err();
        assert_eq!(e.message, "session token signature is invalid");
        let e = authenticate(&c, &creds(Some("https://a.example"), Some("pk_sess"), None), 50).unwrap_err();
        assert!(e.message.contains("requires a session token"));
        let other = mint(b"test-secret", &s("pk_a", 100));
        assert!(authenticate(&c, &creds(Some("https://a.example"), Some("pk_sess"), Some(&other)), 50).is_err());
    }

    #[test]
    fn model_allowlist_by_alias_or_configured_id() {
        let c = config(r#"{"models":{"fast":{"provider":"openai-chat","model":"gpt-4o-mini"}}}"#);
        assert_eq!(resolve_model(&c, Some("fast")).unwrap().0, "fast");
        assert_eq!(resolve_model(&c, Some("gpt-4o-mini")).unwrap().0, "fast");
        assert_eq!(resolve_model(&c, None).unwrap().0, "fast");
        let e = resolve_model(&c, Some("gpt-4o")).unwrap_err();
        assert_eq!((e.status, e.kind), (400, "model_not_allowed"));
        assert!(e.message.contains("fast"));
    }

    #[test]
    fn limits() {
        let l = Limits {
            max_messages: 2,
            max_message_chars: 5,
            max_total_chars: 8,
            max_tokens: 100,
            max_body_bytes: 10,
            max_attachments: 2,
            max_attachment_bytes: 30,
            ..Limits::default()
        };
        // 10 bytes of text plus two files of 30 bytes as base64 (40 each, with 64 of JSON around each).
        assert_eq!(l.body_limit(), 10 + 2 * (40 + 64));
        assert_eq!(check_content_length(&l, Some("219")).unwrap_err().kind, "body_too_large");
        assert!(check_content_length(&l, Some("218")).is_ok());
        let none = Limits { max_attachments: 0, ..l.clone() };
        assert_eq!(check_content_length(&none, Some("11")).unwrap_err().kind, "body_too_large");
        assert!(check_content_length(&l, None).is_ok());
        assert_eq!(cap_max_tokens(&l, Some(101)).unwrap_err().kind, "max_tokens_exceeded");
        assert_eq!(cap_max_tokens(&l, None).unwrap(), 100);
        assert_eq!(check_messages(&l, &[1, 1, 1], 0).unwrap_err().kind, "too_many_messages");
        assert_eq!(check_messages(&l, &[6], 0).unwrap_err().kind, "message_too_long");
        assert_eq!(check_messages(&l, &[5, 4], 0).unwrap_err().kind, "conversation_too_long");
        assert_eq!(check_messages(&l, &[], 0).unwrap_err().kind, "bad_request");
        assert!(check_messages(&l, &[4, 4], 0).is_ok());
    }

    #[test]
    fn client_key_prefers_subject_then_ip() {
        let p = Principal { site: Some("pk".into()), subject: None, context: false, ctx: None };
        assert_eq!(client_key(&p, None, Some("1.2.3.4, 10.0.0.1")), "site:pk|ip:1.2.3.4");
        assert_eq!(client_key(&p, Some("5.6.7.8"), Some("1.2.3.4")), "site:pk|ip:5.6.7.8");
        let p = Principal { site: None, subject: Some("u".into()), context: false, ctx: None };
        assert_eq!(client_key(&p, Some("5.6.7.8"), None), "site:-|sub:u");
    }
}
