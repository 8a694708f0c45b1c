//! Conformance harness for the stream decoder: reads a raw streamed HTTP body on stdin and prints the decoded
//! result as one JSON object.
//!
//! ```text
//! decode --provider openai-chat|openai-responses|anthropic|openai-compatible [--chunk N]
//! decode --provider P --bench [--chunk N] [--iters N]
//! ```
//!
//! The body is fed `N` bytes at a time (default: all at once). Output:
//! `{"text","stop_reason","usage":{"input_tokens","output_tokens","cache_read_input_tokens",
//! "cache_creation_input_tokens"},"tool_calls":[{"id","name","arguments"}],"reasoning","refusal",
//! "error":null|{"type","message"},"truncated"}`. The exit code is 0 even when the stream had an error (it is in
//! the JSON); bad arguments exit 2.
//!
//! `--bench` decodes the input `--iters` times (default 20) in `--chunk`-byte pieces (default 1536), collecting
//! text deltas, and prints `{"bytes","iters","mb_per_s","best_mb_per_s","text_bytes"}` (MB = 10^6 bytes;
//! `mb_per_s` from the median iteration, `best_mb_per_s` from the fastest).

use std::io::Read;
use std::process::ExitCode;
use std::time::Instant;

use edgechat::provider::{ProviderKind, StreamDecoder};
use edgechat::{ResponseAccumulator, StreamError, StreamEvent};
use serde_json::json;

const USAGE: &str =
    "usage: decode --provider openai-chat|openai-responses|anthropic|openai-compatible [--chunk N] [--bench [--iters N]]";

struct Args {
    kind: ProviderKind,
    chunk: Option<usize>,
    bench: bool,
    iters: usize,
}

fn positive(v: Option<String>, what: &str) -> Result<usize, String> {
    let v = v.ok_or_else(|| format!("{what} needs a value"))?;
    match v.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{what} must be a positive integer, got {v:?}")),
    }
}

fn parse_args() -> Result<Args, String> {
    let mut kind = None;
    let (mut chunk, mut bench, mut iters) = (None, false, 20);
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--provider" => kind = Some(it.next().ok_or("--provider needs a value")?.parse::<ProviderKind>()?),
            "--chunk" => chunk = Some(positive(it.next(), "--chunk")?),
            "--iters" => iters = positive(it.next(), "--iters")?,
            "--bench" => bench = true,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Args { kind: kind.ok_or("--provider is required")?, chunk, bench, iters })
}

/// Decodes `input` in `chunk`-byte pieces the way a consumer does: stop at the terminal event or the first error.
fn decode(kind: ProviderKind, input: &[u8], chunk: usize) -> ResponseAccumulator {
    let mut d = StreamDecoder::new(kind);
    let mut acc = ResponseAccumulator::new();
    let mut over = false;
    let mut drain = |d: &mut StreamDecoder, acc: &mut ResponseAccumulator| {
        while let Some(item) = d.next_event() {
            match item {
                Ok(e) => {
                    over |= e == StreamEvent::Done;
                    acc.push(&e);
                }
                Err(e) => {
                    acc.set_error(e);
                    over = true;
                }
            }
        }
        over
    };
    for piece in input.chunks(chunk.max(1)) {
        d.feed(piece);
        if drain(&mut d, &mut acc) {
            break;
        }
    }
    d.finish();
    drain(&mut d, &mut acc);
    acc
}

fn report(acc: ResponseAccumulator) -> serde_json::Value {
    let (r, error) = acc.into_parts();
    json!({
        "text": r.text,
        "stop_reason": r.stop_reason,
        "usage": r.usage,
        "tool_calls": r.tool_calls,
        "reasoning": r.reasoning,
        "refusal": r.refusal,
        "error": error.as_ref().map(|e| json!({"type": e.type_name(), "message": e.to_string()})),
        "truncated": matches!(error, Some(StreamError::Truncated)),
    })
}

/// Decodes `input` `iters` times keeping only text deltas, as the Node benchmark's JS pipeline does. Reports the
/// median and the best iteration (the best is the steadier figure on a busy machine).
fn bench(kind: ProviderKind, input: &[u8], chunk: usize, iters: usize) -> serde_json::Value {
    let mut text_bytes = 0usize;
    let mut times = Vec::with_capacity(iters);
    for _ in 0..iters {
        let start = Instant::now();
        let mut d = StreamDecoder::new(kind);
        text_bytes = 0;
        for piece in input.chunks(chunk) {
            d.feed(piece);
            while let Some(item) = d.next_event() {
                if let Ok(StreamEvent::TextDelta { text }) = item {
                    text_bytes += text.len();
                }
            }
        }
        d.finish();
        while d.next_event().is_some() {}
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let mb = input.len() as f64 / 1e6;
    json!({
        "bytes": input.len(),
        "iters": iters,
        "mb_per_s": mb / times[times.len() / 2],
        "best_mb_per_s": mb / times[0],
        "text_bytes": text_bytes,
    })
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("decode: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut input = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut input) {
        eprintln!("decode: cannot read stdin: {e}");
        return ExitCode::from(1);
    }
    let out = if args.bench {
        bench(args.kind, &input, args.chunk.unwrap_or(1536), args.iters)
    } else {
        report(decode(args.kind, &input, args.chunk.unwrap_or(input.len())))
    };
    println!("{out}");
    ExitCode::SUCCESS
}
