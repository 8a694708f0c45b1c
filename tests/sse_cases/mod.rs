//! The SSE spec cases (WHATWG HTML §9.2.5–9.2.6), shared by the native tests (`sse_spec.rs`) and the wasm tests
//! (`sse_wasm.rs`). Each case is checked fed whole, split at every byte (with an empty chunk between the halves),
//! and one byte at a time, and against the naive reference parser: all must give the same events, retry and id.
#![allow(dead_code, unused_macros, unused_imports)] // Each test target uses a different part.

use edgechat::sse::{reference, SseError, SseEvent, SseParser, DEFAULT_MAX_SIZE};

/// Expanded once per test file with the test attribute of that target (`test` or `wasm_bindgen_test`).
macro_rules! sse_case_tests {
    ($attr:meta) => {
        crate::sse_cases::sse_case_tests!($attr;
            lf_cr_crlf_line_ends, crlf_split_is_one_line_end, cr_only_stream, bom_stripped_once, bom_alone,
            bom_not_at_start_is_kept, comments_ignored, field_without_colon, one_leading_space_removed,
            multi_line_data_joined, event_type_defaults_and_resets, id_persists_across_events,
            id_with_nul_ignored, id_only_block_sets_id_without_event, retry_digits_only, retry_saturates,
            blank_line_without_data_dispatches_nothing, unknown_fields_ignored, unterminated_event_not_dispatched,
            invalid_utf8_replaced, non_ascii_split_anywhere, nul_in_data_kept, line_over_limit_skips_event,
            data_over_limit_skips_event, unterminated_line_over_limit, at_limit_is_accepted,
            error_skips_id_and_retry_until_blank_line, harness_conformance_stream);
    };
    ($attr:meta; $($name:ident),* $(,)?) => {
        $(
            #[$attr]
            fn $name() {
                sse_cases::check(&sse_cases::$name());
            }
        )*
    };
}
pub(crate) use sse_case_tests;

type Item = Result<SseEvent, SseError>;

/// One stream and everything the parser must report for it.
pub struct Case {
    input: Vec<u8>,
    max_size: usize,
    events: Vec<Item>,
    retry: Option<u64>,
    id: Option<&'static str>,
}

impl Case {
    fn new(input: impl AsRef<[u8]>, events: Vec<Item>) -> Self {
        Self { input: input.as_ref().to_vec(), max_size: DEFAULT_MAX_SIZE, events, retry: None, id: None }
    }
    fn max(mut self, max_size: usize) -> Self {
        self.max_size = max_size;
        self
    }
    fn retry(mut self, retry: u64) -> Self {
        self.retry = Some(retry);
        self
    }
    fn id(mut self, id: &'static str) -> Self {
        self.id = Some(id);
        self
    }
}

fn ev(event: &str, data: &str, id: Option<&str>) -> Item {
    Ok(SseEvent { event: event.into(), data: data.into(), id: id.map(Into::into) })
}

fn msg(data: &str) -> Item {
    ev("message", data, None)
}

fn too_large(limit: usize) -> Item {
    Err(SseError::TooLarge { limit })
}

/// What one run reports: events and errors in order, then the final retry and last event ID.
#[derive(Debug, PartialEq)]
pub struct Run {
    pub events: Vec<Item>,
    pub retry: Option<u64>,
    pub id: Option<String>,
}

/// Feeds `chunks` in order, draining after each, then finishes.
pub fn run<'a>(max_size: usize, chunks: impl IntoIterator<Item = &'a [u8]>) -> Run {
    let mut parser = SseParser::with_max_size(max_size);
    let mut events = Vec::new();
    for chunk in chunks {
        parser.feed(chunk);
        events.extend(std::iter::from_fn(|| parser.next_event()));
    }
    parser.finish();
    events.extend(std::iter::from_fn(|| parser.next_event()));
    Run { events, retry: parser.retry_ms(), id: parser.last_event_id().map(Into::into) }
}

/// Checks a case fed whole, split at every byte with an empty chunk between, one byte at a time, and against the
/// reference parser.
pub fn check(case: &Case) {
    let expected = Run { events: case.events.clone(), retry: case.retry, id: case.id.map(Into::into) };
    let input = &case.input[..];
    assert_eq!(run(case.max_size, [input]), expected, "fed whole: {:?}", String::from_utf8_lossy(input));
    for i in 0..=input.len() {
        let split = run(case.max_size, [&input[..i], &[][..], &input[i..]]);
        assert_eq!(split, expected, "split at {i}: {:?}", String::from_utf8_lossy(input));
    }
    assert_eq!(run(case.max_size, input.chunks(1)), expected, "one byte at a time");
    let reference = reference::parse(input, case.max_size);
    let reference = Run { events: reference.events, retry: reference.retry_ms, id: reference.last_event_id };
    assert_eq!(reference, expected, "reference parser");
}

pub fn lf_cr_crlf_line_ends() -> Case {
    Case::new("data: a\ndata: b\r\ndata: c\rdata: d\n\rdata: e\r\n\r\n", vec![msg("a\nb\nc\nd"), msg("e")])
}

pub fn crlf_split_is_one_line_end() -> Case {
    // Every split checks the CR at the end of one chunk and the LF at the start of the next: no extra blank line.
    Case::new("data: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n", vec![msg("a\nb"), msg("c")])
}

pub fn cr_only_stream() -> Case {
    Case::new("event: e\rdata: 1\rdata: 2\r\r\r\rdata: 3\r\r", vec![ev("e", "1\n2", None), msg("3")])
}

pub fn bom_stripped_once() -> Case {
    // The second BOM is part of the first field name ("\u{FEFF}data"), an unknown field.
    Case::new(b"\xEF\xBB\xBFdata: 1\n\n\xEF\xBB\xBF\xEF\xBB\xBFdata: 2\n\n", vec![msg("1")])
}

pub fn bom_alone() -> Case {
    Case::new(b"\xEF\xBB\xBF", vec![])
}

pub fn bom_not_at_start_is_kept() -> Case {
    Case::new(b"\n\xEF\xBB\xBFdata: x\n\ndata: \xEF\xBB\xBFy\n\n", vec![msg("\u{FEFF}y")])
}

pub fn comments_ignored() -> Case {
    Case::new(":\n: comment\n:data: x\ndata: y\n:\n\n", vec![msg("y")])
}

pub fn field_without_colon() -> Case {
    Case::new("data\n\nevent\ndata\ndata\n\nid\n", vec![msg(""), msg("\n")]).id("")
}

pub fn one_leading_space_removed() -> Case {
    Case::new(
        "data:  two\ndata:none\ndata: \ndata:\t tab\n\nevent:  e\ndata: x\n\n",
        vec![msg(" two\nnone\n\n\t tab"), ev(" e", "x", None)],
    )
}

pub fn multi_line_data_joined() -> Case {
    Case::new("data: a\ndata: b:c\ndata\ndata: \n\n", vec![msg("a\nb:c\n\n")])
}

pub fn event_type_defaults_and_resets() -> Case {
    let input =
        "event: e1\ndata: 1\n\ndata: 2\n\nevent: lost\n\ndata: 3\n\nevent:\ndata: 4\n\nevent: a\nevent: b\ndata: 5\n\n";
    Case::new(input, vec![ev("e1", "1", None), msg("2"), msg("3"), msg("4"), ev("b", "5", None)])
}

pub fn id_persists_across_events() -> Case {
    let input = "data: 0\n\nid: 1\ndata: a\n\ndata: b\n\nid:\ndata: c\n\nid: x:y\ndata: d\n\n";
    Case::new(
        input,
        vec![
            ev("message", "0", None),
            ev("message", "a", Some("1")),
            ev("message", "b", Some("1")),
            ev("message", "c", Some("")),
            ev("message", "d", Some("x:y")),
        ],
    )
    .id("x:y")
}

pub fn id_with_nul_ignored() -> Case {
    Case::new("id: 2\nid: a\0b\ndata: x\n\nid: \0\n", vec![ev("message", "x", Some("2"))]).id("2")
}

pub fn id_only_block_sets_id_without_event() -> Case {
    Case::new("id: 3\n\ndata: x\n\nid: 4\n", vec![ev("message", "x", Some("3"))]).id("4")
}

pub fn retry_digits_only() -> Case {
    let input =
        "retry: 1500\nretry: 12x\nretry: -1\nretry: +5\nretry:  5\nretry: 1.5\nretry:\nretry\nretry: \u{0661}\n";
    Case::new(input, vec![]).retry(1500)
}

pub fn retry_saturates() -> Case {
    Case::new("retry: 0\nretry: 000123456789012345678901234567890\n", vec![]).retry(u64::MAX)
}

pub fn blank_line_without_data_dispatches_nothing() -> Case {
    Case::new("\n\n\nevent: x\n\nid: 1\n\n:c\n\n", vec![]).id("1")
}

pub fn unknown_fields_ignored() -> Case {
    Case::new("foo: bar\nData: x\nDATA: y\n data: z\ndata : w\ndat: v\ndatax: u\n\n", vec![])
}

pub fn unterminated_event_not_dispatched() -> Case {
    Case::new("data: 1\n\ndata: 2\nevent: e\n", vec![msg("1")])
}

pub fn invalid_utf8_replaced() -> Case {
    let input = b"data: \xFF\xFEa\ndata: \xE2\x82\nevent: \xC0e\ndata: \xF0\x9F\x98\n\n";
    Case::new(input, vec![ev("\u{FFFD}e", "\u{FFFD}\u{FFFD}a\n\u{FFFD}\n\u{FFFD}", None)])
}

pub fn non_ascii_split_anywhere() -> Case {
    Case::new("event: é\nid: 日本\ndata: café € 😀\n\n", vec![ev("é", "café € 😀", Some("日本"))]).id("日本")
}

pub fn nul_in_data_kept() -> Case {
    Case::new("data: a\0b\nevent: \0\n\n", vec![ev("\0", "a\0b", None)])
}

pub fn line_over_limit_skips_event() -> Case {
    // The oversized line's event is replaced by one error; its other lines, up to the blank line, are dropped.
    let input = "data: ok\n\nevent: e\ndata: 0123456789ABCDEF\ndata: lost\n\ndata: next\n\n";
    Case::new(input, vec![msg("ok"), too_large(16), msg("next")]).max(16)
}

pub fn data_over_limit_skips_event() -> Case {
    let input = "data: 12345\ndata: 67890\n\ndata: 1234\ndata: 56789\ndata: x\ndata: y\n\ndata: z\n\n";
    Case::new(input, vec![msg("12345\n67890"), too_large(11), msg("z")]).max(11)
}

pub fn unterminated_line_over_limit() -> Case {
    Case::new("data: 1\n\ndata: 0123456789", vec![msg("1"), too_large(8)]).max(8)
}

pub fn at_limit_is_accepted() -> Case {
    Case::new("data:123\ndata:45\n\n", vec![msg("123\n45")]).max(8)
}

pub fn error_skips_id_and_retry_until_blank_line() -> Case {
    let input = "id: 1\ndata: 0123456789\nid: 2\nretry: 5\n\nretry: 7\ndata: ok\n\n";
    Case::new(input, vec![too_large(8), ev("message", "ok", Some("1"))]).max(8).retry(7).id("1")
}

pub fn harness_conformance_stream() -> Case {
    // The stream tests/harness/harness.test.mjs feeds the `sse-events` example.
    let mut input = b"\xEF\xBB\xBF: a comment\r\ndata: first\r\ndata:  second line keeps one space\r\n\r\n".to_vec();
    input.extend_from_slice(
        b"event: custom\rid: 7\rdata\r\rid: bad\0id\nretry: 1500\nretry: 12x\ndata: caf\xC3\xA9 \xFF\n\n",
    );
    input.extend_from_slice(b"data: never dispatched, no blank line at the end");
    Case::new(
        input,
        vec![
            msg("first\n second line keeps one space"),
            ev("custom", "", Some("7")),
            ev("message", "caf\u{e9} \u{FFFD}", Some("7")),
        ],
    )
    .retry(1500)
    .id("7")
}

/// The default limit is 1 MiB: a data line of exactly 1 MiB is accepted, one byte more is an error (fed in 64 KiB
/// chunks, so the error comes from the partial-line path), and the stream recovers after the next blank line.
pub fn check_default_limit() {
    let at_limit = [b"data:".as_slice(), &vec![b'a'; DEFAULT_MAX_SIZE - 5], b"\n\n"].concat();
    let over = [b"data:".as_slice(), &vec![b'b'; DEFAULT_MAX_SIZE - 4], b"\ndata: more\n\ndata: ok\n\n"].concat();
    let input = [at_limit, over].concat();
    let expected = vec![msg(&"a".repeat(DEFAULT_MAX_SIZE - 5)), too_large(DEFAULT_MAX_SIZE), msg("ok")];
    assert_eq!(run(DEFAULT_MAX_SIZE, input.chunks(64 * 1024)).events, expected);
    assert_eq!(run(DEFAULT_MAX_SIZE, [&input[..]]).events, expected);
    assert_eq!(reference::parse(&input, DEFAULT_MAX_SIZE).events, expected);
}
