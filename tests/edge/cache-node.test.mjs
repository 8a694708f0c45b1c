// The cache-scoping cases of cache-cases.mjs on plain Node 20 (worker/node.mjs: answers and semantic indexes in
// process memory): no answer crosses site keys or users, 50 concurrent stores all land, per-request control.
import { test, before, after } from 'node:test';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { buildEdge } from '../support/edge.mjs';
import { startUpstream } from '../upstream/server.mjs';
import { KEYS, ORIGIN, SESSION_SECRET } from './common.mjs';
import { boundedCase, cases, scopedConfig, sdkCases, sdkOffCase, sharedCase } from './cache-cases.mjs';

const lines = [];
const origLog = console.log;
let up;
const servers = [];

async function edge(edgeConfig) {
  const { serve } = await import('../../worker/node.mjs');
  const server = await serve({
    port: 0,
    env: {
      OPENAI_API_KEY: KEYS.openai,
      ANTHROPIC_API_KEY: KEYS.anthropic,
      OPENAI_BASE_URL: `${up.url}/v1`,
      ANTHROPIC_BASE_URL: `${up.url}/v1`,
      SESSION_SECRET,
      EDGECHAT_CONFIG: JSON.stringify(edgeConfig),
    },
  });
  servers.push(server);
  const url = `http://127.0.0.1:${server.address().port}`;
  const post = (path, body, headers = {}) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  return {
    up,
    url,
    post,
    chat: (body, headers = {}) => post('/api/chat', body, { origin: ORIGIN, ...headers }),
    async logFor(id) {
      for (let i = 0; i < 200; i++) {
        for (const l of lines) {
          try {
            const v = JSON.parse(l);
            if (v.request_id === id && 'route' in v) return v;
          } catch {
            /* not a log line */
          }
        }
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`no log line for ${id}`);
    },
  };
}

let main;
let other;
before(async () => {
  buildEdge();
  up = await startUpstream({ port: 0, keys: KEYS, delayMs: 2 });
  console.log = (...a) => {
    lines.push(a.join(' '));
  };
  main = await edge(scopedConfig({ sdk: true }));
  other = await edge(
    scopedConfig({ shared: true, ttl_seconds: 4, semantic: { enabled: true, threshold: 0.8, max_entries: 5 } }),
  );
});
after(async () => {
  console.log = origLog;
  for (const s of servers) {
    await new Promise((r) => s.close(r));
    s.closeAllConnections?.();
  }
  await up?.close();
});

for (const [name, run] of Object.entries(cases)) {
  test(`node: ${name}`, () => run(name.includes('longer than configured') ? other : main, `node-${name.length}`));
}
test('node: cache.shared: site keys share answers, per-user ones never', () => sharedCase(other, 'node'));
test('node: max_entries bounds an index; the oldest stored go first', () => boundedCase(other, 'node'));
for (const [name, run] of Object.entries(sdkCases))
  test(`node: ${name}`, () => run({ t: main, OpenAI, Anthropic }, 'node'));
test('node: sdk: off by default', () => sdkOffCase({ t: other, OpenAI }, 'node'));
