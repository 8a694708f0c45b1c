//! Error bodies of each provider and the retry / rate-limit headers beside them.
#![cfg(not(target_arch = "wasm32"))]

use std::fs;
use std::path::Path;

use edgechat::provider::{parse_error, ProviderKind};
use edgechat::{ErrorKind, RateLimitInfo};

fn fixture(provider: &str, name: &str) -> Vec<u8> {
    fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(provider).join(name)).unwrap()
}

fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// 2026-11-26T12:00:00Z in Unix ms.
const NOW: u64 = 1_795_694_400_000;

#[test]
fn openai_401_invalid_key() {
    let e = parse_error(ProviderKind::OpenAiChat, 401, &[], &fixture("openai-chat", "error_401.json"), None);
    assert_eq!(e.provider, ProviderKind::OpenAiChat);
    assert_eq!(e.status, 401);
    assert_eq!(e.kind, ErrorKind::Authentication);
    assert_eq!(e.code.as_deref(), Some("invalid_api_key"));
    assert!(e.message.starts_with("Incorrect API key provided"));
    assert!(!e.is_retryable());
    assert_eq!(e.retry_after_ms, None);
    assert_eq!(e.rate_limit, RateLimitInfo::default());
}

#[test]
fn openai_429_with_rate_limit_headers() {
    let headers = h(&[
        ("x-ratelimit-limit-requests", "5000"),
        ("x-ratelimit-limit-tokens", "200000"),
        ("x-ratelimit-remaining-requests", "4999"),
        ("X-RateLimit-Remaining-Tokens", "1000"),
        ("x-ratelimit-reset-requests", "12ms"),
        ("x-ratelimit-reset-tokens", "6m0s"),
        ("retry-after-ms", "150"),
        ("retry-after", "1"),
    ]);
    let e = parse_error(ProviderKind::OpenAiChat, 429, &headers, &fixture("openai-chat", "error_429.json"), None);
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert_eq!(e.code.as_deref(), Some("rate_limit_exceeded"));
    assert!(e.is_retryable());
    assert_eq!(e.retry_after_ms, Some(150), "retry-after-ms wins over retry-after");
    assert_eq!(
        e.rate_limit,
        RateLimitInfo {
            limit_requests: Some(5000),
            remaining_requests: Some(4999),
            limit_tokens: Some(200_000),
            remaining_tokens: Some(1000),
            reset_requests_ms: Some(12),
            reset_tokens_ms: Some(360_000),
        }
    );
}

#[test]
fn openai_reset_durations() {
    for (v, ms) in [("1s", 1000), ("20ms", 20), ("6m0s", 360_000), ("1h2m3.5s", 3_723_500), ("0.5s", 500), ("2", 2000)]
    {
        let headers = h(&[("x-ratelimit-reset-tokens", v)]);
        let e = parse_error(ProviderKind::OpenAiChat, 429, &headers, b"{}", None);
        assert_eq!(e.rate_limit.reset_tokens_ms, Some(ms), "{v}");
    }
    for bad in ["", "s", "5x", "1.2.3s", "-1s"] {
        let headers = h(&[("x-ratelimit-reset-tokens", bad)]);
        assert_eq!(
            parse_error(ProviderKind::OpenAiChat, 429, &headers, b"{}", None).rate_limit.reset_tokens_ms,
            None,
            "{bad:?}"
        );
    }
}

#[test]
fn openai_insufficient_quota_is_not_retryable() {
    let e = parse_error(ProviderKind::OpenAiChat, 429, &[], &fixture("openai-chat", "error_429_quota.json"), None);
    assert_eq!(e.code.as_deref(), Some("insufficient_quota"));
    assert!(!e.is_retryable(), "waiting does not add credit");
}

#[test]
fn openai_400_and_500() {
    let e = parse_error(ProviderKind::OpenAiChat, 400, &[], &fixture("openai-chat", "error_400.json"), None);
    assert_eq!((e.kind, e.code.as_deref()), (ErrorKind::InvalidRequest, Some("context_length_exceeded")));
    let e = parse_error(ProviderKind::OpenAiChat, 500, &[], &fixture("openai-chat", "error_500.json"), None);
    assert_eq!((e.kind, e.code.as_deref()), (ErrorKind::ServerError, Some("server_error")), "type when code is null");
    assert!(e.is_retryable());
}

#[test]
fn html_502_page_still_gives_a_provider_error() {
    let e = parse_error(ProviderKind::OpenAiChat, 502, &[], &fixture("openai-chat", "error_502.html"), None);
    assert_eq!(e.status, 502);
    assert_eq!(e.kind, ErrorKind::ServerError);
    assert_eq!(e.code, None);
    assert!(e.message.contains("502 Bad Gateway"), "{}", e.message);
    assert!(!e.message.contains('\n'));
    let empty = parse_error(ProviderKind::Anthropic, 503, &[], b"", None);
    assert_eq!(empty.kind, ErrorKind::Overloaded);
    assert!(empty.message.contains("empty body"));
    let huge = vec![b'x'; 100_000];
    assert!(parse_error(ProviderKind::OpenAiChat, 500, &[], &huge, None).message.len() < 400);
}

#[test]
fn compatible_server_error_shapes() {
    let e = parse_error(ProviderKind::OpenAiCompatible, 404, &[], &fixture("openai-chat", "error_vllm_404.json"), None);
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert_eq!(e.code.as_deref(), Some("NotFoundError"));
    assert_eq!(e.message, "The model `llama-3` does not exist.");
    let e = parse_error(ProviderKind::OpenAiCompatible, 400, &[], br#"{"error":"model is required"}"#, None);
    assert_eq!(e.message, "model is required");
    let e = parse_error(ProviderKind::OpenAiCompatible, 422, &[], br#"{"detail":"Not authenticated"}"#, None);
    assert_eq!((e.kind, e.message.as_str()), (ErrorKind::InvalidRequest, "Not authenticated"));
}

#[test]
fn anthropic_error_bodies() {
    let cases = [
        ("error_529.json", 529, ErrorKind::Overloaded, "overloaded_error", "Overloaded"),
        ("error_429.json", 429, ErrorKind::RateLimited, "rate_limit_error", "This request would exceed"),
        ("error_400.json", 400, ErrorKind::InvalidRequest, "invalid_request_error", "messages: roles must alternate"),
        ("error_413.json", 413, ErrorKind::RequestTooLarge, "request_too_large", "Request exceeds"),
    ];
    for (file, status, kind, code, msg) in cases {
        let e = parse_error(ProviderKind::Anthropic, status, &[], &fixture("anthropic", file), None);
        assert_eq!((e.status, e.kind, e.code.as_deref()), (status, kind, Some(code)), "{file}");
        assert!(e.message.starts_with(msg), "{file}: {}", e.message);
    }
}

#[test]
fn anthropic_rate_limit_headers_with_rfc3339_resets() {
    let headers = h(&[
        ("anthropic-ratelimit-requests-limit", "50"),
        ("anthropic-ratelimit-requests-remaining", "0"),
        ("anthropic-ratelimit-requests-reset", "2026-11-26T12:00:30Z"),
        ("anthropic-ratelimit-tokens-limit", "40000"),
        ("anthropic-ratelimit-tokens-remaining", "39000"),
        ("anthropic-ratelimit-tokens-reset", "2026-11-26T13:00:01.250+01:00"),
        ("retry-after", "30"),
    ]);
    let e = parse_error(ProviderKind::Anthropic, 429, &headers, &fixture("anthropic", "error_429.json"), Some(NOW));
    assert_eq!(e.retry_after_ms, Some(30_000));
    assert_eq!(
        e.rate_limit,
        RateLimitInfo {
            limit_requests: Some(50),
            remaining_requests: Some(0),
            limit_tokens: Some(40_000),
            remaining_tokens: Some(39_000),
            reset_requests_ms: Some(30_000),
            reset_tokens_ms: Some(1_250),
        }
    );
    // Without a clock the absolute reset times cannot become delays.
    let e = parse_error(ProviderKind::Anthropic, 429, &headers, b"{}", None);
    assert_eq!((e.rate_limit.reset_requests_ms, e.rate_limit.limit_requests), (None, Some(50)));
}

#[test]
fn retry_after_http_date_and_fractional_seconds() {
    let date = h(&[("retry-after", "Thu, 26 Nov 2026 12:00:45 GMT")]);
    assert_eq!(parse_error(ProviderKind::OpenAiChat, 503, &date, b"", Some(NOW)).retry_after_ms, Some(45_000));
    assert_eq!(parse_error(ProviderKind::OpenAiChat, 503, &date, b"", None).retry_after_ms, None, "no clock, no date");
    let past = h(&[("retry-after", "Sun, 06 Nov 1994 08:49:37 GMT")]);
    assert_eq!(parse_error(ProviderKind::OpenAiChat, 503, &past, b"", Some(NOW)).retry_after_ms, Some(0));
    let frac = h(&[("retry-after", "1.5")]);
    assert_eq!(parse_error(ProviderKind::OpenAiChat, 503, &frac, b"", None).retry_after_ms, Some(1500));
    for bad in
        ["soon", "Thu, 31 Nov 2026 12:00:45 GMT", "Thu, 26 Nov 2026 25:00:45 GMT", "26 Nov 2026 12:00:45 GMT", "-5"]
    {
        let headers = h(&[("retry-after", bad)]);
        assert_eq!(parse_error(ProviderKind::OpenAiChat, 503, &headers, b"", Some(NOW)).retry_after_ms, None, "{bad}");
    }
}

#[test]
fn responses_error_body() {
    let e = parse_error(ProviderKind::OpenAiResponses, 429, &[], &fixture("openai-responses", "error_429.json"), None);
    assert_eq!(
        (e.provider, e.kind, e.code.as_deref()),
        (ProviderKind::OpenAiResponses, ErrorKind::RateLimited, Some("rate_limit_exceeded"))
    );
}
