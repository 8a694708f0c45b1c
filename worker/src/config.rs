//! Configuration: environment variables (wrangler vars and secrets, `.dev.vars` locally) plus the one JSON var
//! `EDGECHAT_CONFIG`. Pure: the runtime hands in a map of strings, nothing here touches JS.
//!
//! Every field is documented in `worker/README.md`.

use std::cell::RefCell;
use std::rc::Rc;

use edgechat::cost::{ModelPrice, PricingTable};
use edgechat::provider::{ProviderConfig, ProviderKind};
use edgechat::retry::RetryPolicy;
use serde_json::Value;

use crate::jsonread::{Named, Obj};

/// The environment as plain strings (only the names the edge reads).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Env {
    vars: Vec<(String, String)>,
}

impl Env {
    /// The names the edge reads from its environment.
    pub const NAMES: &'static [&'static str] = &[
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "COMPAT_API_KEY",
        "OPENAI_BASE_URL",
        "ANTHROPIC_BASE_URL",
        "COMPAT_BASE_URL",
        "EDGECHAT_CONFIG",
        "SESSION_SECRET",
        "ADMIN_TOKEN",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_HEADERS",
    ];

    /// An environment from name/value pairs (empty values count as unset).
    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let vars = pairs.into_iter().map(|(k, v)| (k.into(), v.into())).filter(|(_, v)| !v.trim().is_empty()).collect();
        Self { vars }
    }

    /// A variable's value, if set and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim())
    }

    /// Every secret value (provider keys, session secret): these must never appear in any output.
    pub fn secrets(&self) -> Vec<String> {
        ["OPENAI_API_KEY", "ANTHROPIC_API_KEY", "COMPAT_API_KEY", "SESSION_SECRET", "ADMIN_TOKEN"]
            .iter()
            .filter_map(|n| self.get(n))
            .filter(|v| v.len() >= 6)
            .map(str::to_string)
            .collect()
    }
}

/// One model the edge offers, under an alias.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelEntry {
    /// Wire format / provider: `openai-chat`, `openai-responses`, `anthropic`, `openai-compatible`.
    pub provider: ProviderKind,
    /// The provider's model id.
    pub model: String,
    /// Label shown in the widget's model picker.
    pub label: Option<String>,
    /// Aliases to try, in order, when this one fails with a retryable error before the first byte.
    pub fallback: Vec<String>,
    /// The owner's instructions for this alias (after the top-level ones).
    pub instructions: Option<String>,
    /// The model's context window in tokens (`None`: the built-in figure for known models, else unlimited).
    pub context_tokens: Option<u64>,
    /// How turns that no longer fit are summarized for this alias (overrides the top-level `summarize`).
    pub summarize: Option<Summarize>,
    /// The provider account's requests per minute for this model, across all clients (0: not limited).
    pub provider_rpm: u32,
    /// The provider account's tokens per minute for this model, across all clients (0: not limited).
    pub provider_tpm: u64,
    /// The model takes images (default: [`crate::attach::default_caps`]).
    pub vision: bool,
    /// The model takes PDF documents (default: [`crate::attach::default_caps`]).
    pub documents: bool,
}

/// `summarize`: which alias summarizes turns that no longer fit, and how long a summary may be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summarize {
    /// The alias of the summarizing model.
    pub model: String,
    /// Most tokens of a summary.
    pub max_tokens: u32,
}

impl ModelEntry {
    /// The context window in tokens: configured, or the built-in figure for a known model.
    pub fn context_tokens(&self) -> Option<u64> {
        self.context_tokens.or_else(|| crate::prompt::default_context_tokens(&self.model))
    }
}

/// Request and usage limits.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Largest `max_tokens` a request may ask for; also the value used when it asks for none.
    pub max_tokens: u32,
    /// Most messages per request.
    pub max_messages: usize,
    /// Most characters in one message.
    pub max_message_chars: usize,
    /// Most characters over all messages and the system prompt.
    pub max_total_chars: usize,
    /// Largest request body in bytes, not counting attachments (see [`Limits::body_limit`]).
    pub max_body_bytes: usize,
    /// Most attachments per request (over all its turns).
    pub max_attachments: usize,
    /// Largest attachment, decoded bytes.
    pub max_attachment_bytes: u64,
    /// MIME types an attachment sent as bytes may have.
    pub attachment_types: Vec<String>,
    /// Requests per minute per client (0 = unlimited).
    pub requests_per_minute: u32,
    /// Streams open at once per client (0 = unlimited).
    pub concurrent_streams: u32,
    /// Tokens (input + output) per client per UTC day (0 = unlimited).
    pub daily_tokens: u64,
    /// Spend in USD per client per UTC day (0 = unlimited; needs known prices).
    pub daily_spend_usd: f64,
    /// Give up on an attempt when the upstream sends no body byte for this long after the headers (ms).
    pub first_token_timeout_ms: u32,
    /// End a stream with `error` when the upstream sends nothing for this long mid-stream (ms).
    pub stall_timeout_ms: u32,
    /// While the upstream is silent, send the client an SSE comment (`: ping`) this often (ms); this is also how
    /// a client that went away is noticed (and the upstream aborted) while nothing is streaming.
    pub keepalive_ms: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_tokens: 1024,
            max_messages: 50,
            max_message_chars: 8000,
            max_total_chars: 60_000,
            max_body_bytes: 256 * 1024,
            max_attachments: 4,
            max_attachment_bytes: 4 * 1024 * 1024,
            attachment_types: edgechat::conversation::IMAGE_TYPES
                .iter()
                .chain(edgechat::conversation::DOCUMENT_TYPES)
                .map(|t| t.to_string())
                .collect(),
            requests_per_minute: 30,
            concurrent_streams: 3,
            daily_tokens: 200_000,
            daily_spend_usd: 0.0,
            first_token_timeout_ms: 30_000,
            stall_timeout_ms: 30_000,
            keepalive_ms: 5_000,
        }
    }
}

impl Limits {
    /// The largest body the edge reads: `max_body_bytes` plus room for `max_attachments` files of
    /// `max_attachment_bytes` each, base64-encoded (4 bytes per 3), so files within the caps are never refused
    /// for the body's size. The attachment checks then hold each file to its cap.
    pub fn body_limit(&self) -> usize {
        let per_file = self.max_attachment_bytes.div_ceil(3).saturating_mul(4).saturating_add(64);
        let files = per_file.saturating_mul(self.max_attachments as u64);
        self.max_body_bytes.saturating_add(usize::try_from(files).unwrap_or(usize::MAX))
    }
}

/// Semantic cache settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SemanticCacheConfig {
    /// Off by default.
    pub enabled: bool,
    /// Cosine similarity at or above which a stored answer is reused.
    pub threshold: f64,
    /// Embedding model (sent to `{base}/embeddings` of `provider`).
    pub embedding_model: String,
    /// Provider whose `/embeddings` endpoint is used (`openai-chat` or `openai-compatible`).
    pub provider: ProviderKind,
    /// Most entries kept per index (one index per model and cache scope); beyond it expired entries go first,
    /// then the oldest stored.
    pub max_entries: usize,
}

impl Default for SemanticCacheConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            threshold: 0.95,
            embedding_model: "text-embedding-3-small".into(),
            provider: ProviderKind::OpenAiChat,
            max_entries: 100,
        }
    }
}

/// Response cache settings.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheConfig {
    /// Exact-match cache of deterministic requests (temperature 0 or `"cache": true`).
    pub exact: bool,
    /// How long cached answers live (seconds); a request may ask for less, never more.
    pub ttl_seconds: u64,
    /// Share answers across site keys (and key-less callers). Off: each site key has its own caches.
    pub shared: bool,
    /// The SDK-compatible routes use the exact cache too (off: they always go to the provider).
    pub sdk: bool,
    /// Semantic cache.
    pub semantic: SemanticCacheConfig,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self { exact: true, ttl_seconds: 3600, shared: false, sdk: false, semantic: SemanticCacheConfig::default() }
    }
}

/// A publishable site key and where it may be used.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteKey {
    /// Origins the key is valid for (same pattern syntax as `allowed_origins`).
    pub origins: Vec<String>,
    /// Whether requests without an `Origin` header (server-side SDK clients) may use this key. Only for keys
    /// kept secret.
    pub allow_no_origin: bool,
    /// Require a session token in addition to the key.
    pub require_session: bool,
    /// The owner's instructions for pages using this key (after the top-level and the alias's).
    pub instructions: Option<String>,
    /// Cache answers per session subject: one user's answers are never served to another.
    pub cache_per_subject: bool,
    /// Client tools pages using this key may send (`None`: none; `crate::tools`).
    pub client_tools: Option<crate::tools::ClientTools>,
    /// Most attachments per request on pages using this key (only lower than `limits.max_attachments`).
    pub max_attachments: Option<usize>,
    /// Largest attachment on pages using this key (only lower than `limits.max_attachment_bytes`).
    pub max_attachment_bytes: Option<u64>,
    /// Attachment types allowed on pages using this key (only those also in `limits.attachment_types`).
    pub attachment_types: Option<Vec<String>>,
}

/// The resolved configuration the handler uses.
#[derive(Debug, Clone)]
pub struct Config {
    /// Aliases to models (in alias order).
    pub models: Named<ModelEntry>,
    /// Alias used when a request names none.
    pub default_model: String,
    /// Whether a request may name a configured provider model id instead of its alias.
    pub allow_model_ids: bool,
    /// Origins allowed to call the edge (exact `scheme://host[:port]`, `*` as the port, or `*` for any).
    pub allowed_origins: Vec<String>,
    /// Publishable site keys.
    pub site_keys: Named<SiteKey>,
    /// Client tools for callers without a site key (admitted by origin; `None`: none).
    pub client_tools: Option<crate::tools::ClientTools>,
    /// Limits.
    pub limits: Limits,
    /// Retry policy (the core's).
    pub retry: RetryPolicy,
    /// Caches.
    pub cache: CacheConfig,
    /// Prices: the core's built-in table with the configured overrides.
    pub pricing: PricingTable,
    /// Whether the widget may send a system prompt.
    pub allow_system_prompt: bool,
    /// Tell the widget the answers come from a mock.
    pub simulated: bool,
    /// Anthropic prompt caching.
    pub prompt_cache: bool,
    /// HMAC secret for session tokens.
    pub session_secret: Option<String>,
    /// The owner's instructions for every request (first in the system prompt).
    pub instructions: Option<String>,
    /// How turns that no longer fit are summarized (`None`: the oldest are dropped).
    pub summarize: Option<Summarize>,
    /// Routing by task (the `auto` alias).
    pub routing: Option<crate::task::Routing>,
    /// How long a request waits for the provider's per-model limits before `429`, ms.
    pub provider_wait_ms: u32,
    /// Apply the owner's instructions (top level and the alias's) on the SDK routes too (off: those callers send
    /// their own prompts).
    pub sdk_instructions: bool,
    /// The usage store (`usage`).
    pub usage: crate::usage::Settings,
    /// The admin API's bearer token (`ADMIN_TOKEN`; `None`: the admin routes are `404`).
    pub admin_token: Option<String>,
    /// Where OpenTelemetry spans go (`OTEL_EXPORTER_OTLP_*`; `None`: nowhere).
    pub otel: Option<crate::otel::Exporter>,
    providers: Vec<ProviderConfig>,
}

/// Why the configuration cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid edge configuration: {}", self.0)
    }
}

/// Whether `url`'s host is this machine (`localhost`, `127.0.0.0/8`, `[::1]`).
pub fn is_loopback_url(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    host.eq_ignore_ascii_case("localhost") || host == "::1" || host.starts_with("127.")
}

/// Origins a local development setup uses.
pub const DEV_ORIGINS: &[&str] = &["http://127.0.0.1:*", "http://localhost:*"];

impl Config {
    /// Resolves the configuration from the environment.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let raw: Value = match env.get("EDGECHAT_CONFIG") {
            Some(json) => serde_json::from_str(json).map_err(|e| ConfigError(format!("EDGECHAT_CONFIG: {e}")))?,
            None => Value::Object(Default::default()),
        };
        let raw = read_raw(&raw).map_err(|e| ConfigError(format!("EDGECHAT_CONFIG: {e}")))?;
        let providers = provider_configs(env);
        let models = match raw.models {
            Some(m) if !m.is_empty() => m,
            _ => default_models(env),
        };
        for (alias, entry) in models.iter() {
            for fb in &entry.fallback {
                if !models.contains_key(fb) {
                    return Err(ConfigError(format!("model {alias:?} falls back to unknown alias {fb:?}")));
                }
            }
        }
        let default_model = match raw.default_model {
            Some(d) if models.contains_key(&d) => d,
            Some(d) => return Err(ConfigError(format!("default_model {d:?} is not a configured alias"))),
            None => models.keys().next().cloned().unwrap_or_default(),
        };
        raw.retry.validate().map_err(|e| ConfigError(format!("retry: {e}")))?;
        let mut pricing = PricingTable::builtin();
        for (model, price) in raw.pricing.0 {
            match price {
                Some(p) => pricing.insert(model, p),
                None => {
                    pricing.remove(&model);
                }
            }
        }
        // A model served from this machine (a loopback base URL) costs nothing unless the operator priced it.
        for e in models.values() {
            let base = providers.iter().find(|p| p.kind == e.provider).map(|p| p.base_url.as_str());
            if base.is_some_and(is_loopback_url) && pricing.get(&e.model).is_none() {
                pricing.insert(
                    e.model.clone(),
                    ModelPrice { input: 0.0, output: 0.0, cache_read: None, cache_write: None },
                );
            }
        }
        let aliases: Vec<&str> = models.keys().map(String::as_str).collect();
        let routing = match &raw.routing {
            Some(v) => Some(crate::task::Routing::from_json(v, &aliases).map_err(ConfigError)?),
            None => None,
        };
        let summarizers = raw.summarize.iter().chain(models.values().filter_map(|e| e.summarize.as_ref()));
        for s in summarizers {
            if !models.contains_key(&s.model) {
                return Err(ConfigError(format!("summarize.model {:?} is not a configured model alias", s.model)));
            }
        }
        let mut limits = raw.limits;
        if !models.values().any(|e| e.vision || e.documents) {
            // No model takes files: none are accepted, and the body limit stays `max_body_bytes`.
            limits.max_attachments = 0;
        }
        let allowed_origins =
            raw.allowed_origins.unwrap_or_else(|| DEV_ORIGINS.iter().map(|s| s.to_string()).collect());
        Ok(Self {
            models,
            default_model,
            allow_model_ids: raw.allow_model_ids.unwrap_or(true),
            allowed_origins,
            site_keys: raw.site_keys,
            client_tools: raw.client_tools,
            limits,
            retry: raw.retry,
            cache: raw.cache,
            pricing,
            allow_system_prompt: raw.allow_system_prompt,
            simulated: raw.simulated,
            prompt_cache: raw.prompt_cache.unwrap_or(true),
            session_secret: env.get("SESSION_SECRET").map(str::to_string),
            instructions: raw.instructions,
            summarize: raw.summarize,
            routing,
            provider_wait_ms: raw.provider_wait_ms.unwrap_or(2_000),
            sdk_instructions: raw.sdk_instructions,
            usage: raw.usage,
            admin_token: env.get("ADMIN_TOKEN").map(str::to_string),
            otel: crate::otel::Exporter::from_env(env).map_err(ConfigError)?,
            providers,
        })
    }

    /// [`Config::from_env`], resolved once per thread (a Workers isolate) and environment: an isolate serves many
    /// requests with the same environment strings, so they are parsed and validated once, and again only when one
    /// of them changed (an invalid environment is not kept: each request reports it).
    pub fn cached(env: &Env) -> Result<Rc<Self>, ConfigError> {
        thread_local! {
            static RESOLVED: RefCell<Option<(Env, Rc<Config>)>> = const { RefCell::new(None) };
        }
        RESOLVED.with(|resolved| {
            if let Some((seen, config)) = &*resolved.borrow() {
                if seen == env {
                    return Ok(config.clone());
                }
            }
            let config = Rc::new(Self::from_env(env)?);
            *resolved.borrow_mut() = Some((env.clone(), config.clone()));
            Ok(config)
        })
    }

    /// The signer of summary tokens, keyed by the edge's secrets.
    pub fn summary_signer(&self) -> crate::prompt::SummarySigner {
        let mut secrets: Vec<&str> = self.session_secret.iter().map(String::as_str).collect();
        secrets.extend(self.providers.iter().filter_map(|p| p.api_key.as_deref()));
        crate::prompt::SummarySigner::new(&secrets)
    }

    /// How to reach `kind` (base URL and key from the environment).
    pub fn provider(&self, kind: ProviderKind) -> ProviderConfig {
        self.providers.iter().find(|p| p.kind == kind).cloned().unwrap_or(ProviderConfig {
            kind,
            base_url: kind.default_base_url().to_string(),
            api_key: None,
            extra_headers: Vec::new(),
        })
    }
}

/// `EDGECHAT_CONFIG` as written by the operator (everything optional).
#[derive(Default)]
struct RawConfig {
    models: Option<Named<ModelEntry>>,
    default_model: Option<String>,
    allow_model_ids: Option<bool>,
    allowed_origins: Option<Vec<String>>,
    site_keys: Named<SiteKey>,
    client_tools: Option<crate::tools::ClientTools>,
    limits: Limits,
    retry: RetryPolicy,
    cache: CacheConfig,
    pricing: Named<Option<ModelPrice>>,
    allow_system_prompt: bool,
    simulated: bool,
    prompt_cache: Option<bool>,
    instructions: Option<String>,
    summarize: Option<Summarize>,
    routing: Option<Value>,
    provider_wait_ms: Option<u32>,
    sdk_instructions: bool,
    usage: crate::usage::Settings,
}

fn read_raw(v: &Value) -> Result<RawConfig, String> {
    let o = Obj::new(
        v,
        "",
        &[
            "models",
            "default_model",
            "allow_model_ids",
            "allowed_origins",
            "site_keys",
            "client_tools",
            "limits",
            "retry",
            "cache",
            "pricing",
            "allow_system_prompt",
            "simulated",
            "prompt_cache",
            "instructions",
            "summarize",
            "routing",
            "provider_wait_ms",
            "sdk_instructions",
            "usage",
        ],
    )?;
    Ok(RawConfig {
        models: o.named("models", read_model)?.filter(|m| !m.is_empty()),
        default_model: o.str("default_model")?,
        allow_model_ids: o.bool("allow_model_ids")?,
        allowed_origins: o.strings("allowed_origins")?,
        site_keys: o.named("site_keys", read_site_key)?.unwrap_or_default(),
        client_tools: client_tools(&o)?,
        limits: match o.get("limits") {
            Some(l) => read_limits(l, &o.path("limits"))?,
            None => Limits::default(),
        },
        retry: match o.get("retry") {
            Some(r) => read_retry(r, &o.path("retry"))?,
            None => RetryPolicy::default(),
        },
        cache: match o.get("cache") {
            Some(c) => read_cache(c, &o.path("cache"))?,
            None => CacheConfig::default(),
        },
        pricing: o.named("pricing", read_price)?.unwrap_or_default(),
        allow_system_prompt: o.bool("allow_system_prompt")?.unwrap_or(false),
        simulated: o.bool("simulated")?.unwrap_or(false),
        prompt_cache: o.bool("prompt_cache")?,
        instructions: o.str("instructions")?,
        summarize: o.get("summarize").map(|v| read_summarize(v, &o.path("summarize"))).transpose()?,
        routing: o.get("routing").cloned(),
        provider_wait_ms: o.u32("provider_wait_ms")?,
        sdk_instructions: o.bool("sdk_instructions")?.unwrap_or(false),
        usage: o
            .get("usage")
            .map(|u| crate::usage::Settings::read(u, &o.path("usage")))
            .transpose()?
            .unwrap_or_default(),
    })
}

fn read_summarize(v: &Value, path: &str) -> Result<Summarize, String> {
    let o = Obj::new(v, path, &["model", "max_tokens"])?;
    Ok(Summarize {
        model: o.str("model")?.ok_or_else(|| format!("{} is required (the alias that summarizes)", o.path("model")))?,
        max_tokens: o.u32("max_tokens")?.unwrap_or(400).max(16),
    })
}

fn read_provider(o: &Obj<'_>, field: &str) -> Result<Option<ProviderKind>, String> {
    match o.str(field)? {
        None => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|e| format!("{}: {e}", o.path(field))),
    }
}

fn read_model(v: &Value, path: &str) -> Result<ModelEntry, String> {
    let o = Obj::new(
        v,
        path,
        &[
            "provider",
            "model",
            "label",
            "fallback",
            "instructions",
            "context_tokens",
            "summarize",
            "provider_rpm",
            "provider_tpm",
            "vision",
            "documents",
        ],
    )?;
    let provider = read_provider(&o, "provider")?.ok_or_else(|| format!("{} is required", o.path("provider")))?;
    let model: String = o.str("model")?.ok_or_else(|| format!("{} is required", o.path("model")))?;
    let (vision, documents) = crate::attach::default_caps(provider, &model);
    Ok(ModelEntry {
        vision: o.bool("vision")?.unwrap_or(vision),
        documents: o.bool("documents")?.unwrap_or(documents),
        provider,
        model,
        label: o.str("label")?,
        fallback: o.strings("fallback")?.unwrap_or_default(),
        instructions: o.str("instructions")?,
        context_tokens: o.u64("context_tokens")?,
        summarize: o.get("summarize").map(|v| read_summarize(v, &o.path("summarize"))).transpose()?,
        provider_rpm: o.u32("provider_rpm")?.unwrap_or(0),
        provider_tpm: o.u64("provider_tpm")?.unwrap_or(0),
    })
}

fn read_site_key(v: &Value, path: &str) -> Result<SiteKey, String> {
    let o = Obj::new(
        v,
        path,
        &[
            "origins",
            "allow_no_origin",
            "require_session",
            "instructions",
            "cache_per_subject",
            "client_tools",
            "max_attachments",
            "max_attachment_bytes",
            "attachment_types",
        ],
    )?;
    Ok(SiteKey {
        origins: o.strings("origins")?.ok_or_else(|| format!("{} is required", o.path("origins")))?,
        allow_no_origin: o.bool("allow_no_origin")?.unwrap_or(false),
        require_session: o.bool("require_session")?.unwrap_or(false),
        instructions: o.str("instructions")?,
        cache_per_subject: o.bool("cache_per_subject")?.unwrap_or(false),
        client_tools: client_tools(&o)?,
        max_attachments: o.u64("max_attachments")?.map(|n| n as usize),
        max_attachment_bytes: o.u64("max_attachment_bytes")?,
        attachment_types: o.strings("attachment_types")?,
    })
}

fn client_tools(o: &Obj<'_>) -> Result<Option<crate::tools::ClientTools>, String> {
    o.get("client_tools").map_or(Ok(None), |v| crate::tools::ClientTools::read(v, &o.path("client_tools")))
}

fn read_limits(v: &Value, path: &str) -> Result<Limits, String> {
    let o = Obj::new(
        v,
        path,
        &[
            "max_tokens",
            "max_messages",
            "max_message_chars",
            "max_total_chars",
            "max_body_bytes",
            "max_attachments",
            "max_attachment_bytes",
            "attachment_types",
            "requests_per_minute",
            "concurrent_streams",
            "daily_tokens",
            "daily_spend_usd",
            "first_token_timeout_ms",
            "stall_timeout_ms",
            "keepalive_ms",
        ],
    )?;
    let d = Limits::default();
    let size = |f: &str, dflt: usize| o.u64(f).map(|x| x.map_or(dflt, |n| n as usize));
    Ok(Limits {
        max_tokens: o.u32("max_tokens")?.unwrap_or(d.max_tokens),
        max_messages: size("max_messages", d.max_messages)?,
        max_message_chars: size("max_message_chars", d.max_message_chars)?,
        max_total_chars: size("max_total_chars", d.max_total_chars)?,
        max_body_bytes: size("max_body_bytes", d.max_body_bytes)?,
        max_attachments: size("max_attachments", d.max_attachments)?,
        max_attachment_bytes: o.u64("max_attachment_bytes")?.unwrap_or(d.max_attachment_bytes),
        attachment_types: o.strings("attachment_types")?.unwrap_or(d.attachment_types),
        requests_per_minute: o.u32("requests_per_minute")?.unwrap_or(d.requests_per_minute),
        concurrent_streams: o.u32("concurrent_streams")?.unwrap_or(d.concurrent_streams),
        daily_tokens: o.u64("daily_tokens")?.unwrap_or(d.daily_tokens),
        daily_spend_usd: o.f64("daily_spend_usd")?.unwrap_or(d.daily_spend_usd),
        first_token_timeout_ms: o.u32("first_token_timeout_ms")?.unwrap_or(d.first_token_timeout_ms),
        stall_timeout_ms: o.u32("stall_timeout_ms")?.unwrap_or(d.stall_timeout_ms),
        keepalive_ms: o.u32("keepalive_ms")?.unwrap_or(d.keepalive_ms),
    })
}

fn read_retry(v: &Value, path: &str) -> Result<RetryPolicy, String> {
    let o = Obj::new(
        v,
        path,
        &["max_attempts", "base_delay_ms", "max_delay_ms", "max_retry_after_ms", "retryable_statuses"],
    )?;
    let d = RetryPolicy::default();
    let statuses = match o.get("retryable_statuses") {
        None => d.retryable_statuses.clone(),
        Some(s) => s
            .as_array()
            .and_then(|a| a.iter().map(|x| x.as_u64().and_then(|n| u16::try_from(n).ok())).collect::<Option<Vec<_>>>())
            .ok_or_else(|| format!("{} must be an array of HTTP statuses", o.path("retryable_statuses")))?,
    };
    Ok(RetryPolicy {
        max_attempts: o.u32("max_attempts")?.unwrap_or(d.max_attempts),
        base_delay_ms: o.u64("base_delay_ms")?.unwrap_or(d.base_delay_ms),
        max_delay_ms: o.u64("max_delay_ms")?.unwrap_or(d.max_delay_ms),
        max_retry_after_ms: o.u64("max_retry_after_ms")?.unwrap_or(d.max_retry_after_ms),
        retryable_statuses: statuses,
    })
}

fn read_cache(v: &Value, path: &str) -> Result<CacheConfig, String> {
    let o = Obj::new(v, path, &["exact", "ttl_seconds", "shared", "sdk", "semantic"])?;
    let d = CacheConfig::default();
    let semantic = match o.get("semantic") {
        None => d.semantic.clone(),
        Some(s) => {
            let s = Obj::new(
                s,
                &o.path("semantic"),
                &["enabled", "threshold", "embedding_model", "provider", "max_entries"],
            )?;
            let sd = SemanticCacheConfig::default();
            SemanticCacheConfig {
                enabled: s.bool("enabled")?.unwrap_or(sd.enabled),
                threshold: s.f64("threshold")?.unwrap_or(sd.threshold),
                embedding_model: s.str("embedding_model")?.unwrap_or(sd.embedding_model),
                provider: read_provider(&s, "provider")?.unwrap_or(sd.provider),
                max_entries: s.u64("max_entries")?.map_or(sd.max_entries, |n| n as usize),
            }
        }
    };
    Ok(CacheConfig {
        exact: o.bool("exact")?.unwrap_or(d.exact),
        ttl_seconds: o.u64("ttl_seconds")?.unwrap_or(d.ttl_seconds),
        shared: o.bool("shared")?.unwrap_or(d.shared),
        sdk: o.bool("sdk")?.unwrap_or(d.sdk),
        semantic,
    })
}

fn read_price(v: &Value, path: &str) -> Result<Option<ModelPrice>, String> {
    if v.is_null() {
        return Ok(None);
    }
    let o = Obj::new(v, path, &["input", "output", "cache_read", "cache_write"])?;
    Ok(Some(ModelPrice {
        input: o.f64("input")?.ok_or_else(|| format!("{} is required", o.path("input")))?,
        output: o.f64("output")?.ok_or_else(|| format!("{} is required", o.path("output")))?,
        cache_read: o.f64("cache_read")?,
        cache_write: o.f64("cache_write")?,
    }))
}

fn provider_configs(env: &Env) -> Vec<ProviderConfig> {
    let mk = |kind: ProviderKind, base: &str, key: &str| ProviderConfig {
        kind,
        base_url: env
            .get(base)
            .map(|u| u.trim_end_matches('/').to_string())
            .unwrap_or_else(|| kind.default_base_url().to_string()),
        api_key: env.get(key).map(str::to_string),
        extra_headers: Vec::new(),
    };
    let mut m = Vec::new();
    for (kind, base, key) in [
        (ProviderKind::OpenAiChat, "OPENAI_BASE_URL", "OPENAI_API_KEY"),
        (ProviderKind::OpenAiResponses, "OPENAI_BASE_URL", "OPENAI_API_KEY"),
        (ProviderKind::Anthropic, "ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY"),
        (ProviderKind::OpenAiCompatible, "COMPAT_BASE_URL", "COMPAT_API_KEY"),
    ] {
        m.push(mk(kind, base, key));
    }
    m
}

/// Models offered when `EDGECHAT_CONFIG` names none: whatever the configured providers can serve.
fn default_models(env: &Env) -> Named<ModelEntry> {
    let entry = |provider, model: &str, label: &str| ModelEntry {
        vision: crate::attach::default_caps(provider, model).0,
        documents: crate::attach::default_caps(provider, model).1,
        provider,
        model: model.into(),
        label: Some(label.into()),
        fallback: Vec::new(),
        instructions: None,
        context_tokens: None,
        summarize: None,
        provider_rpm: 0,
        provider_tpm: 0,
    };
    let mut m = Named::default();
    let openai = env.get("OPENAI_API_KEY").is_some() || env.get("OPENAI_BASE_URL").is_some();
    let anthropic = env.get("ANTHROPIC_API_KEY").is_some() || env.get("ANTHROPIC_BASE_URL").is_some();
    // Inserted in key order (fast, local, smart), as the aliases are listed; no sort (its code is not small).
    if openai {
        m.insert("fast".into(), entry(ProviderKind::OpenAiChat, "gpt-4o-mini", "Fast"));
    } else if anthropic {
        m.insert("fast".into(), entry(ProviderKind::Anthropic, "claude-haiku-4-5", "Fast"));
    }
    if env.get("COMPAT_BASE_URL").is_some() || !(openai || anthropic) {
        m.insert("local".into(), entry(ProviderKind::OpenAiCompatible, "smollm2", "Local model"));
    }
    if anthropic {
        m.insert("smart".into(), entry(ProviderKind::Anthropic, "claude-sonnet-4-5", "Smart"));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_configured_providers() {
        let env = Env::from_pairs([("ANTHROPIC_API_KEY", "sk-ant-test-0000")]);
        let c = Config::from_env(&env).unwrap();
        assert_eq!(c.models.keys().collect::<Vec<_>>(), ["fast", "smart"]);
        assert_eq!(c.models["fast"].provider, ProviderKind::Anthropic);
        assert_eq!(c.provider(ProviderKind::Anthropic).api_key.as_deref(), Some("sk-ant-test-0000"));
        assert!(c.prompt_cache);
    }

    #[test]
    fn local_model_when_nothing_is_configured() {
        let c = Config::from_env(&Env::default()).unwrap();
        assert_eq!(c.default_model, "local");
    }

    #[test]
    fn rejects_unknown_fields_and_bad_fallbacks() {
        let env = Env::from_pairs([("EDGECHAT_CONFIG", r#"{"modles":{}}"#)]);
        assert!(Config::from_env(&env).unwrap_err().0.contains("unknown field"));
        let env = Env::from_pairs([(
            "EDGECHAT_CONFIG",
            r#"{"models":{"a":{"provider":"anthropic","model":"m","fallback":["b"]}}}"#,
        )]);
        assert!(Config::from_env(&env).unwrap_err().0.contains("unknown alias"));
        let env = Env::from_pairs([("EDGECHAT_CONFIG", r#"{"retry":{"max_attempts":0}}"#)]);
        assert!(
            Config::from_env(&env).unwrap_err().0.starts_with("retry"),
            "{:?}",
            Config::from_env(&env).unwrap_err()
        );
        let env = Env::from_pairs([("EDGECHAT_CONFIG", r#"{"pricing":{"m":{"input":-1,"output":1}}}"#)]);
        assert!(Config::from_env(&env).unwrap_err().0.contains("pricing.m.input must be a non-negative number"));
        let env = Env::from_pairs([("EDGECHAT_CONFIG", r#"{"limits":{"max_tokens":"many"}}"#)]);
        assert!(Config::from_env(&env).unwrap_err().0.contains("limits.max_tokens must be"));
        let env = Env::from_pairs([("EDGECHAT_CONFIG", r#"{"models":{"a":{"provider":"bard","model":"m"}}}"#)]);
        assert!(Config::from_env(&env).unwrap_err().0.contains("models.a.provider"));
    }

    #[test]
    fn instructions_summaries_and_routing_are_read_and_checked() {
        let cfg = |json: &str| Config::from_env(&Env::from_pairs([("EDGECHAT_CONFIG", json)]));
        let ok = cfg(r#"{"instructions":"Be Acme's assistant.",
            "models":{"fast":{"provider":"openai-chat","model":"gpt-4o-mini","instructions":"Short answers.",
                "context_tokens":4096,"provider_rpm":60,"provider_tpm":100000},
              "smart":{"provider":"anthropic","model":"claude-sonnet-4-5","summarize":{"model":"fast","max_tokens":300}}},
            "site_keys":{"pk_a":{"origins":["*"],"instructions":"Shop pages."}},
            "summarize":{"model":"fast"},
            "routing":{"tasks":{"chat":"fast","code":"smart"}}}"#)
        .unwrap();
        assert_eq!(ok.instructions.as_deref(), Some("Be Acme's assistant."));
        let fast = ok.models.get("fast").unwrap();
        assert_eq!((fast.context_tokens(), fast.provider_rpm, fast.provider_tpm), (Some(4096), 60, 100_000));
        assert_eq!(ok.models.get("smart").unwrap().context_tokens(), Some(200_000), "built-in figure");
        assert_eq!(ok.site_keys.get("pk_a").unwrap().instructions.as_deref(), Some("Shop pages."));
        assert_eq!(ok.summarize, Some(Summarize { model: "fast".into(), max_tokens: 400 }));
        assert_eq!(ok.routing.as_ref().unwrap().alias, "auto");

        let err = |json: &str| cfg(json).unwrap_err().0;
        assert!(err(r#"{"instructions":42}"#).contains("instructions must be a string"));
        assert!(err(r#"{"models":{"m":{"provider":"openai-chat","model":"x","instructions":["a"]}}}"#)
            .contains("models.m.instructions must be a string"));
        assert!(err(r#"{"summarize":{"model":"nope"}}"#).contains("\"nope\" is not a configured model alias"));
        assert!(err(r#"{"routing":{"tasks":{"dance":"local"}}}"#).contains("routing.tasks.dance is not a task"));
    }

    #[test]
    fn a_model_on_this_machine_is_free_unless_priced() {
        let env = Env::from_pairs([("COMPAT_BASE_URL", "http://127.0.0.1:8790/v1")]);
        let c = Config::from_env(&env).unwrap();
        let usage = edgechat::Usage { input_tokens: 100, output_tokens: 10, ..edgechat::Usage::default() };
        assert_eq!(c.pricing.cost("smollm2", &usage), Some(0.0));
        let env = Env::from_pairs([("COMPAT_BASE_URL", "https://llm.example/v1")]);
        assert_eq!(
            Config::from_env(&env).unwrap().pricing.cost("smollm2", &usage),
            None,
            "a remote server's price is unknown"
        );
        assert!(is_loopback_url("http://localhost:11434/v1") && is_loopback_url("http://[::1]:8000"));
        assert!(!is_loopback_url("http://127example.com") && is_loopback_url("http://127.0.0.1"));
        assert!(!is_loopback_url("https://api.openai.com/v1"));
    }

    #[test]
    fn pricing_overrides_join_the_builtin_table() {
        let env = Env::from_pairs([("EDGECHAT_CONFIG", r#"{"pricing":{"smollm2":{"input":0,"output":0}}}"#)]);
        let c = Config::from_env(&env).unwrap();
        assert!(c.pricing.get("smollm2").is_some());
        assert!(c.pricing.get("gpt-4o-mini").is_some());
    }

    #[test]
    fn base_urls_lose_their_trailing_slash() {
        let env = Env::from_pairs([("OPENAI_BASE_URL", "http://127.0.0.1:9/v1/")]);
        let c = Config::from_env(&env).unwrap();
        assert_eq!(c.provider(ProviderKind::OpenAiChat).base_url, "http://127.0.0.1:9/v1");
    }

    #[test]
    fn cached_config_is_resolved_once_per_environment_and_follows_a_change() {
        // setup
        let a = Env::from_pairs([("EDGECHAT_CONFIG", r#"{"limits":{"max_tokens":100}}"#)]);
        let b = Env::from_pairs([("EDGECHAT_CONFIG", r#"{"limits":{"max_tokens":200}}"#)]);
        let bad = Env::from_pairs([("EDGECHAT_CONFIG", r#"{"limits":{"max_tokens":"many"}}"#)]);
        // exec / check: the same strings give the same resolved configuration
        let first = Config::cached(&a).unwrap();
        assert!(Rc::ptr_eq(&first, &Config::cached(&a.clone()).unwrap()));
        assert_eq!(first.limits.max_tokens, 100);
        // a changed string is honoured
        let second = Config::cached(&b).unwrap();
        assert!(!Rc::ptr_eq(&first, &second));
        assert_eq!(second.limits.max_tokens, 200);
        // an invalid environment is an error every time, and does not replace the good one
        assert!(Config::cached(&bad).unwrap_err().0.contains("limits.max_tokens must be"));
        assert!(Config::cached(&bad).is_err());
        assert!(Rc::ptr_eq(&second, &Config::cached(&b).unwrap()));
    }
}
