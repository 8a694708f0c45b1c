// The same edge wasm on plain Node 20 through worker/node.mjs (no workerd): routes, streaming and policy.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import { buildEdge, readSse, sseStream, startNodeEdge } from '../support/edge.mjs';
import { startUpstream } from '../upstream/server.mjs';
import { KEYS, config, ORIGIN, SECRETS } from './common.mjs';

let up;
let server;
let url;
const logs = [];
const origLog = console.log;
before(async () => {
  buildEdge();
  up = await startUpstream({ port: 0, keys: KEYS, delayMs: 2 });
  const { serve } = await import('../../worker/node.mjs');
  console.log = (...a) => {
    logs.push(a.join(' '));
  };
  server = await serve({
    port: 0,
    env: {
      OPENAI_API_KEY: KEYS.openai,
      ANTHROPIC_API_KEY: KEYS.anthropic,
      OPENAI_BASE_URL: `${up.url}/v1`,
      ANTHROPIC_BASE_URL: `${up.url}/v1`,
      EDGECHAT_CONFIG: JSON.stringify(config()),
    },
  });
  url = `http://127.0.0.1:${server.address().port}`;
});
after(async () => {
  console.log = origLog;
  await new Promise((r) => server?.close(r));
  server?.closeAllConnections?.();
  await up?.close();
});

test('Node adapter: config, chat stream, translated compat route, policy errors, no keys', async () => {
  let res = await fetch(`${url}/api/config`, { headers: { origin: ORIGIN } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), ORIGIN);
  assert.equal((await res.json()).default_model, 'fast');
  res = await fetch(`${url}/api/chat`, {
    method: 'POST',
    headers: { origin: ORIGIN },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'node hi' }] }),
  });
  assert.equal(res.status, 200);
  const events = await readSse(res);
  assert.equal(events[0].event, 'start');
  assert.equal(events.at(-1).event, 'done');
  res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    body: JSON.stringify({ model: 'smart', messages: [{ role: 'user', content: 'node two' }] }),
  });
  assert.match((await res.json()).choices[0].message.content, /^Mock answer to: node two/);
  res = await fetch(`${url}/api/chat`, { method: 'POST', headers: { origin: 'https://evil.example' }, body: '{}' });
  assert.equal(res.status, 403);
  await new Promise((r) => setTimeout(r, 100));
  const line = logs
    .map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        return null;
      }
    })
    .find((l) => l?.route === '/api/chat' && l.status === 200);
  assert.equal(line.outcome, 'complete');
  assert.equal(line.limiter, 'isolate');
  for (const s of SECRETS) assert.ok(!logs.join('\n').includes(s));
});

test('Node server: SIGTERM lets the answer being streamed finish, takes no new connection, exits 0', async () => {
  const edge = await startNodeEdge({
    vars: { OPENAI_API_KEY: KEYS.openai, EDGECHAT_CONFIG: JSON.stringify(config()) },
    upstreams: { openai: `${up.url}/v1` },
    build: false,
  });
  try {
    // ~30 words 20 ms apart: the answer is still streaming when the signal comes.
    const res = await fetch(`${edge.url}/api/chat`, {
      method: 'POST',
      headers: { origin: ORIGIN },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'shutdown mock:words=30 mock:delay=20' }] }),
    });
    assert.equal(res.status, 200);
    const stream = sseStream(res);
    const events = [];
    while (!events.some((e) => e.event === 'delta')) events.push(await stream.next());
    process.kill(edge.pid, 'SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    await assert.rejects(
      fetch(`${edge.url}/api/config`, { headers: { origin: ORIGIN } }),
      'a new connection is refused',
    );
    for (let e = await stream.next(); e; e = await stream.next()) events.push(e);
    assert.equal(events.at(-1).event, 'done', 'the answer finished');
    const text = events
      .filter((e) => e.event === 'delta')
      .map((e) => e.data.text)
      .join('');
    assert.equal(text.trim().split(/\s+/).length, 30);
    for (let i = 0; i < 200 && edge.alive(); i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(edge.exitCode(), 0, edge.output());
    const line = await edge.logFor(res.headers.get('x-request-id'));
    assert.equal(line.outcome, 'complete', 'its log line was written before the exit');
    assert.match(edge.output(), /SIGTERM: finishing the requests in flight/);
  } finally {
    await edge.stop();
  }
});

test('Node server: a client that declares a body and stops sending is cut off with 408; nothing reaches the provider', async () => {
  // The edge reads a body of declared length whole (one arrayBuffer(), no timer of its own): the server's request
  // timeout is what ends a stalled upload.
  const { serve } = await import('../../worker/node.mjs');
  const slow = await serve({
    port: 0,
    requestTimeoutMs: 300,
    env: {
      OPENAI_API_KEY: KEYS.openai,
      OPENAI_BASE_URL: `${up.url}/v1`,
      EDGECHAT_CONFIG: JSON.stringify(config()),
    },
  });
  const before = up.requests().length;
  try {
    const started = Date.now();
    const answer = await new Promise((resolve, reject) => {
      const socket = net.connect(slow.address().port, '127.0.0.1', () => {
        const body = JSON.stringify({ messages: [{ role: 'user', content: 'stalled upload' }] });
        socket.write(
          `POST /api/chat HTTP/1.1\r\nhost: 127.0.0.1\r\norigin: ${ORIGIN}\r\ncontent-type: application/json\r\n` +
            `content-length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
        );
      });
      let text = '';
      socket.on('data', (d) => {
        text += d;
      });
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      setTimeout(() => {
        socket.destroy();
        reject(new Error(`no answer after 5 s: ${JSON.stringify(text)}`));
      }, 5_000);
    });
    assert.match(answer, /^HTTP\/1\.1 408 /, answer);
    assert.ok(Date.now() - started < 3_000, `cut off after ${Date.now() - started} ms`);
    assert.equal(up.requests().length, before, 'nothing reached the provider');
  } finally {
    await new Promise((r) => slow.close(r));
    slow.closeAllConnections?.();
  }
});

test("the edge's futures run on promise microtasks, not queueMicrotask; the global is left as it was", () => {
  // worker/src/rt/mod.rs `start`: wasm-bindgen's task queue is made with queueMicrotask hidden (workerd's costs
  // 5-10% of the edge's CPU). Checked in a process of its own, so nothing else calls the spy.
  const script = `
    let calls = 0;
    const real = globalThis.queueMicrotask;
    const spy = (f) => { calls++; return real(f); };
    globalThis.queueMicrotask = spy;
    const { fetchHandler } = await import(${JSON.stringify(new URL('../../worker/node.mjs', import.meta.url).href)});
    const env = { EDGECHAT_CONFIG: JSON.stringify({ models: { m: { provider: 'openai-chat', model: 'gpt-4o-mini' } },
      default_model: 'm', allowed_origins: ['https://site.example'] }), OPENAI_API_KEY: 'sk-test' };
    const req = new Request('http://edge/api/config', { headers: { origin: 'https://site.example' } });
    const before = calls;
    const res = await fetchHandler(req, env); // (Node's own body reading uses queueMicrotask: not counted)
    console.log(JSON.stringify({ status: res.status, calls: calls - before, restored: globalThis.queueMicrotask === spy }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  const last = r.stdout.trim().split('\n').at(-1);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(last), { status: 200, calls: 0, restored: true });
});

test('a runtime whose waitUntil throws still gets its answer, and a wait_until_error line says the task was not kept', () => {
  // worker/src/rt/js.rs `wait_until`: the call is caught (a runtime may throw once its request is over).
  const script = `
    await import(${JSON.stringify(new URL('../../worker/node.mjs', import.meta.url).href)}); // initialises the wasm
    const { handle } = await import(${JSON.stringify(new URL('../../worker/pkg/edgechat_worker.js', import.meta.url).href)});
    const lines = [];
    console.log = (s) => lines.push(String(s));
    const env = { EDGECHAT_CONFIG: JSON.stringify({ models: { m: { provider: 'openai-chat', model: 'gpt-4o-mini' } },
      default_model: 'm', allowed_origins: ['https://site.example'] }), OPENAI_API_KEY: 'sk-test' };
    const ctx = { waitUntil() { throw new TypeError('waitUntil: "request over"\\u0001'); } };
    const req = new Request('http://edge/api/config', { headers: { origin: 'https://site.example' } });
    const res = await handle(req, env, ctx);
    const body = await res.json();
    process.stdout.write(JSON.stringify({ status: res.status, model: body.default_model, lines }) + '\\n');`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1));
  assert.equal(out.status, 200);
  assert.equal(out.model, 'm');
  const incidents = out.lines.map((l) => JSON.parse(l)).filter((l) => 'wait_until_error' in l);
  assert.equal(incidents.length, 1, out.lines.join('\n'));
  assert.match(incidents[0].wait_until_error, /request over/);
});
