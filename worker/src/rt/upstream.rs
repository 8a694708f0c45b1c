//! Sending to the provider: retries with backoff (honouring `retry-after`) and the fallback chain, all before the
//! first byte reaches the client. A first-token timeout counts as a retryable failure.

use edgechat::provider::{parse_error, ProviderKind};
use edgechat::retry::{Failure as Attempt, RetryDecision};
use edgechat::{ErrorKind, HttpRequest, ProviderError, RateLimitInfo};
use web_sys::AbortController;

use super::js::{
    fetch, header_pairs, now_ms, random, read_all, reader_of, sleep, ChunkReader, Read, ReadAllError, Signal,
};
use crate::config::{Config, ModelEntry};

/// The body of a successful upstream response.
pub enum Body {
    /// A stream, with its first chunk already read (`None`: it ended at once).
    Stream {
        /// Reader over the rest.
        reader: ChunkReader,
        /// The first chunk.
        first: Option<Vec<u8>>,
    },
    /// A whole (non-streaming) body.
    Full(Vec<u8>),
}

/// A successful upstream response.
pub struct Upstream {
    /// Aborts the request (client disconnect).
    pub abort: AbortController,
    /// The response's content type (a non-streamed answer passed through keeps it).
    pub content_type: Option<String>,
    /// Body.
    pub body: Body,
    /// Alias that served.
    pub alias: String,
    /// Its entry.
    pub entry: ModelEntry,
}

/// The last failure, when every attempt failed.
pub struct Failure {
    /// The provider's error (a synthesized one for network failures and timeouts).
    pub error: ProviderError,
    /// The provider's raw error body and content type, when it sent one (passed through on compat routes).
    pub raw: Option<(u16, String, Vec<u8>)>,
    /// The last model tried.
    pub entry: ModelEntry,
    /// The client went away before the first byte (the attempt was aborted; nothing more was tried).
    pub client_gone: bool,
}

/// Attempt bookkeeping the log line reports.
#[derive(Default)]
pub struct Stats {
    /// Upstream requests made.
    pub attempts: u32,
    /// ms from the start of the request to the first body byte.
    pub ttfb_ms: Option<u64>,
    /// The last attempt went to a fallback model (not the chain's first).
    pub fallback: bool,
}

/// The aliases to try, primary first, without repeats.
pub fn chain(config: &Config, alias: &str) -> Vec<(String, ModelEntry)> {
    let mut out: Vec<(String, ModelEntry)> = Vec::new();
    let mut push = |a: &str| {
        if let Some(e) = config.models.get(a) {
            if !out.iter().any(|(x, _)| x == a) {
                out.push((a.to_string(), e.clone()));
            }
        }
    };
    push(alias);
    if let Some(e) = config.models.get(alias) {
        for fb in &e.fallback {
            push(fb);
        }
    }
    out
}

fn synthetic(kind: ProviderKind, status: u16, ekind: ErrorKind, message: String) -> ProviderError {
    ProviderError {
        provider: kind,
        status,
        kind: ekind,
        code: None,
        message,
        retry_after_ms: None,
        rate_limit: RateLimitInfo::default(),
    }
}

/// Sends the request `build` makes for each model of `chain` until one answers 2xx (and, when streaming, sends
/// its first byte in time). `build` returns `None` for a model that cannot serve this request (skipped). When
/// `gone` is set (the client went away) the attempt in flight is aborted and nothing more is tried.
pub async fn send(
    config: &Config,
    chain: &[(String, ModelEntry)],
    streaming: bool,
    started_ms: u64,
    stats: &mut Stats,
    gone: Option<&Signal>,
    build: &dyn Fn(&ModelEntry) -> Option<HttpRequest>,
) -> Result<Upstream, Failure> {
    let mut last: Option<Failure> = None;
    for (i, (alias, entry)) in chain.iter().enumerate() {
        let Some(req) = build(entry) else { continue };
        stats.fallback = i > 0;
        let mut attempt = 0;
        loop {
            attempt += 1;
            stats.attempts += 1;
            let fail = |error: ProviderError, raw| Failure { error, raw, entry: entry.clone(), client_gone: false };
            let (failure, what) = match fetch(&req.method, &req.url, &req.headers, &req.body, gone).await {
                Err(msg) => (
                    fail(
                        synthetic(
                            entry.provider,
                            502,
                            ErrorKind::ServerError,
                            format!("connection to the provider failed: {msg}"),
                        ),
                        None,
                    ),
                    Attempt::Connection,
                ),
                Ok(sent) => {
                    let status = sent.response.status();
                    // A success needs one header; every header is read only for an error (its retry hints).
                    if (200..300).contains(&status) {
                        let content_type = sent.response.headers().get("content-type").ok().flatten();
                        match first_body(config, &sent.response, streaming, gone).await {
                            Ok(body) => {
                                stats.ttfb_ms = Some(now_ms().saturating_sub(started_ms));
                                return Ok(Upstream {
                                    abort: sent.abort,
                                    content_type,
                                    body,
                                    alias: alias.clone(),
                                    entry: entry.clone(),
                                });
                            }
                            Err(msg) => {
                                sent.abort.abort();
                                (
                                    fail(synthetic(entry.provider, 504, ErrorKind::ServerError, msg), None),
                                    Attempt::TimeoutBeforeFirstByte,
                                )
                            }
                        }
                    } else {
                        let headers = header_pairs(&sent.response.headers());
                        let body = read_all(sent.response.body(), 64 * 1024, config.limits.stall_timeout_ms)
                            .await
                            .unwrap_or_default();
                        let ct = headers
                            .iter()
                            .find(|(k, _)| k == "content-type")
                            .map(|(_, v)| v.clone())
                            .unwrap_or_default();
                        let err = parse_error(entry.provider, status, &headers, &body, Some(now_ms()));
                        let what = Attempt::from(&err);
                        (fail(err, Some((status, ct, body))), what)
                    }
                }
            };
            if gone.is_some_and(Signal::is_set) {
                return Err(Failure { client_gone: true, ..failure });
            }
            let retryable = config.retry.is_retryable(what);
            let decision = config.retry.decide(attempt, what, failure.error.retry_after_ms, random());
            last = Some(failure);
            match decision {
                RetryDecision::RetryAfter { delay_ms } => sleep(delay_ms).await,
                // Retryable but out of attempts (or the hint is too long): fall back to the next model.
                RetryDecision::GiveUp { .. } if retryable => break,
                RetryDecision::GiveUp { .. } => return Err(last.take().expect("set above")),
            }
        }
    }
    Err(last.unwrap_or_else(|| {
        let entry = chain[0].1.clone();
        Failure {
            error: synthetic(
                entry.provider,
                400,
                ErrorKind::InvalidRequest,
                "no configured model can serve this request".into(),
            ),
            raw: None,
            entry,
            client_gone: false,
        }
    }))
}

async fn first_body(
    config: &Config,
    resp: &web_sys::Response,
    streaming: bool,
    gone: Option<&Signal>,
) -> Result<Body, String> {
    if !streaming {
        return match read_all(resp.body(), 32 << 20, config.limits.stall_timeout_ms).await {
            Ok(b) => Ok(Body::Full(b)),
            Err(ReadAllError::Timeout) => {
                Err(format!("the provider sent nothing for {} ms", config.limits.stall_timeout_ms))
            }
            Err(ReadAllError::TooLarge) => Err("the provider's response is too large".into()),
            Err(ReadAllError::Failed(e)) => Err(format!("the provider's response failed: {e}")),
        };
    }
    let Some(stream) = resp.body() else {
        return Ok(Body::Full(Vec::new()));
    };
    let mut reader = ChunkReader::new(reader_of(&stream));
    match reader.read(config.limits.first_token_timeout_ms, gone).await {
        Read::Chunk(c) => Ok(Body::Stream { reader, first: Some(c) }),
        Read::Done => Ok(Body::Stream { reader, first: None }),
        Read::Timeout => {
            reader.cancel();
            Err(format!("no first byte from the provider within {} ms", config.limits.first_token_timeout_ms))
        }
        Read::Failed(e) => Err(format!("the provider's stream failed before the first byte: {e}")),
        Read::Gone => {
            reader.cancel();
            Err("the client went away before the first byte".into())
        }
    }
}
