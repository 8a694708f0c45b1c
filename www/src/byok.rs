//! Bring-your-own-key mode: the core builds the provider request in the browser and the widget calls the provider
//! directly. The key lives only in this tab's `sessionStorage` and is never sent to the edge.

use edgechat::conversation::Message;
use edgechat::provider::{build_request, parse_error, ChatRequest, ProviderConfig, ProviderKind, StreamDecoder};
use edgechat::{StreamError, StreamEvent};
use serde::{Deserialize, Serialize};
use web_sys::AbortSignal;

use crate::api::{read_body, send, text, ChatError, EdgeEvent, ErrorKind, Failure, UsageInfo};

const STORAGE_KEY: &str = "edgechat:byok";

/// What the user entered for bring-your-own-key mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ByokSettings {
    /// Provider wire format.
    pub provider: ProviderKind,
    /// Base URL (empty: the provider's public API).
    pub base_url: String,
    /// Provider model id.
    pub model: String,
    /// The key. Kept in `sessionStorage` only.
    pub api_key: String,
}

impl ByokSettings {
    /// Loads the settings of this tab, if the user enabled the mode.
    pub fn load() -> Option<Self> {
        let s = session()?.get_item(STORAGE_KEY).ok()??;
        serde_json::from_str(&s).ok()
    }

    /// Saves them for this tab only.
    pub fn save(&self) {
        if let (Some(st), Ok(json)) = (session(), serde_json::to_string(self)) {
            let _ = st.set_item(STORAGE_KEY, &json);
        }
    }

    /// Forgets the key.
    pub fn clear() {
        if let Some(st) = session() {
            let _ = st.remove_item(STORAGE_KEY);
        }
    }

    fn config(&self) -> ProviderConfig {
        let base =
            if self.base_url.trim().is_empty() { self.provider.default_base_url() } else { self.base_url.trim() };
        ProviderConfig {
            kind: self.provider,
            base_url: base.trim_end_matches('/').to_string(),
            api_key: Some(self.api_key.clone()).filter(|k| !k.is_empty()),
            extra_headers: if self.provider == ProviderKind::Anthropic {
                vec![("anthropic-dangerous-direct-browser-access".into(), "true".into())]
            } else {
                Vec::new()
            },
        }
    }
}

fn session() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

fn provider_error(e: &edgechat::ProviderError) -> ChatError {
    let kind = match e.kind {
        edgechat::ErrorKind::RateLimited => ErrorKind::RateLimited,
        edgechat::ErrorKind::InvalidRequest
        | edgechat::ErrorKind::Authentication
        | edgechat::ErrorKind::PermissionDenied
        | edgechat::ErrorKind::NotFound
        | edgechat::ErrorKind::RequestTooLarge => ErrorKind::Rejected,
        _ => ErrorKind::Provider,
    };
    ChatError {
        kind,
        code: e.code.clone().unwrap_or_else(|| format!("http_{}", e.status)),
        message: e.message.clone(),
        retry_after_ms: e.retry_after_ms,
        retryable: e.is_retryable(),
    }
}

fn stream_error(e: &StreamError) -> ChatError {
    match e {
        StreamError::Provider(p) => provider_error(p),
        StreamError::Truncated => ChatError::truncated(),
        other => ChatError::from_edge(other.type_name(), other.to_string(), None, None, false),
    }
}

/// Streams one answer straight from the provider, with the same events the edge would send.
pub async fn stream_direct(
    settings: &ByokSettings,
    messages: &[Message],
    signal: &AbortSignal,
    mut on_event: impl FnMut(EdgeEvent),
) -> Result<(), Failure> {
    let req = ChatRequest::new(settings.model.clone(), messages.to_vec());
    let http = build_request(&settings.config(), &req)
        .map_err(|e| ChatError::from_edge("bad_request", e.to_string(), None, None, false))?;
    let body = String::from_utf8_lossy(&http.body).into_owned();
    let resp = send(&http.method, &http.url, &crate::api::headers(&http.headers), Some(&body), Some(signal)).await?;
    if !crate::api::ok(&resp) {
        let mut headers = Vec::new();
        if let Ok(Some(v)) = resp.headers().get("retry-after") {
            headers.push(("retry-after".to_string(), v));
        }
        let body = text(&resp).await?;
        let now = js_sys::Date::now() as u64;
        let err = parse_error(settings.provider, resp.status(), &headers, body.as_bytes(), Some(now));
        return Err(provider_error(&err).into());
    }
    let mut decoder = StreamDecoder::new(settings.provider);
    let mut state = Direct::default();
    on_event(EdgeEvent::Start(crate::json::Obj::new().set("model", settings.model.as_str()).build()));
    let read = read_body(&resp, |chunk| {
        decoder.feed(chunk);
        state.drain(&mut decoder, &mut on_event);
    })
    .await;
    match read {
        Err(Failure::Aborted) => return Err(Failure::Aborted),
        Err(Failure::Error(e)) if !state.ended => {
            on_event(EdgeEvent::Error(e));
            return Ok(());
        }
        _ => {}
    }
    decoder.finish();
    state.drain(&mut decoder, &mut on_event);
    if !state.ended {
        on_event(EdgeEvent::Error(ChatError::truncated()));
    }
    Ok(())
}

#[derive(Default)]
struct Direct {
    ended: bool,
    stop_reason: Option<String>,
    usage: edgechat::Usage,
}

impl Direct {
    fn drain(&mut self, decoder: &mut StreamDecoder, on_event: &mut impl FnMut(EdgeEvent)) {
        while let Some(item) = decoder.next_event() {
            if self.ended {
                continue;
            }
            match item {
                Ok(StreamEvent::TextDelta { text } | StreamEvent::Refusal { text }) => on_event(EdgeEvent::Delta(text)),
                Ok(StreamEvent::ReasoningDelta { text }) => on_event(EdgeEvent::Reasoning(text)),
                Ok(StreamEvent::ToolCall { call }) => on_event(EdgeEvent::ToolCall(call)),
                Ok(StreamEvent::Usage { usage }) => {
                    self.usage.merge_max(&usage);
                    on_event(EdgeEvent::Usage(UsageInfo {
                        input_tokens: self.usage.total_input_tokens(),
                        output_tokens: self.usage.output_tokens,
                        cache_read_input_tokens: self.usage.cache_read_input_tokens,
                        cost_usd: None,
                        estimated: false,
                    }));
                }
                Ok(StreamEvent::Stop { reason, .. }) => {
                    self.stop_reason = serde_json::to_value(reason).ok().and_then(|v| v.as_str().map(String::from));
                }
                Ok(StreamEvent::Done) => {
                    self.ended = true;
                    on_event(EdgeEvent::Done { stopped: false, stop_reason: self.stop_reason.take(), budget: false });
                }
                Ok(_) => {}
                Err(e) => {
                    self.ended = true;
                    on_event(EdgeEvent::Error(stream_error(&e)));
                }
            }
        }
    }
}
