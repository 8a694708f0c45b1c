//! What happened in the chat, for whoever embeds it ([`Chat::on_event`]): the widget turns these into the
//! element's DOM events (`edgechat:message`, `edgechat:usage`, `edgechat:error`, `edgechat:tool-call`).

use std::rc::Rc;

use edgechat::ToolCall;

use super::tools::ToolResult;
use super::{Chat, Turn};
use crate::api::{ChatError, UsageInfo};

/// One thing that happened.
#[derive(Debug)]
#[non_exhaustive]
pub enum ChatEvent<'a> {
    /// A user message was sent, or an answer (or one step of a tool loop) ended, however it ended.
    Message(&'a Turn),
    /// An answer's usage: this request's, and the question's total over its tool steps so far.
    Usage {
        /// This request's tokens and cost.
        step: UsageInfo,
        /// All steps since the question together.
        total: UsageInfo,
        /// How many steps `total` covers.
        steps: usize,
    },
    /// An answer failed or was cut off.
    Error(&'a ChatError),
    /// A tool call ended: its result (an error result when it threw, timed out, was declined or not run).
    ToolCall {
        /// The call.
        call: &'a ToolCall,
        /// What went back to the model.
        result: &'a ToolResult,
    },
}

/// Called with each [`ChatEvent`].
pub type EventSink = Rc<dyn Fn(&ChatEvent<'_>)>;

impl Chat {
    /// Calls `sink` with what happens from now on (`None` stops the calls).
    pub fn on_event(&self, sink: Option<EventSink>) {
        *self.0.events.borrow_mut() = sink;
    }

    pub(super) fn emit(&self, ev: ChatEvent<'_>) {
        let sink = self.0.events.borrow().clone();
        if let Some(f) = sink {
            f(&ev);
        }
    }

    /// Emits `Message` (and `Error`) for turn `id` as it is now.
    pub(super) fn emit_turn(&self, id: u32) {
        let turn = self.state().turns.iter().find(|t| t.id == id).cloned();
        if let Some(t) = turn {
            self.emit(ChatEvent::Message(&t));
            if let Some(e) = &t.error {
                self.emit(ChatEvent::Error(e));
            }
        }
    }

    /// Emits `Usage` for answer `id`, with the total of the question's steps up to it.
    pub(super) fn emit_usage(&self, id: u32, step: UsageInfo) {
        let (total, steps) = self.state().loop_usage(id);
        self.emit(ChatEvent::Usage { step, total, steps });
    }
}

impl super::State {
    /// The usage of answer `id` and of the answers right before it (the steps of one question), added up, and how
    /// many steps that is.
    pub fn loop_usage(&self, id: u32) -> (UsageInfo, usize) {
        let end = self.turns.iter().position(|t| t.id == id).map_or(0, |i| i + 1);
        let mut total: Option<UsageInfo> = None;
        let mut n = 0;
        for t in self.turns[..end].iter().rev().take_while(|t| t.role == edgechat::conversation::Role::Assistant) {
            n += 1;
            if let Some(u) = t.usage {
                total = Some(total.map_or(u, |t| t.plus(u)));
            }
        }
        (total.unwrap_or_default(), n)
    }
}
