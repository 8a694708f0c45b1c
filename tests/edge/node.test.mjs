// The same edge wasm on plain Node 20 through worker/node.mjs (no workerd): routes, streaming and policy.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { buildEdge, readSse } from '../support/edge.mjs';
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
