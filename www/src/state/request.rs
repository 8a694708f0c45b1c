//! What a request sends: the conversation before the answer, after the edge's summary of its earliest turns (if
//! there is one), and only the newest messages that fit the edge's `max_messages` and `max_total_chars`.

#[cfg(feature = "byok")]
use edgechat::conversation::Message;
use edgechat::conversation::Role;
use wasm_bindgen::JsValue;

use super::{Chat, State, Status};
use crate::api::{self, SummaryEvent};
use crate::json::{self, Obj};

/// The edge's summary of the earliest turns (the `summary` event, docs/protocol.md): sent, with its token, in
/// place of the turns it covers. The turns stay on screen, below a marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The summary.
    pub text: String,
    /// The edge's signature over it.
    pub token: String,
    /// How many messages it covers, counted from the first as the edge counts them (what `covers` says when it
    /// goes back).
    pub covers: u64,
    /// The first turn it does not cover: requests send the turns from here on.
    pub start: usize,
}

impl Summary {
    /// Saved form (`{"text","token","covers","start"}`).
    pub fn to_json(&self) -> JsValue {
        self.wire().set("start", self.start as f64).build()
    }

    /// Reads the saved form.
    pub fn from_json(v: &JsValue) -> Option<Self> {
        Some(Self {
            text: json::string(v, "text")?,
            token: json::string(v, "token")?,
            covers: json::uint(v, "covers")?,
            start: json::uint(v, "start")? as usize,
        })
    }

    /// The request's `summary` field.
    fn wire(&self) -> Obj {
        Obj::new().set("text", self.text.as_str()).set("token", self.token.as_str()).set("covers", self.covers as f64)
    }
}

/// One request's conversation.
pub(super) struct Ask {
    /// The turn of each message it sends, in order (an answer with tool calls sends its results after it).
    pub(super) turns: Vec<usize>,
    /// The summary they follow.
    pub(super) summary: Option<Summary>,
}

/// How many of the oldest of `n` messages to leave out so that the rest fit `max_messages` and
/// `max_total_chars` (`extra` characters are taken already, by a summary). `at(i)` is message `i`'s role (`true`:
/// user) and length in characters. The newest message always stays, and what is sent starts with a user message.
pub fn fit(
    n: usize,
    at: impl Fn(usize) -> (bool, usize),
    max_messages: Option<usize>,
    max_total_chars: Option<usize>,
    extra: usize,
) -> usize {
    let (max_n, max_chars) = (max_messages.unwrap_or(usize::MAX), max_total_chars.unwrap_or(usize::MAX));
    let mut total = extra;
    let mut from = n;
    while from > 0 {
        total = total.saturating_add(at(from - 1).1);
        if from < n && (n - from >= max_n || total > max_chars) {
            break;
        }
        from -= 1;
    }
    // Providers want a conversation to start with the user.
    while from + 1 < n && !at(from).0 {
        from += 1;
    }
    from
}

impl State {
    /// The conversation before answer turn `id` (through it when continuing it): every turn but empty answers,
    /// cut-off answers marked interrupted. For the edge (`edge`), only the turns after the summary, and the newest
    /// of them that fit the edge's limits.
    pub(super) fn ask(&self, id: u32, cont: bool, edge: bool) -> Ask {
        let end = self.turns.iter().position(|t| t.id == id).map_or(self.turns.len(), |i| i + usize::from(cont));
        let summary = self.summary.clone().filter(|s| edge && s.start <= end);
        let from = summary.as_ref().map_or(0, |s| s.start);
        let mut turns = Vec::new();
        for (i, t) in self.turns[..end].iter().enumerate().skip(from) {
            if t.role == Role::User || !t.text.is_empty() || t.sends_calls() {
                turns.push(i);
            }
        }
        if edge {
            let limits = self.config.as_ref().map(|c| c.limits.clone()).unwrap_or_default();
            let at = |i: usize| {
                let t = &self.turns[turns[i]];
                let results: usize = t.tool_results.iter().map(|r| r.content.chars().count()).sum();
                (t.role == Role::User, t.text.chars().count() + results)
            };
            let extra = summary.as_ref().map_or(0, |s| s.text.chars().count());
            let left_out = fit(turns.len(), at, limits.max_messages, limits.max_total_chars, extra);
            turns = turns.split_off(left_out);
        }
        let messages = |i: &usize| {
            let t = &self.turns[*i];
            1 + if t.sends_calls() { t.tool_results.len() } else { 0 }
        };
        let turns = turns.iter().flat_map(|i| std::iter::repeat_n(*i, messages(i))).collect();
        Ask { turns, summary }
    }

    /// The `POST /api/chat` body of `ask` (cut-off answers marked interrupted, the results after the calls of an
    /// answer that asked for tools) with the page's `tools`. Files go with their turns, the newest first as far as
    /// the edge's `max_attachments` allows (every request carries the conversation); files whose bytes were not
    /// kept stay behind.
    pub(super) fn body(&self, ask: &Ask, cont: bool, tools: Option<js_sys::Array>) -> String {
        let budget = self.config.as_ref().map_or(0, |c| c.limits.max_attachments);
        let kept = |i: usize| self.turns[i].files.iter().filter(|f| super::attach::kept(f));
        // Each turn once (an answer with tool calls stands for its results' messages too).
        let turns = || {
            let mut last = None;
            ask.turns.iter().copied().filter(move |&i| last.replace(i) != Some(i))
        };
        // The newest files go first: a turn sends the newest of its files that the budget leaves after the files
        // of the turns after it.
        let mut later: usize = turns().map(|i| kept(i).count()).sum();
        let list = js_sys::Array::new();
        for i in turns() {
            let k = kept(i).count();
            later -= k;
            let n = k.min(budget.saturating_sub(later));
            let t = &self.turns[i];
            // A message of files only whose files were all left behind still says something.
            let text = if t.text.is_empty() && n == 0 && t.role == Role::User {
                super::attach::words::NOT_KEPT
            } else {
                t.text.as_str()
            };
            let o = Obj::new().set("role", if t.role == Role::User { "user" } else { "assistant" });
            let o = o.set("content", text);
            let o = if t.role == Role::Assistant && t.status != Status::Done { o.set("interrupted", true) } else { o };
            let files = (n > 0).then(|| kept(i).skip(k - n).collect::<js_sys::Array>());
            let o = o.opt("attachments", files);
            let calls =
                t.sends_calls().then(|| t.tool_calls.iter().map(api::tool_call_to_json).collect::<js_sys::Array>());
            list.push(&o.opt("tool_calls", calls).build());
            for r in t.tool_results.iter().filter(|_| t.sends_calls()) {
                list.push(&r.message());
            }
        }
        let summary = ask.summary.as_ref().map(|s| s.wire().build());
        #[cfg(feature = "hooks")]
        let options = Some(&self.options);
        #[cfg(not(feature = "hooks"))]
        let options = None;
        api::chat_body(&self.model, list, cont, summary.as_ref(), options, tools)
    }

    /// The turns of `ask` as the core's messages (bring-your-own-key builds the provider request from them).
    #[cfg(feature = "byok")]
    pub(super) fn messages(&self, ask: &Ask) -> Vec<Message> {
        let mut out = Vec::new();
        let mut last = None;
        for &i in &ask.turns {
            if last.replace(i) == Some(i) {
                continue;
            }
            let t = &self.turns[i];
            let text = t.text.clone();
            let mut m = if t.role == Role::User { Message::user(text) } else { Message::assistant(text) };
            m.interrupted = t.role == Role::Assistant && t.status != Status::Done;
            if t.role == Role::User {
                // Files in the edge's JSON are the core's `Attachment` shape; the provider's builder checks them.
                let kept = t.files.iter().filter(|f| super::attach::kept(f));
                m.attachments = kept.filter_map(|f| serde_json::from_str(&json::stringify(f)).ok()).collect();
            }
            if t.sends_calls() {
                m.tool_calls = t.tool_calls.clone();
            }
            out.push(m);
            for r in t.tool_results.iter().filter(|_| t.sends_calls()) {
                out.push(Message { is_error: r.is_error, ..Message::tool(&r.call_id, &r.content) });
            }
        }
        out
    }
}

impl Chat {
    /// A `summary` event for the request in progress: from now on it goes back instead of the turns it covers
    /// (`covers` counts the request's messages; the summary it carried, if any, is replaced).
    pub(super) fn summarized(&self, ev: SummaryEvent) {
        let basis = self.0.live.borrow().basis.clone();
        // A stream resumed after a reload has no record of what its request sent: keep sending the turns.
        let Some((turns, before)) = basis else { return };
        let n = ev.covers as usize;
        let start = turns.get(n).copied().unwrap_or_else(|| turns.last().map_or(0, |i| i + 1));
        let summary = Summary { text: ev.text, token: ev.token, covers: before + ev.covers, start };
        self.update(|s| s.summary = Some(summary));
        self.persist();
    }
}

#[cfg(test)]
mod tests {
    use super::fit;

    #[test]
    fn fit_keeps_the_newest_messages_within_both_limits_starting_with_a_user() {
        let fits = |msgs: &[(bool, usize)], n, chars, extra| fit(msgs.len(), |i| msgs[i], n, chars, extra);
        let chat: Vec<(bool, usize)> = (0..10).map(|i| (i % 2 == 0, 10)).collect();
        assert_eq!(fits(&chat, None, None, 0), 0, "no limits: everything");
        assert_eq!(fits(&chat, Some(50), Some(60_000), 0), 0);
        assert_eq!(fits(&chat, Some(4), None, 0), 6);
        // 3 fit by count, but the first of them would be an answer.
        assert_eq!(fits(&chat, Some(3), None, 0), 8);
        assert_eq!(fits(&chat, None, Some(45), 0), 6);
        assert_eq!(fits(&chat, None, Some(45), 20), 8, "a summary's characters count");
        let long_last = [(true, 10), (false, 10), (true, 500)];
        assert_eq!(fits(&long_last, Some(50), Some(100), 0), 2, "the newest message always goes");
        assert_eq!(fits(&[], Some(1), Some(1), 0), 0);
    }
}
