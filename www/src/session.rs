//! Session tokens for signed-in users (worker/README.md, "Session tokens"): the widget sends one as
//! `Authorization: Bearer <token>` on every edge request. It is either given by the page (`session-token`, the
//! `sessionToken` property, [`crate::Options::session_token`]) or fetched from the host site's backend
//! (`token-url`: `GET` with the page's cookies, answering `{"token": "...", "expires_at": <unix seconds>}`).
//!
//! A fetched token is kept in memory only (never in `localStorage` or `sessionStorage`), fetched when a request
//! first needs one, and fetched again before a request once less than 60 s, or a tenth of its lifetime if that is
//! shorter, remains; after a `401` from the edge it is fetched once more and the request sent again
//! ([`Session::renew`]). A failed fetch is an error the UI shows (kind [`ErrorKind::Auth`]).

use std::cell::RefCell;

use wasm_bindgen::JsValue;
use web_sys::{RequestCredentials, RequestInit};

use crate::api::{self, ChatError, ErrorKind, Note};
use crate::json::{self, Obj};

/// Where the token comes from, and the token fetched last.
#[derive(Debug)]
pub struct Session {
    /// What the page gives: its `sessionToken` property, read before every request (the `<edge-chat>` element
    /// itself, whose property falls back to its `session-token` attribute; or a plain object). Wins over `url`.
    source: JsValue,
    /// The host site's token endpoint.
    url: Option<String>,
    /// The fetched token and when to fetch the next one (`Date.now()` ms; `None`: only after a 401).
    cached: RefCell<Option<(String, Option<f64>)>>,
}

impl Default for Session {
    fn default() -> Self {
        Self::with_token(None, None)
    }
}

impl Session {
    /// A session whose token is `source.sessionToken` (when set and not empty), else one fetched from `url`.
    pub fn new(source: JsValue, url: Option<String>) -> Self {
        Self { source, url: url.filter(|u| !u.is_empty()), cached: RefCell::default() }
    }

    /// A session with this token from the page (see [`Session::set_token`]) or else tokens from `url`.
    pub fn with_token(token: Option<String>, url: Option<String>) -> Self {
        Self::new(Obj::new().opt("sessionToken", token).build(), url)
    }

    /// Replaces the token the page gave; `None` falls back to `url`, if any.
    pub fn set_token(&self, token: Option<String>) {
        let _ = js_sys::Reflect::set(&self.source, &"sessionToken".into(), &token.map_or(JsValue::NULL, JsValue::from));
    }

    fn given(&self) -> Option<String> {
        json::string(&self.source, "sessionToken").filter(|t| !t.is_empty())
    }

    /// The token for the next request (`None`: send none), fetching one first when needed.
    pub async fn bearer(&self) -> Result<Option<String>, ChatError> {
        if let Some(t) = self.given() {
            return Ok(Some(t));
        }
        let Some(url) = self.url.clone() else { return Ok(None) };
        let fresh = self.cached.borrow().clone().filter(|(_, at)| at.is_none_or(|at| js_sys::Date::now() < at));
        if let Some((t, _)) = fresh {
            return Ok(Some(t));
        }
        // Two requests at once (the config and a resumed answer after a reload) may fetch one each: both are valid.
        let answer = fetch_token(&url).await?;
        let token = json::string(&answer, "token").unwrap_or_default();
        let now = js_sys::Date::now();
        let refresh = json::number(&answer, "expires_at").map(|s| {
            let expires = s * 1000.0;
            expires - ((expires - now) * 0.1).clamp(0.0, 60_000.0)
        });
        *self.cached.borrow_mut() = Some((token.clone(), refresh));
        Ok(Some(token))
    }

    /// The edge answered `401`: forgets the fetched token. `true` when a new one can be fetched (a `token-url`
    /// and no token from the page), so the request is worth sending once more.
    pub fn renew(&self) -> bool {
        self.cached.borrow_mut().take();
        self.given().is_none() && self.url.is_some()
    }
}

fn token_error(detail: &str) -> ChatError {
    ChatError {
        kind: ErrorKind::Auth,
        code: "session_token".into(),
        message: [Note::SessionToken.english(), " ", detail].concat(),
        retry_after_ms: None,
        retryable: true,
    }
}

/// `GET url` with the page's credentials; the parsed `{"token", "expires_at"}`.
async fn fetch_token(url: &str) -> Result<JsValue, ChatError> {
    let init = RequestInit::new();
    init.set_credentials(RequestCredentials::Include);
    let resp = match api::fetch(url, &init).await {
        Ok(r) if api::ok(&r) => r,
        Ok(r) => return Err(token_error(&["HTTP ", &api::decimal(r.status().into()), " from ", url].concat())),
        Err(api::Failure::Error(e)) => return Err(token_error(&e.message)),
        Err(api::Failure::Aborted) => return Err(token_error("aborted")),
    };
    let body = api::text(&resp).await.unwrap_or_default();
    json::parse(&body)
        .filter(|v| json::string(v, "token").is_some_and(|t| !t.is_empty()))
        .ok_or_else(|| token_error("the answer has no token"))
}
