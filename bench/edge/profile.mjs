#!/usr/bin/env node
// CPU profile of the edge in raw workerd under load, over the DevTools inspector protocol: where workerd's own
// thread spends its time per request (wasm functions, wasm-bindgen glue, runtime built-ins, GC). Not a test.
//
//   node bench/edge/profile.mjs [--route /v1/chat/completions | /api/chat] [--concurrency 64] [--rounds 20]
//                               [--words 8] [--pkg DIR] [--out FILE.cpuprofile] [--top 40]
//
// worker/pkg is built without the wasm name section (worker/build.sh), so its frames are `wasm-function[N]`. For
// readable frames profile a build that keeps the names:
//   wasm-bindgen --target web --no-typescript --out-dir /tmp/prof-pkg --out-name edgechat_worker \
//     target/wasm32-unknown-unknown/wasm-release/edgechat_worker.wasm
//   node_modules/.bin/wasm-opt -Oz -g <the features worker/build.sh lists> /tmp/prof-pkg/edgechat_worker_bg.wasm \
//     -o /tmp/prof-pkg/edgechat_worker_bg.wasm
//   node bench/edge/profile.mjs --pkg /tmp/prof-pkg
// Prints self time by function, and inclusive time of the edge's own (Rust) functions; `--out` keeps the profile
// (open it in Chrome DevTools' Performance panel).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { benchVars, startUpstreamProcess } from './run.mjs';
import { startRawEdge } from './raw-workerd.mjs';
import { streamOnce } from './measure.mjs';

function parseArgs(argv) {
  const o = {
    route: '/v1/chat/completions',
    concurrency: 64,
    rounds: 20,
    words: 8,
    pkg: undefined,
    out: null,
    top: 40,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--route') o.route = next();
    else if (a === '--concurrency') o.concurrency = Number(next());
    else if (a === '--rounds') o.rounds = Number(next());
    else if (a === '--words') o.words = Number(next());
    else if (a === '--pkg') o.pkg = next();
    else if (a === '--out') o.out = next();
    else if (a === '--top') o.top = Number(next());
    else throw new Error(`unknown argument ${a}`);
  }
  if (!['/v1/chat/completions', '/api/chat'].includes(o.route))
    throw new Error('--route is /v1/chat/completions or /api/chat');
  for (const k of ['concurrency', 'rounds', 'words', 'top']) {
    if (!Number.isInteger(o[k]) || o[k] <= 0) throw new Error(`--${k} needs a positive integer`);
  }
  return o;
}

/** A DevTools protocol session on the first target workerd's inspector lists. */
async function inspect(inspectorUrl) {
  const targets = await (await fetch(`${inspectorUrl}/json/list`)).json();
  if (!targets.length) throw new Error('the workerd inspector lists no target');
  const ws = new WebSocket(targets[0].webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.addEventListener('open', resolve, { once: true });
    ws.addEventListener('error', () => reject(new Error('could not connect to the workerd inspector')), { once: true });
  });
  let id = 0;
  const waiting = new Map();
  ws.addEventListener('message', (e) => {
    const msg = JSON.parse(String(e.data));
    const w = waiting.get(msg.id);
    if (!w) return;
    waiting.delete(msg.id);
    if (msg.error) w.reject(new Error(`${msg.error.message} (${msg.error.code})`));
    else w.resolve(msg.result);
  });
  return {
    send: (method, params = {}) =>
      new Promise((resolve, reject) => {
        waiting.set(++id, { resolve, reject });
        ws.send(JSON.stringify({ id, method, params }));
      }),
    close: () => ws.close(),
  };
}

/**
 * Self time per function and inclusive time per edge (Rust) function, as shares of all samples and, given the number
 * of requests `n`, in microseconds per request (the profile's span over its samples: idle time included in the total).
 */
export function summarizeProfile(profile, top, n = 0) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children || []) parent.set(c, n.id);
  const hits = new Map();
  for (const s of profile.samples) hits.set(s, (hits.get(s) || 0) + 1);
  const total = profile.samples.length;
  const name = (n) => n.callFrame.functionName || `(anonymous ${n.callFrame.url.split('/').pop()})`;
  const self = new Map();
  const inclusive = new Map();
  for (const [id, count] of hits) {
    const k = name(byId.get(id));
    self.set(k, (self.get(k) || 0) + count);
    const seen = new Set();
    for (let x = id; x !== undefined; x = parent.get(x)) {
      const f = name(byId.get(x));
      if (!seen.has(f)) {
        seen.add(f);
        inclusive.set(f, (inclusive.get(f) || 0) + count);
      }
    }
  }
  const usPerSample = (profile.endTime - profile.startTime) / total;
  const perRequest = (c) => (n > 0 ? `  ${((c * usPerSample) / n).toFixed(1).padStart(7)} us/request` : '');
  const share = (c) => `${((100 * c) / total).toFixed(1).padStart(5)}%${perRequest(c)}`;
  const rank = (m, keep) =>
    [...m]
      .filter(([k]) => keep(k))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top);
  const lines = [`${total} samples`, 'self time:'];
  for (const [k, c] of rank(self, () => true)) lines.push(`  ${share(c)}  ${k.slice(0, 140)}`);
  lines.push("inclusive time, the edge's own functions:");
  for (const [k, c] of rank(inclusive, (k) => k.includes('edgechat'))) lines.push(`  ${share(c)}  ${k.slice(0, 140)}`);
  return lines.join('\n');
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const up = await startUpstreamProcess();
  let edge;
  let session;
  try {
    edge = await startRawEdge(benchVars(up.url), { pkg: o.pkg, inspector: true });
    const widget = o.route === '/api/chat';
    const request = (i) =>
      streamOnce(`${edge.url}${o.route}`, {
        format: widget ? 'widget' : 'chat',
        headers: widget
          ? { origin: 'http://127.0.0.1:8080', 'x-edgechat-site-key': 'pk_bench_0000' }
          : { authorization: 'Bearer pk_bench_0000' },
        body: {
          model: 'fast',
          stream: widget ? undefined : true,
          messages: [{ role: 'user', content: `profile ${i} mock:words=${o.words}` }],
        },
      });
    const round = async () => {
      const results = await Promise.all(Array.from({ length: o.concurrency }, (_, i) => request(i)));
      const failed = results.filter((r) => r.error);
      if (failed.length) throw new Error(`${failed.length} requests failed, first: ${failed[0].error}`);
    };
    for (let r = 0; r < 3; r++) await round(); // warm-up: instantiation, JIT, pooled connections
    await up.reset();
    session = await inspect(edge.inspectorUrl);
    await session.send('Profiler.enable');
    await session.send('Profiler.setSamplingInterval', { interval: 100 });
    await session.send('Profiler.start');
    const t0 = performance.now();
    for (let r = 0; r < o.rounds; r++) {
      await round();
      await up.reset();
    }
    const wall = performance.now() - t0;
    const { profile } = await session.send('Profiler.stop');
    const n = o.rounds * o.concurrency;
    console.log(
      `${o.route}: ${n} requests (concurrency ${o.concurrency}, ${o.words} words), ${(wall / n).toFixed(3)} ms wall per request`,
    );
    if (o.out) writeFileSync(o.out, JSON.stringify(profile));
    console.log(summarizeProfile(profile, o.top, n));
  } finally {
    session?.close();
    if (edge) await edge.stop();
    await up.close();
  }
}

if (typeof WebSocket === 'function') {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
} else {
  // Node 20 has the standard WebSocket client behind a flag (Node 22 has it on): run again with it.
  const r = spawnSync(process.execPath, ['--experimental-websocket', ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
}
