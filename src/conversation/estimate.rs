//! Token estimates: a fast heuristic, calibrated by the provider's reported usage once one is known.
//!
//! # The heuristic
//! Text is counted in quarter tokens per `char`, then rounded up:
//! - ASCII: 1/4 token (about 4 characters per token for English and code, as both OpenAI's and Anthropic's
//!   tokenizers roughly give);
//! - CJK ideographs, kana, Hangul and full-width forms: 1 token each (these tokenizers spend about one token per
//!   character on them);
//! - characters outside the Basic Multilingual Plane (emoji, rare ideographs): 2 tokens each;
//! - any other non-ASCII character (accented Latin, Cyrillic, Greek, Arabic, Hebrew, Indic, …): 1/2 token.
//!
//! Each turn adds [`MESSAGE_OVERHEAD_TOKENS`] (role and framing), each tool call [`TOOL_CALL_OVERHEAD_TOKENS`]
//! plus its name, id and arguments, each attachment [`estimate_attachment_tokens`], and a request adds
//! [`REPLY_PRIMING_TOKENS`]. The heuristic leans high
//! for most text, so a budget computed from it errs on the safe side. It knows nothing about what the
//! provider adds around the conversation (tool definitions, schemas), which is where calibration comes in.
//!
//! # Calibration
//! After a response, [`Conversation::calibrate`] turns the provider's [`Usage`] into a [`Calibration`]: the real
//! prompt token count of the messages that were sent, next to the heuristic's count of the same prompt. Store it
//! beside the conversation (it is serde). [`Conversation::estimate_tokens_with`] then
//! - when the conversation still starts with exactly the messages that were sent (checked by a fingerprint),
//!   answers the real count plus the heuristic for the newer turns scaled by the observed ratio;
//! - otherwise (the history was trimmed or edited) answers the heuristic scaled by the observed ratio.
//!
//! The ratio is clamped to [`MIN_CALIBRATION_RATIO`]..=[`MAX_CALIBRATION_RATIO`] so one odd report (e.g. a huge
//! tool definition block on a short chat) cannot make later estimates absurd.

use serde::{Deserialize, Serialize};

use crate::event::Usage;

use super::{Conversation, Message};

/// Tokens added per turn for the role and the provider's framing.
pub const MESSAGE_OVERHEAD_TOKENS: u64 = 4;
/// Tokens added per tool call on top of its name, id and arguments.
pub const TOOL_CALL_OVERHEAD_TOKENS: u64 = 8;
/// Tokens added once per request (the provider primes the reply).
pub const REPLY_PRIMING_TOKENS: u64 = 3;
/// Lowest ratio of real to estimated tokens a [`Calibration`] applies.
pub const MIN_CALIBRATION_RATIO: f64 = 0.5;
/// Highest ratio of real to estimated tokens a [`Calibration`] applies.
pub const MAX_CALIBRATION_RATIO: f64 = 3.0;

/// Heuristic token count of `text` (see the [module docs](self) for the rule).
///
/// ```
/// use edgechat::conversation::estimate_text_tokens;
/// assert_eq!(estimate_text_tokens(""), 0);
/// assert_eq!(estimate_text_tokens("abcd"), 1);
/// assert_eq!(estimate_text_tokens("abcde"), 2); // rounded up
/// assert_eq!(estimate_text_tokens("日本語"), 3); // one per CJK character
/// assert_eq!(estimate_text_tokens("🦀"), 2);
/// ```
pub fn estimate_text_tokens(text: &str) -> u64 {
    let quarters: u64 = text.chars().map(char_quarters).sum();
    quarters.div_ceil(4)
}

/// Counts the heuristic tokens of text that arrives in pieces, such as a streamed answer: the total is the same as
/// [`estimate_text_tokens`] of the pieces joined (the rounding happens once, at the end).
///
/// ```
/// use edgechat::conversation::{estimate_text_tokens, TokenCounter};
/// let mut c = TokenCounter::default();
/// for piece in ["ab", "c", "de", "日本"] {
///     c.push(piece);
/// }
/// assert_eq!(c.tokens(), estimate_text_tokens("abcde日本"));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenCounter {
    quarters: u64,
}

impl TokenCounter {
    /// Counts one more piece of text.
    pub fn push(&mut self, text: &str) {
        self.quarters += text.chars().map(char_quarters).sum::<u64>();
    }

    /// The tokens counted so far.
    pub fn tokens(&self) -> u64 {
        self.quarters.div_ceil(4)
    }

    /// Whether nothing (or only empty text) was counted.
    pub fn is_empty(&self) -> bool {
        self.quarters == 0
    }
}

fn char_quarters(c: char) -> u64 {
    let cp = c as u32;
    if cp < 0x80 {
        1
    } else if cp >= 0x1_0000 {
        8
    } else if is_cjk(cp) {
        4
    } else {
        2
    }
}

fn is_cjk(cp: u32) -> bool {
    matches!(cp,
        0x1100..=0x11FF     // Hangul Jamo
        | 0x2E80..=0x9FFF   // CJK radicals, punctuation, kana, Bopomofo, CJK unified ideographs
        | 0xA960..=0xA97F   // Hangul Jamo extended-A
        | 0xAC00..=0xD7FF   // Hangul syllables and Jamo extended-B
        | 0xF900..=0xFAFF   // CJK compatibility ideographs
        | 0xFE30..=0xFE4F   // CJK compatibility forms
        | 0xFF00..=0xFFEF) // half-width and full-width forms
}

/// Heuristic token count of one turn, including its overhead, tool calls and tool call id.
pub fn estimate_message_tokens(message: &Message) -> u64 {
    let calls: u64 = message
        .tool_calls
        .iter()
        .map(|c| {
            TOOL_CALL_OVERHEAD_TOKENS
                + estimate_text_tokens(&c.id)
                + estimate_text_tokens(&c.name)
                + estimate_text_tokens(&c.arguments)
        })
        .sum();
    let id = message.tool_call_id.as_deref().map_or(0, estimate_text_tokens);
    let files: u64 = message.attachments.iter().map(estimate_attachment_tokens).sum();
    MESSAGE_OVERHEAD_TOKENS + estimate_text_tokens(&message.content) + calls + id + files
}

/// Longest side an image keeps before Anthropic scales it down (and the widget's downscale target).
pub const IMAGE_MAX_SIDE: u32 = 1568;
/// Tokens of an image whose size is unknown: the most an image costs under [`estimate_image_tokens`]'s rule
/// (Anthropic scales anything larger down to about 1.15 megapixels, ~1,600 tokens).
pub const IMAGE_UNKNOWN_TOKENS: u64 = 1_600;
/// Tokens per PDF page (its text plus the page image both providers add), an upper-range figure.
pub const DOCUMENT_PAGE_TOKENS: u64 = 3_000;
/// Bytes per PDF page assumed when the page count is unknown (it always is: the core does not parse PDFs).
pub const DOCUMENT_PAGE_BYTES: u64 = 100_000;

/// Tokens of a `width` x `height` image by Anthropic's rule, `ceil(w * h / 750)`, after scaling the long side to
/// [`IMAGE_MAX_SIDE`] and capped at [`IMAGE_UNKNOWN_TOKENS`]. One rule for every provider: OpenAI's tile rule
/// (`85 + 170` per 512-px tile at high detail, after fitting 2048 px and a 768-px short side) gives 765 for a
/// 1024x1024 image where this gives 1,399, so the estimate errs high there, as the text heuristic does.
///
/// ```
/// use edgechat::conversation::estimate_image_tokens;
/// assert_eq!(estimate_image_tokens(1000, 1000), 1334);
/// assert_eq!(estimate_image_tokens(200, 200), 54);
/// assert_eq!(estimate_image_tokens(4000, 3000), 1600); // scaled to 1568x1176, then capped
/// ```
pub fn estimate_image_tokens(width: u32, height: u32) -> u64 {
    let (w, h) = (u64::from(width.max(1)), u64::from(height.max(1)));
    let long = w.max(h);
    let max = u64::from(IMAGE_MAX_SIDE);
    let (w, h) = if long > max { (w * max / long, h * max / long) } else { (w, h) };
    (w * h).div_ceil(750).min(IMAGE_UNKNOWN_TOKENS)
}

/// Heuristic tokens of one attachment: an image by [`estimate_image_tokens`] when its size is known, else
/// [`IMAGE_UNKNOWN_TOKENS`]; a document [`DOCUMENT_PAGE_TOKENS`] per [`DOCUMENT_PAGE_BYTES`] of its bytes
/// (at least one page; a document by URL counts one page).
pub fn estimate_attachment_tokens(a: &super::Attachment) -> u64 {
    match a.kind {
        super::AttachmentKind::Image => match (a.width, a.height) {
            (Some(w), Some(h)) => estimate_image_tokens(w, h),
            _ => IMAGE_UNKNOWN_TOKENS,
        },
        super::AttachmentKind::Document => a.byte_len().div_ceil(DOCUMENT_PAGE_BYTES).max(1) * DOCUMENT_PAGE_TOKENS,
    }
}

/// Heuristic tokens of a system prompt (0 when there is none).
pub(crate) fn system_tokens(system: Option<&str>) -> u64 {
    system.map_or(0, |s| MESSAGE_OVERHEAD_TOKENS + estimate_text_tokens(s))
}

/// What the provider reported for a request built from the start of a conversation, kept to calibrate later
/// estimates. Create it with [`Conversation::calibrate`]; store it next to the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calibration {
    /// How many turns the request carried (the conversation's first `messages` turns).
    pub messages: usize,
    /// Fingerprint (64-bit FNV-1a) of the system prompt and those turns.
    pub fingerprint: u64,
    /// Prompt tokens the provider reported: [`Usage::total_input_tokens`].
    pub prompt_tokens: u64,
    /// The heuristic's count of the same prompt.
    pub estimated_tokens: u64,
}

impl Calibration {
    /// Real over estimated tokens, clamped to [`MIN_CALIBRATION_RATIO`]..=[`MAX_CALIBRATION_RATIO`].
    pub fn ratio(&self) -> f64 {
        if self.estimated_tokens == 0 {
            return 1.0;
        }
        (self.prompt_tokens as f64 / self.estimated_tokens as f64).clamp(MIN_CALIBRATION_RATIO, MAX_CALIBRATION_RATIO)
    }

    /// `raw` heuristic tokens scaled by [`Calibration::ratio`], rounded up.
    pub fn scale(&self, raw: u64) -> u64 {
        scale(Some(self), raw)
    }
}

/// Scales `raw` by the calibration's ratio, if any.
pub(crate) fn scale(calibration: Option<&Calibration>, raw: u64) -> u64 {
    match calibration {
        None => raw,
        Some(c) => (raw as f64 * c.ratio()).ceil() as u64,
    }
}

impl Conversation {
    /// Heuristic prompt tokens of a request carrying this whole conversation: system prompt, every turn, and
    /// [`REPLY_PRIMING_TOKENS`]. Tool definitions and schemas sent beside it are not counted.
    pub fn estimate_tokens(&self) -> u64 {
        self.raw_tokens(self.messages.len())
    }

    /// Heuristic tokens of the system prompt, the first `n` turns and the reply priming.
    fn raw_tokens(&self, n: usize) -> u64 {
        system_tokens(self.system.as_deref())
            + self.messages[..n].iter().map(estimate_message_tokens).sum::<u64>()
            + REPLY_PRIMING_TOKENS
    }

    /// Prompt tokens of a request carrying this whole conversation, calibrated by `calibration` when given
    /// (see the [module docs](self)).
    pub fn estimate_tokens_with(&self, calibration: Option<&Calibration>) -> u64 {
        let Some(c) = calibration else {
            return self.estimate_tokens();
        };
        if c.messages <= self.messages.len() && self.fingerprint(c.messages) == c.fingerprint {
            let newer: u64 = self.messages[c.messages..].iter().map(estimate_message_tokens).sum();
            c.prompt_tokens + c.scale(newer)
        } else {
            c.scale(self.estimate_tokens())
        }
    }

    /// Builds a [`Calibration`] from the usage of a request that carried this conversation's system prompt and
    /// first `sent_messages` turns. Call it after appending the response (or before; only the first
    /// `sent_messages` turns matter). `None` when the usage has no prompt tokens (the provider did not report
    /// them) or `sent_messages` exceeds the history.
    pub fn calibrate(&self, sent_messages: usize, usage: &Usage) -> Option<Calibration> {
        let prompt_tokens = usage.total_input_tokens();
        if prompt_tokens == 0 || sent_messages > self.messages.len() {
            return None;
        }
        Some(Calibration {
            messages: sent_messages,
            fingerprint: self.fingerprint(sent_messages),
            prompt_tokens,
            estimated_tokens: self.raw_tokens(sent_messages),
        })
    }

    /// 64-bit FNV-1a over the system prompt and the first `n` turns, with separators so field boundaries count.
    pub(crate) fn fingerprint(&self, n: usize) -> u64 {
        let mut h = Fnv::new();
        match &self.system {
            Some(s) => h.field(b"s").field(s.as_bytes()),
            None => h.field(b"-"),
        };
        for m in &self.messages[..n] {
            h.field(format!("{:?}", m.role).as_bytes()).field(m.content.as_bytes());
            h.field(m.tool_call_id.as_deref().unwrap_or("\u{0}").as_bytes());
            h.field(&[u8::from(m.interrupted)]);
            for c in &m.tool_calls {
                h.field(c.id.as_bytes()).field(c.name.as_bytes()).field(c.arguments.as_bytes());
            }
            h.field(b"\xfe");
        }
        h.0
    }
}

/// FNV-1a, 64-bit: deterministic across platforms and builds (unlike `std`'s `DefaultHasher`).
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    fn field(&mut self, bytes: &[u8]) -> &mut Self {
        for &b in bytes.iter().chain(&[0xff]) {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self
    }
}
