//! The markdown renderer as HTML text, for the CommonMark spec suite (tests/markdown/spec.test.mjs): reads one JSON
//! string (a markdown text) per line on stdin, writes one JSON object per line: `html`, the text rendered whole;
//! `streamed`, for each way of streaming it that ended in a different rendering, its name and that rendering.
//! Streamings: pieces of every size from 1 to 8 characters, and 8 seeded random mixes of sizes 1 to 8.
//!
//! It drives the renderer as the widget's `MarkdownDom` does (final blocks appended once; `finish`, which may ask
//! to start over) and writes through the same `render` module the DOM uses.

use std::io::{BufRead, Write};

use edgechat_www::markdown::{parse_blocks, render, Block, IncrementalMarkdown};

fn streamed(pieces: &[&str]) -> Vec<Block> {
    IncrementalMarkdown::stream_all(pieces)
}

/// Splits `text` into pieces of `sizes` characters (cycling).
fn pieces<'a>(text: &'a str, sizes: &mut dyn FnMut() -> usize) -> Vec<&'a str> {
    let bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
    let mut out = Vec::new();
    let mut at = 0;
    while at + 1 < bounds.len() {
        let next = (at + sizes()).min(bounds.len() - 1);
        out.push(&text[bounds[at]..bounds[next]]);
        at = next;
    }
    out
}

fn main() {
    let stdin = std::io::stdin();
    let mut stdout = std::io::BufWriter::new(std::io::stdout());
    for line in stdin.lock().lines() {
        let line = line.expect("stdin");
        let text: String = serde_json::from_str(&line).expect("one JSON string per line");
        let html = render::to_html(&parse_blocks(&text, false));
        let mut differing = Vec::new();
        for size in 1..=8usize {
            let got = render::to_html(&streamed(&pieces(&text, &mut || size)));
            if got != html {
                differing.push(serde_json::json!({ "name": format!("every {size}"), "html": got }));
            }
        }
        for seed in 1..=8u64 {
            // xorshift64*: the same mix on every run.
            let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            let mut next = || {
                state ^= state >> 12;
                state ^= state << 25;
                state ^= state >> 27;
                (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % 8 + 1
            };
            let got = render::to_html(&streamed(&pieces(&text, &mut next)));
            if got != html {
                differing.push(serde_json::json!({ "name": format!("random seed {seed}"), "html": got }));
            }
        }
        let row = serde_json::json!({ "html": html, "streamed": differing });
        writeln!(stdout, "{row}").expect("stdout");
    }
}
