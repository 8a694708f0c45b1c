// Without the STREAMS Durable Object (plain workerd config): no resumable streams, everything else works, and
// usage is still recorded for every stream. Also: retention expiry with the object bound.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, chat, resume, stop, text, events, sleep, ORIGIN, CONFIG } from './helpers.mjs';

let s;
before(async () => {
  // keep-alive pings every 200 ms find a client that went away
  const config = { ...CONFIG, limits: { ...CONFIG.limits, keepalive_ms: 200 } };
  s = await startStack({ streams: false, config });
});
after(async () => {
  await s?.stop();
});

test('config says resumable:false and streams carry no stream object', async () => {
  const cfg = await (await fetch(`${s.edge.url}/api/config`, { headers: { origin: ORIGIN } })).json();
  assert.equal(cfg.resumable, false);
  const res = await chat(s.edge, { messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-edgechat-stream-id'), null);
  const body = await text(res);
  assert.ok(!body.startsWith('retry:'));
  const ev = events(body);
  assert.equal(ev[0].data.resumable, false);
  assert.deepEqual(
    ev.slice(-2).map((e) => e.name),
    ['usage', 'done'],
  );
});

test('the stream routes answer a clear 404', async () => {
  const id = 'ab'.repeat(32);
  for (const res of [await resume(s.edge, id, 3), await stop(s.edge, id)]) {
    assert.equal(res.status, 404);
    const body = await res.json();
    assert.equal(body.error.type, 'not_found');
    assert.match(body.error.message, /resumable streams are not enabled/);
  }
});

test('a failed stream sends usage before its error even when nothing was generated', async () => {
  s.up.queue({ scenario: 'error', after: 1 });
  const ev = events(await text(await chat(s.edge, { messages: [{ role: 'user', content: 'fail early' }] })));
  assert.deepEqual(ev.map((e) => e.name).slice(-2), ['usage', 'error']);
  const usage = ev.at(-2).data;
  assert.ok(usage.input_tokens > 0, 'the prompt is billed');
  assert.equal(usage.estimated, true);
  const log = await s.edge.logFor(ev[0].data.request_id);
  assert.equal(log.input_tokens, usage.input_tokens);
});

test('a client abort still logs usage (the stop of the stateless path)', async () => {
  s.up.reset();
  s.up.queue({ scenario: 'hold', after: 6 });
  const controller = new AbortController();
  const res = await chat(
    s.edge,
    { messages: [{ role: 'user', content: 'abort me mock:words=40' }] },
    { signal: controller.signal },
  );
  const requestId = res.headers.get('x-request-id');
  await s.up.waitFor((reqs) => reqs.some((r) => r.held));
  controller.abort();
  const req = await s.up.waitFor((reqs) => reqs.find((r) => r.endedAt));
  assert.equal(req.aborted, true, 'the client abort reaches the upstream');
  const log = await s.edge.logFor(requestId);
  assert.equal(log.outcome, 'aborted');
  assert.ok(log.duration_ms < 3000, `noticed in ${log.duration_ms} ms`);
  assert.ok(log.output_tokens > 0);
  assert.equal(log.usage_estimated, true);
});

test('with the object bound, a finished stream is forgotten after its retention time', async () => {
  const t = await startStack({ vars: { EDGECHAT_STREAMS: { retention_seconds: 1, retry_ms: 2500 } } });
  try {
    const res = await chat(t.edge, { messages: [{ role: 'user', content: 'short' }] });
    const body = await text(res);
    assert.ok(body.startsWith('retry: 2500\n\n'));
    const id = events(body)[0].data.stream_id;
    assert.equal((await resume(t.edge, id, 0)).status, 200);
    await sleep(1100);
    const gone = await resume(t.edge, id, 0);
    assert.equal(gone.status, 404);
    assert.equal((await gone.json()).error.type, 'not_found');
  } finally {
    await t.stop();
  }
});

test('an invalid EDGECHAT_STREAMS fails the request with a clear internal error, not a hang', async () => {
  const t = await startStack({ vars: { EDGECHAT_STREAMS: { retension: 1 } } });
  try {
    const res = await chat(t.edge, { messages: [{ role: 'user', content: 'x' }] });
    assert.equal(res.status, 500);
    assert.equal((await res.json()).error.type, 'internal');
    assert.match(t.edge.output(), /EDGECHAT_STREAMS: unknown field/);
    const log = await t.edge.logFor(res.headers.get('x-request-id'));
    assert.equal(log.status, 500);
    assert.equal(log.error, 'internal');
  } finally {
    await t.stop();
  }
});

test('with the object bound, a complete answer fills the cache; a hit is served whole and is not resumable', async () => {
  const t = await startStack({ config: { ...CONFIG, cache: { exact: true } } });
  try {
    const req = { messages: [{ role: 'user', content: 'cache me' }], temperature: 0 };
    const first = await chat(t.edge, req);
    assert.equal(first.headers.get('x-edgechat-cache'), 'miss');
    const a = events(await text(first));
    assert.equal(a[0].data.resumable, true);
    await t.edge.logFor(a[0].data.request_id); // the object stores the answer before its log line
    const second = await chat(t.edge, req);
    assert.equal(second.headers.get('x-edgechat-cache'), 'hit');
    assert.equal(second.headers.get('x-edgechat-stream-id'), null);
    const b = events(await text(second));
    assert.equal(b[0].data.resumable, false);
    const deltas = (ev) =>
      ev
        .filter((e) => e.name === 'delta')
        .map((e) => e.data.text)
        .join('');
    assert.equal(deltas(b), deltas(a));
    assert.equal(t.up.requests().length, 1, 'the hit did not reach the upstream');
  } finally {
    await t.stop();
  }
});
