//! Usage metering of one upstream stream: what the provider reported, what was streamed, and the usage to bill
//! when the stream ends — complete or not. Every route meters through a [`Meter`], so a stream cut by the client,
//! a stop, a stall or a budget still bills what it used.

use edgechat::conversation::TokenCounter;
use edgechat::{StopReason, StreamEvent, Usage};

/// Folds upstream events into usage. Feed every event with [`Meter::push`]; read [`Meter::settle`] at the end.
#[derive(Debug, Clone, Default)]
pub struct Meter {
    reported: Usage,
    any_reported: bool,
    output: TokenCounter,
    stop: Option<(StopReason, String)>,
    done: bool,
}

impl Meter {
    /// Records one upstream event.
    pub fn push(&mut self, ev: &StreamEvent) {
        match ev {
            StreamEvent::TextDelta { text } | StreamEvent::Refusal { text } | StreamEvent::ReasoningDelta { text } => {
                self.output.push(text)
            }
            StreamEvent::ToolCall { call } => {
                self.output.push(&call.name);
                self.output.push(&call.arguments);
            }
            StreamEvent::Usage { usage } => {
                self.reported.merge_max(usage);
                self.any_reported = true;
            }
            StreamEvent::Stop { reason, raw } => self.stop = Some((*reason, raw.clone())),
            StreamEvent::Done => self.done = true,
            _ => {}
        }
    }

    /// Whether the upstream's terminal event arrived.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Whether anything visible was produced (text, reasoning, tool calls).
    pub fn generated(&self) -> bool {
        !self.output.is_empty()
    }

    /// The stop reason the provider sent, with its raw value.
    pub fn stop(&self) -> Option<&(StopReason, String)> {
        self.stop.as_ref()
    }

    /// Output tokens so far: the provider's count, or the estimate of what was streamed when that is larger.
    pub fn output_tokens(&self) -> u64 {
        self.reported.output_tokens.max(self.output.tokens())
    }

    /// The usage to bill and whether any of it is estimated; `prompt_tokens` is the request's estimated size.
    pub fn settle(&self, prompt_tokens: u64) -> (Usage, bool) {
        settle_usage(self.reported, self.any_reported, self.output.tokens(), prompt_tokens, self.done)
    }
}

/// The usage to bill for a stream and whether any part of it is estimated.
///
/// `reported` is the provider's usage so far (kept at its maximum, `any_reported` when it sent any),
/// `output_tokens` the estimate of what was streamed (text, reasoning, tool calls), `prompt_tokens` the estimate
/// of the request, `complete` whether the provider's terminal event arrived.
///
/// A complete stream with a provider report is billed as reported. Otherwise each side is estimated where the
/// provider did not count it: the input when no input was reported, the output when the streamed text is larger
/// than the reported output (a stream cut before the provider's final count, such as Anthropic's `message_start`
/// reporting 1 output token). Usage is never lost: a stream stopped before its first token still bills its prompt.
pub fn settle_usage(
    reported: Usage,
    any_reported: bool,
    output_tokens: u64,
    prompt_tokens: u64,
    complete: bool,
) -> (Usage, bool) {
    let r = reported;
    if complete && any_reported && (r.output_tokens > 0 || r.total_input_tokens() > 0) {
        return (r, false);
    }
    let mut u = if any_reported { r } else { Usage::default() };
    let mut estimated = false;
    if u.total_input_tokens() == 0 {
        u.input_tokens = prompt_tokens;
        estimated = true;
    }
    if output_tokens > u.output_tokens {
        u.output_tokens = output_tokens;
        estimated = true;
    }
    (u, estimated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgechat::ToolCall;

    #[test]
    fn complete_streams_bill_the_providers_report() {
        let r = Usage { input_tokens: 9, output_tokens: 3, ..Usage::default() };
        assert_eq!(settle_usage(r, true, 3, 100, true), (r, false));
    }

    #[test]
    fn complete_streams_without_a_report_are_estimated() {
        let (u, est) = settle_usage(Usage::default(), false, 4, 10, true);
        assert_eq!((u.input_tokens, u.output_tokens, est), (10, 4, true));
        // a report of zeros counts as none
        let (u, est) = settle_usage(Usage::default(), true, 4, 10, true);
        assert_eq!((u.input_tokens, u.output_tokens, est), (10, 4, true));
    }

    #[test]
    fn a_stream_cut_after_a_partial_report_keeps_the_input_and_counts_the_output() {
        // Anthropic reports input tokens and 1 output token in message_start; the stream is then stopped.
        let start = Usage { input_tokens: 12, output_tokens: 1, cache_read_input_tokens: 4, ..Usage::default() };
        let (u, est) = settle_usage(start, true, 10, 250, false);
        assert_eq!((u.input_tokens, u.cache_read_input_tokens, u.output_tokens, est), (12, 4, 10, true));
        // a reported output larger than the text count stays as reported
        let late = Usage { output_tokens: 50, ..start };
        assert_eq!(settle_usage(late, true, 10, 250, false), (late, false));
    }

    #[test]
    fn a_stream_cut_before_anything_still_bills_the_prompt() {
        let (u, est) = settle_usage(Usage::default(), false, 0, 5, false);
        assert_eq!((u.input_tokens, u.output_tokens, est), (5, 0, true));
    }

    #[test]
    fn the_meter_counts_text_with_the_core_estimator() {
        let mut m = Meter::default();
        for t in ["Hel", "lo ", "wor", "ld", " 日本"] {
            m.push(&StreamEvent::TextDelta { text: t.into() });
        }
        m.push(&StreamEvent::ToolCall { call: ToolCall { id: "c".into(), name: "f".into(), arguments: "{}".into() } });
        let expect = edgechat::conversation::estimate_text_tokens("Hello world 日本f{}");
        assert_eq!(m.output_tokens(), expect);
        assert!(m.generated() && !m.is_done());
        m.push(&StreamEvent::Done);
        assert!(m.is_done());
        assert_eq!(m.settle(7), (Usage { input_tokens: 7, output_tokens: expect, ..Usage::default() }, true));
    }
}
