#!/usr/bin/env node
// Where a c=1 request's time to first byte goes in workerd, phase by phase, the edge's `/api/chat` against the same
// work written in JS (`reference-worker.mjs` `/widget`), in one run with their requests alternating. The edge is
// built with the `phase-marks` feature (worker/src/rt/marks.rs; `worker/build.sh` into a directory of its own, never
// worker/pkg), the reference runs with `MARKS` set; each prints `Date.now()` at the same numbered points of its path.
// workerd's `Date.now()` advances in whole milliseconds while code runs, so one request's phase reads 0 or 1 ms: the
// mean over thousands of requests is what resolves microseconds. The client's clock (this process) and both
// workerds' are the same wall clock, which adds the time before the handler starts and after its first write.
// Not a test; loopback only.
//
//   node bench/edge/marks.mjs [--n 3000] [--skip 500] [--pkg DIR] [--baseline-pkg DIR] [--floor]
//
// `--pkg`: a phase-marks build to use as is (else this builds one from the tree). `--baseline-pkg`: a second
// phase-marks build (an earlier tree's: `EDGECHAT_FEATURES=phase-marks EDGECHAT_PKG=DIR worker/build.sh`) run in the
// same alternation, so a change is measured before and after in one run. `--floor`: also the wasm floor
// (bench/edge/wasm-floor: the JS reference with its computing in Rust, built here), the same work's cost in wasm.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nowMs, option } from './measure.mjs';
import { buildWasmFloor } from './raw-workerd.mjs';
import { startWidgetPair } from './widget-pair.mjs';

const n = Number(option('n', 3000));
const skip = Number(option('skip', 500));
if (!Number.isInteger(n) || !Number.isInteger(skip) || n <= skip)
  throw new Error('--n must be a whole number over --skip');

// The points of the path (worker/src/rt/marks.rs `Mark`, whose test checks this table against it): the edge prints
// their numbers, the reference their names.
const TABLE = JSON.parse(readFileSync(join(import.meta.dirname, 'marks.json'), 'utf8'));
const byKey = new Map(
  TABLE.flatMap((e) => [
    [e.k, e.k],
    [e.mark, e.k],
  ]),
);

let pkg = option('pkg');
if (!pkg) {
  pkg = mkdtempSync(join(tmpdir(), 'edgechat-marks-pkg-'));
  const root = join(import.meta.dirname, '..', '..');
  const env = { ...process.env, EDGECHAT_FEATURES: 'phase-marks', EDGECHAT_PKG: pkg };
  const b = spawnSync('bash', [join(root, 'worker', 'build.sh')], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  if (b.status !== 0) throw new Error('worker/build.sh with phase-marks failed');
}

const baselinePkg = option('baseline-pkg');
const floor = process.argv.includes('--floor');
if (floor) buildWasmFloor();
const pair = await startWidgetPair({ pkg, baselinePkg, floor, tag: 'marks', referenceVars: { MARKS: '1' } });
const { paths } = pair;
const sent = paths.map(() => []); // [client send, client first byte] per request, ms since the epoch
const ks = paths.map((_, k) => k);
let outputs;
try {
  for (let i = 0; i < n; i++) {
    // Each path takes each place in the order in turn, so none always follows another.
    const order = [...ks.slice(i % ks.length), ...ks.slice(0, i % ks.length)];
    for (const k of i % 2 ? order.reverse() : order) {
      const t0 = nowMs();
      sent[k].push([t0, t0 + (await paths[k].send(i))]);
    }
  }
  await new Promise((r) => setTimeout(r, 500)); // the last lines
  outputs = paths.map((p) => p.output());
} finally {
  await pair.stop();
}

/** Each request's marks as a Map from point number to time (the first time each was passed), in request order. */
const rowsOf = (out) =>
  out
    .split('\n')
    .filter((l) => l.includes('MARKS ['))
    .map((l) => {
      const flat = JSON.parse(l.slice(l.indexOf('MARKS ') + 6));
      const m = new Map();
      for (let j = 0; j < flat.length; j += 2) {
        const k = byKey.get(flat[j]);
        if (k === undefined) throw new Error(`unknown mark ${JSON.stringify(flat[j])} (bench/edge/marks.json)`);
        if (!m.has(k)) m.set(k, flat[j + 1]);
      }
      return m;
    });
const rows = outputs.map(rowsOf);
for (const [k, p] of paths.entries())
  if (rows[k].length !== n) throw new Error(`${p.name}: ${rows[k].length} mark lines for ${n} requests`);
// The points both paths passed, and the edges' own between them; `at`: a point's place in the table (the order a
// request passes them).
const js = paths.length - 1; // the JS reference is last; the edges before it
const SHARED = TABLE.filter((e) => rows[js][0].has(e.k)).map((e) => [e.k, e.label]);
const EDGE_ONLY = new Map(TABLE.filter((e) => !rows[js][0].has(e.k)).map((e) => [e.k, e.label]));
const at = new Map(TABLE.map((e, i) => [e.k, i]));
const mean = (v) => v.reduce((a, b) => a + b, 0) / v.length;
const phase = (k, a, b) => mean(rows[k].slice(skip).map((m) => m.get(b) - m.get(a)));
const outside = (k, f) => mean(sent[k].slice(skip).map((s, i) => f(s, rows[k][skip + i])));

const cell = (x, digits, width) => x.toFixed(digits).padStart(width);
const signed = (x, digits, width) => `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`.padStart(width);
const short = (name) =>
  name
    .replace(' /api/chat', '')
    .replace('wasm widget work, Rust I/O', 'wasm-rio')
    .replace('wasm widget work', 'wasm')
    .replace('JS widget work', 'JS')
    .replace('baseline edge', 'baseline');
// Edge - JS, edge - each path between them, and each of those - JS.
const middle = ks.slice(1, js);
const diffs = [[0, js], ...middle.map((m) => [0, m]), ...middle.map((m) => [m, js])];
const header = (unit, width) =>
  console.log(
    `  ${unit.padEnd(44)}${paths.map((p) => short(p.name).padStart(width)).join('')}${diffs.map(([a, b]) => `${short(paths[a].name)}-${short(paths[b].name)}`.padStart(width + 8)).join('')}`,
  );
const line = (label, f, digits, width) => {
  const v = ks.map(f);
  console.log(
    `  ${label.padEnd(44)}${v.map((x) => cell(x, digits, width)).join('')}${diffs.map(([a, b]) => signed(v[a] - v[b], digits, width + 8)).join('')}`,
  );
};
console.log(
  `c=1, ${n} requests per path alternating (the first ${skip} left out); means from one wall clock (this process and the workerds)`,
);
header('ms', 9);
line('client sends -> handler starts', (k) => outside(k, (s, m) => m.get(0) - s[0]), 3, 9);
line('handler starts -> first write', (k) => phase(k, 0, 13), 3, 9);
line('first write -> first byte at the client', (k) => outside(k, (s, m) => s[1] - m.get(13)), 3, 9);
line('time to first byte', (k) => outside(k, (s) => s[1] - s[0]), 3, 9);
console.log('');
header('us, from the mark before', 9);
for (let s = 1; s < SHARED.length; s++) {
  const [a] = SHARED[s - 1];
  const [b, name] = SHARED[s];
  line(name, (k) => phase(k, a, b) * 1000, 0, 9);
  // The edges' own marks between these two, each from the mark before it.
  let prev = a;
  for (const [m, label] of EDGE_ONLY) {
    if (at.get(m) > at.get(a) && at.get(m) < at.get(b)) {
      const from = prev;
      console.log(
        `    ${label.padEnd(42)}${ks
          .slice(0, js)
          .map((k) => (rows[k][0].has(m) ? cell(phase(k, from, m) * 1000, 0, 9) : ''.padStart(9)))
          .join('')}`,
      );
      prev = m;
    }
  }
  if (prev !== a)
    console.log(
      `    ${name.padEnd(42)}${ks
        .slice(0, js)
        .map((k) => (rows[k][0].has(prev) ? cell(phase(k, prev, b) * 1000, 0, 9) : ''.padStart(9)))
        .join('')}`,
    );
}
process.exit(0);
