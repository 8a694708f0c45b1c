//! Fuzz target for `edgechat::sse::SseParser`.
//!
//! Input layout: byte 0 picks the size limit (small limits exercise `TooLarge` and the skip-to-blank-line path),
//! byte 1 picks how many split points follow (0..=15), then two bytes per split point (a position in the stream,
//! modulo its length + 1; repeats give empty chunks); the rest is the stream. Asserts that the parser never panics,
//! that the chunked result equals the one-feed result, and that both equal the naive reference parser's.
#![no_main]

use edgechat::sse::{reference, SseParser, DEFAULT_MAX_SIZE};
use libfuzzer_sys::fuzz_target;

/// Feeds `chunks`, draining after each, then finishes; returns what the parser reported.
fn run<'a>(max_size: usize, chunks: impl IntoIterator<Item = &'a [u8]>) -> reference::Outcome {
    let mut parser = SseParser::with_max_size(max_size);
    let mut events = Vec::new();
    for chunk in chunks {
        parser.feed(chunk);
        events.extend(std::iter::from_fn(|| parser.next_event()));
    }
    parser.finish();
    events.extend(std::iter::from_fn(|| parser.next_event()));
    reference::Outcome { events, retry_ms: parser.retry_ms(), last_event_id: parser.last_event_id().map(Into::into) }
}

fuzz_target!(|input: &[u8]| {
    let Some((&limit, rest)) = input.split_first() else { return };
    let max_size = if limit >= 128 { DEFAULT_MAX_SIZE } else { usize::from(limit) };
    let Some((&count, rest)) = rest.split_first() else { return };
    let header = 2 * usize::from(count % 16);
    if rest.len() < header {
        return;
    }
    let (cuts, stream) = rest.split_at(header);
    let mut points: Vec<usize> =
        cuts.chunks(2).map(|c| usize::from(u16::from_le_bytes([c[0], c[1]])) % (stream.len() + 1)).collect();
    points.sort_unstable();
    let mut chunks = Vec::with_capacity(points.len() + 1);
    let mut start = 0;
    for point in points {
        chunks.push(&stream[start..point]);
        start = point;
    }
    chunks.push(&stream[start..]);

    let whole = run(max_size, [stream]);
    let chunked = run(max_size, chunks.iter().copied());
    assert_eq!(chunked, whole, "chunked vs one feed");
    assert_eq!(whole, reference::parse(stream, max_size), "parser vs reference");
});
