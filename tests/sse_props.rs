//! Property test: on random streams (fields, line ends, BOMs, non-ASCII, invalid UTF-8, NUL, stray CR/LF) cut
//! into random chunks (empty chunks included), the incremental parser reports exactly what the naive whole-input
//! reference parser (`edgechat::sse::reference`) reports: the same events and errors, retry and last event ID.
#![cfg(not(target_arch = "wasm32"))]

mod sse_cases;

use edgechat::sse::{reference, DEFAULT_MAX_SIZE};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;

/// A few bytes of a field value, biased towards the bytes the parser treats specially.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => "[a-z0-9 ]{0,6}".prop_map(String::into_bytes),
        2 => "[0-9]{1,4}".prop_map(String::into_bytes),
        1 => prop::sample::select(vec![
            "é", "€", "😀", "\u{FEFF}", ":", " ", "\0", "\r", "\n", "\r\n", "data", "12345678901234567890123",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        1 => prop::sample::select(vec![
            &b"\xFF"[..], b"\xC3", b"\xE2\x82", b"\xF0\x9F\x98", b"\xEF\xBB", b"\xEF\xBB\xBF", b"\xC0\x80",
        ])
        .prop_map(<[u8]>::to_vec),
        1 => any::<u8>().prop_map(|b| vec![b]),
    ]
}

/// One line: a field name (known, unknown, comment, empty), a separator, a value.
fn line() -> impl Strategy<Value = Vec<u8>> {
    let name = prop::sample::select(vec![
        "data",
        "data",
        "data",
        "event",
        "id",
        "retry",
        "retry",
        "",
        ":",
        "x",
        "Data",
        "dat",
        " data",
        "\u{FEFF}data",
    ]);
    let separator = prop::sample::select(vec![":", ": ", ":  ", ""]);
    (name, separator, vec(piece(), 0..4)).prop_map(|(name, separator, value)| {
        let mut line = [name.as_bytes(), separator.as_bytes()].concat();
        line.extend(value.concat());
        line
    })
}

fn line_end() -> impl Strategy<Value = &'static [u8]> {
    prop::sample::select(vec![&b"\n"[..], b"\r", b"\r\n", b"\n\n", b"\r\r", b"\r\n\r\n", b"\n\r"])
}

/// A whole stream: an optional BOM (sometimes partial or doubled), lines with endings, an optional unterminated tail.
fn stream() -> impl Strategy<Value = Vec<u8>> {
    let bom = prop::sample::select(vec![&b""[..], b"", b"\xEF\xBB\xBF", b"\xEF\xBB\xBF\xEF\xBB\xBF", b"\xEF\xBB"]);
    (bom, vec((line(), line_end()), 0..24), prop::option::of(line())).prop_map(|(bom, lines, tail)| {
        let mut out = bom.to_vec();
        for (line, end) in lines {
            out.extend(line);
            out.extend_from_slice(end);
        }
        out.extend(tail.unwrap_or_default());
        out
    })
}

fn max_size() -> impl Strategy<Value = usize> {
    prop_oneof![1 => 0usize..4, 3 => 8usize..64, 4 => Just(DEFAULT_MAX_SIZE)]
}

/// Cuts `input` at the given points (sorted; repeats give empty chunks).
fn chunks<'a>(input: &'a [u8], cuts: &[Index]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = cuts.iter().map(|cut| cut.index(input.len() + 1)).collect();
    points.sort_unstable();
    let mut out = Vec::new();
    let mut start = 0;
    for point in points {
        out.push(&input[start..point]);
        start = point;
    }
    out.push(&input[start..]);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn chunked_parse_matches_reference(input in stream(), max in max_size(), cuts in vec(any::<Index>(), 0..12)) {
        let expected = reference::parse(&input, max);
        let expected = sse_cases::Run { events: expected.events, retry: expected.retry_ms, id: expected.last_event_id };
        prop_assert_eq!(&sse_cases::run(max, [&input[..]]), &expected, "fed whole");
        prop_assert_eq!(&sse_cases::run(max, chunks(&input, &cuts)), &expected, "chunked at {:?}", cuts);
    }
}

/// The generator does produce the interesting shapes (so the property is not vacuous).
#[test]
fn generator_covers_events_errors_retry_and_ids() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut events, mut errors, mut retries, mut ids) = (0, 0, 0, 0);
    for _ in 0..500 {
        let input = stream().new_tree(&mut runner).unwrap().current();
        let max = max_size().new_tree(&mut runner).unwrap().current();
        let outcome = reference::parse(&input, max);
        events += outcome.events.iter().filter(|e| e.is_ok()).count();
        errors += outcome.events.iter().filter(|e| e.is_err()).count();
        retries += usize::from(outcome.retry_ms.is_some());
        ids += usize::from(outcome.last_event_id.is_some());
    }
    assert!(events > 200 && errors > 50 && retries > 20 && ids > 50, "{events} {errors} {retries} {ids}");
}
