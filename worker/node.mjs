// Runs the edge on plain Node 20 (node:http) — and exports the fetch handler for Deno (`Deno.serve(fetchHandler)`)
// or any runtime with the Fetch API. Same wasm, same behaviour as in workerd; without Durable Objects or KV the
// limiter, the cache and the usage store live in process memory (the usage store is single-process: each process
// counts only its own requests; docs/admin-api.md).
//
//   node worker/node.mjs [--port 8787] [--host 127.0.0.1] [--no-dev-vars] [--grace-ms 10000]
//                                    (reads worker/.dev.vars unless --no-dev-vars, then the environment)
//   SIGTERM / SIGINT stop it gracefully: no new connections; the answers being streamed and their log lines and
//   usage records finish (at most --grace-ms); a second signal stops it at once.
//
//   import { fetchHandler } from './worker/node.mjs';          // Deno: Deno.serve({ port: 8787 }, fetchHandler)
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { ENV_NAMES } from './env-names.mjs';
import { initSync, handle } from './pkg/edgechat_worker.js';

initSync({ module: readFileSync(new URL('./pkg/edgechat_worker_bg.wasm', import.meta.url)) });

/** `KEY=value` lines of a `.dev.vars` file (quotes stripped, `#` comments skipped). */
export function parseDevVars(text) {
  const out = {};
  for (const line of text.split('\n')) {
    const m = line.match(/^\s*([A-Z_][A-Z0-9_]*)\s*=\s*(.*?)\s*$/);
    if (m) out[m[1]] = m[2].replace(/^(['"])(.*)\1$/, '$2');
  }
  return out;
}

/**
 * The edge's environment: worker/.dev.vars (if present, and unless `devVars` is false) overridden by the process
 * environment.
 */
export function envFromProcess(source = process.env, { devVars = true } = {}) {
  const file = fileURLToPath(new URL('./.dev.vars', import.meta.url));
  const env = devVars && existsSync(file) ? parseDevVars(readFileSync(file, 'utf8')) : {};
  for (const n of ENV_NAMES) if (source[n] !== undefined) env[n] = source[n];
  return env;
}

const pending = new Set();
// A promise per response being written, settled when it is done (or its connection closed).
const responding = new Set();
const ctx = {
  waitUntil(p) {
    const q = Promise.resolve(p).catch((e) => console.error('waitUntil task failed:', e));
    pending.add(q);
    q.finally(() => pending.delete(q));
  },
  passThroughOnException() {},
};

/** The fetch handler: `(Request) => Promise<Response>`. */
export function fetchHandler(request, env = envFromProcess()) {
  return handle(request, env, ctx);
}

export default { fetch: (request, env) => fetchHandler(request, env ?? envFromProcess()) };

/**
 * Serves the edge with node:http. Resolves to the server once listening (`server.address().port`). `handler` is the
 * fetch handler served, `(request, env) => Promise<Response>`: the edge's unless given (the benchmark serves its
 * reference Workers with it, bench/edge/node-reference.mjs). `requestTimeoutMs`: how long a client may take to send
 * its whole request (408 after it).
 */
export function serve({
  port = 8787,
  host = '127.0.0.1',
  env = envFromProcess(),
  handler = fetchHandler,
  requestTimeoutMs = 30_000,
} = {}) {
  // A request (headers and body) must arrive within `requestTimeoutMs`: the edge reads a body of declared length
  // whole, with no timer of its own (worker/src/rt/js.rs `read_declared`), so a client that stops sending is cut off
  // here with a 408 (Node checks every tenth of the timeout).
  const options = {
    requestTimeout: requestTimeoutMs,
    connectionsCheckingInterval: Math.max(10, Math.round(requestTimeoutMs / 10)),
  };
  const server = http.createServer(options, async (req, res) => {
    const answered = new Promise((resolve) => res.once('close', resolve));
    responding.add(answered);
    answered.then(() => responding.delete(answered));
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) {
      if (k === 'cf-connecting-ip') continue; // only the socket address is trusted here
      headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    }
    headers.set('cf-connecting-ip', req.socket.remoteAddress ?? 'unknown');
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    // `request.signal` aborts when the client's connection closes before the response is complete (as workerd's
    // with `enable_request_signal`): the edge then aborts the upstream request at once, before or after the first
    // byte. (`res` 'close' fires on the connection closing, either way; `req` 'close' only says the body was read.)
    const gone = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) gone.abort();
    });
    const request = new Request(`http://${req.headers.host ?? `${host}:${port}`}${req.url}`, {
      method: req.method,
      headers,
      body: hasBody ? Readable.toWeb(req) : undefined,
      duplex: 'half',
      signal: gone.signal,
    });
    let response;
    try {
      response = await handler(request, env);
    } catch (e) {
      console.error('edge handler failed:', e);
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"error":{"type":"internal","message":"internal error"}}');
      return;
    }
    res.writeHead(response.status, Object.fromEntries(response.headers));
    if (!response.body) return res.end();
    const reader = response.body.getReader();
    res.on('close', () => {
      if (!res.writableFinished) reader.cancel().catch(() => {});
    });
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (!res.write(value)) await drainedOrClosed(res);
      }
      res.end();
    } catch {
      res.destroy();
    }
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}

/** Resolves when `res` can take more, or once its connection is closed (then no 'drain' ever comes). */
function drainedOrClosed(res) {
  if (res.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * A last line of defence for the server process: Node 20 ends the process on a promise rejection nobody handles,
 * and with it every other client's stream — for one misbehaving upstream or client. Log it (loudly: it is a bug to
 * fix where the promise is made) and carry on. Installed by the command line only, not by `serve()`: an
 * application embedding the handler keeps its own policy.
 */
export function logUnhandledRejections() {
  process.on('unhandledRejection', (reason) => {
    console.error('edgechat: unhandled promise rejection (a bug; the server carries on):', reason);
  });
}

/**
 * Stops `server` gracefully on SIGTERM and SIGINT (what a container platform sends before it kills the process): it
 * takes no new connections, closes idle keep-alive ones, lets the responses in flight finish, answers still streaming
 * included, and the handler's `waitUntil` tasks (log lines, usage records), then exits with 0. After
 * `graceMs` it exits with 1 whatever is still open; a second signal exits with 1 at once.
 */
export function stopOnSignals(server, { graceMs = 10_000 } = {}) {
  let stopping = false;
  const stop = async (signal) => {
    if (stopping) process.exit(1);
    stopping = true;
    console.log(`edgechat edge (Node): ${signal}: finishing the requests in flight (at most ${graceMs} ms)`);
    setTimeout(() => {
      console.error(`edgechat edge (Node): requests still open after ${graceMs} ms; exiting`);
      process.exit(1);
    }, graceMs).unref();
    server.close();
    // Connections that finish their response while closing become idle: close them as they do.
    setInterval(() => server.closeIdleConnections(), 50);
    while (responding.size || pending.size) await Promise.allSettled([...responding, ...pending]);
    process.exit(0);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (name, dflt) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : dflt;
  };
  logUnhandledRejections();
  const env = envFromProcess(process.env, { devVars: !process.argv.includes('--no-dev-vars') });
  const server = await serve({ port: Number(arg('port', 8787)), host: arg('host', '127.0.0.1'), env });
  const { address, port } = server.address();
  stopOnSignals(server, { graceMs: Number(arg('grace-ms', 10_000)) });
  console.log(`edgechat edge (Node) listening on http://${address}:${port}`);
}
