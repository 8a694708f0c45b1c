// Decode-pipeline benchmark, all in one process and run: raw bytes of a large OpenAI-style stream in ~1.5 KB
// chunks -> answer text, through
//   js:     npm eventsource-parser + JSON.parse, taking choices[0].delta.content (the baseline)
//   wasm:   the core's StreamDecoder compiled to wasm, called from this Node process
//   native: the core's StreamDecoder in the `decode` example binary (`--bench`), as a subprocess on the same file
// and prints MB/s (MB = 10^6 bytes; median and best run) and the ratios native/js and wasm/js.
//
//   node bench/decode/run.mjs [--mb 5] [--chunk 1536] [--iters 10] [--rounds 3] [--wasm DIR] [--native BIN]
// (bench/decode/run.sh builds the wasm package and the binary, then runs this.)
import { createParser } from 'eventsource-parser';
import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdtempSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openaiStream } from './gen.mjs';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const root = resolve(import.meta.dirname, '..', '..');
const MB = Number(args.mb ?? 5);
const CHUNK = Number(args.chunk ?? 1536);
const ITERS = Number(args.iters ?? 10);
const WASM_DIR = resolve(args.wasm ?? join(root, 'target', 'bench-decode', 'pkg-wasm-release'));
const NATIVE = resolve(args.native ?? join(root, 'target', 'release', 'examples', 'decode'));

const input = openaiStream(MB * 1e6);
const chunks = [];
for (let i = 0; i < input.length; i += CHUNK) chunks.push(new Uint8Array(input.subarray(i, i + CHUNK)));
const file = join(mkdtempSync(join(tmpdir(), 'edgechat-bench-')), 'stream.sse');
writeFileSync(file, input);

function jsPipeline() {
  let text = '';
  let done = false;
  const parser = createParser({
    onEvent(e) {
      if (e.data === '[DONE]') {
        done = true;
        return;
      }
      const content = JSON.parse(e.data).choices[0]?.delta?.content;
      if (content) text += content;
    },
  });
  const td = new TextDecoder();
  for (const c of chunks) parser.feed(td.decode(c, { stream: true }));
  if (!done) throw new Error('js pipeline: no [DONE]');
  return text;
}

function wasmPipeline(Decoder) {
  const d = new Decoder('openai-chat');
  let text = '';
  for (const c of chunks) text += d.feed(c);
  text += d.finish();
  const err = d.error();
  d.free();
  if (err) throw new Error(`wasm pipeline: ${err}`);
  return text;
}

// Rounds interleave the pipelines so a busy machine slows them alike. Each round times ITERS runs of each in-process
// pipeline and one `--bench --iters ITERS` run of the native binary. Reported: the median over all runs, and the
// best run (the steadier figure when other processes compete for the CPU).
const stats = (times) => {
  const t = [...times].sort((a, b) => a - b);
  return { median: input.length / 1e6 / t[Math.floor(t.length / 2)], best: input.length / 1e6 / t[0] };
};

function timeRuns(f, n, times) {
  let out;
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    out = f();
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return out;
}

const pipelines = { js: { f: jsPipeline, times: [] } };
if (existsSync(join(WASM_DIR, 'edgechat_decode_bench.js'))) {
  const { Decoder } = createRequire(import.meta.url)(join(WASM_DIR, 'edgechat_decode_bench.js'));
  pipelines.wasm = { f: () => wasmPipeline(Decoder), times: [] };
} else {
  console.error(`no wasm package in ${WASM_DIR} (bench/decode/run.sh builds it)`);
}
const haveNative = existsSync(NATIVE);
if (!haveNative) console.error(`no native binary at ${NATIVE} (bench/decode/run.sh builds it)`);
const native = { median: [], best: [] };
const ROUNDS = Number(args.rounds ?? 3);

for (const p of Object.values(pipelines)) for (let i = 0; i < 3; i++) p.out = p.f(); // warm-up (JIT, wasm tier-up)
if (pipelines.wasm && pipelines.wasm.out !== pipelines.js.out)
  throw new Error('wasm text differs from the js pipeline');
for (let r = 0; r < ROUNDS; r++) {
  for (const p of Object.values(pipelines)) timeRuns(p.f, ITERS, p.times);
  if (haveNative) {
    const out = JSON.parse(
      execFileSync(
        NATIVE,
        ['--provider', 'openai-chat', '--bench', '--chunk', String(CHUNK), '--iters', String(ITERS)],
        {
          input,
          encoding: 'utf8',
        },
      ),
    );
    if (out.text_bytes !== Buffer.byteLength(pipelines.js.out)) throw new Error('native text length differs from js');
    native.median.push(out.mb_per_s);
    native.best.push(out.best_mb_per_s);
  }
}

const results = {};
for (const [name, p] of Object.entries(pipelines)) results[name] = stats(p.times);
if (haveNative) {
  const m = [...native.median].sort((a, b) => a - b);
  results.native = { median: m[Math.floor(m.length / 2)], best: Math.max(...native.best) };
}

const f = (x) => x.toFixed(1);
const ratio = (name, stat) => (results[name] ? results[name][stat] / results.js[stat] : null);
console.log(
  `input: ${f(input.length / 1e6)} MB, ${chunks.length} chunks of ${CHUNK} B, ${ROUNDS} rounds x ${ITERS} runs`,
);
console.log('pipeline                               median MB/s   best MB/s   ratio to js (median / best)');
const line = (label, name, target) =>
  results[name] &&
  console.log(
    `${label.padEnd(38)} ${f(results[name].median).padStart(11)} ${f(results[name].best).padStart(11)}` +
      (name === 'js'
        ? ''
        : `   ${ratio(name, 'median').toFixed(2)}x / ${ratio(name, 'best').toFixed(2)}x (target >= ${target}x)`),
  );
line('js (eventsource-parser + JSON.parse)', 'js');
line('wasm from Node', 'wasm', 2);
line('native', 'native', 5);
console.log(
  JSON.stringify({
    mb_per_s: results,
    native_over_js: { median: ratio('native', 'median'), best: ratio('native', 'best') },
    wasm_over_js: { median: ratio('wasm', 'median'), best: ratio('wasm', 'best') },
  }),
);
