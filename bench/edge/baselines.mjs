// `node bench/edge/run.mjs --baselines [--quick]`: the edge against the baselines of issue #10 item 4, all in one
// run on the same mock upstream (a separate Node process), loopback only:
//
//   direct                      the client straight to the mock
//   workerd JS as-is            a JS Worker that returns the upstream's Response as is        \  one raw workerd
//   workerd JS pump             a JS Worker that reads and writes every chunk                  |  process, the
//   workerd edge <route>        the edge (worker/entry.mjs + worker/pkg), no bindings         /   same thread
//   node edge <route>           the same wasm on plain Node (`node worker/node.mjs`)
//   node JS as-is, node JS pump the same two JS Workers on plain Node, served by the edge's Node server
//                               (node-reference.mjs, a process of its own): the Node runtime's own floor
//   portkey (node)              the Portkey gateway 1.15.2 on Node (`@portkey-ai/gateway`), provider openai
//
// with the edge's routes `/api/chat` (widget protocol), `/v1/chat/completions` on an OpenAI model (pass-through) and
// `/v1/messages` on an OpenAI model (translated to Anthropic's format). Every path asks the mock for the same answer:
// an OpenAI Chat Completions stream of `--words` content chunks (100) `--delay` ms apart (2), role chunk first,
// finish and `[DONE]` last. Closed loop at c=1, c=16 and c=64 (n = 200 / 320 / 512; `--quick`: 20 / 64 / 128), the
// paths interleaved round by round in a rotating order so drift on a shared machine hits them alike.
//
// Figures per path and concurrency: time to the first body byte (median, p99) minus the same percentile of `direct`
// ("added"), and the serving process's CPU per request (whole request, from /proc/<pid>/task/*/schedstat, in ns,
// minus its idle rate; the mock's own CPU is not counted). Then the targets of issue #10, each PASS or MISS:
//   pass-through          added median <= as-is + 0.3 ms at c=1, <= 1.5x as-is at c=64
//   /api/chat, translated added median <= pump + 0.3 ms at c=1, <= 1.2x pump at c=64; CPU/request <= 1.2x pump's
//   every route           added median and CPU/request below Portkey's at c=1, c=16 and c=64
// for the edge in workerd and on Node (the as-is and pump baselines are the workerd Workers in both cases). Then the
// same ratios for the Node edge against Node's own floor (the JS Workers on Node), which the issue's targets, set
// against workerd's Workers, do not separate from the runtime.
//
// `--compare-pkg DIR` also serves an earlier build (a copy of an earlier worker/pkg) in the same workerd, as
// `earlier edge <route>` paths interleaved with the rest, and prints this build against it (before/after in one run;
// not among the targets). `--workerd-only` leaves out the Node paths and Portkey (a shorter run).
//
// Portkey is installed once into $EDGECHAT_CACHE/bench/portkey (default ~/.cache/edgechat) from
// bench/edge/portkey/package.json (its `overrides` pin @hono/node-server 1.13.5: the 1.19 line npm picks otherwise
// makes every chat completion a 500 "TypeError: immutable"); `--no-portkey` skips it. It listens on every interface
// by default; bench/edge/portkey/loopback.mjs, preloaded, keeps it on 127.0.0.1.
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, homedir, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { streamOnce, pct, median } from './measure.mjs';
import { freePort, waitListening } from './raw-workerd.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const PORTKEY_VERSION = '1.15.2';
const SITE_KEY = 'pk_bench_0000';
const ORIGIN = 'http://127.0.0.1:8080';
const LEVELS = [1, 16, 64];

function parseArgs(argv) {
  const o = {
    n: { 1: 200, 16: 320, 64: 512 },
    words: 100,
    delay: 2,
    json: false,
    portkey: true,
    pkg: null,
    comparePkg: null,
    workerdOnly: false,
    quick: false,
    warm: 5,
  };
  const pkgDir = (flag) => {
    const d = argv[++i];
    if (!d || !existsSync(join(d, 'edgechat_worker_bg.wasm')))
      throw new Error(`${flag} needs a directory holding edgechat_worker.js and edgechat_worker_bg.wasm`);
    return d;
  };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v < 0) throw new Error(`${a} needs a number`);
      return v;
    };
    if (a === '--baselines') continue;
    else if (a === '--quick') Object.assign(o, { quick: true, n: { 1: 20, 16: 64, 64: 128 } });
    else if (a === '--n') {
      const v = String(argv[++i] ?? '')
        .split(',')
        .map(Number);
      if (v.length !== 3 || v.some((x) => !Number.isInteger(x) || x < 1))
        throw new Error('--n takes three counts: c=1,c=16,c=64');
      o.n = { 1: v[0], 16: v[1], 64: v[2] };
    } else if (a === '--warm') o.warm = num();
    else if (a === '--words') o.words = num();
    else if (a === '--delay') o.delay = num();
    else if (a === '--json') o.json = true;
    else if (a === '--no-portkey') o.portkey = false;
    else if (a === '--pkg') o.pkg = pkgDir(a);
    else if (a === '--compare-pkg') o.comparePkg = pkgDir(a);
    else if (a === '--workerd-only') Object.assign(o, { workerdOnly: true, portkey: false });
    else
      throw new Error(
        `unknown argument ${a} (with --baselines: --quick, --n N1,N16,N64, --words, --delay, --json, --no-portkey, --pkg DIR, --compare-pkg DIR, --workerd-only, --warm N)`,
      );
  }
  return o;
}

/** CPU time (ns) used so far by every thread of process `pid` (Linux schedstat: its first field, on-CPU ns). */
function cpuNs(pid) {
  let total = 0;
  let tasks;
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return NaN; // exited
  }
  for (const t of tasks) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      /* thread exited meanwhile */
    }
  }
  return total;
}

async function idleRate(pid, msWindow = 2000) {
  const c0 = cpuNs(pid);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, msWindow));
  return (cpuNs(pid) - c0) / (performance.now() - t0); // ns per wall ms
}

/** Installs the Portkey gateway into the cache (once; again when bench/edge/portkey/package.json changes). */
export function ensurePortkey() {
  const cache = process.env.EDGECHAT_CACHE || join(homedir(), '.cache', 'edgechat');
  const dir = join(cache, 'bench', 'portkey');
  const entry = join(dir, 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js');
  const manifest = readFileSync(join(here, 'portkey', 'package.json'), 'utf8');
  const installed = join(dir, 'node_modules', '@portkey-ai', 'gateway', 'package.json');
  const current =
    existsSync(installed) &&
    JSON.parse(readFileSync(installed, 'utf8')).version === PORTKEY_VERSION &&
    existsSync(join(dir, 'package.json')) &&
    readFileSync(join(dir, 'package.json'), 'utf8') === manifest &&
    existsSync(entry);
  if (!current) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), manifest);
    const lock = join(here, 'portkey', 'package-lock.json');
    if (existsSync(lock)) copyFileSync(lock, join(dir, 'package-lock.json'));
    process.stderr.write(`installing @portkey-ai/gateway@${PORTKEY_VERSION} into ${dir} (once)\n`);
    execFileSync('npm', [existsSync(lock) ? 'ci' : 'install', '--no-audit', '--no-fund', '--omit=dev'], {
      cwd: dir,
      stdio: ['ignore', process.stderr, process.stderr],
    });
  }
  return entry;
}

/**
 * A Node process serving on a loopback port: `args(port)` are its arguments after `node`; resolves once it listens.
 * { url, pid, output, stop }.
 */
async function startNodeServer(what, args, options = {}) {
  const port = await freePort();
  const child = spawn(process.execPath, args(port), { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => {
    output += d;
  });
  child.stderr.on('data', (d) => {
    output += d;
  });
  try {
    await waitListening(port, child, what);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${err.message}\n${output.slice(-2000)}`);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    output: () => output,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', resolve);
        child.kill('SIGTERM');
      }),
  };
}

/** The Portkey gateway on Node, on a loopback port. */
function startPortkey() {
  const entry = ensurePortkey();
  const args = (port) => ['--import', join(here, 'portkey', 'loopback.mjs'), entry, `--port=${port}`, '--headless'];
  return startNodeServer('the Portkey gateway', args, {
    cwd: dirname(entry),
    env: { ...process.env, NODE_ENV: 'production' },
  });
}

/** The reference Workers on plain Node (node-reference.mjs), in a process of its own. */
function startNodeReference(upUrl) {
  const args = (port) => [join(here, 'node-reference.mjs'), '--up', upUrl, '--port', String(port)];
  return startNodeServer('the Node reference Workers', args);
}

/** The paths of the comparison; `server` names the process whose CPU a request of the path costs. */
function paths({ upUrl, workerd, nodeEdge, nodeRef, portkey, text }) {
  const messages = (t) => [{ role: 'user', content: `${t} ${text}` }];
  const upstreamChat = (t) => ({ model: 'gpt-4o-mini', stream: true, messages: messages(t) });
  // The widget work of a reference Worker at `base` (`/widget`), as the edge's /api/chat is asked for it.
  const widgetWork = (base) => ({
    url: `${base}/widget`,
    format: 'widget',
    server: 'workerd',
    headers: { origin: ORIGIN, 'x-edgechat-site-key': SITE_KEY },
    body: (t) => ({ model: 'fast', messages: messages(t) }),
  });
  const edgeRoutes = (base, runtime, server) => ({
    [`${runtime} edge /api/chat`]: {
      route: '/api/chat',
      runtime,
      server,
      url: `${base}/api/chat`,
      format: 'widget',
      headers: { origin: ORIGIN, 'x-edgechat-site-key': SITE_KEY },
      body: (t) => ({ model: 'fast', messages: messages(t) }),
    },
    [`${runtime} edge /v1/chat/completions`]: {
      route: 'pass-through',
      runtime,
      server,
      url: `${base}/v1/chat/completions`,
      format: 'chat',
      headers: { authorization: `Bearer ${SITE_KEY}` },
      body: (t) => ({ model: 'fast', stream: true, messages: messages(t) }),
    },
    [`${runtime} edge /v1/messages`]: {
      route: 'translated',
      runtime,
      server,
      url: `${base}/v1/messages`,
      format: 'anthropic',
      headers: { 'x-api-key': SITE_KEY, 'anthropic-version': '2023-06-01' },
      body: (t) => ({ model: 'fast', max_tokens: 1024, stream: true, messages: messages(t) }),
    },
  });
  const all = {
    direct: {
      url: `${upUrl}/v1/chat/completions`,
      format: 'chat',
      server: null,
      headers: { authorization: 'Bearer sk-test-openai-0000' },
      body: upstreamChat,
    },
    'workerd JS as-is': {
      url: `${workerd.urls.ref}/asis`,
      format: 'chat',
      server: 'workerd',
      headers: {},
      body: upstreamChat,
    },
    'workerd JS pump': {
      url: `${workerd.urls.ref}/pump`,
      format: 'chat',
      server: 'workerd',
      headers: {},
      body: upstreamChat,
    },
    // The same pump returning its Response once the first chunk is in, as the edge does (not among the targets).
    'workerd JS pump, first chunk first': {
      url: `${workerd.urls.ref}/pumpfirst`,
      format: 'chat',
      server: 'workerd',
      headers: {},
      body: upstreamChat,
    },
    // The work of the edge's /api/chat written plainly in JS (reference-worker.mjs `/widget`; not among the targets):
    // what that work costs in this runtime, apart from how the edge does it.
    'workerd JS widget work': widgetWork(workerd.urls.ref),
    // The same handler with its computing in Rust (bench/edge/wasm-floor; not among the targets): what that work
    // costs in wasm in this runtime when the wasm does nothing else.
    'workerd wasm widget work': widgetWork(workerd.urls.floor),
    ...edgeRoutes(workerd.urls.edge, 'workerd', 'workerd'),
    // --compare-pkg: an earlier build beside this one, in the same workerd (runtime `earlier`: not among the targets).
    ...(workerd.urls.earlier ? edgeRoutes(workerd.urls.earlier, 'earlier', 'workerd') : {}),
    ...(nodeRef
      ? {
          'node JS as-is': {
            url: `${nodeRef.url}/asis`,
            format: 'chat',
            server: 'noderef',
            headers: {},
            body: upstreamChat,
          },
          'node JS pump': {
            url: `${nodeRef.url}/pump`,
            format: 'chat',
            server: 'noderef',
            headers: {},
            body: upstreamChat,
          },
        }
      : {}),
    ...(nodeEdge ? edgeRoutes(nodeEdge.url, 'node', 'node') : {}),
  };
  if (portkey) {
    all['portkey (node)'] = {
      url: `${portkey.url}/v1/chat/completions`,
      format: 'chat',
      server: 'portkey',
      headers: {
        authorization: 'Bearer sk-test-openai-0000',
        'x-portkey-provider': 'openai',
        'x-portkey-custom-host': `${upUrl}/v1`,
      },
      body: upstreamChat,
    };
  }
  return all;
}

/** Runs `n` requests per path at concurrency `c`, path batches interleaved in a rotating order. */
async function measureLevel(up, P, pids, idle, c, n) {
  const names = Object.keys(P);
  const samples = Object.fromEntries(names.map((k) => [k, []]));
  const cpu = Object.fromEntries(names.map((k) => [k, 0]));
  const rounds = Math.ceil(n / c);
  for (let r = 0; r < rounds; r++) {
    const order = names.map((_, i) => names[(i + r) % names.length]);
    for (const name of order) {
      const path = P[name];
      const pid = path.server ? pids[path.server] : null;
      const c0 = pid ? cpuNs(pid) : 0;
      const t0 = performance.now();
      const batch = await Promise.all(
        Array.from({ length: c }, (_, i) =>
          streamOnce(path.url, { headers: path.headers, body: path.body(`bench ${r} ${i}`), format: path.format }),
        ),
      );
      if (pid) cpu[name] += Math.max(0, cpuNs(pid) - c0 - idle[path.server] * (performance.now() - t0));
      samples[name].push(...batch);
    }
    if (r % 4 === 3) await up.reset(); // the mock's request log, bounded
  }
  await up.reset();
  const out = {};
  for (const name of names) {
    const all = samples[name];
    const ok = all.filter((x) => !x.error);
    const errors = all.filter((x) => x.error);
    out[name] = {
      n: all.length,
      errors: errors.length,
      firstError: errors[0]?.error ?? null,
      ttfb: {
        median: median(ok.map((x) => x.ttfb)),
        p99: pct(
          ok.map((x) => x.ttfb),
          99,
        ),
      },
      ttft: {
        median: median(ok.map((x) => x.ttft)),
        p99: pct(
          ok.map((x) => x.ttft),
          99,
        ),
      },
      cpuMsPerRequest: P[name].server ? cpu[name] / 1e6 / Math.max(1, all.length) : null,
    };
  }
  const d = out.direct;
  for (const s of Object.values(out)) {
    s.added = { median: s.ttfb.median - d.ttfb.median, p99: s.ttfb.p99 - d.ttfb.p99 };
  }
  return out;
}

/** The targets of issue #10 item 4 over the measured figures: [{ ok, text }]. */
export function targets(res, P) {
  const out = [];
  const check = (ok, text) => out.push({ ok: Boolean(ok), text });
  const f = (x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
  for (const runtime of ['workerd', 'node']) {
    for (const [name, path] of Object.entries(P)) {
      if (path.runtime !== runtime) continue;
      const [c1, c64] = [res.levels[1], res.levels[64]];
      if (path.route === 'pass-through') {
        const base = 'workerd JS as-is';
        check(
          c1[name].added.median <= c1[base].added.median + 0.3,
          `${name} c=1: added ${f(c1[name].added.median)} ms <= as-is ${f(c1[base].added.median)} + 0.3 (difference ${f(c1[name].added.median - c1[base].added.median)})`,
        );
        check(
          c64[name].added.median <= 1.5 * c64[base].added.median,
          `${name} c=64: added ${f(c64[name].added.median)} ms <= 1.5x as-is ${f(c64[base].added.median)} (ratio ${f(c64[name].added.median / c64[base].added.median)}x)`,
        );
      } else {
        const base = 'workerd JS pump';
        check(
          c1[name].added.median <= c1[base].added.median + 0.3,
          `${name} c=1: added ${f(c1[name].added.median)} ms <= pump ${f(c1[base].added.median)} + 0.3 (difference ${f(c1[name].added.median - c1[base].added.median)})`,
        );
        check(
          c64[name].added.median <= 1.2 * c64[base].added.median,
          `${name} c=64: added ${f(c64[name].added.median)} ms <= 1.2x pump ${f(c64[base].added.median)} (ratio ${f(c64[name].added.median / c64[base].added.median)}x)`,
        );
        for (const c of LEVELS) {
          const L = res.levels[c];
          check(
            L[name].cpuMsPerRequest <= 1.2 * L[base].cpuMsPerRequest,
            `${name} c=${c}: CPU ${f(L[name].cpuMsPerRequest)} ms/request <= 1.2x pump ${f(L[base].cpuMsPerRequest)} (ratio ${f(L[name].cpuMsPerRequest / L[base].cpuMsPerRequest)}x)`,
          );
        }
      }
      if (P['portkey (node)']) {
        for (const c of LEVELS) {
          const L = res.levels[c];
          const pk = L['portkey (node)'];
          check(
            L[name].added.median < pk.added.median,
            `${name} c=${c}: added ${f(L[name].added.median)} ms < Portkey ${f(pk.added.median)} (ratio ${f(L[name].added.median / pk.added.median)}x)`,
          );
          check(
            L[name].cpuMsPerRequest < pk.cpuMsPerRequest,
            `${name} c=${c}: CPU ${f(L[name].cpuMsPerRequest)} ms/request < Portkey ${f(pk.cpuMsPerRequest)} (ratio ${f(L[name].cpuMsPerRequest / pk.cpuMsPerRequest)}x)`,
          );
        }
      }
      for (const c of LEVELS) {
        if (res.levels[c][name].errors)
          check(
            false,
            `${name} c=${c}: ${res.levels[c][name].errors} requests failed (${res.levels[c][name].firstError})`,
          );
      }
    }
  }
  return out;
}

/**
 * The Node edge against Node's own floor, the same JS Workers on Node (`node JS as-is` / `node JS pump`), with the
 * ratios of the targets: [{ ok, text }]. Not among the issue's targets; it tells the runtime's share from the edge's.
 */
export function nodeFloors(res, P) {
  const out = [];
  const f = (x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
  const [c1, c64] = [res.levels[1], res.levels[64]];
  for (const [name, path] of Object.entries(P)) {
    if (path.runtime !== 'node') continue;
    const pass = path.route === 'pass-through';
    const base = pass ? 'node JS as-is' : 'node JS pump';
    const label = pass ? 'as-is' : 'pump';
    const d = c1[name].added.median - c1[base].added.median;
    out.push({
      ok: d <= 0.3,
      text: `${name} c=1: added ${f(c1[name].added.median)} ms, Node ${label} ${f(c1[base].added.median)} (difference ${f(d)})`,
    });
    const r = c64[name].added.median / c64[base].added.median;
    out.push({
      ok: r <= (pass ? 1.5 : 1.2),
      text: `${name} c=64: added ${f(c64[name].added.median)} ms, Node ${label} ${f(c64[base].added.median)} (ratio ${f(r)}x)`,
    });
    for (const c of LEVELS) {
      const L = res.levels[c];
      const q = L[name].cpuMsPerRequest / L['node JS pump'].cpuMsPerRequest;
      out.push({
        ok: q <= 1.2,
        text: `${name} c=${c}: CPU ${f(L[name].cpuMsPerRequest)} ms/request, Node pump ${f(L['node JS pump'].cpuMsPerRequest)} (ratio ${f(q)}x)`,
      });
    }
  }
  return out;
}

function report(res, P) {
  const lines = [];
  const la = (l) => l.map((x) => x.toFixed(2)).join(' ');
  lines.push(
    `machine: ${cpus().length} cores; load average at start ${la(res.load.start)}, at end ${la(res.load.end)}`,
  );
  lines.push(
    `upstream answer: OpenAI chat stream, ${res.opts.words} content chunks ${res.opts.delay} ms apart; n per path at c=1/16/64: ${LEVELS.map((c) => res.opts.n[c]).join(' / ')}; warm-up ${res.opts.warm} at c=1 and 64 at c=64${res.opts.quick ? ' (--quick: rough figures)' : ''}`,
  );
  lines.push(
    `idle CPU subtracted (ms per s): ${Object.entries(res.idle)
      .map(([k, v]) => `${k} ${(v / 1000).toFixed(2)}`)
      .join(', ')}`,
  );
  lines.push(
    'added = this path minus direct, same percentile, time to the first body byte; CPU = the serving process, whole request',
  );
  for (const c of LEVELS) {
    const L = res.levels[c];
    lines.push(`\nc=${c}`);
    lines.push(
      `  ${'path'.padEnd(35)} ${'n'.padStart(4)} ${'err'.padStart(3)}  ${'ttfb p50'.padStart(9)} ${'ttfb p99'.padStart(9)}  ${'added p50'.padStart(9)} ${'added p99'.padStart(9)}  ${'CPU ms/req'.padStart(10)}`,
    );
    for (const [name, s] of Object.entries(L)) {
      const num = (x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a').padStart(9);
      lines.push(
        `  ${name.padEnd(35)} ${String(s.n).padStart(4)} ${String(s.errors).padStart(3)}  ${num(s.ttfb.median)} ${num(s.ttfb.p99)}  ${name === 'direct' ? ''.padStart(9) : num(s.added.median)} ${name === 'direct' ? ''.padStart(9) : num(s.added.p99)}  ${(s.cpuMsPerRequest == null ? '' : s.cpuMsPerRequest.toFixed(3)).padStart(10)}`,
      );
      if (s.firstError) lines.push(`    first error: ${s.firstError}`);
    }
  }
  for (const c of LEVELS) {
    const L = res.levels[c];
    const below = ['workerd JS as-is', 'workerd JS pump'].filter((k) => L[k].added.median < 0);
    if (below.length) {
      lines.push(
        `\nnote: at c=${c} ${below.join(' and ')} answered sooner than direct (added < 0): the mock or this client, not the path, ` +
          'set the pace at that load (a busy machine?); the added figures and ratios at that level say little',
      );
    }
  }
  const t = targets(res, P);
  lines.push(
    `\ntargets (issue #10 item 4; the as-is and pump baselines are the workerd JS Workers for both runtimes):`,
  );
  for (const x of t) lines.push(`  ${x.ok ? 'PASS' : 'MISS'}  ${x.text}`);
  lines.push(`${t.filter((x) => x.ok).length} of ${t.length} targets met`);
  const earlier = Object.entries(P).filter(([, p]) => p.runtime === 'earlier');
  if (earlier.length) {
    lines.push('\nthis build against the earlier one (--compare-pkg), added median and CPU per request:');
    for (const [name, path] of earlier) {
      const now = name.replace(/^earlier /, 'workerd ');
      for (const c of LEVELS) {
        const [a, b] = [res.levels[c][now], res.levels[c][name]];
        lines.push(
          `  ${path.route.padEnd(12)} c=${String(c).padEnd(2)} added ${a.added.median.toFixed(2)} ms (earlier ${b.added.median.toFixed(2)}, difference ${(a.added.median - b.added.median).toFixed(2)}), CPU ${a.cpuMsPerRequest.toFixed(2)} ms (earlier ${b.cpuMsPerRequest.toFixed(2)})`,
        );
      }
    }
  }
  if (P['workerd JS widget work']) {
    lines.push(
      "\nthe edge's /api/chat against the same work written in JS (`workerd JS widget work`; not a target), added median and CPU per request:",
    );
    for (const c of LEVELS) {
      const [a, b] = [res.levels[c]['workerd edge /api/chat'], res.levels[c]['workerd JS widget work']];
      lines.push(
        `  c=${String(c).padEnd(2)} added ${a.added.median.toFixed(2)} ms (JS ${b.added.median.toFixed(2)}, difference ${(a.added.median - b.added.median).toFixed(2)}, ratio ${(a.added.median / b.added.median).toFixed(2)}x), CPU ${a.cpuMsPerRequest.toFixed(2)} ms (JS ${b.cpuMsPerRequest.toFixed(2)}, ratio ${(a.cpuMsPerRequest / b.cpuMsPerRequest).toFixed(2)}x)`,
      );
    }
  }
  if (P['workerd JS widget work'] && P['workerd wasm widget work']) {
    lines.push(
      "\nthe edge's /api/chat against the same work with its computing in wasm (`workerd wasm widget work`; not a target), and that against the JS, added median and CPU per request:",
    );
    for (const c of LEVELS) {
      const [a, w, j] = ['workerd edge /api/chat', 'workerd wasm widget work', 'workerd JS widget work'].map(
        (n) => res.levels[c][n],
      );
      lines.push(
        `  c=${String(c).padEnd(2)} added ${a.added.median.toFixed(2)} ms (wasm ${w.added.median.toFixed(2)}, difference ${(a.added.median - w.added.median).toFixed(2)}; wasm - JS ${(w.added.median - j.added.median).toFixed(2)}), CPU ${a.cpuMsPerRequest.toFixed(2)} ms (wasm ${w.cpuMsPerRequest.toFixed(2)}, JS ${j.cpuMsPerRequest.toFixed(2)})`,
      );
    }
  }
  const fl = nodeFloors(res, P);
  lines.push(
    `\nthe Node edge against Node's own floor (the same JS Workers on Node; the issue's ratios, not its targets):`,
  );
  for (const x of fl) lines.push(`  ${x.ok ? 'within' : 'over  '}  ${x.text}`);
  lines.push(`${fl.filter((x) => x.ok).length} of ${fl.length} within the ratios`);
  return lines.join('\n');
}

export async function runBaselines(argv) {
  const opts = parseArgs(argv);
  const { startUpstreamProcess, benchVars } = await import('./run.mjs');
  const { startRawWorkerdMany, edgeWorker, referenceWorker, wasmFloorWorker, buildWasmFloor } = await import(
    './raw-workerd.mjs'
  );
  const { buildEdge, startNodeEdge } = await import(join(root, 'tests', 'support', 'edge.mjs'));
  if (process.env.EDGECHAT_EDGE_NO_BUILD !== '1' && !opts.pkg) buildEdge();
  buildWasmFloor();
  const res = { opts, load: { start: loadavg() }, levels: {}, idle: {} };
  const up = await startUpstreamProcess({ recordSends: false });
  const started = [];
  try {
    const vars = benchVars(up.url);
    const workers = {
      edge: edgeWorker(vars, { pkg: opts.pkg ?? undefined }),
      ref: referenceWorker(up.url),
      floor: wasmFloorWorker(up.url),
    };
    if (opts.comparePkg) workers.earlier = edgeWorker(vars, { pkg: opts.comparePkg });
    const workerd = await startRawWorkerdMany({ workers });
    started.push(workerd);
    const nodeEdge = opts.workerdOnly ? null : await startNodeEdge({ vars, build: false });
    if (nodeEdge) started.push(nodeEdge);
    const nodeRef = opts.workerdOnly ? null : await startNodeReference(up.url);
    if (nodeRef) started.push(nodeRef);
    const portkey = opts.portkey ? await startPortkey() : null;
    if (portkey) started.push(portkey);
    const pids = {
      workerd: workerd.pid,
      ...(nodeEdge ? { node: nodeEdge.pid } : {}),
      ...(nodeRef ? { noderef: nodeRef.pid } : {}),
      ...(portkey ? { portkey: portkey.pid } : {}),
    };
    const P = paths({
      upUrl: up.url,
      workerd,
      nodeEdge,
      nodeRef,
      portkey,
      text: `mock:words=${opts.words} mock:delay=${opts.delay}`,
    });
    // Warm-up: JIT, wasm, pooled connections on every hop; and a check that every path answers.
    for (const [c, n] of [
      [1, opts.warm],
      [64, 64],
    ]) {
      const w = await measureLevel(up, P, pids, Object.fromEntries(Object.keys(pids).map((k) => [k, 0])), c, n);
      for (const [name, s] of Object.entries(w)) {
        if (s.errors === s.n) throw new Error(`${name}: every warm-up request failed: ${s.firstError}`);
      }
    }
    for (const [k, pid] of Object.entries(pids)) res.idle[k] = await idleRate(pid);
    for (const c of LEVELS) res.levels[c] = await measureLevel(up, P, pids, res.idle, c, opts.n[c]);
    res.load.end = loadavg();
    res.targets = targets(res, P);
    console.log(opts.json ? JSON.stringify(res, null, 2) : report(res, P));
    return res.targets.every((x) => x.ok);
  } finally {
    for (const s of started.reverse()) await s.stop();
    await up.close();
  }
}
