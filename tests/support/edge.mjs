// Shared harness: build the edge once (when its sources changed) and run it in real workerd through Miniflare.
//
//   import { startEdge } from '../support/edge.mjs';
//   const edge = await startEdge({ vars: { EDGECHAT_CONFIG: JSON.stringify({...}) },
//                                  upstreams: { openai: `${up.url}/v1` } });
//   const res = await fetch(`${edge.url}/api/config`);
//   edge.logs();        // parsed JSON log lines the edge printed so far (one per request)
//   edge.output();      // everything workerd printed (stdout + stderr), for "no key in any log" checks
//   await edge.stop();
//
// Options:
//   vars          env vars / secrets (strings; objects are JSON-encoded), e.g. OPENAI_API_KEY, EDGECHAT_CONFIG
//   upstreams     { openai, anthropic, compat }: base URLs including the version path (sets *_BASE_URL)
//   durableObject bind the LIMITER Durable Object (default true); false = per-isolate limiter
//   streams       bind the STREAMS Durable Object (resumable streams; default false)
//   persist       directory for Durable Object storage (survives stop/start); default in memory
//   kv            bind the CACHE KV namespace (default true); false = in-isolate cache
//   cacheIndex    bind the CACHE_INDEX Durable Object (semantic cache indexes; default true); false = in-isolate
//   usage         bind the USAGE Durable Object (usage store shards; default true); false = in-isolate store
//   build         build when sources are newer than worker/pkg (default true)
//
// `startNodeEdge({ vars, upstreams, build })` runs the same build on plain Node instead (`node worker/node.mjs`, a
// process of its own; no Durable Objects, no KV) and returns the same object plus `alive()` and `exitCode()`.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { workerCompat } from './wrangler.mjs';
import { ENV_NAMES } from '../../worker/env-names.mjs';

const root = join(import.meta.dirname, '..', '..');
const worker = join(root, 'worker');
const wasmPath = join(worker, 'pkg', 'edgechat_worker_bg.wasm');

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (/\.(rs|toml|mjs)$/.test(entry.name)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds worker/pkg if it is missing or older than the Rust sources (worker/src, src/, Cargo files). */
export function buildEdge({ force = false } = {}) {
  const sources = Math.max(
    newestMtime(join(worker, 'src')),
    newestMtime(join(root, 'src')),
    statSync(join(worker, 'Cargo.toml')).mtimeMs,
    statSync(join(root, 'Cargo.toml')).mtimeMs,
  );
  if (!force && existsSync(wasmPath) && statSync(wasmPath).mtimeMs >= sources) return;
  execFileSync('bash', [join(worker, 'build.sh')], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
}

export async function startEdge({
  vars = {},
  upstreams = {},
  durableObject = true,
  kv = true,
  cacheIndex = true,
  build = true,
  streams = false,
  usage = true,
  persist,
} = {}) {
  if (build) buildEdge();
  const bindings = {};
  for (const [k, v] of Object.entries(vars)) {
    if (v !== undefined && v !== null) bindings[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  if (upstreams.openai) bindings.OPENAI_BASE_URL = upstreams.openai;
  if (upstreams.anthropic) bindings.ANTHROPIC_BASE_URL = upstreams.anthropic;
  if (upstreams.compat) bindings.COMPAT_BASE_URL = upstreams.compat;
  let output = '';
  const mf = new Miniflare({
    modules: true,
    scriptPath: join(worker, 'entry.mjs'),
    modulesRoot: worker,
    modulesRules: [
      { type: 'ESModule', include: ['**/*.js', '**/*.mjs'] },
      { type: 'CompiledWasm', include: ['**/*.wasm'] },
    ],
    // worker/wrangler.toml's date and flags (enable_request_signal: request.signal aborts on disconnect).
    ...workerCompat(),
    bindings,
    durableObjects:
      durableObject || streams || cacheIndex || usage
        ? {
            ...(durableObject ? { LIMITER: 'EdgechatLimiter' } : {}),
            ...(streams ? { STREAMS: 'EdgechatStream' } : {}),
            ...(cacheIndex ? { CACHE_INDEX: { className: 'EdgechatCacheIndex', useSQLite: true } } : {}),
            ...(usage ? { USAGE: { className: 'EdgechatUsage', useSQLite: true } } : {}),
          }
        : undefined,
    kvNamespaces: kv ? ['CACHE'] : undefined,
    durableObjectsPersist: persist,
    host: '127.0.0.1',
    port: 0,
    cf: false, // offline: never fetch request.cf data from the network
    handleRuntimeStdio(stdout, stderr) {
      stdout.on('data', (d) => {
        output += d.toString();
      });
      stderr.on('data', (d) => {
        output += d.toString();
      });
    },
  });
  const url = (await mf.ready).toString().replace(/\/$/, '');
  return {
    runtime: 'workerd',
    url,
    mf,
    ...outputReaders(() => output),
    /** Everything workerd printed. */
    output: () => output,
    async stop() {
      await mf.dispose();
    },
  };
}

/** `logs()` and `logFor(id)` over a runtime's printed output (`output()` returns all of it so far). */
function outputReaders(output) {
  return {
    /** Parsed structured log lines (objects with a request_id and route). */
    logs() {
      const lines = [];
      for (const line of output().split('\n')) {
        const i = line.indexOf('{');
        if (i < 0) continue;
        try {
          const v = JSON.parse(line.slice(i));
          if (v && typeof v === 'object' && 'route' in v && 'request_id' in v) lines.push(v);
        } catch {
          /* not a log line */
        }
      }
      return lines;
    },
    /**
     * Waits until the log line of request `requestId` appears (written after the stream ends); lines of calls made
     * for it (`kind`, such as a summary) are not it.
     */
    async logFor(requestId, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const l = this.logs().find((x) => x.request_id === requestId && !x.kind);
        if (l) return l;
        if (Date.now() > deadline)
          throw new Error(`no log line for request ${requestId}; output:\n${output().slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}

/**
 * The same edge on plain Node: `node worker/node.mjs --port 0 --no-dev-vars` (its `serve()`) in a child process of
 * its own, as it runs in production, so a crash is the process exiting — not a failure inside the test's process.
 * Takes `vars`, `upstreams` and `build` as [startEdge] (Node has no Durable Objects or KV: the limiter and the cache
 * live in process memory). Returns the same `{ url, logs(), logFor(), output(), stop() }`, plus `alive()` (the
 * process has not exited) and `exitCode()`.
 */
export async function startNodeEdge({ vars = {}, upstreams = {}, build = true } = {}) {
  if (build) buildEdge();
  const env = { ...process.env };
  for (const n of ENV_NAMES) delete env[n];
  for (const [k, v] of Object.entries(vars)) {
    if (v !== undefined && v !== null) env[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  if (upstreams.openai) env.OPENAI_BASE_URL = upstreams.openai;
  if (upstreams.anthropic) env.ANTHROPIC_BASE_URL = upstreams.anthropic;
  if (upstreams.compat) env.COMPAT_BASE_URL = upstreams.compat;
  const child = spawn(
    process.execPath,
    [join(worker, 'node.mjs'), '--port', '0', '--host', '127.0.0.1', '--no-dev-vars'],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (d) => {
    output += d.toString();
  });
  child.stderr.on('data', (d) => {
    output += d.toString();
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker/node.mjs did not start listening:\n${output}`)), 15_000);
    const look = () => {
      const m = /listening on (http:\/\/\S+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1].replace(/\/$/, ''));
      }
    };
    child.stdout.on('data', look);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`worker/node.mjs exited with ${code}:\n${output}`));
    });
  });
  return {
    runtime: 'node',
    url,
    pid: child.pid,
    ...outputReaders(() => output),
    /** Everything the Node process printed (stdout + stderr). */
    output: () => output,
    alive: () => child.exitCode === null && child.signalCode === null,
    exitCode: () => child.exitCode ?? child.signalCode,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

// SSE reading is the shared one (npm eventsource-parser), re-exported for the suites that import it from here.
export { parseSse, readSse, sseStream } from './sse.mjs';
