#!/usr/bin/env node
// A local mock of the OpenAI and Anthropic HTTP APIs that speaks their exact wire formats, with fault injection.
// See tests/upstream/README.md. Node 20 built-ins only.
//
//   import { startUpstream } from './server.mjs';
//   const up = await startUpstream();            // { url, port, close, requests, queue, reset, release, waitFor }
//   node tests/upstream/server.mjs --port 8788   // CLI: prints one ready line with its URL
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { normalizeChat, normalizeMessages, normalizeResponses, buildPlan, RequestError } from './plan.mjs';
import {
  chatJson,
  chatStream,
  responsesJson,
  responsesStream,
  openaiStatusError,
  openaiModels,
  openaiErrorBody,
} from './openai.mjs';
import { messagesJson, messagesStream, anthropicErrorBody, anthropicModels } from './anthropic.mjs';
import { contentModifiers, normalizeScenario, scenarioFromText } from './faults.mjs';
import { embed, embeddingBase64, countTokens } from './generate.mjs';

export const DEFAULT_KEYS = {
  openai: 'sk-test-openai-0000',
  anthropic: 'sk-ant-test-0000',
  compat: 'sk-test-compat-0000',
};
const MAX_BODY = 32 * 1024 * 1024;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts the mock upstream on 127.0.0.1. Options: `port` (0 = ephemeral), `keys` ({ openai, anthropic, compat }),
 * `delayMs` (between stream events, default 3), `tokensPerChunk` (default 1), `recordSends` (log each stream
 * frame as `[epoch ms with sub-ms precision, data]` in the request's `sends`, for benchmarks across processes).
 */
export async function startUpstream({
  port = 0,
  host = '127.0.0.1',
  keys = {},
  delayMs = 3,
  tokensPerChunk = 1,
  recordSends = false,
} = {}) {
  const k = { ...DEFAULT_KEYS, ...keys };
  const state = { queue: [], log: [], holds: new Set(), closers: new Set(), seq: 0 };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify(openaiErrorBody(`mock upstream bug: ${err.message}`, 'server_error')));
      } else {
        res.destroy(err);
      }
    });
  });
  server.keepAliveTimeout = 30_000;

  async function handle(req, res) {
    const url = new URL(req.url, 'http://mock');
    const raw = await readBody(req);
    if (url.pathname.startsWith('/__mock/')) return control(req, res, url, raw);
    const entry = {
      id: ++state.seq,
      method: req.method,
      path: url.pathname,
      query: url.search,
      headers: { ...req.headers },
      body: null,
      rawBody: raw.toString('utf8'),
      receivedAt: Date.now(),
      scenario: 'ok',
      status: null,
      stream: false,
      aborted: false,
      serverClosed: false,
      completed: false,
      eventsSent: 0,
      endedAt: null,
    };
    if (recordSends) entry.sends = [];
    state.log.push(entry);
    res.on('close', () => {
      entry.endedAt = Date.now();
      entry.completed = res.writableFinished;
      if (!res.writableFinished && !entry.serverClosed) entry.aborted = true;
    });
    const route = url.pathname.replace(/^.*?(\/v1\/)/, '/v1/');
    const anthropicRoute =
      route === '/v1/messages' ||
      (route === '/v1/models' &&
        (req.headers['x-api-key'] !== undefined || req.headers['anthropic-version'] !== undefined));
    const provider = anthropicRoute ? 'anthropic' : 'openai';
    entry.provider = provider;
    const requestId = `req_${randomBytes(12).toString('hex')}`;
    const send = (status, body, extra = {}) => {
      entry.status = status;
      const headers = { 'content-type': 'application/json', ...baseHeaders(provider, requestId, status), ...extra };
      res.writeHead(status, headers);
      res.end(JSON.stringify(body));
    };
    const fail = (status, detail = {}, extra = {}) =>
      send(
        status,
        provider === 'anthropic'
          ? anthropicErrorBody(status, detail.message, requestId)
          : openaiStatusError(status, detail),
        extra,
      );

    const known = ['/v1/chat/completions', '/v1/responses', '/v1/messages', '/v1/embeddings', '/v1/models'];
    if (!known.includes(route)) return fail(404, { message: `Invalid URL (${req.method} ${url.pathname})` });
    const wantMethod = route === '/v1/models' ? 'GET' : 'POST';
    if (req.method !== wantMethod) return fail(404, { message: `Invalid URL (${req.method} ${url.pathname})` });

    // Authentication, exactly as each provider checks it.
    if (provider === 'anthropic') {
      // Current Anthropic SDKs send the API key as `Authorization: Bearer`; older clients use `x-api-key`.
      const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization || '');
      const key = req.headers['x-api-key'] ?? bearer?.[1];
      if (!key) return fail(401, { message: 'x-api-key header is required' });
      if (key !== k.anthropic) return fail(401, { message: 'invalid x-api-key' });
      if (!req.headers['anthropic-version']) return fail(400, { message: 'anthropic-version: header is required' });
    } else {
      const auth = req.headers.authorization || '';
      const m = /^Bearer\s+(.+)$/i.exec(auth);
      if (!m) return fail(401, { missing: true });
      if (m[1] !== k.openai && m[1] !== k.compat) return fail(401, { key: m[1] });
    }

    if (route === '/v1/models')
      return send(200, provider === 'anthropic' ? anthropicModels() : openaiModels(1700000000));

    let body;
    try {
      body = raw.length ? JSON.parse(raw.toString('utf8')) : {};
      if (!body || typeof body !== 'object' || Array.isArray(body)) throw new Error('not an object');
    } catch {
      return fail(
        400,
        provider === 'anthropic'
          ? { message: 'There was an error parsing the body of your request.' }
          : {
              message:
                "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
            },
      );
    }
    entry.body = body;
    entry.stream = body.stream === true;

    // Pick the scenario: a queued one first (FIFO), else directives in the last user message.
    let norm = null;
    let validation = null;
    try {
      if (route === '/v1/chat/completions') norm = normalizeChat(body);
      else if (route === '/v1/responses') norm = normalizeResponses(body);
      else if (route === '/v1/messages') norm = normalizeMessages(body);
    } catch (err) {
      if (!(err instanceof RequestError)) throw err;
      validation = err;
    }
    const queued = takeQueued(route);
    const directiveText = norm ? norm.lastUser : route === '/v1/embeddings' ? JSON.stringify(body.input ?? '') : '';
    const fromText = scenarioFromText(directiveText);
    // A queued scenario wins; content modifiers from the message (words, markdown, ...) still apply under it.
    const sc = queued ? { ...contentModifiers(fromText), ...normalizeScenario(queued) } : fromText;
    entry.scenario = sc.scenario;

    if (sc.kind === 'reset' && sc.after === undefined) {
      entry.serverClosed = true;
      if (typeof req.socket.resetAndDestroy === 'function') req.socket.resetAndDestroy();
      else req.socket.destroy();
      return;
    }
    if (sc.kind === 'status') {
      const extra = {};
      if (sc.retryAfter !== undefined) extra['retry-after'] = String(sc.retryAfter);
      if (sc.retryAfterMs !== undefined) extra['retry-after-ms'] = String(sc.retryAfterMs);
      return fail(sc.status, { model: body.model, retryAfter: sc.retryAfter, message: sc.message }, extra);
    }
    if (validation)
      return fail(validation.status, { message: validation.message, param: validation.param, code: validation.code });
    // The files the request carried, as the provider would see them (type, size, image dimensions), for tests.
    entry.files = (norm?.files ?? []).map(({ bytes, ...f }) => (bytes ? { ...f, size: bytes.length } : f));

    if (route === '/v1/embeddings') return send(200, embeddings(body));

    const plan = buildPlan(norm, sc);
    const ctx = { created: Math.floor(Date.now() / 1000), tokensPerChunk: sc.tokensPerChunk ?? tokensPerChunk, body };
    const delay = sc.delayMs ?? delayMs;
    const headers = baseHeaders(provider, requestId, 200);

    if (!norm.stream) {
      const json =
        route === '/v1/chat/completions'
          ? chatJson(plan, norm, ctx)
          : route === '/v1/responses'
            ? responsesJson(plan, norm, ctx)
            : messagesJson(plan, norm);
      return sendJsonWithFault(res, entry, sc, json, headers);
    }
    const rendered =
      route === '/v1/chat/completions'
        ? chatStream(plan, norm, ctx)
        : route === '/v1/responses'
          ? responsesStream(plan, norm, ctx)
          : messagesStream(plan, norm, ctx);
    return streamFrames(res, entry, sc, rendered, headers, delay);
  }

  function takeQueued(route) {
    const i = state.queue.findIndex((q) => !q.match || route.includes(q.match));
    if (i < 0) return null;
    const q = state.queue[i];
    q.remaining -= 1;
    if (q.remaining <= 0) state.queue.splice(i, 1);
    return q.scenario;
  }

  async function sendJsonWithFault(res, entry, sc, json, headers) {
    const text = JSON.stringify(json);
    const h = { ...headers, 'content-type': 'application/json' };
    entry.status = 200;
    if (sc.kind === 'hold') await waitRelease(res, entry);
    if (sc.kind === 'slow') await sleep(sc.delayMs);
    if (res.destroyed) return;
    if (sc.kind === 'malformed') {
      res.writeHead(200, h);
      return res.end(text.slice(0, Math.floor(text.length / 2)) + '<<not json');
    }
    if (sc.kind === 'error') return sendError(res, entry, 500, headers);
    if (sc.kind === 'disconnect' || sc.kind === 'reset' || sc.kind === 'stall' || sc.kind === 'no-terminal') {
      res.writeHead(200, h);
      res.write(text.slice(0, Math.floor(text.length / 2)));
      if (sc.kind === 'no-terminal') return res.end();
      if (sc.kind === 'disconnect' || sc.kind === 'reset') {
        entry.serverClosed = true;
        return cut(res, sc.kind === 'reset');
      }
      return waitClosed(res, entry);
    }
    res.writeHead(200, { ...h, 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  function sendError(res, entry, status, headers) {
    entry.status = status;
    const body =
      entry.provider === 'anthropic'
        ? anthropicErrorBody(status, null, headers['request-id'])
        : openaiStatusError(status);
    res.writeHead(status, { ...headers, 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  async function streamFrames(res, entry, sc, rendered, headers, delay) {
    entry.status = 200;
    res.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    res.flushHeaders();
    const { frames } = rendered;
    // `after`: a frame index; negative counts from the end; 'terminal' = where the terminal event(s) begin.
    let after = sc.after;
    if (after === 'terminal') after = frames.findIndex((f) => f.terminal);
    else if (typeof after === 'number' && after < 0) after = Math.max(0, frames.length + after);
    for (let i = 0; i < frames.length; i++) {
      if (res.destroyed) return;
      if (after === i) {
        if (sc.kind === 'disconnect' || sc.kind === 'reset') {
          entry.serverClosed = true;
          return cut(res, sc.kind === 'reset');
        }
        if (sc.kind === 'stall') return waitClosed(res, entry);
        if (sc.kind === 'hold') {
          await waitRelease(res, entry);
          if (res.destroyed) return;
        }
        if (sc.kind === 'malformed') res.write('data: {"malformed": tru\n\n');
        if (sc.kind === 'error') {
          res.write(rendered.errorFrame(i));
          entry.eventsSent += 1;
          return res.end();
        }
      }
      if (sc.kind === 'no-terminal' && frames[i].terminal) continue;
      if (!res.write(frames[i].data)) await drained(res);
      entry.eventsSent += 1;
      if (entry.sends) entry.sends.push([performance.timeOrigin + performance.now(), frames[i].data]);
      if (delay > 0 && i < frames.length - 1) await sleep(delay);
    }
    if (!res.destroyed) res.end();
  }

  /** Closes the connection mid-response: a reset (RST) when `reset`, else a plain close (FIN). */
  function cut(res, reset) {
    if (reset && typeof res.socket?.resetAndDestroy === 'function') {
      // What was written goes out first, so the reset comes after those events, not instead of them.
      if (res.socket.writableLength === 0) res.socket.resetAndDestroy();
      else res.socket.once('drain', () => res.socket.resetAndDestroy());
      return;
    }
    res.destroy();
  }

  function drained(res) {
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

  function waitClosed(res, entry) {
    entry.stalled = true;
    return new Promise((resolve) => {
      if (res.destroyed) return resolve();
      const close = () => {
        state.closers.delete(close);
        if (!res.destroyed) {
          entry.serverClosed = true;
          res.destroy();
        }
        resolve();
      };
      state.closers.add(close);
      res.on('close', close);
    });
  }

  function waitRelease(res, entry) {
    entry.held = true;
    return new Promise((resolve) => {
      const release = () => {
        state.holds.delete(release);
        entry.held = false;
        resolve();
      };
      state.holds.add(release);
      res.on('close', release);
    });
  }

  function release() {
    const n = state.holds.size;
    for (const r of [...state.holds]) r();
    return n;
  }

  function queue(scenario) {
    const list = Array.isArray(scenario) ? scenario : [scenario];
    for (const s of list) {
      const norm = normalizeScenario(s); // validates now, so a typo fails the test that queued it
      state.queue.push({ scenario: norm, remaining: norm.count ?? 1, match: norm.match });
    }
    return state.queue.length;
  }

  function reset() {
    state.queue.length = 0;
    state.log.length = 0;
    release();
    for (const c of [...state.closers]) c();
  }

  async function control(req, res, url, raw) {
    const json = (status, obj) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(obj));
    };
    let body = {};
    try {
      body = raw.length ? JSON.parse(raw.toString('utf8')) : {};
    } catch {
      return json(400, { error: 'invalid JSON' });
    }
    const p = url.pathname;
    try {
      if (p === '/__mock/queue' && req.method === 'POST') return json(200, { queued: queue(body) });
      if (p === '/__mock/requests' && req.method === 'GET') return json(200, state.log);
      if (p === '/__mock/reset' && req.method === 'POST') {
        reset();
        return json(200, { ok: true });
      }
      if (p === '/__mock/release' && req.method === 'POST') return json(200, { released: release() });
      if (p === '/__mock/health') return json(200, { ok: true });
    } catch (err) {
      return json(400, { error: err.message });
    }
    return json(404, { error: `unknown control endpoint ${req.method} ${p}` });
  }

  function baseHeaders(provider, requestId, status) {
    const limited = status === 429;
    const reset = new Date(Date.now() + 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    if (provider === 'anthropic') {
      const h = { 'request-id': requestId, 'anthropic-organization-id': '00000000-0000-4000-8000-000000000000' };
      for (const kind of ['requests', 'tokens', 'input-tokens', 'output-tokens']) {
        const limit = kind === 'requests' ? 50 : 400000;
        h[`anthropic-ratelimit-${kind}-limit`] = String(limit);
        h[`anthropic-ratelimit-${kind}-remaining`] = String(limited ? 0 : limit - 1);
        h[`anthropic-ratelimit-${kind}-reset`] = reset;
      }
      return h;
    }
    return {
      'x-request-id': requestId,
      'openai-organization': 'org-mock',
      'openai-processing-ms': '1',
      'openai-version': '2020-10-01',
      'x-ratelimit-limit-requests': '10000',
      'x-ratelimit-limit-tokens': '200000',
      'x-ratelimit-remaining-requests': limited ? '0' : '9999',
      'x-ratelimit-remaining-tokens': limited ? '0' : '199000',
      'x-ratelimit-reset-requests': limited ? '1s' : '6ms',
      'x-ratelimit-reset-tokens': limited ? '1s' : '300ms',
    };
  }

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const actualPort = server.address().port;
  const url = `http://${host}:${actualPort}`;

  return {
    url,
    port: actualPort,
    /** The log of received requests (live objects: `aborted`, `completed` update as connections close). */
    requests: () => [...state.log],
    /** Queues a scenario (string or `{ scenario, count, after, match, ... }`) for the next matching request(s). */
    queue,
    /** Clears the queue and the log, releases holds and closes stalled streams. */
    reset,
    /** Lets every held stream continue; returns how many were held. */
    release,
    /** Resolves when `pred(requests())` is truthy (polling), or rejects after `timeoutMs`. */
    async waitFor(pred, timeoutMs = 5000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const v = pred([...state.log]);
        if (v) return v;
        if (Date.now() > end) throw new Error('mock upstream: waitFor timed out');
        await sleep(5);
      }
    },
    async close() {
      release();
      for (const c of [...state.closers]) c();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const parts = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      parts.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

function embeddings(body) {
  const inputs =
    Array.isArray(body.input) && body.input.length && typeof body.input[0] !== 'number' ? body.input : [body.input];
  const dims = typeof body.dimensions === 'number' ? body.dimensions : 512;
  let tokens = 0;
  const data = inputs.map((inp, index) => {
    const text = Array.isArray(inp) ? inp.join(' ') : String(inp ?? '');
    tokens += countTokens(text);
    const vec = embed(text, dims);
    return { object: 'embedding', index, embedding: body.encoding_format === 'base64' ? embeddingBase64(vec) : vec };
  });
  return { object: 'list', data, model: body.model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--port') out.port = Number(next());
    else if (a === '--host') out.host = next();
    else if (a === '--openai-key') out.keys = { ...out.keys, openai: next() };
    else if (a === '--anthropic-key') out.keys = { ...out.keys, anthropic: next() };
    else if (a === '--compat-key') out.keys = { ...out.keys, compat: next() };
    else if (a === '--delay-ms') out.delayMs = Number(next());
    else if (a === '--record-sends') out.recordSends = true;
    else if (a === '--help' || a === '-h') out.help = true;
    else throw new Error(`unknown argument ${a}`);
  }
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`server.mjs: ${err.message}`);
    process.exit(2);
  }
  if (args.help) {
    console.log(
      'usage: node tests/upstream/server.mjs [--port N] [--host H] [--openai-key K] [--anthropic-key K] [--compat-key K] [--delay-ms N] [--record-sends]',
    );
    process.exit(0);
  }
  const up = await startUpstream(args);
  console.log(`mock upstream ready at ${up.url}`);
  const stop = async () => {
    await up.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
