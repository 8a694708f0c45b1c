// The edge on plain Node (worker/node.mjs, no Durable Objects): resumable:false, the stream routes are a clear 404,
// and a stream still works end to end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { buildEdge } from '../support/edge.mjs';
import { startUpstream } from '../upstream/server.mjs';
import { CONFIG, KEYS, ORIGIN, events } from './helpers.mjs';

let up;
let fetchHandler;
let env;
before(async () => {
  buildEdge();
  ({ fetchHandler } = await import('../../worker/node.mjs'));
  up = await startUpstream({ delayMs: 1 });
  env = {
    ...KEYS,
    EDGECHAT_CONFIG: JSON.stringify(CONFIG),
    OPENAI_BASE_URL: `${up.url}/v1`,
    ANTHROPIC_BASE_URL: `${up.url}/v1`,
  };
});
after(async () => {
  await up?.close();
});

const call = (path, init = {}) =>
  fetchHandler(
    new Request(`http://127.0.0.1:8787${path}`, { ...init, headers: { origin: ORIGIN, ...init.headers } }),
    env,
  );

test('node: not resumable, stream routes 404, chat works', async () => {
  const cfg = await (await call('/api/config')).json();
  assert.equal(cfg.resumable, false);
  const gone = await call(`/api/chat/streams/${'ab'.repeat(32)}/stop`, { method: 'POST' });
  assert.equal(gone.status, 404);
  assert.match((await gone.json()).error.message, /resumable streams are not enabled/);
  const res = await call('/api/chat', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'hi from node' }] }),
  });
  assert.equal(res.status, 200);
  const ev = events(await res.text());
  assert.equal(ev[0].data.resumable, false);
  assert.deepEqual(
    ev.slice(-2).map((e) => e.name),
    ['usage', 'done'],
  );
});
