#!/usr/bin/env node
// Where the CPU goes at c=1, edge against the same work written in JS (`reference-worker.mjs` `/widget`), read by
// Linux `perf` rather than by the DevTools sampler (which slows a request ~2x): each runs in its own raw workerd
// under `perf record`, with V8's `--perf-basic-prof` so perf can name the JS and wasm frames (and their tier:
// `-liftoff` for V8's baseline tier, `-turbofan` for optimized code). Prints CPU per request split into workerd's
// own code, the kernel, libc and JIT code (the edge's wasm and its JS glue; the reference's JS), then the edge's
// JIT time by tier and its top frames. Both workerds are recorded by one `perf` while their requests alternate.
// Not a test; loopback only; needs `perf` (Debian's linux-perf).
//
//   node bench/edge/perf.mjs [--n 1500] [--warm 200] [--pkg DIR] [--freq 4999] [--top 25]
//
// `--warm`: requests per path before recording. V8 moves a wasm function from its baseline tier to optimized code
// only after it has run enough: at c=1 the edge's added time over the JS falls until ~300 requests, then holds
// (bench/edge/README.md), so `--warm 2000` profiles that steady state.
//
// `--pkg`: a wasm-bindgen output dir to profile instead of worker/pkg; worker/pkg is built without the wasm name
// section, so its frames are `wasm-function[N]` (bench/edge/profile.mjs says how to build one that keeps names).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { option } from './measure.mjs';
import { startWidgetPair } from './widget-pair.mjs';

const n = Number(option('n', 1500));
const warm = Number(option('warm', 200));
const freq = Number(option('freq', 4999));
const top = Number(option('top', 25));

if (spawnSync('perf', ['--version']).status !== 0) {
  console.error('perf not found: install linux-perf (Debian) to run this');
  process.exit(2);
}
// raw-workerd.mjs passes these to workerd; V8 then writes /tmp/perf-<pid>.map for perf (and isolate logs to cwd).
process.env.EDGECHAT_V8_FLAGS = '--perf-basic-prof';

const dir = mkdtempSync(join(tmpdir(), 'edgechat-perf-'));
const pair = await startWidgetPair({ pkg: option('pkg'), tag: 'perf' });
const { paths } = pair;

const perRequest = (samples) => (samples / freq / n) * 1e6; // us
const report = (file, sort) =>
  spawnSync('perf', ['report', '-i', file, '--no-children', '--sort', sort, '-q', '-g', 'none', '-n'], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  }).stdout;
const rows = Object.fromEntries(paths.map((p) => [p.name, { dso: {}, syms: [] }]));
try {
  for (let i = 0; i < warm; i++) for (const p of paths) await p.send(i); // warm-up
  // Both workerds under one perf, their requests alternating: a busy moment of the machine falls on both alike.
  const file = join(dir, 'perf.data');
  const pids = paths.map((p) => p.pid).join(',');
  const rec = spawn('perf', ['record', '-F', String(freq), '-g', '-o', file, '-p', pids], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 1000));
  for (let i = 0; i < n; i++) for (const p of paths) await p.send(warm + i);
  const ended = new Promise((r) => rec.once('exit', r));
  rec.kill('SIGINT');
  await ended;
  // Each sample's thread, to its workerd (its threads: the event loop and V8's helpers).
  const owner = new Map();
  for (const p of paths) for (const tid of readdirSync(`/proc/${p.pid}/task`)) owner.set(tid, p.name);
  for (const line of report(file, 'pid,dso').split('\n')) {
    const m = /^\s*[\d.]+%\s+(\d+)\s+(\d+):\S*(?:\s\S+)*?\s{2,}(.+?)\s*$/.exec(line);
    if (!m || !owner.has(m[2])) continue;
    const key = m[3].startsWith('[JIT]') ? 'JIT code' : m[3];
    const d = rows[owner.get(m[2])].dso;
    d[key] = (d[key] ?? 0) + Number(m[1]);
  }
  for (const line of report(file, 'pid,dso,sym').split('\n')) {
    const m = /^\s*[\d.]+%\s+(\d+)\s+(\d+):.*?\[JIT\][^[]*\[\.\]\s+(.+?)\s*$/.exec(line);
    if (m && owner.get(m[2]) === paths[0].name) rows[paths[0].name].syms.push([Number(m[1]), m[3]]);
  }
} finally {
  await pair.stop();
  // V8's isolate logs (written to the working directory by --perf-basic-prof) and perf's maps of these workerds.
  for (const w of paths) {
    for (const f of readdirSync('.')) if (f.startsWith('isolate-') && f.includes(`-${w.pid}-`)) rmSync(f);
    rmSync(`/tmp/perf-${w.pid}.map`, { force: true });
  }
  rmSync(dir, { recursive: true, force: true });
}

const us = (x) => `${perRequest(x).toFixed(0).padStart(6)} us`;
const names = Object.keys(rows);
console.log(`CPU per request at c=1 (${n} requests each, perf at ${freq} Hz; workerd's thread and its helpers):`);
console.log(`  ${''.padEnd(12)}${names.map((x) => x.padStart(18)).join('')}`);
const kinds = [
  ['workerd', 'workerd'],
  ['kernel', '[kernel.kallsyms]'],
  ['libc', 'libc.so.6'],
  ['JIT code', 'JIT code'],
];
const total = (name) => Object.values(rows[name].dso).reduce((a, b) => a + b, 0);
for (const [label, k] of kinds)
  console.log(`  ${label.padEnd(12)}${names.map((x) => us(rows[x].dso[k] ?? 0).padStart(18)).join('')}`);
console.log(`  ${'all'.padEnd(12)}${names.map((x) => us(total(x)).padStart(18)).join('')}`);

const edgeSyms = rows[names[0]].syms;
const tier = { turbofan: 0, liftoff: 0, 'JS glue': 0, 'boundary stubs': 0, other: 0 };
for (const [c, s] of edgeSyms) {
  if (s.endsWith('-turbofan')) tier.turbofan += c;
  else if (s.endsWith('-liftoff')) tier.liftoff += c;
  else if (/wasm-to-js|js-to-wasm|^Stub:/.test(s)) tier['boundary stubs'] += c;
  else if (/^JS:[*+^~]/.test(s)) tier['JS glue'] += c;
  else tier.other += c;
}
console.log(`\n${names[0]}: JIT code by kind`);
for (const [k, c] of Object.entries(tier)) console.log(`  ${us(c)}  ${k}`);
console.log(`\n${names[0]}: top ${top} JIT frames (self time)`);
for (const [c, s] of edgeSyms.slice(0, top))
  console.log(`  ${us(c)}  ${s.replace(/::h[0-9a-f]{16}/g, '').slice(0, 110)}`);
