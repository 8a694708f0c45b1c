#!/usr/bin/env node
// Edge benchmark (not a timed test: it prints figures and ratios against a baseline measured in the same run).
//
//   node bench/edge/run.mjs [--samples 100] [--rounds 4] [--streams 1000] [--cadence 20] [--quick] [--json]
//                           [--no-bindings]   (edge without its Durable Object limiter and KV cache bindings)
//                           [--runtime raw]   (edge and reference in raw workerd, no Miniflare; implies --no-bindings)
//                           [--baseline-pkg DIR]  (with --runtime raw: also run the edge built in DIR — a copy of an
//                                              earlier worker/pkg — as `baseline edge ...` paths, for a before/after
//                                              in the same run)
//                           [--pkg DIR]       (with --runtime raw: the edge under test from DIR instead of worker/pkg;
//                                              swap it with --baseline-pkg to check the order of the paths does not
//                                              favour one)
//                           [--baselines [--quick] [--n N1,N16,N64] [--no-portkey] [--pkg DIR]]  (a different run: the
//                                              edge in raw workerd and on Node vs a JS Worker returning the upstream
//                                              response as is, a JS Worker pumping it, and the Portkey gateway, at
//                                              c=1/16/64, with the targets of issue #10: bench/edge/baselines.mjs)
//                           [--clients one|distinct]  (one, the default: every edge request is the same client, so
//                                              with the Durable Object limiter all of them go through ONE limiter
//                                              object, its worst case; distinct: request i of a batch sends
//                                              `cf-connecting-ip: 10.0.x.y` of its own, one limiter object per
//                                              concurrent request, as real traffic from many clients)
//
// Measures, on loopback, with the mock upstream (tests/upstream/server.mjs) behind one local workerd running the
// edge (tests/support/edge.mjs):
//   1. time to first byte / first answer token through the edge vs straight to the mock, concurrency 1 and 64;
//   2. per-event hold-back: the mock emits at a fixed cadence and logs when it wrote each event; the client logs
//      when the text of each event arrived; edge delay minus the direct baseline is how long the edge held it;
//   3. 1,000 concurrent streams through the edge, counting every error;
//   4. the worker's wasm size, raw / gzip / brotli.
// Two reference paths run in a second workerd (bench/edge/reference-worker.mjs) to show the runtime's own floor:
// the upstream body handed to the Response untouched, and every chunk moved through a minimal JavaScript pump.
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, brotliCompressSync, constants as zc } from 'node:zlib';
import { spawn, spawnSync } from 'node:child_process';
import { loadavg, cpus } from 'node:os';
import { streamOnce, eventDelays, pct, median, ms } from './measure.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SITE_KEY = 'pk_bench_0000';
const ORIGIN = 'http://127.0.0.1:8080';

const CLIENT_MODES = ['one', 'distinct'];

/**
 * The client address of request `i` (0-based) of a batch in `--clients distinct` mode: 10.0.0.1, 10.0.0.2, …
 * (65,535 distinct addresses; the edge keys its limiter on `cf-connecting-ip`, worker/src/policy.rs client_key).
 */
export function distinctClientIp(i) {
  const n = i + 1;
  if (!Number.isInteger(i) || i < 0 || n > 0xffff) throw new Error(`no distinct client address for request ${i}`);
  return `10.0.${n >> 8}.${n & 255}`;
}

// wasmGzipKB: the edge's gzip budget in KB of 1,000 bytes (300 KB = 300,000 B, as worker/build.sh reports it and
// worker/README.md "Figures" counts it).
const TARGETS = { medianAddedMs: 1, p99AddedMs: 3, heldBackMs: 1, streams: 1000, wasmGzipKB: 300 };

function parseArgs(argv) {
  const o = {
    samples: 100,
    rounds: 4,
    streams: 1000,
    cadence: 20,
    json: false,
    noBindings: false,
    runtime: 'miniflare',
    baselinePkg: null,
    pkg: null,
    clients: 'one',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v <= 0) throw new Error(`${a} needs a positive number`);
      return v;
    };
    if (a === '--samples') o.samples = num();
    else if (a === '--rounds') o.rounds = num();
    else if (a === '--streams') o.streams = num();
    else if (a === '--cadence') o.cadence = num();
    else if (a === '--quick') Object.assign(o, { samples: 20, rounds: 1, streams: 200 });
    else if (a === '--json') o.json = true;
    else if (a === '--no-bindings') o.noBindings = true;
    else if (a === '--clients') {
      o.clients = argv[++i];
      if (!CLIENT_MODES.includes(o.clients)) throw new Error(`--clients is ${CLIENT_MODES.join(' or ')}`);
    } else if (a === '--baseline-pkg' || a === '--pkg') {
      const dir = argv[++i];
      if (!dir || !existsSync(join(dir, 'edgechat_worker_bg.wasm'))) {
        throw new Error(`${a} needs a directory holding edgechat_worker.js and edgechat_worker_bg.wasm`);
      }
      o[a === '--pkg' ? 'pkg' : 'baselinePkg'] = dir;
    } else if (a === '--runtime') {
      o.runtime = argv[++i];
      if (!['raw', 'miniflare'].includes(o.runtime)) throw new Error('--runtime is raw or miniflare');
      if (o.runtime === 'raw') o.noBindings = true;
    } else throw new Error(`unknown argument ${a}`);
  }
  if ((o.baselinePkg || o.pkg) && o.runtime !== 'raw') throw new Error('--baseline-pkg and --pkg need --runtime raw');
  if (o.streams > 0xffff && o.clients === 'distinct')
    throw new Error('--clients distinct supports at most 65535 streams');
  return o;
}

/** The edge's configuration for the benchmark: one alias on the mock, no rate limits, no caches. */
export function benchVars(upstreamUrl) {
  return {
    OPENAI_BASE_URL: `${upstreamUrl}/v1`,
    ANTHROPIC_BASE_URL: `${upstreamUrl}/v1`,
    COMPAT_BASE_URL: `${upstreamUrl}/v1`,
    OPENAI_API_KEY: 'sk-test-openai-0000',
    ANTHROPIC_API_KEY: 'sk-ant-test-0000',
    EDGECHAT_CONFIG: JSON.stringify({
      models: { fast: { provider: 'openai-chat', model: 'gpt-4o-mini', label: 'Fast' } },
      default_model: 'fast',
      site_keys: { [SITE_KEY]: { origins: ['http://127.0.0.1:*'], allow_no_origin: true } },
      limits: { requests_per_minute: 0, concurrent_streams: 0, daily_tokens: 0, max_tokens: 4096 },
      cache: { exact: false },
      simulated: true,
    }),
  };
}

/**
 * The wasm size line: KB of 1,000 bytes throughout, the gzip size also in bytes against the budget (met / NOT met),
 * the same figure and budget `worker/build.sh` prints.
 */
export function wasmLine({ file, raw, gzip, brotli }) {
  const kb = (n) => `${(n / 1000).toFixed(1)} KB`;
  const budget = TARGETS.wasmGzipKB * 1000;
  const verdict = gzip <= budget ? `met, ${budget - gzip} B left` : `NOT met, ${gzip - budget} B over`;
  return (
    `${file} raw ${kb(raw)}, gzip ${kb(gzip)} (${gzip} B), brotli ${kb(brotli)} ` +
    `(KB = 1,000 B; gzip budget ${TARGETS.wasmGzipKB} KB = ${budget} B: ${verdict})`
  );
}

/**
 * `gzip -9 -c FILE`'s size, exactly as `worker/build.sh` measures the budget (Node's zlib at level 9 comes out
 * about 1.9 KB larger on the edge's wasm); zlib only where there is no `gzip` command.
 */
function gzipSize(file, bytes) {
  const r = spawnSync('gzip', ['-9', '-c', file], { maxBuffer: 64 << 20 });
  return r.status === 0 ? r.stdout.length : gzipSync(bytes, { level: 9 }).length;
}

function wasmSizes(pkg) {
  const candidates = [];
  if (pkg) candidates.push({ p: join(pkg, 'edgechat_worker_bg.wasm'), mtime: 0 });
  const walk = (dir, depth) => {
    if (depth > 3 || !existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      if (name === 'node_modules' || name === 'src' || name === 'target') continue;
      const p = join(dir, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p, depth + 1);
      else if (name.endsWith('.wasm')) candidates.push({ p, mtime: st.mtimeMs });
    }
  };
  if (!pkg) walk(join(root, 'worker'), 0);
  if (!candidates.length) return { error: 'no built worker wasm found under worker/ (run bash worker/build.sh)' };
  candidates.sort((a, b) => b.mtime - a.mtime);
  const bytes = readFileSync(candidates[0].p);
  return {
    file: candidates[0].p.startsWith(root) ? candidates[0].p.slice(root.length + 1) : candidates[0].p,
    raw: bytes.length,
    gzip: gzipSize(candidates[0].p, bytes),
    brotli: brotliCompressSync(bytes, { params: { [zc.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
}

/** CPU seconds (user + system) used so far by the workerd processes this benchmark started (Linux /proc). */
function workerdCpuSeconds() {
  let ticks = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const f = stat.slice(close + 2).split(' '); // f[0] = state (field 3), so field n is f[n - 3]
    if (comm === 'workerd' && Number(f[1]) === process.pid) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / 100; // CLK_TCK is 100 on Linux
}

/** workerd's CPU use while idle (timers, housekeeping), in CPU seconds per wall second, over `ms`. */
async function idleCpuRate(ms = 3000) {
  const c0 = workerdCpuSeconds();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  return (workerdCpuSeconds() - c0) / ((performance.now() - t0) / 1000);
}

/** workerd CPU seconds spent by `fn` beyond the idle rate. */
async function busyCpu(idleRate, fn) {
  const c0 = workerdCpuSeconds();
  const t0 = performance.now();
  const value = await fn();
  const wall = (performance.now() - t0) / 1000;
  return { value, cpu: Math.max(0, workerdCpuSeconds() - c0 - idleRate * wall) };
}

/** A second workerd (Miniflare) running bench/edge/reference-worker.mjs: the runtime's own floor. */
async function startReference(upUrl) {
  const { Miniflare } = await import('miniflare');
  const mf = new Miniflare({
    modules: true,
    scriptPath: join(root, 'bench/edge/reference-worker.mjs'),
    compatibilityDate: '2025-09-01',
    bindings: { UP: upUrl },
    host: '127.0.0.1',
    port: 0,
  });
  const url = (await mf.ready).toString().replace(/\/$/, '');
  return { url, stop: () => mf.dispose() };
}

/**
 * The benchmark's paths. `clients` is `one` (no client header: Miniflare's entry worker sets `cf-connecting-ip` to
 * 127.0.0.1, raw workerd leaves it unset, so every edge request is the same client) or `distinct` (every edge
 * path's request i of a batch sends its own `cf-connecting-ip`; `headersFor(i)` gives the headers of request i).
 */
function paths(upUrl, edgeUrl, refUrl, baselineUrl, clients = 'one') {
  const messages = (text) => [{ role: 'user', content: text }];
  const chat = (text) => ({ model: 'gpt-4o-mini', stream: true, messages: messages(text) });
  // The edge's two paths at `base`, named `${prefix}edge …` (the build under test, or the baseline build).
  const edgePaths = (base, prefix) => ({
    [`${prefix}edge /v1/chat/completions`]: {
      url: `${base}/v1/chat/completions`,
      format: 'chat',
      headers: { authorization: `Bearer ${SITE_KEY}` },
      body: (text) => ({ model: 'fast', stream: true, messages: messages(text) }),
    },
    [`${prefix}edge /api/chat`]: {
      url: `${base}/api/chat`,
      format: 'widget',
      headers: { origin: ORIGIN, 'x-edgechat-site-key': SITE_KEY },
      body: (text) => ({ model: 'fast', messages: messages(text) }),
    },
  });
  const baseline = baselineUrl ? edgePaths(baselineUrl, 'baseline ') : {};
  const all = {
    direct: {
      url: `${upUrl}/v1/chat/completions`,
      format: 'chat',
      headers: { authorization: 'Bearer sk-test-openai-0000' },
      body: (text) => ({ model: 'gpt-4o-mini', stream: true, messages: messages(text) }),
    },
    ...edgePaths(edgeUrl, ''),
    'ref: workerd body pass': { url: `${refUrl}/pass`, format: 'chat', headers: {}, body: chat },
    'ref: workerd JS pump': { url: `${refUrl}/pump`, format: 'chat', headers: {}, body: chat },
    ...baseline,
  };
  for (const [name, path] of Object.entries(all)) {
    const edge = /^(baseline )?edge /.test(name);
    path.edge = edge;
    path.sent = 0;
    path.headersFor =
      edge && clients === 'distinct'
        ? (i) => ({ ...path.headers, 'cf-connecting-ip': distinctClientIp(i) })
        : () => path.headers;
  }
  return all;
}

async function runBatch(path, texts) {
  path.sent += texts.length;
  return Promise.all(
    texts.map((t, i) => streamOnce(path.url, { headers: path.headersFor(i), body: path.body(t), format: path.format })),
  );
}

function summarize(results) {
  const ok = results.filter((r) => !r.error);
  const errors = results.filter((r) => r.error);
  return {
    n: results.length,
    errors: errors.length,
    firstError: errors[0]?.error,
    ttfb: {
      median: median(ok.map((r) => r.ttfb)),
      p99: pct(
        ok.map((r) => r.ttfb),
        99,
      ),
    },
    ttft: {
      median: median(ok.map((r) => r.ttft)),
      p99: pct(
        ok.map((r) => r.ttft),
        99,
      ),
    },
  };
}

async function latency(up, P, opts, concurrency) {
  const samples = Object.fromEntries(Object.keys(P).map((k) => [k, []]));
  const cpu = Object.fromEntries(Object.keys(P).map((k) => [k, 0]));
  const rounds = concurrency === 1 ? opts.samples : opts.rounds;
  for (let r = 0; r < rounds; r++) {
    for (const [name, path] of Object.entries(P)) {
      const texts = Array.from({ length: concurrency }, (_, i) => `latency ${name} ${r} ${i} mock:words=8`);
      const batch = await busyCpu(opts.idleCpuRate ?? 0, () => runBatch(path, texts));
      samples[name].push(...batch.value);
      cpu[name] += batch.cpu;
    }
    await up.reset();
  }
  return Object.fromEntries(
    Object.entries(samples).map(([k, v]) => [
      k,
      {
        ...summarize(v),
        // The whole request (start, 8 words, end), as workerd's CPU use over the batch minus its idle rate.
        workerdCpuMsPerRequest: k === 'direct' ? null : (cpu[k] * 1000) / Math.max(1, v.length),
      },
    ]),
  );
}

async function holdBack(up, P, opts, concurrency) {
  const out = {};
  const streams = concurrency === 1 ? 10 : concurrency;
  for (const [name, path] of Object.entries(P)) {
    await up.reset();
    const texts = Array.from(
      { length: streams },
      (_, i) => `cadence-${i}-${name.replace(/\W+/g, '_')} mock:delay=${opts.cadence} mock:words=30`,
    );
    const results = [];
    const { cpu: cpuSeconds } = await busyCpu(opts.idleCpuRate, async () => {
      if (concurrency === 1) for (const t of texts) results.push(...(await runBatch(path, [t])));
      else results.push(...(await runBatch(path, texts)));
    });
    const log = await up.requests();
    const delays = [];
    let errors = 0;
    results.forEach((r, i) => {
      const entry = log.find((e) => e.rawBody.includes(texts[i]));
      if (r.error || !entry) {
        errors++;
        return;
      }
      delays.push(...eventDelays(entry.sends, r.arrivals));
    });
    out[name] = {
      events: delays.length,
      errors,
      median: median(delays),
      p99: pct(delays, 99),
      max: Math.max(...delays),
      workerdCpuMsPerEvent: name === 'direct' ? null : (cpuSeconds * 1000) / Math.max(1, delays.length),
    };
  }
  await up.reset();
  return out;
}

async function manyStreams(up, P, n, idleRate) {
  const path = P['edge /api/chat'];
  const t0 = performance.now();
  const texts = Array.from({ length: n }, (_, i) => `concurrent ${i} mock:delay=5 mock:words=20`);
  const { value: results, cpu: workerdCpu } = await busyCpu(idleRate, () => runBatch(path, texts));
  const seconds = (performance.now() - t0) / 1000;
  const byError = {};
  for (const r of results) if (r.error) byError[r.error.slice(0, 80)] = (byError[r.error.slice(0, 80)] || 0) + 1;
  const upstreamSeen = (await up.requests()).length;
  await up.reset();
  return { streams: n, errors: results.filter((r) => r.error).length, byError, seconds, upstreamSeen, workerdCpu };
}

/**
 * The mock upstream in its own process (so the benchmark client and the upstream do not share an event loop),
 * driven through its control endpoints.
 */
export async function startUpstreamProcess({ recordSends = true } = {}) {
  const args = [
    join(root, 'tests/upstream/server.mjs'),
    '--port',
    '0',
    '--delay-ms',
    '0',
    ...(recordSends ? ['--record-sends'] : []),
  ];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => {
      const m = /ready at (http:\/\/\S+)/.exec(String(d));
      if (m) resolve(m[1]);
      else reject(new Error(`unexpected upstream output: ${d}`));
    });
    child.once('exit', (code) => reject(new Error(`mock upstream exited with ${code}`)));
  });
  const call = async (method, path) => {
    const r = await fetch(url + path, { method });
    if (r.status !== 200) throw new Error(`${method} ${path}: HTTP ${r.status}`);
    return r.json();
  };
  return {
    url,
    requests: () => call('GET', '/__mock/requests'),
    reset: () => call('POST', '/__mock/reset'),
    close: () =>
      new Promise((resolve) => {
        child.once('exit', resolve);
        child.kill('SIGTERM');
      }),
  };
}

async function startEdgeFor(upUrl, noBindings) {
  // EDGECHAT_EDGE_HARNESS swaps in another module with the same startEdge() (to check the benchmark itself).
  const harness = process.env.EDGECHAT_EDGE_HARNESS || join(root, 'tests', 'support', 'edge.mjs');
  if (!existsSync(harness)) throw new Error(`${harness} is missing (the edge harness); cannot start the edge`);
  const { startEdge } = await import(harness);
  // EDGECHAT_EDGE_NO_BUILD=1 runs the existing worker/pkg build as is (no rebuild from sources).
  const bindings = noBindings ? { durableObject: false, kv: false } : {};
  return startEdge({ vars: benchVars(upUrl), build: process.env.EDGECHAT_EDGE_NO_BUILD !== '1', ...bindings });
}

/**
 * The `client` field (the limiter key, worker/src/policy.rs client_key) of every request log line the edge printed:
 * how many lines, how many distinct clients, and the busiest client with its count. This is what shows the client
 * header reached the edge: `--clients one` logs one client, `--clients distinct` as many as the widest batch.
 */
export function loggedClients(output) {
  const counts = new Map();
  let lines = 0;
  for (const line of output.split('\n')) {
    const i = line.indexOf('{');
    if (i < 0) continue;
    let v;
    try {
      v = JSON.parse(line.slice(i));
    } catch {
      continue; // not a log line
    }
    if (!v || typeof v !== 'object' || !('request_id' in v) || typeof v.client !== 'string') continue;
    lines++;
    counts.set(v.client, (counts.get(v.client) || 0) + 1);
  }
  const [busiest, busiestCount] = [...counts].sort((a, b) => b[1] - a[1])[0] ?? [null, 0];
  return { lines, distinct: counts.size, busiest, busiestCount, examples: [...counts.keys()].slice(0, 3) };
}

/**
 * loggedClients over the edge's output once its log lines stop arriving: a request's line is printed after its
 * stream ends, and workerd's output reaches this process a little later (bounded: 3 s at most).
 */
async function settledLoggedClients(edge) {
  let last = loggedClients(edge.output());
  const deadline = performance.now() + 3000;
  while (performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    const now = loggedClients(edge.output());
    if (now.lines === last.lines) return now;
    last = now;
  }
  return last;
}

function report(res) {
  const lines = [];
  const added = (a, b) => a - b;
  const la = (l) => l.map((x) => x.toFixed(2)).join(' ');
  lines.push(
    `machine: ${cpus().length} cores; load average at start ${la(res.load.start)}, at end ${la(res.load.end)} ` +
      '(other work on the machine inflates both paths, and the edge path more: it has one more process to schedule)',
  );
  lines.push(
    `runtime: ${res.opts.runtime === 'raw' ? 'raw workerd (no Miniflare)' : 'workerd via Miniflare'}; edge bindings: ${res.opts.noBindings ? 'none (per-isolate limiter, in-isolate cache)' : 'Durable Object limiter + KV cache'}; ` +
      `workerd idle CPU ${(res.idleCpuRate * 1000).toFixed(1)} ms/s (subtracted from the CPU figures below)`,
  );
  const cl = res.clientsLogged;
  lines.push(
    `clients: ${
      res.opts.clients === 'distinct'
        ? 'distinct (edge request i of a batch sends cf-connecting-ip 10.0.x.y of its own: one limiter key per concurrent request)'
        : "one (no client header: every edge request is the same client, one limiter key; the limiter's worst case)"
    }; ` +
      `edge log lines ${cl.lines} (of ${cl.edgeRequests} edge requests sent), distinct client keys ${cl.distinct} (busiest ${JSON.stringify(cl.busiest)} x ${cl.busiestCount}; e.g. ${cl.examples.map((e) => JSON.stringify(e)).join(', ')})`,
  );
  lines.push(`wasm: ${res.wasm.error ? res.wasm.error : wasmLine(res.wasm)}`);
  for (const c of ['c1', 'c64']) {
    const L = res.latency[c];
    const d = L.direct;
    lines.push(`\nlatency at concurrency ${c.slice(1)} (n per path = ${d.n}):`);
    for (const [name, s] of Object.entries(L)) {
      const extra =
        name === 'direct'
          ? '(baseline)'
          : `added: ttft median ${ms(added(s.ttft.median, d.ttft.median))} (target <= ${TARGETS.medianAddedMs}), p99 ${ms(added(s.ttft.p99, d.ttft.p99))} (target <= ${TARGETS.p99AddedMs}); ratio median ${(s.ttft.median / d.ttft.median).toFixed(2)}x`;
      const cpu = s.workerdCpuMsPerRequest == null ? '' : ` | workerd CPU ${ms(s.workerdCpuMsPerRequest)}/request`;
      lines.push(
        `  ${name.padEnd(26)} ttfb median ${ms(s.ttfb.median)} p99 ${ms(s.ttfb.p99)} | first token median ${ms(s.ttft.median)} p99 ${ms(s.ttft.p99)} | errors ${s.errors}${cpu} ${extra}`,
      );
      const floor = L['ref: workerd body pass'];
      if (/^(baseline )?edge/.test(name) && floor) {
        lines.push(
          `  ${''.padEnd(26)} over the workerd floor (ref: body pass): median ${ms(s.ttft.median - floor.ttft.median)}, p99 ${ms(s.ttft.p99 - floor.ttft.p99)}`,
        );
      }
      if (s.firstError) lines.push(`    first error: ${s.firstError}`);
    }
  }
  for (const c of ['c1', 'c64']) {
    const H = res.holdBack[c];
    const b = H.direct;
    lines.push(
      `\nper-event delay (upstream write -> client has the text), cadence ${res.opts.cadence} ms, concurrency ${c.slice(1)}:`,
    );
    for (const [name, s] of Object.entries(H)) {
      const extra =
        name === 'direct'
          ? '(baseline)'
          : `held back (this path - direct, same percentile): median ${ms(s.median - b.median)}, p99 ${ms(s.p99 - b.p99)}, max ${ms(s.max - b.max)} (target <= ${TARGETS.heldBackMs})`;
      const cpu = s.workerdCpuMsPerEvent == null ? '' : ` | workerd CPU ${ms(s.workerdCpuMsPerEvent)}/event`;
      lines.push(
        `  ${name.padEnd(26)} events ${s.events} errors ${s.errors} | median ${ms(s.median)} p99 ${ms(s.p99)} max ${ms(s.max)}${cpu} ${extra}`,
      );
      const floor = H['ref: workerd body pass'];
      if (/^(baseline )?edge/.test(name) && floor) {
        lines.push(
          `  ${''.padEnd(26)} over the workerd floor (ref: body pass): median ${ms(s.median - floor.median)}, p99 ${ms(s.p99 - floor.p99)}`,
        );
      }
    }
  }
  const m = res.many;
  lines.push(
    `\n${m.streams} concurrent streams through one workerd (/api/chat): errors ${m.errors} (target 0), ${m.seconds.toFixed(2)} s, upstream saw ${m.upstreamSeen}, workerd CPU ${m.workerdCpu.toFixed(2)} s (${((m.workerdCpu * 1000) / m.streams).toFixed(2)} ms/stream)`,
  );
  for (const [e, n] of Object.entries(m.byError)) lines.push(`  ${n} x ${e}`);
  return lines.join('\n');
}

async function main() {
  if (process.argv.includes('--baselines')) {
    const { runBaselines } = await import('./baselines.mjs');
    await runBaselines(process.argv.slice(2));
    return;
  }
  const opts = parseArgs(process.argv.slice(2));
  const res = { opts, load: { start: loadavg() }, wasm: wasmSizes(opts.pkg), latency: {}, holdBack: {} };
  const up = await startUpstreamProcess();
  let edge;
  let ref;
  let baseline;
  try {
    if (opts.runtime === 'raw') {
      const { startRawEdge, startRawReference } = await import('./raw-workerd.mjs');
      const { buildEdge } = await import(join(root, 'tests', 'support', 'edge.mjs'));
      if (process.env.EDGECHAT_EDGE_NO_BUILD !== '1' && !opts.pkg) buildEdge();
      edge = await startRawEdge(benchVars(up.url), { pkg: opts.pkg ?? undefined });
      ref = await startRawReference(up.url);
      if (opts.baselinePkg) baseline = await startRawEdge(benchVars(up.url), { pkg: opts.baselinePkg });
    } else {
      edge = await startEdgeFor(up.url, opts.noBindings);
      ref = await startReference(up.url);
    }
    const P = paths(up.url, edge.url, ref.url, baseline?.url, opts.clients);
    // Warm-up: wasm instantiation, JIT, and 64 pooled keep-alive connections on every hop.
    await latency(up, P, { ...opts, samples: 10 }, 1);
    await latency(up, P, { ...opts, rounds: 2 }, 64);
    res.idleCpuRate = await idleCpuRate();
    const o2 = { ...opts, idleCpuRate: res.idleCpuRate };
    res.latency.c1 = await latency(up, P, o2, 1);
    res.latency.c64 = await latency(up, P, o2, 64);
    res.holdBack.c1 = await holdBack(up, P, o2, 1);
    res.holdBack.c64 = await holdBack(up, P, o2, 64);
    res.many = await manyStreams(up, P, opts.streams, res.idleCpuRate);
    res.clientsLogged = await settledLoggedClients(edge);
    // Requests sent to the edge under test (the baseline edge's lines are in another workerd's output).
    res.clientsLogged.edgeRequests = Object.entries(P)
      .filter(([k, p]) => p.edge && !k.startsWith('baseline'))
      .reduce((n, [, p]) => n + p.sent, 0);
  } finally {
    if (baseline) await baseline.stop();
    if (ref) await ref.stop();
    if (edge) await edge.stop();
    await up.close();
  }
  res.load.end = loadavg();
  console.log(opts.json ? JSON.stringify(res, null, 2) : report(res));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(`bench failed: ${err.stack || err}`);
    process.exit(1);
  });
}
