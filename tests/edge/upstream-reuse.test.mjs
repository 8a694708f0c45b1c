// The edge keeps its upstream connection for the next request once an answer is complete.
//
// Regression: the pumps cancelled the upstream body as soon as the terminal event arrived (before the body's own
// end), which made workerd drop the connection, so every request paid for a new one — a TCP connect and the
// runtime's connection setup and teardown (seen as ~5% of workerd's CPU per request, and in the benchmark's added
// time to first token). Now a complete answer's body is read to its end and the connection is reused; a stream
// that is cut still cancels it (the upstream must see the close).
//
// A counting TCP proxy sits between the edge and the mock upstream.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startEdge, readSse } from '../support/edge.mjs';
import { startUpstream } from '../upstream/server.mjs';
import { KEYS, ORIGIN, config } from './common.mjs';

let up;
let proxy;
let edge;
let connections = 0;

before(async () => {
  up = await startUpstream({ port: 0, keys: KEYS, delayMs: 1 });
  const target = new URL(up.url);
  proxy = net.createServer((client) => {
    connections++;
    const server = net.connect(Number(target.port), target.hostname);
    client.pipe(server).pipe(client);
    client.on('error', () => server.destroy());
    server.on('error', () => client.destroy());
  });
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const via = `http://127.0.0.1:${proxy.address().port}/v1`;
  edge = await startEdge({
    vars: { OPENAI_API_KEY: KEYS.openai, ANTHROPIC_API_KEY: KEYS.anthropic, EDGECHAT_CONFIG: config() },
    upstreams: { openai: via, anthropic: via },
  });
});

after(async () => {
  await edge?.stop();
  await new Promise((resolve) => (proxy ? proxy.close(resolve) : resolve()));
  await up?.close();
});

const post = (path, body, headers = {}) =>
  fetch(`${edge.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

test('complete streams on /api/chat and /v1/chat/completions reuse one upstream connection', async () => {
  // setup
  const before = connections;
  const runs = 8;
  // exec: sequential, each read to its end (the edge finishes the upstream body after closing the client's stream)
  for (let i = 0; i < runs; i++) {
    const content = `reuse ${i} mock:words=12`;
    const widget = i % 2 === 0;
    const res = widget
      ? await post('/api/chat', { model: 'fast', messages: [{ role: 'user', content }] }, { origin: ORIGIN })
      : await post('/v1/chat/completions', { model: 'fast', stream: true, messages: [{ role: 'user', content }] });
    assert.equal(res.status, 200);
    if (widget) assert.equal((await readSse(res)).at(-1).event, 'done', `run ${i}: /api/chat ends with done`);
    else assert.match(await res.text(), /data: \[DONE\]/);
    const log = await edge.logFor(res.headers.get('x-request-id'));
    assert.equal(log.outcome, 'complete');
  }
  // check
  const opened = connections - before;
  console.log(`${runs} complete streams opened ${opened} upstream connection(s)`);
  assert.ok(
    opened <= 2,
    `${runs} sequential complete streams opened ${opened} upstream connections (one each: not reused)`,
  );
});

test('a stream the client leaves mid-answer still closes its upstream connection', async () => {
  const before = up.requests().length;
  const res = await post('/v1/chat/completions', {
    model: 'fast',
    stream: true,
    messages: [{ role: 'user', content: 'leave mock:words=400 mock:delay=20' }],
  });
  assert.equal(res.status, 200);
  const reader = res.body.getReader();
  await reader.read();
  await reader.cancel();
  const entry = up.requests()[before];
  for (let i = 0; i < 300 && entry.endedAt === null; i++) await new Promise((r) => setTimeout(r, 10));
  assert.notEqual(entry.endedAt, null, 'the upstream connection was still open 3 s after the client left');
  assert.equal(entry.aborted, true, 'the edge closed the upstream connection before the answer was complete');
});
