//! Unit tests of the parser's internal states (line carry-over, CR at a chunk end, BOM detection, skipping).
//! The full spec cases, chunking and property tests are in `tests/sse_*.rs`. These run natively and in wasm.

use super::*;

fn ev(event: &str, data: &str, id: Option<&str>) -> Result<SseEvent, SseError> {
    Ok(SseEvent { event: event.into(), data: data.into(), id: id.map(Into::into) })
}

fn drain(parser: &mut SseParser) -> Vec<Result<SseEvent, SseError>> {
    std::iter::from_fn(|| parser.next_event()).collect()
}

fn parse_chunks(chunks: &[&[u8]], max: usize) -> Vec<Result<SseEvent, SseError>> {
    let mut parser = SseParser::with_max_size(max);
    let mut out = Vec::new();
    for chunk in chunks {
        parser.feed(chunk);
        out.extend(drain(&mut parser));
    }
    parser.finish();
    out.extend(drain(&mut parser));
    out
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn cr_at_chunk_end_then_lf_is_one_line_end() {
    let out = parse_chunks(&[b"data: a\r", b"\ndata: b\r", b"", b"\n\r", b"\n"], 64);
    assert_eq!(out, [ev("message", "a\nb", None)]);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn cr_at_chunk_end_then_other_byte_is_a_line_end() {
    let out = parse_chunks(&[b"data: a\r", b"\r"], 64);
    assert_eq!(out, [ev("message", "a", None)]);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn partial_line_carried_over_several_chunks() {
    let out = parse_chunks(&[b"da", b"ta", b": x", b"y", b"z\n", b"\n"], 64);
    assert_eq!(out, [ev("message", "xyz", None)]);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn bom_prefix_that_is_not_a_bom_is_data() {
    // EF BB followed by a newline: not a BOM, the bytes are an (invalid) field name line.
    let out = parse_chunks(&[b"\xEF", b"\xBB", b"\ndata: x\n\n"], 64);
    assert_eq!(out, [ev("message", "x", None)]);
    let mut parser = SseParser::new();
    parser.feed(b"\xEF");
    parser.feed(b"data: x\n\n"); // EF then 'd': the EF is part of the first line's field name.
    assert_eq!(drain(&mut parser), []);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn bom_only_at_stream_start() {
    let out = parse_chunks(&[b"\xEF\xBB\xBFdata: 1\n\n\xEF\xBB\xBFdata: 2\n\n"], 64);
    assert_eq!(out, [ev("message", "1", None)]);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn finish_starts_a_new_stream_keeping_id_and_retry() {
    let mut parser = SseParser::new();
    parser.feed(b"id: 4\nretry: 10\ndata: partial\n");
    parser.finish();
    assert_eq!(drain(&mut parser), []);
    parser.feed(b"\xEF\xBB\xBFdata: after\n\n");
    assert_eq!(drain(&mut parser), [ev("message", "after", Some("4"))]);
    assert_eq!(parser.retry_ms(), Some(10));
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn finish_flushes_an_undecided_bom_head_through_the_limit() {
    let mut parser = SseParser::with_max_size(1);
    parser.feed(b"\xEF\xBB");
    assert_eq!(drain(&mut parser), []);
    parser.finish();
    assert_eq!(drain(&mut parser), [Err(SseError::TooLarge { limit: 1 })]);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn partial_line_over_limit_errors_before_its_end_and_is_not_buffered() {
    let mut parser = SseParser::with_max_size(4);
    parser.feed(b"data: 12");
    assert_eq!(drain(&mut parser), [Err(SseError::TooLarge { limit: 4 })]);
    parser.feed(&[b'x'; 1000]);
    assert!(parser.line.is_empty(), "discarded bytes must not be buffered");
    parser.feed(b"\nid: skipped\n\ndata\n\n");
    assert_eq!(drain(&mut parser), [ev("message", "", None)]);
    assert_eq!(parser.last_event_id(), None);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn data_over_limit_drops_the_event_and_resumes_after_blank_line() {
    let out = parse_chunks(&[b"event: big\ndata: 1234\ndata: 5678\ndata: x\n\nevent: e\ndata: ok\n\n"], 9);
    assert_eq!(out, [Err(SseError::TooLarge { limit: 9 }), ev("e", "ok", None)]);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn skipping_mode_does_not_buffer_long_lines() {
    let mut parser = SseParser::with_max_size(6);
    parser.feed(b"data: 123456\n");
    parser.feed(&[b'y'; 100]);
    assert!(parser.line.is_empty());
    parser.feed(b"\n\ndata:1\n\n");
    assert_eq!(drain(&mut parser), [Err(SseError::TooLarge { limit: 6 }), ev("message", "1", None)]);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn retry_saturates_and_ignores_empty() {
    let mut parser = SseParser::new();
    parser.feed(b"retry: 99999999999999999999999\n");
    assert_eq!(parser.retry_ms(), Some(u64::MAX));
    parser.feed(b"retry\nretry:\nretry: +5\nretry:  5\n");
    assert_eq!(parser.retry_ms(), Some(u64::MAX));
    parser.feed(b"retry:5\n");
    assert_eq!(parser.retry_ms(), Some(5));
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn default_uses_default_max_size() {
    assert_eq!(SseParser::default().max_size, DEFAULT_MAX_SIZE);
}
