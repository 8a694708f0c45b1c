//! The prompt a model gets on `/api/chat`: the owner's instructions (top level, per model alias, per site key),
//! the page or user context a session token carries, the widget's own system prompt, and the conversation fitted
//! to the model's context window — trimmed, or summarized with a signed summary the widget sends back.
//!
//! # Order
//! The top-level `instructions`, then the alias's, then the site key's; the session token's `ctx` claim (after
//! "Context:"); the widget's `system` (only with `allow_system_prompt`); last, the summary of earlier turns (after
//! [`SUMMARY_MARKER`]). Parts are joined by a blank line. The owner's parts come first and do not change from
//! request to request, so they form one stable prefix: Anthropic's prompt cache (a
//! breakpoint on the system prompt) keeps hitting. A widget's prompt can add to the owner's, never replace it.

use edgechat::conversation::{Conversation, Message, SUMMARY_MARKER};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// Most characters of a session token's `ctx` claim.
pub const MAX_CONTEXT_CHARS: usize = 4_000;

/// The parts of the system prompt, in order.
#[derive(Debug, Clone, Copy, Default)]
pub struct Parts<'a> {
    /// Top-level `instructions`.
    pub global: Option<&'a str>,
    /// The model alias's `instructions`.
    pub model: Option<&'a str>,
    /// The site key's `instructions`.
    pub site: Option<&'a str>,
    /// The session token's `ctx` claim.
    pub context: Option<&'a str>,
    /// The widget's `system`.
    pub widget: Option<&'a str>,
}

/// The composed system prompt (without a summary); `None` when every part is empty.
pub fn compose(p: &Parts<'_>) -> Option<String> {
    let context = p.context.filter(|c| !c.trim().is_empty()).map(|c| format!("Context:\n{}", c.trim()));
    let parts: Vec<&str> = [p.global, p.model, p.site, context.as_deref(), p.widget]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join("\n\n"))
}

/// Checks a session token's `ctx` claim.
pub fn check_context(ctx: &str) -> Result<(), ApiError> {
    let n = ctx.chars().count();
    if n > MAX_CONTEXT_CHARS {
        return Err(ApiError::unauthorized(format!(
            "the session token's ctx claim has {n} characters; the limit is {MAX_CONTEXT_CHARS}"
        )));
    }
    Ok(())
}

/// `system` with `text` after [`SUMMARY_MARKER`] at its end (replacing an earlier summary), as the core's trim
/// places one.
pub fn with_summary(system: Option<&str>, text: &str) -> String {
    let base = system.unwrap_or("");
    let base = base.rfind(SUMMARY_MARKER).map_or(base, |at| &base[..at]).trim_end();
    if base.is_empty() {
        format!("{SUMMARY_MARKER}{text}")
    } else {
        format!("{base}\n\n{SUMMARY_MARKER}{text}")
    }
}

/// Who a summary belongs to: it is only accepted back from the same site key and session subject.
#[derive(Debug, Clone, Copy)]
pub struct Holder<'a> {
    /// Site key name.
    pub site: Option<&'a str>,
    /// Session subject.
    pub subject: Option<&'a str>,
}

/// Signs summaries (HMAC-SHA256) so a browser cannot put text of its own into the system prompt as a "summary".
pub struct SummarySigner {
    key: [u8; 32],
}

impl SummarySigner {
    /// A signer keyed by the edge's secrets (`SUMMARY_SECRET` or `SESSION_SECRET`, else the provider keys): stable
    /// across isolates and restarts, unknown to browsers.
    pub fn new(secrets: &[&str]) -> Self {
        let mut h = Sha256::new();
        h.update(b"edgechat summary token v1");
        for s in secrets {
            h.update((s.len() as u64).to_le_bytes());
            h.update(s.as_bytes());
        }
        Self { key: h.finalize().into() }
    }

    fn mac(&self, holder: &Holder<'_>, covers: u64, text: &str) -> Hmac<Sha256> {
        let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key).expect("any key length");
        for part in [holder.site.unwrap_or(""), holder.subject.unwrap_or("")] {
            m.update(&(part.len() as u64).to_le_bytes());
            m.update(part.as_bytes());
        }
        m.update(&covers.to_le_bytes());
        m.update(text.as_bytes());
        m
    }

    /// The token for a summary covering `covers` messages (hex).
    pub fn sign(&self, holder: &Holder<'_>, covers: u64, text: &str) -> String {
        self.mac(holder, covers, text).finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Checks a summary sent back (constant-time comparison); `summary_invalid` when it was not made by this edge
    /// for this holder.
    pub fn verify(&self, holder: &Holder<'_>, covers: u64, text: &str, token: &str) -> Result<(), ApiError> {
        let bytes: Option<Vec<u8>> = (token.len() == 64)
            .then(|| (0..32).map(|i| u8::from_str_radix(token.get(2 * i..2 * i + 2)?, 16).ok()).collect())
            .flatten();
        let ok = bytes.is_some_and(|b| self.mac(holder, covers, text).verify_slice(&b).is_ok());
        if ok {
            Ok(())
        } else {
            Err(ApiError::new(
                400,
                "summary_invalid",
                "the summary's token does not match (forged, changed, or made for another site key or user): send \
                 the whole conversation again",
            ))
        }
    }
}

/// The context window of a model the edge knows, in tokens (`None`: unknown; configure `context_tokens`).
pub fn default_context_tokens(model: &str) -> Option<u64> {
    const KNOWN: &[(&str, u64)] = &[
        ("gpt-4.1", 1_047_576),
        ("gpt-4o", 128_000),
        ("gpt-5", 400_000),
        ("o1", 200_000),
        ("o3", 200_000),
        ("o4", 200_000),
        ("claude-", 200_000),
        ("smollm2", 2_048),
    ];
    KNOWN.iter().find(|(p, _)| model.starts_with(p)).map(|(_, n)| *n)
}

/// What fitting a conversation into its budget found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fit {
    /// It fits as it is.
    Fits,
    /// The first `drop` messages must go.
    Drop {
        /// How many of the request's messages.
        drop: usize,
    },
}

/// Works out how many leading messages must go for `system` + `messages` + the answer (`max_tokens`) to fit
/// `context_tokens`, leaving `summary_reserve` tokens for a summary of them. The newest user turn is never
/// dropped: when it alone does not fit, the request is refused (`conversation_too_long`).
pub fn fit(
    system: Option<&str>,
    messages: &[Message],
    context_tokens: u64,
    max_tokens: u64,
    summary_reserve: u64,
) -> Result<Fit, ApiError> {
    let budget = context_tokens.saturating_sub(max_tokens);
    let conv = Conversation { system: system.map(str::to_string), messages: messages.to_vec() };
    let opts = edgechat::conversation::TrimOptions::new(budget);
    // First without the reserve: a conversation that fits needs no summary at all.
    if conv.plan_trim(&opts).is_ok_and(|p| p.drop_count() == 0) {
        return Ok(Fit::Fits);
    }
    let plan = conv.plan_trim(&opts.with_summary_reserve(summary_reserve)).map_err(|e| {
        ApiError::new(400, "conversation_too_long", format!("the conversation cannot fit the model's context: {e}"))
    })?;
    Ok(if plan.drop_count() == 0 { Fit::Fits } else { Fit::Drop { drop: plan.drop_count() } })
}

/// The request a summarizer model gets: the turns to fold (and the summary they extend, if any).
pub fn summary_request(previous: Option<&str>, turns: &[Message]) -> (String, Vec<Message>) {
    let system = "You summarize conversations. Write a compact summary of the conversation below for the assistant \
                  that continues it: the user's goals, facts and decisions, names, numbers and open questions. \
                  Plain text, no preamble."
        .to_string();
    let mut text = String::new();
    if let Some(p) = previous {
        text.push_str("Summary so far:\n");
        text.push_str(p);
        text.push_str("\n\n");
    }
    text.push_str("Conversation:\n");
    for m in turns {
        let who = match m.role {
            edgechat::conversation::Role::User => "User",
            edgechat::conversation::Role::Assistant => "Assistant",
            _ => "Tool",
        };
        text.push_str(&format!("{who}: {}\n", m.content));
    }
    (system, vec![Message::user(text)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composition_order_and_blank_parts() {
        let p = Parts {
            global: Some("You are Acme's assistant."),
            model: Some(" "),
            site: Some("Answer about the shop."),
            context: Some("Page: /orders"),
            widget: Some("Be brief."),
        };
        assert_eq!(
            compose(&p).unwrap(),
            "You are Acme's assistant.\n\nAnswer about the shop.\n\nContext:\nPage: /orders\n\nBe brief."
        );
        assert_eq!(compose(&Parts::default()), None);
        let s = with_summary(compose(&p).as_deref(), "We talked.");
        assert!(s.starts_with("You are Acme's assistant.") && s.ends_with(&format!("{SUMMARY_MARKER}We talked.")));
        assert_eq!(with_summary(Some(&s), "Newer."), with_summary(compose(&p).as_deref(), "Newer."), "replaced");
    }

    #[test]
    fn context_over_the_cap_is_refused() {
        assert!(check_context(&"x".repeat(MAX_CONTEXT_CHARS)).is_ok());
        let e = check_context(&"x".repeat(MAX_CONTEXT_CHARS + 1)).unwrap_err();
        assert_eq!((e.status, e.kind), (401, "unauthorized"));
    }

    #[test]
    fn summary_tokens_bind_text_count_site_and_subject() {
        let s = SummarySigner::new(&["secret"]);
        let alice = Holder { site: Some("pk_a"), subject: Some("alice") };
        let t = s.sign(&alice, 12, "We talked about x.");
        assert!(s.verify(&alice, 12, "We talked about x.", &t).is_ok());
        for (h, covers, text) in [
            (alice, 12, "We talked about y."),
            (alice, 13, "We talked about x."),
            (Holder { subject: Some("bob"), ..alice }, 12, "We talked about x."),
            (Holder { site: Some("pk_b"), ..alice }, 12, "We talked about x."),
        ] {
            assert_eq!(s.verify(&h, covers, text, &t).unwrap_err().kind, "summary_invalid");
        }
        assert!(s.verify(&alice, 12, "We talked about x.", "zz").is_err(), "malformed token");
        assert!(SummarySigner::new(&["other"]).verify(&alice, 12, "We talked about x.", &t).is_err(), "other edge");
    }

    #[test]
    fn fitting_drops_from_the_front_and_never_the_newest_turn() {
        let mut msgs = Vec::new();
        for i in 0..40 {
            msgs.push(Message::user(format!("question {i} {}", "word ".repeat(40))));
            msgs.push(Message::assistant(format!("answer {i} {}", "word ".repeat(40))));
        }
        msgs.push(Message::user("last?"));
        assert_eq!(fit(Some("sys"), &msgs, 1_000_000, 1000, 0).unwrap(), Fit::Fits);
        let Fit::Drop { drop } = fit(Some("sys"), &msgs, 2_048, 512, 0).unwrap() else { panic!() };
        assert!(drop > 0 && drop < msgs.len() && drop % 2 == 0, "{drop}");
        let Fit::Drop { drop: with_reserve } = fit(Some("sys"), &msgs, 2_048, 512, 300).unwrap() else { panic!() };
        assert!(with_reserve > drop, "room for the summary");
        let huge = vec![Message::user("word ".repeat(5_000))];
        assert_eq!(fit(None, &huge, 2_048, 512, 0).unwrap_err().kind, "conversation_too_long");
        assert_eq!(default_context_tokens("claude-sonnet-4-5"), Some(200_000));
        assert_eq!(default_context_tokens("smollm2"), Some(2_048));
        assert_eq!(default_context_tokens("mystery"), None);
    }
}
