// The same fault gives the same answer in workerd and on plain Node (worker/node.mjs): for every fault of the mock
// upstream, one request through each runtime (the same upstream, the same configuration); the event names, the
// error and usage events, the status and the logged outcome and usage must match.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { parseSse, startEdge, startNodeEdge } from '../support/edge.mjs';
import { startUpstream } from '../upstream/server.mjs';
import { KEYS, ORIGIN, SESSION_SECRET, config, user } from './common.mjs';

let up;
const edges = {};
before(async () => {
  up = await startUpstream({ port: 0, keys: KEYS, delayMs: 2 });
  const opts = {
    vars: { OPENAI_API_KEY: KEYS.openai, ANTHROPIC_API_KEY: KEYS.anthropic, SESSION_SECRET, EDGECHAT_CONFIG: config() },
    upstreams: { openai: `${up.url}/v1`, anthropic: `${up.url}/v1` },
  };
  edges.workerd = await startEdge({ ...opts, durableObject: false, kv: false });
  edges.node = await startNodeEdge(opts);
});
after(async () => {
  await edges.workerd?.stop();
  await edges.node?.stop();
  await up?.close();
});

/** Sends `body` to `path` of the edge in `runtime` under the queued upstream `scenario`; the normalized answer. */
async function answer(runtime, path, body, scenario) {
  if (scenario) up.queue(scenario);
  const edge = edges[runtime];
  const res = await fetch(`${edge.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: ORIGIN },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  const log = await edge.logFor(res.headers.get('x-request-id'));
  const events = res.headers.get('content-type')?.startsWith('text/event-stream') ? parseSse(text) : null;
  return {
    status: res.status,
    // Event names in order (the widget's `event:`, or an SDK stream's chunk kind), and the ending's full data.
    names: events?.map((e) =>
      e.event !== 'message' ? e.event : e.data?.error ? 'error' : e.data === '[DONE]' ? '[DONE]' : 'chunk',
    ),
    usage: events?.find((e) => e.event === 'usage')?.data ?? null,
    end: events ? scrubIds(events.at(-1)?.data) : scrubIds(JSON.parse(text)),
    log: {
      outcome: log.outcome,
      status: log.status,
      error: log.error ?? null,
      attempts: log.attempts,
      input_tokens: log.input_tokens,
      output_tokens: log.output_tokens,
      usage_estimated: log.usage_estimated,
    },
  };
}

/** Drops the per-request values (ids, timings) from an event's data. */
function scrubIds(data) {
  if (!data || typeof data !== 'object') return data;
  const out = {};
  for (const [k, v] of Object.entries(data)) {
    if (/^(id|request_id|created|stream_id)$/.test(k)) continue;
    out[k] = v && typeof v === 'object' && !Array.isArray(v) ? scrubIds(v) : v;
  }
  return out;
}

const chat = (text) => ({ model: 'fast', ...user(text) });
const compat = (text) => ({ model: 'fast', stream: true, messages: [{ role: 'user', content: text }] });
const chatPath = '/chat/completions';

const CASES = [
  ['reset before the first byte', '/api/chat', chat('same reset'), { scenario: 'reset', match: chatPath }],
  ['reset mid-stream', '/api/chat', chat('same reset mid'), { scenario: 'reset', after: 4, match: chatPath }],
  [
    'reset mid-stream, pass-through',
    '/v1/chat/completions',
    compat('same reset compat'),
    { scenario: 'reset', after: 4, match: chatPath },
  ],
  ['close mid-stream', '/api/chat', chat('same close'), { scenario: 'disconnect', after: 4, match: chatPath }],
  [
    'no terminal event',
    '/api/chat',
    { model: 'smart', ...user('same no end') },
    { scenario: 'no-terminal', match: '/messages' },
  ],
  [
    'no terminal event, pass-through',
    '/v1/chat/completions',
    compat('same no end compat'),
    { scenario: 'no-terminal', match: chatPath },
  ],
  ['stall mid-stream', '/api/chat', chat('same stall'), { scenario: 'stall', after: 4, match: chatPath }],
  ['malformed event', '/api/chat', chat('same garbled'), { scenario: 'malformed', after: 3, match: chatPath }],
  [
    'provider error event',
    '/api/chat',
    { model: 'smart', ...user('same midstream') },
    { scenario: 'error', after: 4, match: '/messages' },
  ],
  ['429 then success', '/api/chat', chat('same 429'), { scenario: '429', retryAfterMs: 20, match: chatPath }],
  ['500 then success', '/api/chat', chat('same 500'), { scenario: '500', match: chatPath }],
  ['529 then success', '/api/chat', { model: 'smart', ...user('same 529') }, { scenario: '529', match: '/messages' }],
  ['503 exhausted', '/api/chat', chat('same 503'), { scenario: '503', count: 3, match: chatPath }],
  [
    '429 exhausted, pass-through',
    '/v1/chat/completions',
    compat('same 429 compat'),
    { scenario: '429', count: 3, retryAfterMs: 10, match: chatPath },
  ],
];

for (const [name, path, body, scenario] of CASES) {
  test(`${name}: the same answer in workerd and on Node`, async () => {
    const w = await answer('workerd', path, body, scenario);
    const n = await answer('node', path, body, scenario);
    assert.deepEqual(n, w);
  });
}

test('neither runtime printed an unhandled rejection; the Node process is up', () => {
  assert.ok(edges.node.alive(), edges.node.output().slice(-2000));
  for (const e of Object.values(edges))
    assert.doesNotMatch(e.output(), /unhandled|Uncaught \(in promise\)/i, e.output().slice(-2000));
});
