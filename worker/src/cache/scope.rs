//! Who may reuse an answer and what a request asked of the caches: the cache [`Scope`], the per-request
//! [`Control`], the [`Plan`] they make together, and the keys (exact answer key, semantic index name and context).
//!
//! # Scoping rules (`worker/README.md`, "Caches")
//! - An answer is keyed by the route, the provider, the normalized request as sent upstream (system prompt
//!   included) and the [`Scope`]: the site key, and the session subject when answers may depend on the user.
//! - Per subject when the site key says so (`cache_per_subject`) or the session token carries context claims
//!   ([`crate::token::Session::context`]); then the site key stays in the scope too (subjects are chosen by each
//!   site's backend, so `user-42` of two sites are two people).
//! - Otherwise per site key (key-less callers, allowed by origin, share one scope), unless `cache.shared` puts
//!   every caller that is not scoped per subject into one shared scope.

use edgechat::provider::{ChatRequest, ProviderKind};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::config::{CacheConfig, Config};
use crate::policy::Principal;

/// The partition of the caches a request reads and writes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// The site key (`-` for a caller without one); `None` when answers are shared across site keys.
    pub site: Option<String>,
    /// The session subject, when answers are kept per user.
    pub subject: Option<String>,
}

impl Scope {
    /// The scope of a request by `principal` under `config` (the rules in the [module docs](self)).
    pub fn of(config: &Config, principal: &Principal) -> Self {
        let site = principal.site.clone().unwrap_or_else(|| "-".into());
        let per_subject = principal.context
            || principal.site.as_deref().and_then(|s| config.site_keys.get(s)).is_some_and(|k| k.cache_per_subject);
        match principal.subject.clone().filter(|_| per_subject) {
            Some(sub) => Self { site: Some(site), subject: Some(sub) },
            None if config.cache.shared => Self::default(),
            None => Self { site: Some(site), subject: None },
        }
    }

    /// A readable name for logs: `shared`, `site:pk_a` or `site:pk_a|sub:user-42`.
    pub fn name(&self) -> String {
        match (&self.site, &self.subject) {
            (None, _) => "shared".into(),
            (Some(s), None) => format!("site:{s}"),
            (Some(s), Some(u)) => format!("site:{s}|sub:{u}"),
        }
    }

    fn feed(&self, h: &mut Sha256) {
        for part in [&self.site, &self.subject] {
            match part {
                None => h.update([0]),
                Some(p) => {
                    h.update([1]);
                    field(h, p);
                }
            }
        }
    }
}

/// One length-prefixed part of a hashed key (no two different part lists hash the same input).
fn field(h: &mut Sha256, part: &str) {
    h.update((part.len() as u64).to_le_bytes());
    h.update(part.as_bytes());
}

/// What a request asks of the caches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    /// The configured behaviour: the exact cache for deterministic requests, the semantic cache when enabled.
    #[default]
    Default,
    /// The exact cache even for a sampling request (the widget's `"cache": true`).
    Use,
    /// Neither read nor write any cache.
    Bypass,
    /// Do not read; store the new answer (replacing the old one).
    Refresh,
}

/// Per-request cache control: the widget's `cache` field, or the `x-edgechat-cache` and `x-edgechat-cache-ttl`
/// headers (docs/protocol.md).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Control {
    /// What to do.
    pub mode: Mode,
    /// A shorter time to live than the configured one, seconds: answers older than this are not reused, and this
    /// request's answer is kept at most this long. Never extends the configured TTL.
    pub ttl_s: Option<u64>,
}

impl Control {
    /// The widget's `cache` field: `true`, `false`, `"use"`, `"bypass"`, `"refresh"`, or `{"mode"?, "ttl"?}`.
    pub fn from_json(v: &Value) -> Result<Self, String> {
        let bad = || "cache must be true, false, \"bypass\", \"refresh\" or {\"ttl\": seconds, \"mode\"?}".to_string();
        match v {
            Value::Null | Value::Bool(false) => Ok(Self::default()),
            Value::Bool(true) => Ok(Self { mode: Mode::Use, ttl_s: None }),
            Value::String(s) => Ok(Self { mode: mode(s).ok_or_else(bad)?, ttl_s: None }),
            Value::Object(o) => {
                if o.keys().any(|k| k != "mode" && k != "ttl") {
                    return Err(bad());
                }
                let mode = match o.get("mode") {
                    None => Mode::Default,
                    Some(m) => m.as_str().and_then(mode).ok_or_else(bad)?,
                };
                let ttl_s = match o.get("ttl") {
                    None => None,
                    Some(t) => Some(ttl(t.as_u64()).ok_or("cache.ttl must be a whole number of seconds, at least 1")?),
                };
                Ok(Self { mode, ttl_s })
            }
            _ => Err(bad()),
        }
    }

    /// The SDK routes' headers: `x-edgechat-cache: use | bypass | refresh` and `x-edgechat-cache-ttl: seconds`.
    pub fn from_headers(cache: Option<&str>, ttl_header: Option<&str>) -> Result<Option<Self>, String> {
        if cache.is_none() && ttl_header.is_none() {
            return Ok(None);
        }
        let mode = match cache.map(str::trim) {
            None | Some("") => Mode::Default,
            Some(m) => {
                mode(&m.to_ascii_lowercase()).ok_or("x-edgechat-cache must be \"use\", \"bypass\" or \"refresh\"")?
            }
        };
        let ttl_s = match ttl_header {
            None => None,
            Some(t) => Some(
                ttl(t.trim().parse().ok())
                    .ok_or("x-edgechat-cache-ttl must be a whole number of seconds, at least 1")?,
            ),
        };
        Ok(Some(Self { mode, ttl_s }))
    }
}

fn mode(s: &str) -> Option<Mode> {
    Some(match s {
        "use" => Mode::Use,
        "bypass" => Mode::Bypass,
        "refresh" => Mode::Refresh,
        _ => return None,
    })
}

fn ttl(n: Option<u64>) -> Option<u64> {
    n.filter(|n| *n >= 1)
}

/// What the caches do for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Look up and store in the exact cache.
    pub exact: bool,
    /// Look up and store in the semantic index.
    pub semantic: bool,
    /// Reuse stored answers (`false` for a refresh: store only).
    pub read: bool,
    /// How long this request's answer is kept, seconds (the configured TTL or the request's shorter one).
    pub ttl_s: u64,
}

impl Plan {
    /// The plan of a request: `deterministic` (temperature 0) enables the exact cache by default; `eligible` is
    /// false where no cache may apply (a continuation, an SDK route without `cache.sdk`); `semantic_route` says
    /// whether the route has a semantic cache at all.
    pub fn new(
        config: &CacheConfig,
        control: Control,
        deterministic: bool,
        eligible: bool,
        semantic_route: bool,
    ) -> Self {
        let on = eligible && control.mode != Mode::Bypass;
        Self {
            exact: on && config.exact && (deterministic || control.mode == Mode::Use),
            semantic: on && semantic_route && config.semantic.enabled,
            read: control.mode != Mode::Refresh,
            ttl_s: control.ttl_s.map_or(config.ttl_seconds, |t| t.min(config.ttl_seconds)),
        }
    }

    /// Whether any cache applies.
    pub fn active(&self) -> bool {
        self.exact || self.semantic
    }

    /// The `x-edgechat-cache` value and log field before a hit: `bypass`, `refresh` or `miss`.
    pub fn status(&self) -> &'static str {
        match (self.active(), self.read) {
            (false, _) => "bypass",
            (true, false) => "refresh",
            (true, true) => "miss",
        }
    }

    /// Stored answers older than this (ms since the epoch) are too old to reuse at `now_ms`.
    pub fn stored_after_ms(&self, now_ms: u64) -> u64 {
        now_ms.saturating_sub(self.ttl_s.saturating_mul(1000))
    }

    /// When an answer stored at `now_ms` expires.
    pub fn expires_ms(&self, now_ms: u64) -> u64 {
        now_ms.saturating_add(self.ttl_s.saturating_mul(1000))
    }

    /// The JSON form (handed to the resumable stream object; written and read by hand for wasm size).
    pub fn to_value(&self) -> Value {
        json!([self.exact, self.semantic, self.read, self.ttl_s])
    }

    /// Reads [`Plan::to_value`]'s form.
    pub fn from_value(v: &Value) -> Option<Self> {
        let a = v.as_array()?;
        let b = |i: usize| a.get(i)?.as_bool();
        Some(Self { exact: b(0)?, semantic: b(1)?, read: b(2)?, ttl_s: a.get(3)?.as_u64()? })
    }
}

/// The exact-cache key: SHA-256 over the route (`chat`, or an SDK route and its streaming mode), the provider,
/// the normalized request and the [`Scope`], hex.
///
/// `request` is the request as sent upstream, system prompt included. Once owner instructions and signed session
/// context are composed into the system prompt (the site owner's assistant issue), they reach the key through
/// it; signed context also puts the subject into the scope ([`Scope::of`]).
pub fn answer_key(route: &str, provider: ProviderKind, request: &[u8], scope: &Scope) -> String {
    let mut h = Sha256::new();
    field(&mut h, "edgechat-answer-v2");
    field(&mut h, route);
    field(&mut h, provider.as_str());
    h.update((request.len() as u64).to_le_bytes());
    h.update(request);
    scope.feed(&mut h);
    hex(&h.finalize())
}

/// The exact-cache key of a widget request ([`answer_key`] over the request with `stream` normalized).
pub fn chat_key(provider: ProviderKind, request: &ChatRequest, scope: &Scope) -> String {
    let mut normalized = request.clone();
    normalized.stream = true;
    answer_key("chat", provider, &serde_json::to_vec(&normalized).unwrap_or_default(), scope)
}

/// The name of the semantic index of `provider`/`model` in `scope` (one Durable Object each).
pub fn index_name(provider: ProviderKind, model: &str, scope: &Scope) -> String {
    let mut h = Sha256::new();
    field(&mut h, "edgechat-semantic-v2");
    field(&mut h, provider.as_str());
    field(&mut h, model);
    scope.feed(&mut h);
    format!("sem:{}", &hex(&h.finalize())[..40])
}

/// What a semantic match must share besides a similar conversation: the system prompt as sent upstream (the
/// composed prompt, once there is one), structured output, tools, stop sequences and the SHA-256 of every
/// attachment (the embedding sees only text: the same question about another image is another question). Hex.
pub fn semantic_context(request: &ChatRequest) -> String {
    let mut parts = json!([request.system, request.response_format, request.tools, request.stop]);
    let files: Vec<String> = request
        .messages
        .iter()
        .flat_map(|m| &m.attachments)
        .map(|a| hex(&Sha256::digest(a.url_or_data_url().as_bytes())))
        .collect();
    if let (false, Value::Array(p)) = (files.is_empty(), &mut parts) {
        p.push(json!(files));
    }
    let mut h = Sha256::new();
    field(&mut h, &parts.to_string());
    hex(&h.finalize())[..32].to_string()
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Env;

    fn config(cache: &str) -> Config {
        let json = format!(
            r#"{{"site_keys":{{"pk_a":{{"origins":["*"]}},"pk_b":{{"origins":["*"]}},
                 "pk_u":{{"origins":["*"],"cache_per_subject":true}}}},"cache":{cache}}}"#
        );
        Config::from_env(&Env::from_pairs([("EDGECHAT_CONFIG", json)])).unwrap()
    }

    fn who(site: Option<&str>, subject: Option<&str>, context: bool) -> Principal {
        Principal { site: site.map(Into::into), subject: subject.map(Into::into), context, ctx: None }
    }

    #[test]
    fn scope_is_the_site_key_unless_shared_and_the_subject_when_answers_depend_on_the_user() {
        let c = config("{}");
        assert_eq!(Scope::of(&c, &who(Some("pk_a"), None, false)).name(), "site:pk_a");
        assert_eq!(Scope::of(&c, &who(Some("pk_a"), Some("x"), false)).name(), "site:pk_a", "no context: per site");
        assert_eq!(Scope::of(&c, &who(Some("pk_a"), Some("x"), true)).name(), "site:pk_a|sub:x", "signed context");
        assert_eq!(Scope::of(&c, &who(Some("pk_u"), Some("x"), false)).name(), "site:pk_u|sub:x", "cache_per_subject");
        assert_eq!(Scope::of(&c, &who(Some("pk_u"), None, false)).name(), "site:pk_u", "anonymous visitors");
        assert_eq!(Scope::of(&c, &who(None, None, false)).name(), "site:-");
        let shared = config(r#"{"shared":true}"#);
        assert_eq!(Scope::of(&shared, &who(Some("pk_a"), None, false)).name(), "shared");
        assert_eq!(Scope::of(&shared, &who(Some("pk_b"), Some("x"), false)).name(), "shared");
        assert_eq!(Scope::of(&shared, &who(Some("pk_u"), Some("x"), false)).name(), "site:pk_u|sub:x", "never shared");
    }

    #[test]
    fn keys_differ_by_route_provider_request_and_every_part_of_the_scope() {
        let s =
            |site: Option<&str>, sub: Option<&str>| Scope { site: site.map(Into::into), subject: sub.map(Into::into) };
        let k = |route, p, body: &[u8], scope: &Scope| answer_key(route, p, body, scope);
        let a = s(Some("pk_a"), None);
        let base = k("chat", ProviderKind::OpenAiChat, b"{}", &a);
        assert_eq!(base.len(), 64);
        assert_eq!(base, k("chat", ProviderKind::OpenAiChat, b"{}", &a.clone()));
        for other in [
            k("sdk", ProviderKind::OpenAiChat, b"{}", &a),
            k("chat", ProviderKind::Anthropic, b"{}", &a),
            k("chat", ProviderKind::OpenAiChat, b"{ }", &a),
            k("chat", ProviderKind::OpenAiChat, b"{}", &s(Some("pk_b"), None)),
            k("chat", ProviderKind::OpenAiChat, b"{}", &s(Some("pk_a"), Some("x"))),
            k("chat", ProviderKind::OpenAiChat, b"{}", &s(None, None)),
            k("chat", ProviderKind::OpenAiChat, b"{}", &s(Some("pk_a"), Some(""))),
        ] {
            assert_ne!(base, other);
        }
        // Parts are length-prefixed: moving a boundary changes the key.
        assert_ne!(
            k("chat", ProviderKind::OpenAiChat, b"{}", &s(Some("ab"), Some("c"))),
            k("chat", ProviderKind::OpenAiChat, b"{}", &s(Some("a"), Some("bc")))
        );
        assert_ne!(
            index_name(ProviderKind::OpenAiChat, "m", &a),
            index_name(ProviderKind::OpenAiChat, "m", &s(Some("pk_b"), None))
        );
    }

    #[test]
    fn the_system_prompt_feeds_the_key_and_the_semantic_context() {
        let mut r = ChatRequest::new("m", vec![edgechat::conversation::Message::user("Hi")]);
        let scope = Scope::default();
        let (key, ctx) = (chat_key(ProviderKind::OpenAiChat, &r, &scope), semantic_context(&r));
        r.system = Some("Answer as a pirate.".into());
        assert_ne!(key, chat_key(ProviderKind::OpenAiChat, &r, &scope));
        assert_ne!(ctx, semantic_context(&r));
        r.stream = false;
        r.system = None;
        assert_eq!(key, chat_key(ProviderKind::OpenAiChat, &r, &scope), "streaming or not: the same answer");
        r.messages.push(edgechat::conversation::Message::user("more"));
        assert_eq!(ctx, semantic_context(&r), "the conversation itself is what is embedded");
    }

    #[test]
    fn attachments_feed_the_key_and_the_semantic_context() {
        use edgechat::conversation::{Attachment, AttachmentKind, Message};
        let scope = Scope::default();
        let with = |data: &str| {
            let a = Attachment::from_data(AttachmentKind::Image, "image/png", data);
            ChatRequest::new("m", vec![Message::user_with("What is this?", vec![a])])
        };
        let text = ChatRequest::new("m", vec![Message::user("What is this?")]);
        let (cat, dog) = (with("Y2F0"), with("ZG9n"));
        let key = |r: &ChatRequest| chat_key(ProviderKind::OpenAiChat, r, &scope);
        assert_ne!(key(&cat), key(&dog), "same text, other image: another answer");
        assert_ne!(key(&cat), key(&text));
        assert_eq!(key(&cat), key(&with("Y2F0")));
        assert_ne!(semantic_context(&cat), semantic_context(&dog), "the embedding sees only the text");
        assert_ne!(semantic_context(&cat), semantic_context(&text));
        assert_eq!(semantic_context(&cat), semantic_context(&with("Y2F0")));
    }

    #[test]
    fn control_reads_the_widget_field_and_the_headers() {
        let j = |s: &str| Control::from_json(&serde_json::from_str(s).unwrap());
        assert_eq!(j("true").unwrap().mode, Mode::Use);
        assert_eq!(j("false").unwrap(), Control::default());
        assert_eq!(j(r#""bypass""#).unwrap().mode, Mode::Bypass);
        assert_eq!(j(r#""refresh""#).unwrap().mode, Mode::Refresh);
        assert_eq!(j(r#"{"ttl":30}"#).unwrap(), Control { mode: Mode::Default, ttl_s: Some(30) });
        assert_eq!(j(r#"{"ttl":30,"mode":"refresh"}"#).unwrap(), Control { mode: Mode::Refresh, ttl_s: Some(30) });
        for bad in [r#""sometimes""#, r#"{"ttl":0}"#, r#"{"ttl":-1}"#, r#"{"ttl":1.5}"#, r#"{"tll":5}"#, "3"] {
            assert!(j(bad).is_err(), "{bad}");
        }
        assert_eq!(Control::from_headers(None, None), Ok(None));
        assert_eq!(Control::from_headers(Some("Bypass"), None).unwrap().unwrap().mode, Mode::Bypass);
        assert_eq!(Control::from_headers(None, Some(" 5 ")).unwrap().unwrap().ttl_s, Some(5));
        assert!(Control::from_headers(Some("never"), None).is_err());
        assert!(Control::from_headers(None, Some("0")).is_err());
    }

    #[test]
    fn plan_follows_config_control_and_request() {
        let c = config(r#"{"ttl_seconds":60,"semantic":{"enabled":true}}"#).cache;
        let p = |mode, ttl_s, det| Plan::new(&c, Control { mode, ttl_s }, det, true, true);
        let d = p(Mode::Default, None, true);
        assert!(d.exact && d.semantic && d.read && d.status() == "miss" && d.ttl_s == 60);
        assert!(!p(Mode::Default, None, false).exact, "sampling: semantic only");
        assert!(p(Mode::Use, None, false).exact);
        assert_eq!(p(Mode::Bypass, None, true).status(), "bypass");
        assert_eq!(p(Mode::Refresh, None, true).status(), "refresh");
        assert_eq!(p(Mode::Default, Some(5), true).ttl_s, 5);
        assert_eq!(p(Mode::Default, Some(500), true).ttl_s, 60, "never longer than configured");
        assert_eq!(d.stored_after_ms(100_000), 40_000);
        assert_eq!(d.expires_ms(100_000), 160_000);
        assert_eq!(Plan::from_value(&d.to_value()), Some(d));
        assert!(!Plan::new(&c, Control::default(), true, false, true).active(), "ineligible");
        assert!(!Plan::new(&c, Control::default(), false, true, false).active(), "no semantic cache on the route");
    }
}
