// OpenTelemetry in real workerd: with OTEL_EXPORTER_OTLP_ENDPOINT (and headers) set, one span per request (and per
// summarizer call) reaches a receiver that decodes it with the official OTLP definitions (PyPI opentelemetry-proto,
// tests/usage/otlp_receiver.py in the sdk venv), with the GenAI attributes; batched (several spans in one export);
// a collector that is down costs nothing but a counted drop.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { readSse } from '../support/edge.mjs';
import { setup, config } from '../edge/common.mjs';
import { sleep } from './helpers.mjs';

const python = join(
  process.env.EDGECHAT_CACHE ?? join(process.env.HOME, '.cache', 'edgechat'),
  'venv',
  'bin',
  'python',
);

/** The receiver in a child process; resolves to { url, received(), stop() }. */
async function startReceiver() {
  const child = spawn(python, [join(import.meta.dirname, 'otlp_receiver.py')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr.on('data', (d) => {
    out += d;
  });
  const port = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      const m = /listening (\d+)/.exec(String(d));
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`the OTLP receiver exited (${code}): ${out}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    async received() {
      return (await fetch(`${url}/received`)).json();
    },
    stop() {
      child.kill('SIGTERM');
    },
  };
}

/** A port nothing listens on. */
async function closedPort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

let receiver;
let t;
before(async () => {
  receiver = await startReceiver();
  t = await setup({
    edgeConfig: config(),
    vars: {
      OTEL_EXPORTER_OTLP_ENDPOINT: `${receiver.url}/`,
      OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-key=secret%20value,x-team=edge',
    },
  });
});
after(async () => {
  await t?.stop();
  receiver?.stop();
});

test('workerd: one span per request, decoded by opentelemetry-proto, with the GenAI attributes and the cost', async () => {
  const ids = [];
  const usages = [];
  for (const content of ['first span', 'second span']) {
    const res = await t.chat({ model: 'fast', messages: [{ role: 'user', content }] });
    ids.push(res.headers.get('x-request-id'));
    usages.push((await readSse(res)).find((e) => e.event === 'usage').data);
  }
  t.up.queue({ scenario: '400', match: '/messages' });
  const failed = await t.post('/v1/messages', {
    model: 'smart',
    max_tokens: 50,
    messages: [{ role: 'user', content: 'no' }],
  });
  assert.equal(failed.status, 400);
  await failed.text();
  ids.push(failed.headers.get('x-request-id'));

  let got;
  const deadline = Date.now() + 8000;
  do {
    await sleep(100);
    got = await receiver.received();
  } while (got.received.flatMap((r) => r.spans).length < 3 && Date.now() < deadline);
  assert.deepEqual(got.errors, [], 'every export decoded');
  const spans = got.received.flatMap((r) => r.spans);
  assert.equal(spans.length, 3, JSON.stringify(got.received));
  assert.ok(got.received.length < 3, 'batched: fewer exports than spans');
  const first = got.received[0];
  assert.equal(first.headers['x-collector-key'], 'secret value', 'OTEL_EXPORTER_OTLP_HEADERS, percent-decoded');
  assert.equal(first.headers['x-team'], 'edge');
  assert.match(first.content_type, /^application\/json/);
  assert.deepEqual(first.resource['service.name'], { kind: 'string_value', value: 'edgechat-edge' });

  const byId = (id) => spans.find((s) => s.attributes['edgechat.request_id'].value === id);
  const a = (s, k) => s.attributes[k]?.value;
  for (const [i, id] of ids.slice(0, 2).entries()) {
    const s = byId(id);
    assert.ok(s, `a span for ${id}`);
    assert.equal(s.name, 'chat fast');
    assert.equal(s.kind, 3, 'SPAN_KIND_CLIENT');
    assert.equal(a(s, 'gen_ai.operation.name'), 'chat');
    assert.equal(a(s, 'gen_ai.provider.name'), 'openai');
    assert.equal(a(s, 'gen_ai.request.model'), 'fast');
    assert.equal(a(s, 'gen_ai.response.model'), 'gpt-4o-mini');
    assert.equal(s.attributes['gen_ai.usage.input_tokens'].kind, 'int_value');
    assert.equal(Number(a(s, 'gen_ai.usage.input_tokens')), usages[i].input_tokens);
    assert.equal(Number(a(s, 'gen_ai.usage.output_tokens')), usages[i].output_tokens);
    assert.equal(s.attributes['edgechat.cost_usd'].kind, 'double_value');
    assert.equal(a(s, 'edgechat.cost_usd'), usages[i].cost_usd);
    assert.equal(a(s, 'error.type'), undefined);
    assert.equal(s.status_code, 0);
    assert.equal(s.trace_id.length, 32);
    assert.ok(s.end >= s.start && s.start > 1.7e18);
  }
  const bad = byId(ids[2]);
  assert.equal(a(bad, 'gen_ai.provider.name'), 'anthropic');
  assert.equal(a(bad, 'error.type'), '400');
  assert.equal(Number(a(bad, 'http.response.status_code')), 400);
  assert.equal(bad.status_code, 2, 'STATUS_CODE_ERROR');
});

test('workerd: a collector that is down costs a counted drop, never the request', async () => {
  const down = await setup({
    edgeConfig: config(),
    vars: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await closedPort()}` },
  });
  try {
    for (const content of ['one', 'two']) {
      const res = await down.chat({ model: 'fast', messages: [{ role: 'user', content }] });
      assert.equal(res.status, 200);
      const events = await readSse(res);
      assert.equal(events.at(-1).event, 'done', 'the answer completes');
    }
    const deadline = Date.now() + 8000;
    let drop;
    while (!drop && Date.now() < deadline) {
      await sleep(100);
      drop = down.edge
        .output()
        .split('\n')
        .map((l) => l.slice(l.indexOf('{')))
        .filter((l) => l.includes('otel_dropped'))
        .map((l) => JSON.parse(l))[0];
    }
    assert.ok(drop, `an otel_dropped line; output:\n${down.edge.output().slice(-1500)}`);
    assert.equal(drop.otel_dropped, 2, 'the batch of two');
    assert.equal(drop.otel_dropped_total, 2);
    assert.ok(drop.otel_error.length > 0);
    const next = await down.chat({ model: 'fast', messages: [{ role: 'user', content: 'still serving' }] });
    assert.equal((await readSse(next)).at(-1).event, 'done');
  } finally {
    await down.stop();
  }
});
