//! Conformance harness for the SSE parser: reads a raw event stream on stdin and prints what the parser reports.
//!
//! ```text
//! sse-events [--chunk N] [--max-size N]
//! ```
//!
//! The input is fed `--chunk` bytes at a time (default: all at once) to an [`SseParser`] with `--max-size` as its
//! line and event limit (default [`DEFAULT_MAX_SIZE`]), then `finish`ed. Output, one JSON object per line:
//! - per dispatched event: `{"event":"...","data":"...","id":null|"..."}` (`id` is null until the stream set an
//!   id, then the last event ID);
//! - per [`SseError`] (for example TooLarge): `{"error":"<message>"}`, and parsing continues;
//! - last: `{"retry":<ms>|null}`.
//!
//! Bad arguments print the usage on stderr and exit 2; a read or write error exits 1.

use std::io::{self, BufWriter, Read, Write};
use std::process::ExitCode;

use edgechat::sse::{SseEvent, SseParser, DEFAULT_MAX_SIZE};
use serde::Serialize;

const USAGE: &str = "usage: sse-events [--chunk N] [--max-size N]   (raw event stream on stdin, N >= 1 for --chunk)";

#[derive(Debug)]
struct Args {
    chunk: Option<usize>,
    max_size: usize,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args { chunk: None, max_size: DEFAULT_MAX_SIZE };
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> Result<usize, String> {
            let value = args.next().ok_or_else(|| format!("{name} needs a value"))?;
            value.parse().map_err(|_| format!("{name}: not a non-negative integer: {value:?}"))
        };
        match arg.as_str() {
            "--chunk" => match number("--chunk")? {
                0 => return Err("--chunk must be at least 1".into()),
                n => parsed.chunk = Some(n),
            },
            "--max-size" => parsed.max_size = number("--max-size")?,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(parsed)
}

#[derive(Serialize)]
#[serde(untagged)]
enum Line<'a> {
    Event { event: &'a str, data: &'a str, id: Option<&'a str> },
    Error { error: String },
    Retry { retry: Option<u64> },
}

fn write_line(out: &mut impl Write, line: &Line<'_>) -> io::Result<()> {
    serde_json::to_writer(&mut *out, line)?;
    out.write_all(b"\n")
}

fn drain(parser: &mut SseParser, out: &mut impl Write) -> io::Result<()> {
    while let Some(item) = parser.next_event() {
        match item {
            Ok(SseEvent { event, data, id }) => {
                write_line(out, &Line::Event { event: &event, data: &data, id: id.as_deref() })?;
            }
            Err(error) => write_line(out, &Line::Error { error: error.to_string() })?,
        }
    }
    Ok(())
}

fn run(args: &Args) -> io::Result<()> {
    let mut input = Vec::new();
    io::stdin().lock().read_to_end(&mut input)?;
    let mut out = BufWriter::new(io::stdout().lock());
    let mut parser = SseParser::with_max_size(args.max_size);
    let chunk = args.chunk.unwrap_or(input.len()).max(1);
    for piece in input.chunks(chunk) {
        parser.feed(piece);
        drain(&mut parser, &mut out)?;
    }
    parser.finish();
    drain(&mut parser, &mut out)?;
    write_line(&mut out, &Line::Retry { retry: parser.retry_ms() })?;
    out.flush()
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("sse-events: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("sse-events: {error}");
            ExitCode::from(1)
        }
    }
}
