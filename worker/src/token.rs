//! Session tokens: `base64url(payload JSON) "." base64url(HMAC-SHA256(secret, first part))`, unpadded.
//!
//! Payload: `{"site":"pk_...","sub":"visitor-42","exp":1767225600}` (`exp` in Unix seconds; `site` optional).
//! The host site's backend mints them with `SESSION_SECRET`; the edge verifies signature (constant time) and expiry.

use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The verified claims of a session token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Session {
    /// Site key the token was minted for, if bound to one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    /// Subject: the visitor or user id the host site chose. Limits are counted per subject.
    pub sub: String,
    /// Expiry, Unix seconds.
    pub exp: u64,
    /// The payload carries claims beyond its identity (`site`, `sub`, `exp`, `iat`, `nbf`, `jti`): context the
    /// host site signed for this session, which answers may depend on (the response caches then key by `sub`).
    #[serde(skip)]
    pub context: bool,
    /// The `ctx` claim: page or user context the host site signed, added to the system prompt after the owner's
    /// instructions (a string, or any JSON value as its JSON text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ctx: Option<String>,
}

/// Claims that say who and when, not what an answer may depend on.
const IDENTITY_CLAIMS: &[&str] = &["site", "sub", "exp", "iat", "nbf", "jti"];

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// Not two base64url parts, or the payload is not the expected JSON.
    Malformed,
    /// The signature does not match.
    BadSignature,
    /// `exp` is in the past.
    Expired,
}

impl TokenError {
    /// Client-facing message.
    pub fn message(&self) -> &'static str {
        match self {
            Self::Malformed => "session token is malformed",
            Self::BadSignature => "session token signature is invalid",
            Self::Expired => "session token has expired",
        }
    }
}

/// Mints a token (what the host site's backend does; used by tests and documented in the README).
pub fn mint(secret: &[u8], session: &Session) -> String {
    let payload = b64url_encode(&serde_json::to_vec(session).unwrap_or_default());
    let sig = b64url_encode(&sign(secret, payload.as_bytes()));
    format!("{payload}.{sig}")
}

/// Verifies `token` at time `now_s` (Unix seconds).
pub fn verify(secret: &[u8], token: &str, now_s: u64) -> Result<Session, TokenError> {
    let (payload, sig) = token.split_once('.').ok_or(TokenError::Malformed)?;
    let sig = b64url_decode(sig).ok_or(TokenError::Malformed)?;
    let mut mac = HmacSha256::new_from_slice(secret).map_err(|_| TokenError::BadSignature)?;
    mac.update(payload.as_bytes());
    // `verify_slice` compares in constant time.
    mac.verify_slice(&sig).map_err(|_| TokenError::BadSignature)?;
    let json = b64url_decode(payload).ok_or(TokenError::Malformed)?;
    let json = String::from_utf8(json).map_err(|_| TokenError::Malformed)?;
    // Read by hand from a JSON value (no derived deserializer: smaller wasm).
    let v: serde_json::Value = serde_json::from_str(&json).map_err(|_| TokenError::Malformed)?;
    let session = Session {
        site: match v.get("site") {
            None | Some(serde_json::Value::Null) => None,
            Some(s) => Some(s.as_str().ok_or(TokenError::Malformed)?.to_string()),
        },
        sub: v.get("sub").and_then(serde_json::Value::as_str).ok_or(TokenError::Malformed)?.to_string(),
        exp: v.get("exp").and_then(serde_json::Value::as_u64).ok_or(TokenError::Malformed)?,
        context: v.as_object().is_some_and(|o| o.keys().any(|k| !IDENTITY_CLAIMS.contains(&k.as_str()))),
        ctx: match v.get("ctx") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(other) => Some(other.to_string()),
        },
    };
    if session.exp <= now_s {
        return Err(TokenError::Expired);
    }
    Ok(session)
}

fn sign(secret: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Unpadded base64url.
pub fn b64url_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len() * 4 / 3 + 3);
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// Decodes unpadded (or padded) base64url; `None` on any other character.
pub fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if s.len() % 4 == 1 {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(exp: u64) -> Session {
        Session { site: Some("pk_test".into()), sub: "visitor-1".into(), exp, context: false, ctx: None }
    }

    #[test]
    fn claims_beyond_identity_mark_the_session_as_carrying_context() {
        let signed = |payload: &[u8]| {
            let p = b64url_encode(payload);
            format!("{p}.{}", b64url_encode(&sign(b"secret", p.as_bytes())))
        };
        let plain = signed(br#"{"sub":"u","exp":2000,"iat":1000,"site":null}"#);
        assert!(!verify(b"secret", &plain, 1000).unwrap().context);
        let with_ctx = signed(br#"{"sub":"u","exp":2000,"ctx":{"plan":"pro"}}"#);
        assert!(verify(b"secret", &with_ctx, 1000).unwrap().context);
    }

    #[test]
    fn base64url_round_trips_every_length() {
        for n in 0..40u8 {
            let data: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37).wrapping_add(250)).collect();
            assert_eq!(b64url_decode(&b64url_encode(&data)).unwrap(), data, "len {n}");
        }
        assert_eq!(b64url_encode(b"\xfb\xff"), "-_8");
        assert!(b64url_decode("a+b").is_none());
    }

    #[test]
    fn valid_token_verifies() {
        let t = mint(b"secret", &session(2000));
        assert_eq!(verify(b"secret", &t, 1000).unwrap(), session(2000));
    }

    #[test]
    fn expired_tampered_and_malformed_tokens_are_refused() {
        let t = mint(b"secret", &session(2000));
        assert_eq!(verify(b"secret", &t, 2000), Err(TokenError::Expired));
        assert_eq!(verify(b"other", &t, 1000), Err(TokenError::BadSignature));
        let (_, sig) = t.split_once('.').unwrap();
        let forged = format!("{}.{sig}", b64url_encode(br#"{"sub":"admin","exp":9999999999}"#));
        assert_eq!(verify(b"secret", &forged, 1000), Err(TokenError::BadSignature));
        assert_eq!(verify(b"secret", "nodot", 1000), Err(TokenError::Malformed));
        assert_eq!(verify(b"secret", "a.!!", 1000), Err(TokenError::Malformed));
        let no_exp = format!(
            "{}.{}",
            b64url_encode(br#"{"sub":"x"}"#),
            b64url_encode(&sign(b"secret", b64url_encode(br#"{"sub":"x"}"#).as_bytes()))
        );
        assert_eq!(verify(b"secret", &no_exp, 1000), Err(TokenError::Malformed));
    }

    #[test]
    fn matches_node_crypto_hmac() {
        // node -e 'console.log(require("crypto").createHmac("sha256","key").update("abc").digest("base64url"))'
        assert_eq!(b64url_encode(&sign(b"key", b"abc")), "nBluMtwBdfhvSxy4konWYZ3mvuaZ5MN45oMJ7Zehpqs");
    }
}
