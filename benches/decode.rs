//! Decode pipeline benchmark: raw bytes of a large OpenAI-style stream (~5 MB of `chat.completion.chunk` events
//! with short text deltas) fed in ~1.5 KB chunks → text deltas.
//!
//! The baseline measured in the same run is the SSE layer alone (`SseParser`, no JSON), so the printed ratio is the
//! share of time the provider layer adds. The cross-language comparison (native / wasm vs. npm
//! `eventsource-parser` + `JSON.parse`) is `bench/decode/run.sh`.

#[cfg(not(target_arch = "wasm32"))]
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use edgechat::provider::{ProviderKind, StreamDecoder};
use edgechat::sse::SseParser;
use edgechat::StreamEvent;

const CHUNK: usize = 1536;

/// The same stream `bench/decode/gen.mjs` writes: words cycling through a fixed list, a few with escapes and
/// non-ASCII text, then a finish chunk, a usage chunk and `[DONE]`.
fn openai_stream(target_bytes: usize) -> Vec<u8> {
    const WORDS: [&str; 8] = ["Hello", " world", ", this", " is", " a café", " \\\"quoted\\\"", " line\\n", " 🦀"];
    let mut out = Vec::with_capacity(target_bytes + 512);
    let mut i = 0usize;
    while out.len() < target_bytes {
        let w = WORDS[i % WORDS.len()];
        out.extend_from_slice(
            format!(
                "data: {{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1741570283,\
                 \"model\":\"gpt-4o-mini-2024-07-18\",\"system_fingerprint\":\"fp_06737a9306\",\"choices\":[{{\"index\":0,\
                 \"delta\":{{\"content\":\"{w}\"}},\"logprobs\":null,\"finish_reason\":null}}]}}\n\n"
            )
            .as_bytes(),
        );
        i += 1;
    }
    out.extend_from_slice(b"data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n");
    out.extend_from_slice(b"data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":20000,\"total_tokens\":20010}}\n\n");
    out.extend_from_slice(b"data: [DONE]\n\n");
    out
}

fn decode(input: &[u8]) -> usize {
    let mut d = StreamDecoder::new(ProviderKind::OpenAiChat);
    let mut text = 0;
    for chunk in input.chunks(CHUNK) {
        d.feed(chunk);
        while let Some(item) = d.next_event() {
            if let Ok(StreamEvent::TextDelta { text: t }) = item {
                text += t.len();
            }
        }
    }
    d.finish();
    while d.next_event().is_some() {}
    text
}

fn sse_only(input: &[u8]) -> usize {
    let mut p = SseParser::new();
    let mut n = 0;
    for chunk in input.chunks(CHUNK) {
        p.feed(chunk);
        while let Some(e) = p.next_event() {
            n += e.map(|e| e.data.len()).unwrap_or(0);
        }
    }
    p.finish();
    n
}

#[cfg(not(target_arch = "wasm32"))]
fn bench(c: &mut Criterion) {
    let input = openai_stream(5_000_000);
    assert!(decode(&input) > 0);
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Bytes(input.len() as u64));
    g.sample_size(20);
    g.bench_function("sse_only_baseline", |b| b.iter(|| sse_only(std::hint::black_box(&input))));
    g.bench_function("openai_chat_stream_decoder", |b| b.iter(|| decode(std::hint::black_box(&input))));
    g.finish();

    // The printed ratio (criterion's own report has the full statistics).
    let time = |f: &dyn Fn(&[u8]) -> usize| {
        let start = std::time::Instant::now();
        for _ in 0..5 {
            std::hint::black_box(f(&input));
        }
        start.elapsed().as_secs_f64() / 5.0
    };
    let (base, full) = (time(&sse_only), time(&decode));
    let mbps = |s: f64| input.len() as f64 / 1e6 / s;
    println!(
        "decode: sse_only {:.0} MB/s, stream decoder {:.0} MB/s, decoder/sse_only time ratio {:.2}",
        mbps(base),
        mbps(full),
        full / base
    );
}

#[cfg(not(target_arch = "wasm32"))]
criterion_group!(benches, bench);
#[cfg(not(target_arch = "wasm32"))]
criterion_main!(benches);

/// Criterion is native-only; in a wasm build of all targets this bench is empty.
#[cfg(target_arch = "wasm32")]
fn main() {
    assert!(decode(&openai_stream(10_000)) > 0 && sse_only(&openai_stream(10_000)) > 0);
}
