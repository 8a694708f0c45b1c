//! Fitting a `/api/chat` request into its model's context window (`crate::prompt::fit` decides how many turns
//! go): the turns that no longer fit are summarized by the configured summarizer — a separate upstream call with
//! its own log line (`kind: "summary"`) and cost — or, without one (or when it fails), dropped. `auto`'s classifier
//! model is asked the same way (`kind: "classify"`).

use edgechat::protocol::Summary;
use edgechat::provider::{build_request, decode_response, ChatRequest};
use edgechat::Usage;
use serde::{Deserialize, Serialize};

use super::js::{console_log, now_ms};
use super::upstream::{self, Body, Stats};
use super::Ctx;
use crate::chat::{PreparedChat, SummaryIn};
use crate::config::ModelEntry;
use crate::error::ApiError;
use crate::log::LogLine;
use crate::prompt::{self, Fit, Holder};
use crate::stream::round_usd;

/// What fitting did to a request (carried to the stream object with a resumable stream).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Fitted {
    /// Messages dropped without a summary.
    pub trimmed: u64,
    /// The new summary, for the `summary` event.
    pub summary: Option<(u64, String, String)>,
    /// Tokens and cost of the summarizer call, billed with the request.
    pub extra_tokens: u64,
    /// Its cost.
    pub extra_usd: f64,
}

impl Fitted {
    /// The `summary` event's data.
    pub fn event(&self) -> Option<Summary> {
        self.summary.as_ref().map(|(covers, text, token)| Summary {
            covers: *covers,
            text: text.clone(),
            token: token.clone(),
        })
    }
}

/// Fits `prepared` into `entry`'s context window.
pub(crate) async fn fit(ctx: &Ctx, prepared: &mut PreparedChat, entry: &ModelEntry) -> Result<Fitted, ApiError> {
    let Some(window) = entry.context_tokens() else { return Ok(Fitted::default()) };
    let max_tokens = u64::from(prepared.request.max_tokens.unwrap_or(ctx.config.limits.max_tokens));
    let summarizer = entry.summarize.clone().or_else(|| ctx.config.summarize.clone());
    let reserve = summarizer.as_ref().map_or(0, |s| u64::from(s.max_tokens) + 16);
    let drop =
        match prompt::fit(prepared.request.system.as_deref(), &prepared.request.messages, window, max_tokens, reserve)?
        {
            Fit::Fits => return Ok(Fitted::default()),
            Fit::Drop { drop } => drop,
        };
    let mut fitted = Fitted::default();
    let summary = match &summarizer {
        Some(s) => summarize(ctx, s, prepared, drop, &mut fitted).await,
        None => None,
    };
    match summary {
        Some(text) => {
            let covers = prepared.summary.as_ref().map_or(0, |s| s.covers) + drop as u64;
            let holder = Holder { site: ctx.principal.site.as_deref(), subject: ctx.principal.subject.as_deref() };
            let token = ctx.config.summary_signer().sign(&holder, covers, &text);
            fitted.summary = Some((drop as u64, text.clone(), token.clone()));
            prepared.drop_front(drop, Some(SummaryIn { text, token, covers }));
        }
        None => {
            fitted.trimmed = drop as u64;
            prepared.drop_front(drop, None);
        }
    }
    Ok(fitted)
}

/// Asks the summarizer for a summary of the first `drop` turns (and the summary they extend); logs the call as its
/// own line. `None` when it fails: the turns are dropped instead, so the conversation still goes on.
async fn summarize(
    ctx: &Ctx,
    s: &crate::config::Summarize,
    prepared: &PreparedChat,
    drop: usize,
    fitted: &mut Fitted,
) -> Option<String> {
    let previous = prepared.summary.as_ref().map(|p| p.text.as_str());
    let (system, messages) = prompt::summary_request(previous, &prepared.request.messages[..drop]);
    let answer =
        side_call(ctx, &s.model, "summary", system, messages, s.max_tokens, |l| l.summarized = drop as u64).await?;
    fitted.extra_tokens = answer.tokens;
    fitted.extra_usd = answer.usd;
    Some(answer.text)
}

/// Asks `auto`'s classifier model for the task of `question` (its own log line, `kind: "classify"`). `None` when
/// the call failed; a `task` of `None` when its answer named no task. Either way the rules' task stands.
pub(crate) async fn classify(ctx: &Ctx, c: &crate::task::Classifier, question: &str) -> Option<Classified> {
    let (system, user) = crate::task::classifier_request(question);
    let messages = vec![edgechat::conversation::Message::user(user)];
    let a = side_call(ctx, &c.model, "classify", system, messages, c.max_tokens, |_| {}).await?;
    Some(Classified { task: crate::task::parse_label(&a.text), tokens: a.tokens, usd: a.usd })
}

/// What the classifier model said, and what asking it cost (billed with the request).
pub(crate) struct Classified {
    /// The task it named.
    pub task: Option<crate::task::Task>,
    /// Its tokens.
    pub tokens: u64,
    /// Its cost.
    pub usd: f64,
}

/// A non-empty answer of a [`side_call`] and what it cost.
struct SideAnswer {
    text: String,
    tokens: u64,
    usd: f64,
}

/// A call the edge makes for itself on the way to an answer (a summary, the task): one non-streaming request to
/// `alias`'s chain, logged as its own line of `kind` (after `note` adds to it). `None` when it failed or answered
/// nothing; the caller then goes on without it.
async fn side_call(
    ctx: &Ctx,
    alias: &str,
    kind: &'static str,
    system: String,
    messages: Vec<edgechat::conversation::Message>,
    max_tokens: u32,
    note: impl FnOnce(&mut LogLine),
) -> Option<SideAnswer> {
    let chain = upstream::chain(&ctx.config, alias);
    let started = now_ms();
    let mut stats = Stats::default();
    let config = &ctx.config;
    let result = upstream::send(config, &chain, false, started, &mut stats, Some(&ctx.gone), &|e| {
        let mut r = ChatRequest::new(e.model.clone(), messages.clone());
        r.system = Some(system.clone());
        r.max_tokens = Some(max_tokens);
        r.stream = false;
        build_request(&config.provider(e.provider), &r).ok()
    })
    .await;
    let mut line = LogLine {
        request_id: ctx.request_id.clone(),
        time: started,
        route: "/api/chat".into(),
        site_key: ctx.log.site_key.clone(),
        subject: ctx.log.subject.clone(),
        fallback: stats.fallback,
        client: ctx.log.client.clone(),
        alias: Some(alias.to_string()),
        attempts: stats.attempts,
        cache: "bypass",
        limiter: ctx.log.limiter,
        ttfb_ms: stats.ttfb_ms,
        kind: Some(kind),
        outcome: "error",
        ..LogLine::default()
    };
    note(&mut line);
    let answer = match result {
        Ok(up) => {
            line.provider = Some(up.entry.provider.as_str().into());
            line.model = Some(up.entry.model.clone());
            line.status = 200;
            let bytes = match up.body {
                Body::Full(b) => b,
                Body::Stream { .. } => Vec::new(),
            };
            match decode_response(up.entry.provider, &bytes) {
                Ok(r) if !r.text.trim().is_empty() => {
                    let usage: Usage = r.usage;
                    let cost = ctx.config.pricing.cost(&up.entry.model, &usage).map(round_usd);
                    line.set_usage(&usage, false);
                    line.cost_usd = cost;
                    line.outcome = "complete";
                    let tokens = usage.total_input_tokens() + usage.output_tokens;
                    Some(SideAnswer { text: r.text.trim().to_string(), tokens, usd: cost.unwrap_or(0.0) })
                }
                Ok(_) => {
                    line.error = Some(format!("empty_{kind}"));
                    None
                }
                Err(e) => {
                    line.error = Some(ctx.scrub(&e.to_string()));
                    None
                }
            }
        }
        Err(f) => {
            line.provider = Some(f.entry.provider.as_str().into());
            line.model = Some(f.entry.model.clone());
            line.status = f.error.status;
            line.error = Some(format!("{}:{}", f.error.status, ctx.scrub(&f.error.message)));
            None
        }
    };
    line.duration_ms = now_ms().saturating_sub(started);
    console_log(&ctx.scrub(&line.to_json()));
    if let Some(sink) = &ctx.usage {
        sink.record(&line, Some(&ctx.js_ctx));
    }
    answer
}
