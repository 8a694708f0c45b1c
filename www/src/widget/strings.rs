//! Every text the widget shows, each replaceable: the element's `strings` property (`el.strings = { send: 'Envoyer'
//! }`), [`Options::strings`](super::Options::strings) from Rust. A text missing from it keeps its English default.
//! `{n}`, `{i}`, `{o}`, `{c}`, `{$}` in a text are filled in. The keys and defaults are [`STRINGS`] (www/README.md
//! lists them too).

use wasm_bindgen::JsValue;

use crate::api::{ChatError, ErrorKind, Note};
use crate::state::Problem;

macro_rules! strings {
    ($($(#[$cfg:meta])? $id:ident $key:literal $text:literal)*) => {
        /// One text of the widget (its key and English default: [`STRINGS`]).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[allow(missing_docs)]
        pub enum S { $($(#[$cfg])? $id,)* }
        /// The `strings` keys and their English defaults, in [`S`] order.
        pub const STRINGS: &[(&str, &str)] = &[$($(#[$cfg])? ($key, $text),)*];
    };
}

strings! {
    Title "title" "Chat"
    Close "close" "Close"
    NewAnswer "newAnswer" "(new answer)"
    NewChat "newChat" "New chat"
    ClearAll "clearAll" "Clear all"
    ClearAllHint "clearAllHint" "Delete the saved conversation, draft and key from this browser"
    Model "model" "Model"
    Conversation "conversation" "Conversation"
    Message "message" "Message"
    Placeholder "placeholder" "Message…"
    Send "send" "Send"
    Stop "stop" "Stop"
    Empty "empty" "Ask anything. Enter sends, Shift+Enter adds a line."
    Suggestions "suggestions" "Suggestions"
    Simulated "simulated" "Answers are simulated: no real model is behind this demo."
    SettingsError "settingsError" "Could not load settings:"
    Retry "retry" "Retry"
    Summarized "summarized" "Earlier turns summarized"
    Copy "copy" "Copy"
    CopyCode "copyCode" "Copy code"
    Copied "copied" "Copied"
    Edit "edit" "Edit"
    Thinking "thinking" "Thinking…"
    Reasoning "reasoning" "Reasoning"
    Reconnecting "reconnecting" "Reconnecting…"
    Stopped "stopped" "Stopped"
    Continue "continue" "Continue"
    ContinueHint "continueHint" "Continue this answer from where it stopped"
    Regenerate "regenerate" "Regenerate"
    ToolCalls "toolCalls" "Tool calls"
    Confirm "confirm" "Run this tool?"
    Allow "allow" "Run"
    Deny "deny" "Don't run"
    Running "running" "Running…"
    ToolFailed "toolFailed" "Failed:"
    TooLong "tooLong" "Your message is longer than the {n} characters allowed."
    Usage "usage" "{i} in · {o} out"
    UsageDetail "usageDetail" "Input tokens: {i}, cached: {c}, output tokens: {o}, cost: {$}"
    Unknown "unknown" "unknown"
    Estimated "estimated" "(estimated)"
    Steps "steps" "{n} steps"
    RateLimited "rateLimited" "Rate limited"
    NetworkError "networkError" "Network error"
    CutOff "cutOff" "Answer cut off"
    ProviderError "providerError" "Provider error"
    Refused "refused" "Request refused"
    SignedOut "signedOut" "Not signed in"
    TryAgain "tryAgain" "try again in {n} s"
    Attach "attach" "Attach files"
    Remove "remove" "Remove"
    NotKept "notKept" "file not kept"
    // The conversation model's own messages (www/src/state, api.rs, session.rs: `Note`, `Problem`).
    ConnectionClosed "connectionClosed" "The connection closed before the answer finished."
    NotResumed "notResumed" "The answer could not be resumed."
    TokenLimit "tokenLimit" "The answer reached the token limit."
    BudgetRanOut "budgetRanOut" "The budget ran out during this answer. Continue after it resets."
    NoSessionToken "noSessionToken" "Could not get a session token:"
    StorageFull "storageFull" "This browser's storage is full: the conversation was saved, but its attached files were not kept."
    TooManyFiles "tooManyFiles" "Too many files: the rest were not attached."
    NoFileReader "noFileReader" "The file reader could not be loaded."
    // The bring-your-own-key variant's (`byok` feature) texts.
    #[cfg(feature = "byok")]
    ByokNote "byokNote" "Using your own key: messages go directly from this browser to {p} ({m})."
    #[cfg(feature = "byok")]
    ByokTitle "byokTitle" "Use your own API key"
    #[cfg(feature = "byok")]
    ByokWarning "byokWarning" "Your key is sent from this browser straight to the \
        provider and kept only in this tab (sessionStorage); it never reaches this site's server. Anyone with access to \
        this browser tab, or script on this page, can read it. Use a key with a low spending limit."
    #[cfg(feature = "byok")]
    ByokProvider "byokProvider" "Provider"
    #[cfg(feature = "byok")]
    ByokBaseUrl "byokBaseUrl" "Base URL"
    #[cfg(feature = "byok")]
    ByokBaseUrlHint "byokBaseUrlHint" "default"
    #[cfg(feature = "byok")]
    ByokModel "byokModel" "Model"
    #[cfg(feature = "byok")]
    ByokKey "byokKey" "API key"
    #[cfg(feature = "byok")]
    ByokUse "byokUse" "Use my key"
    #[cfg(feature = "byok")]
    ByokForget "byokForget" "Forget key"
}

/// The widget's texts: the defaults with the page's replacements.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Strings(Vec<(usize, String)>);

impl Strings {
    /// Replaces the text `key` (a key of [`STRINGS`]); `false` for an unknown key.
    pub fn set(&mut self, key: &str, text: impl Into<String>) -> bool {
        let Some(i) = STRINGS.iter().position(|(k, _)| *k == key) else { return false };
        self.0.retain(|(j, _)| *j != i);
        self.0.push((i, text.into()));
        true
    }

    /// The page's object `{key: text}`; keys that are not strings, and unknown keys, are ignored.
    pub fn from_js(v: &JsValue) -> Self {
        let mut s = Self::default();
        for (k, _) in STRINGS {
            if let Some(t) = crate::json::string(v, k) {
                s.set(k, t);
            }
        }
        s
    }

    /// The text `s`.
    pub fn get(&self, s: S) -> &str {
        let i = s as usize;
        self.0.iter().find(|(j, _)| *j == i).map_or(STRINGS[i].1, |(_, t)| t.as_str())
    }

    /// The text `s` with `{n}` filled in.
    pub fn n(&self, s: S, n: u64) -> String {
        fill(self.get(s), &[('n', &num(n))])
    }
}

/// `n` in decimal.
pub fn num(n: u64) -> String {
    n.to_string()
}

/// `text` with each `{k}` of `values` (`(k, value)`, `k` one character) replaced; other braces stay.
pub fn fill(text: &str, values: &[(char, &str)]) -> String {
    let mut parts = text.split('{');
    let mut out = String::from(parts.next().unwrap_or_default());
    for p in parts {
        let mut cs = p.chars();
        let key = cs.next();
        let value = values.iter().find(|(c, _)| Some(*c) == key).filter(|_| cs.next() == Some('}'));
        match value {
            Some((_, v)) => out.push_str(v),
            None => {
                out.push('{');
                cs = p.chars();
            }
        }
        out.push_str(cs.as_str());
    }
    out
}

/// An error's short label (with the wait, when rate limited), in the page's words.
pub(crate) fn error_label(e: &ChatError, t: &Strings) -> String {
    let label = t.get(match e.kind {
        ErrorKind::RateLimited => S::RateLimited,
        ErrorKind::Network => S::NetworkError,
        ErrorKind::Truncated => S::CutOff,
        ErrorKind::Provider => S::ProviderError,
        ErrorKind::Rejected => S::Refused,
        ErrorKind::Auth => S::SignedOut,
    });
    match e.retry_after_ms {
        Some(ms) if e.kind == ErrorKind::RateLimited => {
            [label, ": ", &t.n(S::TryAgain, ms.div_ceil(1000).max(1))].concat()
        }
        _ => label.to_string(),
    }
}

/// An error's message in the page's words: the widget's own (a [`Note`]) from the table, with its detail; the
/// edge's as it came.
pub(crate) fn error_text(e: &ChatError, t: &Strings) -> String {
    let Some((note, detail)) = e.note() else { return e.message.clone() };
    let words = t.get(match note {
        Note::Truncated => S::ConnectionClosed,
        Note::Expired => S::NotResumed,
        Note::TokenLimit => S::TokenLimit,
        Note::Budget => S::BudgetRanOut,
        Note::SessionToken => S::NoSessionToken,
    });
    [words, detail].concat()
}

/// What the composer says about the draft, in the page's words.
pub(crate) fn problem_text(p: &Problem, t: &Strings) -> String {
    match p {
        Problem::TooLong(max) => t.n(S::TooLong, *max as u64),
        Problem::StorageFull => t.get(S::StorageFull).into(),
        Problem::NoReader => t.get(S::NoFileReader).into(),
        Problem::Files { refused, too_many } => Problem::files(refused, *too_many, t.get(S::TooManyFiles)),
    }
}

#[cfg(test)]
mod model_words {
    use super::*;

    #[test]
    fn the_models_own_messages_default_to_its_english_and_are_replaceable() {
        let mut t = Strings::default();
        for note in Note::ALL {
            let e = ChatError::noted(note);
            assert_eq!(error_text(&e, &t), e.message, "{note:?}: the table's default is the model's English");
        }
        let token = ChatError {
            message: [Note::SessionToken.english(), " HTTP 500"].concat(),
            ..ChatError::noted(Note::SessionToken)
        };
        assert_eq!(error_text(&token, &t), "Could not get a session token: HTTP 500");
        let edge = ChatError::from_edge("upstream_error", "Upstream failed".into(), None, None, false);
        assert_eq!(error_text(&edge, &t), "Upstream failed", "the edge's words stay");
        let problems = [
            Problem::TooLong(10),
            Problem::StorageFull,
            Problem::NoReader,
            Problem::Files { refused: "a.exe is not allowed.".into(), too_many: true },
            Problem::Files { refused: String::new(), too_many: true },
            Problem::Files { refused: "a.exe is not allowed.".into(), too_many: false },
        ];
        for p in &problems {
            assert_eq!(problem_text(p, &t), p.text(), "{p:?}");
        }
        assert!(t.set("connectionClosed", "Verbindung getrennt.") && t.set("noSessionToken", "Kein Token:"));
        assert!(t.set("tooManyFiles", "Zu viele Dateien."));
        assert_eq!(error_text(&ChatError::truncated(), &t), "Verbindung getrennt.");
        assert_eq!(error_text(&token, &t), "Kein Token: HTTP 500");
        assert_eq!(problem_text(&problems[3], &t), "a.exe is not allowed. Zu viele Dateien.");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_known_one_letter_placeholders_only() {
        let v = [('n', "3"), ('$', "$0.01")];
        assert_eq!(fill("{n} steps, {$}", &v), "3 steps, $0.01");
        assert_eq!(fill("{x} {n", &v), "{x} {n", "unknown or unclosed braces stay");
        assert_eq!(fill("{{n}}", &v), "{3}");
        assert_eq!(fill("é{n}ü", &v), "é3ü");
        assert_eq!(fill("", &v), "");
    }

    #[test]
    fn the_copy_defaults_are_the_markdown_renderers() {
        assert_eq!(
            (Strings::default().get(S::Copy), Strings::default().get(S::CopyCode)),
            crate::markdown::render::COPY
        );
    }

    #[test]
    fn replaced_texts_win_and_the_rest_stay_english() {
        let mut s = Strings::default();
        assert!(s.set("send", "Envoyer") && s.set("send", "Envoi"));
        assert!(!s.set("nope", "x"));
        assert_eq!((s.get(S::Send), s.get(S::Stop)), ("Envoi", "Stop"));
        assert_eq!(s.n(S::TooLong, 8000), "Your message is longer than the 8000 characters allowed.");
        #[cfg(not(feature = "byok"))]
        assert_eq!(STRINGS.len(), S::NoFileReader as usize + 1, "one key per text");
        #[cfg(feature = "byok")]
        assert_eq!(STRINGS.len(), S::ByokForget as usize + 1, "one key per text");
        let mut keys: Vec<_> = STRINGS.iter().map(|(k, _)| k).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), STRINGS.len(), "distinct keys");
    }
}
