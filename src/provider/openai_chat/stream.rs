//! Streamed `chat.completion.chunk` objects (`data: {…}` lines, ended by `data: [DONE]`).

use std::borrow::Cow;

use serde::Deserialize;

use crate::error::StreamError;
use crate::event::{StopReason, StreamEvent, Usage};
use crate::provider::common::{malformed, parse_event, Out, ToolCalls};
use crate::provider::error::stream_error;
use crate::provider::json::{JsonError, KeyBuf, Reader};
use crate::provider::ProviderKind;

/// `usage` of a chunk or a whole response.
#[derive(Deserialize, Default)]
pub(super) struct ChatUsage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens: Option<u64>,
    #[serde(default)]
    prompt_tokens_details: Option<PromptDetails>,
}

#[derive(Deserialize, Default)]
struct PromptDetails {
    #[serde(default)]
    cached_tokens: Option<u64>,
}

impl ChatUsage {
    /// Normalized usage: cached prompt tokens are reported apart from the rest of the prompt.
    pub(super) fn normalize(&self) -> Usage {
        let prompt = self.prompt_tokens.unwrap_or(0);
        let cached = self.prompt_tokens_details.as_ref().and_then(|d| d.cached_tokens).unwrap_or(0).min(prompt);
        Usage {
            input_tokens: prompt - cached,
            output_tokens: self.completion_tokens.unwrap_or(0),
            cache_read_input_tokens: cached,
            cache_creation_input_tokens: 0,
        }
    }
}

/// The normalized stop reason for a `finish_reason`.
pub(super) fn stop_reason(raw: &str) -> StopReason {
    match raw {
        "stop" | "end_turn" | "eos" => StopReason::EndTurn,
        "length" | "max_tokens" => StopReason::MaxTokens,
        "tool_calls" | "function_call" | "tool_use" => StopReason::ToolUse,
        "content_filter" => StopReason::ContentFilter,
        "stop_sequence" => StopReason::StopSequence,
        _ => StopReason::Other,
    }
}

/// Decoder state of one Chat Completions stream.
#[derive(Debug)]
pub(crate) struct ChatStream {
    kind: ProviderKind,
    started: bool,
    calls: ToolCalls,
}

impl ChatStream {
    pub(crate) fn new(kind: ProviderKind) -> Self {
        Self { kind, started: false, calls: ToolCalls::default() }
    }

    /// Decodes one SSE event's data; `Ok(true)` when it was the terminal `[DONE]`.
    pub(crate) fn on_data(&mut self, data: &str, out: &mut Out) -> Result<bool, StreamError> {
        let data = data.trim_ascii();
        if data == "[DONE]" {
            // Calls still open (a server that sent no finish_reason) are as complete as they will get.
            self.calls.complete_all("", out);
            out.push_back(StreamEvent::Done);
            return Ok(true);
        }
        if data.is_empty() {
            return Ok(false);
        }
        let before = out.len();
        match self.chunk(data, out) {
            Ok(None) => Ok(false),
            Ok(Some(())) => {
                out.truncate(before);
                let v: serde_json::Value = parse_event(self.kind, data)?;
                Err(StreamError::Provider(stream_error(self.kind, &v)))
            }
            Err(e) => {
                // Nothing of a malformed chunk is emitted.
                out.truncate(before);
                Err(malformed(self.kind, data, e))
            }
        }
    }

    /// Decodes one `chat.completion.chunk`; `Ok(Some(()))` when it is an error object instead.
    fn chunk(&mut self, data: &str, out: &mut Out) -> Result<Option<()>, JsonError> {
        let before = out.len();
        let mut r = Reader::new(data);
        let (mut id, mut model, mut usage, mut error, mut took_choice) = (None, None, None, false, false);
        r.object()?;
        let (mut first, mut kb) = (true, KeyBuf::default());
        while let Some(key) = r.next_key(&mut first, &mut kb)? {
            match key {
                // Only the first chunk's id and model are used.
                "id" if !self.started => id = r.text()?,
                "model" if !self.started => model = r.text()?,
                "choices" => {
                    if !r.null()? {
                        r.array()?;
                        let mut first = true;
                        while r.next_element(&mut first)? {
                            let choice = Choice::read(&mut r)?;
                            if choice.index == 0 && !std::mem::replace(&mut took_choice, true) {
                                self.on_choice(data, &choice, out)?;
                            }
                        }
                    }
                }
                "usage" => {
                    if !r.null()? {
                        usage = Some(read_usage(&mut r)?);
                    }
                }
                "error" => {
                    if !r.null()? {
                        r.skip()?;
                        error = true;
                    }
                }
                _ => r.skip()?,
            }
        }
        r.end()?;
        if error {
            return Ok(Some(()));
        }
        if !self.started && (id.is_some() || model.is_some()) {
            self.started = true;
            let start = StreamEvent::Start { id: id.map(Cow::into_owned), model: model.map(Cow::into_owned) };
            out.insert(before, start);
        }
        if let Some(usage) = usage {
            out.push_back(StreamEvent::Usage { usage });
        }
        Ok(None)
    }

    fn on_choice(&mut self, data: &str, c: &Choice<'_>, out: &mut Out) -> Result<(), JsonError> {
        // Some servers (vLLM) send the same text under both names: take one.
        if let Some(text) = non_empty(&c.reasoning_content).or_else(|| non_empty(&c.reasoning)) {
            out.push_back(StreamEvent::ReasoningDelta { text: text.to_owned() });
        }
        if let Some(text) = non_empty(&c.content) {
            out.push_back(StreamEvent::TextDelta { text: text.to_owned() });
        }
        if let Some(text) = non_empty(&c.refusal) {
            out.push_back(StreamEvent::Refusal { text: text.to_owned() });
        }
        if let Some((start, end)) = c.tool_calls {
            let mut r = Reader::new(&data[start..end]);
            r.array()?;
            let (mut first, mut pos) = (true, 0);
            while r.next_element(&mut first)? {
                let (index, id, name, args) = read_call(&mut r)?;
                let key = index.map_or(pos, |i| i as usize);
                out.push_back(self.calls.fragment(
                    key,
                    non_empty(&id),
                    non_empty(&name),
                    non_empty(&args).unwrap_or(""),
                ));
                pos += 1;
            }
        }
        if let Some(raw) = non_empty(&c.finish_reason) {
            self.calls.complete_all("", out);
            out.push_back(StreamEvent::Stop { reason: stop_reason(raw), raw: raw.to_owned() });
        }
        Ok(())
    }
}

#[inline(always)]
fn non_empty<'s>(t: &'s Option<Cow<'_, str>>) -> Option<&'s str> {
    t.as_deref().filter(|s| !s.is_empty())
}

/// One element of `choices`, read whole before acting on it (its `index` may come after its `delta`).
#[derive(Default)]
struct Choice<'a> {
    index: u64,
    content: Option<Cow<'a, str>>,
    reasoning_content: Option<Cow<'a, str>>,
    reasoning: Option<Cow<'a, str>>,
    refusal: Option<Cow<'a, str>>,
    /// Byte range of the `tool_calls` array, read after `index` is known.
    tool_calls: Option<(usize, usize)>,
    finish_reason: Option<Cow<'a, str>>,
}

impl<'a> Choice<'a> {
    fn read(r: &mut Reader<'a>) -> Result<Self, JsonError> {
        let mut c = Choice::default();
        r.object()?;
        let (mut first, mut kb) = (true, KeyBuf::default());
        while let Some(key) = r.next_key(&mut first, &mut kb)? {
            match key {
                "index" => c.index = r.u64_or_null()?.unwrap_or(0),
                "finish_reason" => c.finish_reason = r.text()?,
                "delta" | "message" => {
                    if !r.null()? {
                        r.object()?;
                        let (mut first, mut kb) = (true, KeyBuf::default());
                        while let Some(key) = r.next_key(&mut first, &mut kb)? {
                            match key {
                                "content" => c.content = r.text()?,
                                "reasoning_content" => c.reasoning_content = r.text()?,
                                "reasoning" => c.reasoning = r.text()?,
                                "refusal" => c.refusal = r.text()?,
                                "tool_calls" => {
                                    if !r.null()? {
                                        let start = r.position();
                                        r.skip()?;
                                        c.tool_calls = Some((start, r.position()));
                                    }
                                }
                                _ => r.skip()?,
                            }
                        }
                    }
                }
                _ => r.skip()?,
            }
        }
        Ok(c)
    }
}

type CallFragment<'a> = (Option<u64>, Option<Cow<'a, str>>, Option<Cow<'a, str>>, Option<Cow<'a, str>>);

/// One element of `tool_calls`: index, id, function name, arguments fragment.
fn read_call<'a>(r: &mut Reader<'a>) -> Result<CallFragment<'a>, JsonError> {
    let (mut index, mut id, mut name, mut args) = (None, None, None, None);
    r.object()?;
    let (mut first, mut kb) = (true, KeyBuf::default());
    while let Some(key) = r.next_key(&mut first, &mut kb)? {
        match key {
            "index" => index = r.u64_or_null()?,
            "id" => id = r.text()?,
            "function" => {
                if !r.null()? {
                    r.object()?;
                    let (mut first, mut kb) = (true, KeyBuf::default());
                    while let Some(key) = r.next_key(&mut first, &mut kb)? {
                        match key {
                            "name" => name = r.text()?,
                            "arguments" => args = r.text()?,
                            _ => r.skip()?,
                        }
                    }
                }
            }
            _ => r.skip()?,
        }
    }
    Ok((index, id, name, args))
}

/// A chunk's `usage` object, normalized.
fn read_usage(r: &mut Reader<'_>) -> Result<Usage, JsonError> {
    let mut u = ChatUsage::default();
    r.object()?;
    let (mut first, mut kb) = (true, KeyBuf::default());
    while let Some(key) = r.next_key(&mut first, &mut kb)? {
        match key {
            "prompt_tokens" => u.prompt_tokens = r.u64_or_null()?,
            "completion_tokens" => u.completion_tokens = r.u64_or_null()?,
            "prompt_tokens_details" => {
                if !r.null()? {
                    let mut d = PromptDetails::default();
                    r.object()?;
                    let (mut first, mut kb) = (true, KeyBuf::default());
                    while let Some(key) = r.next_key(&mut first, &mut kb)? {
                        match key {
                            "cached_tokens" => d.cached_tokens = r.u64_or_null()?,
                            _ => r.skip()?,
                        }
                    }
                    u.prompt_tokens_details = Some(d);
                }
            }
            _ => r.skip()?,
        }
    }
    Ok(u.normalize())
}
