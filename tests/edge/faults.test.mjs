// Resilience, in real workerd and on plain Node (worker/node.mjs): every fault of the mock upstream, retries before
// the first byte (honouring retry-after), the fallback chain, first-token and stall timeouts, truncation (a close or
// a reset mid-stream), client disconnect, and that streaming is incremental. No fault may take the edge's process
// down or leave it unable to serve the next request.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readSse, sseStream, parseSse } from '../support/edge.mjs';
import { RUNTIMES, setup, user } from './common.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const chatPath = '/chat/completions';

for (const runtime of RUNTIMES) describe(runtime, () => faults(runtime));

function faults(runtime) {
  let t;
  before(async () => {
    t = await setup({ runtime });
  });
  after(async () => {
    await t?.stop();
  });

  async function run(body) {
    const before = t.up.requests().length;
    const res = await t.chat(body);
    const rid = res.headers.get('x-request-id');
    const events = res.status === 200 ? await readSse(res) : [];
    const error = res.status === 200 ? null : JSON.parse(await res.text()).error;
    const log = await t.edge.logFor(rid);
    return { res, events, error, log, upstream: t.up.requests().slice(before) };
  }

  function assertComplete(events) {
    assert.equal(events[0].event, 'start');
    assert.equal(events.at(-1).event, 'done', JSON.stringify(events.slice(-2)));
    assert.ok(events.some((e) => e.event === 'delta'));
  }

  test('429 with retry-after, then success: retried after the hint, one stream', async () => {
    t.up.queue({ scenario: '429', retryAfterMs: 300, match: chatPath });
    const started = Date.now();
    const r = await run({ model: 'fast', ...user('rate me') });
    assert.equal(r.res.status, 200);
    assertComplete(r.events);
    assert.equal(r.upstream.length, 2);
    assert.ok(r.upstream[1].receivedAt - r.upstream[0].receivedAt >= 280, 'waited for retry-after');
    assert.ok(Date.now() - started >= 300);
    assert.equal(r.log.attempts, 2);
    assert.equal(r.log.outcome, 'complete');
  });

  for (const status of ['500', '503']) {
    test(`${status} once, then success`, async () => {
      t.up.queue({ scenario: status, match: chatPath });
      const r = await run({ model: 'fast', ...user(`status ${status}`) });
      assert.equal(r.res.status, 200);
      assertComplete(r.events);
      assert.equal(r.log.attempts, 2);
    });
  }

  test('529 overloaded from Anthropic, then success', async () => {
    t.up.queue({ scenario: '529', match: '/messages' });
    const r = await run({ model: 'smart', ...user('overloaded') });
    assert.equal(r.res.status, 200);
    assertComplete(r.events);
    assert.equal(r.log.attempts, 2);
    assert.equal(r.log.provider, 'anthropic');
  });

  test('retryable failures exhausted: 502 upstream_error, no fallback configured', async () => {
    t.up.queue({ scenario: '503', count: 3, match: chatPath });
    const r = await run({ model: 'fast', ...user('always down') });
    assert.equal(r.res.status, 502);
    assert.equal(r.error.type, 'upstream_error');
    assert.equal(r.upstream.length, 3);
    assert.equal(r.log.attempts, 3);
    assert.equal(r.log.status, 502);
  });

  test('a non-retryable 400 from the provider is not retried', async () => {
    t.up.queue({ scenario: '400', match: chatPath });
    const r = await run({ model: 'fast', ...user('bad') });
    assert.equal(r.res.status, 400);
    assert.equal(r.error.type, 'bad_request');
    assert.equal(r.upstream.length, 1);
  });

  test('fallback chain: OpenAI keeps failing, Anthropic answers', async () => {
    t.up.queue({ scenario: '503', count: 3, match: chatPath });
    const r = await run({ model: 'chain', ...user('fall back') });
    assert.equal(r.res.status, 200);
    assertComplete(r.events);
    assert.equal(r.events[0].data.provider, 'anthropic');
    assert.equal(r.events[0].data.model, 'smart', 'start names the alias that serves');
    assert.deepEqual(
      r.upstream.map((u) => u.path),
      ['/v1/chat/completions', '/v1/chat/completions', '/v1/chat/completions', '/v1/messages'],
    );
    assert.equal(r.log.attempts, 4);
    assert.equal(r.log.provider, 'anthropic');
    assert.equal(r.log.model, 'claude-sonnet-4-5');
  });

  test('connection reset before the first byte is retried', async () => {
    t.up.queue({ scenario: 'reset', match: chatPath });
    const r = await run({ model: 'fast', ...user('reset') });
    assert.equal(r.res.status, 200);
    assertComplete(r.events);
    assert.equal(r.log.attempts, 2);
  });

  test('no first byte within first_token_timeout_ms: aborted and retried', async () => {
    t.up.queue({ scenario: 'stall', after: 0, match: chatPath });
    const r = await run({ model: 'fast', ...user('slow start') });
    assert.equal(r.res.status, 200);
    assertComplete(r.events);
    assert.equal(r.log.attempts, 2);
    await sleep(50);
    assert.equal(t.up.requests().find((u) => u.id === r.upstream[0].id).aborted, true);
  });

  test('disconnect mid-stream: error with truncated: true, usage estimated, never a normal end', async () => {
    t.up.queue({ scenario: 'disconnect', after: 4, match: chatPath });
    const r = await run({ model: 'fast', ...user('cut me') });
    assert.equal(r.res.status, 200);
    const last = r.events.at(-1);
    assert.equal(last.event, 'error');
    assert.equal(last.data.truncated, true);
    assert.ok(!r.events.some((e) => e.event === 'done'));
    const usage = r.events.find((e) => e.event === 'usage');
    assert.equal(usage.data.estimated, true);
    assert.equal(r.log.outcome, 'truncated');
  });

  test('upstream resets mid-stream: error truncated, usage, the edge survives and serves the next request', async () => {
    t.up.queue({ scenario: 'reset', after: 4, match: chatPath });
    const r = await run({ model: 'fast', ...user('reset me') });
    assert.equal(r.res.status, 200);
    assert.equal(r.upstream.length, 1, 'no retry after the first byte');
    assert.ok(
      r.events.some((e) => e.event === 'delta'),
      'the events before the reset reached the client',
    );
    const last = r.events.at(-1);
    assert.equal(last.event, 'error', JSON.stringify(r.events.slice(-2)));
    assert.equal(last.data.truncated, true);
    assert.ok(!r.events.some((e) => e.event === 'done'));
    const usage = r.events.find((e) => e.event === 'usage');
    assert.ok(usage, 'a usage event before the error');
    assert.equal(usage.data.estimated, true);
    assert.ok(usage.data.output_tokens > 0);
    assert.equal(r.log.outcome, 'truncated');
    // The same on the pass-through route: the SDK gets its error event.
    t.up.queue({ scenario: 'reset', after: 4, match: chatPath });
    const res = await t.post('/v1/chat/completions', {
      model: 'fast',
      stream: true,
      messages: [{ role: 'user', content: 'reset compat' }],
    });
    assert.equal(res.status, 200);
    const events = parseSse(await res.text());
    assert.ok(events.at(-1).data?.error, JSON.stringify(events.slice(-2)));
    assert.equal((await t.edge.logFor(res.headers.get('x-request-id'))).outcome, 'truncated');
    await sleep(100); // a rejection nobody handles would end a Node process about now
    assertAlive();
    const next = await run({ model: 'fast', ...user('after the reset') });
    assertComplete(next.events);
  });

  test('stream without its terminal event: error truncated', async () => {
    t.up.queue({ scenario: 'no-terminal', match: '/messages' });
    const r = await run({ model: 'smart', ...user('no end') });
    const last = r.events.at(-1);
    assert.equal(last.event, 'error');
    assert.equal(last.data.type, 'truncated');
    assert.equal(last.data.truncated, true);
    assert.equal(r.log.outcome, 'truncated');
  });

  test('stall mid-stream: stall timeout ends the stream with an error and aborts the upstream', async () => {
    t.up.queue({ scenario: 'stall', after: 4, match: chatPath });
    const r = await run({ model: 'fast', ...user('stall') });
    const last = r.events.at(-1);
    assert.equal(last.event, 'error');
    assert.equal(last.data.type, 'stalled');
    assert.equal(last.data.truncated, true);
    assert.equal(r.log.outcome, 'truncated');
    await sleep(100);
    assert.equal(t.up.requests().find((u) => u.id === r.upstream[0].id).aborted, true);
  });

  test('malformed event: error, not a normal end', async () => {
    t.up.queue({ scenario: 'malformed', after: 3, match: chatPath });
    const r = await run({ model: 'fast', ...user('garbled') });
    const last = r.events.at(-1);
    assert.equal(last.event, 'error');
    assert.equal(last.data.type, 'malformed_event');
    assert.equal(r.log.outcome, 'error');
  });

  test('mid-stream provider error event: error event with the provider type', async () => {
    t.up.queue({ scenario: 'error', after: 4, match: '/messages' });
    const r = await run({ model: 'smart', ...user('midstream') });
    const last = r.events.at(-1);
    assert.equal(last.event, 'error');
    assert.equal(last.data.type, 'overloaded');
    assert.equal(last.data.truncated, false);
    assert.equal(r.log.outcome, 'error');
  });

  test('incremental: start and deltas reach the client while the upstream holds the stream open', async () => {
    t.up.queue({ scenario: 'hold', after: 3, match: chatPath });
    const res = await t.chat({ model: 'fast', ...user('hold on') });
    const s = sseStream(res);
    const first = await s.next();
    assert.equal(first.event, 'start');
    const second = await s.next();
    assert.equal(second.event, 'delta');
    const held = t.up.requests().at(-1);
    for (let i = 0; i < 100 && !held.held; i++) await sleep(10);
    assert.equal(held.held, true, 'the upstream is holding the stream open');
    assert.equal(held.completed, false);
    t.up.release();
    const rest = [];
    for (let e = await s.next(); e; e = await s.next()) rest.push(e);
    assert.equal(rest.at(-1).event, 'done');
  });

  test('client disconnect aborts the upstream; the log says aborted', async () => {
    t.up.queue({ scenario: 'hold', after: 3, match: chatPath });
    const res = await t.chat({ model: 'fast', ...user('leave early') });
    const rid = res.headers.get('x-request-id');
    const s = sseStream(res);
    assert.equal((await s.next()).event, 'start');
    assert.equal((await s.next()).event, 'delta');
    const held = t.up.requests().at(-1);
    for (let i = 0; i < 100 && !held.held; i++) await sleep(10);
    const cancelledAt = Date.now();
    await s.cancel();
    const log = await t.edge.logFor(rid, 8000);
    console.log('abort noticed after', Date.now() - cancelledAt, 'ms; error', log.error);
    assert.equal(log.outcome, 'aborted');
    assert.ok(log.output_tokens > 0, 'usage still logged (estimated)');
    for (let i = 0; i < 40 && !held.aborted; i++) await sleep(50);
    assert.equal(held.aborted, true, 'the upstream saw the abort');
    t.up.release();
  });

  test('compat route: retries too, and a truncated pass-through stream ends with an error event', async () => {
    t.up.queue({ scenario: '429', retryAfterMs: 20, match: '/messages' });
    let res = await t.post(
      '/v1/messages',
      { model: 'smart', max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'x' }] },
      { 'anthropic-version': '2023-06-01' },
    );
    assert.equal(res.status, 200);
    let events = parseSse(await res.text());
    assert.equal(events.at(-1).event, 'message_stop');
    t.up.queue({ scenario: 'no-terminal', match: '/messages' });
    res = await t.post(
      '/v1/messages',
      { model: 'smart', max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'x' }] },
      { 'anthropic-version': '2023-06-01' },
    );
    events = parseSse(await res.text());
    assert.equal(events.at(-1).event, 'error');
    const log = await t.edge.logFor(res.headers.get('x-request-id'));
    assert.equal(log.outcome, 'truncated');
    t.up.queue({ scenario: '429', count: 3, retryAfterMs: 10, match: chatPath });
    res = await t.post('/v1/chat/completions', { model: 'fast', messages: [{ role: 'user', content: 'x' }] });
    assert.equal(res.status, 429, 'the provider error passes through after retries');
    assert.ok(res.headers.get('retry-after'));
    assert.ok(JSON.parse(await res.text()).error.message);
  });

  test('the edge is still up and printed no unhandled rejection', async () => {
    assertAlive();
    const res = await t.chat({ model: 'fast', ...user('still there') });
    assertComplete(await readSse(res));
  });

  /** The edge's process has not exited, and it printed no rejection nobody handled. */
  function assertAlive() {
    if (t.edge.alive)
      assert.ok(t.edge.alive(), `the Node process exited (${t.edge.exitCode()}):\n${t.edge.output().slice(-2000)}`);
    const out = t.edge.output();
    assert.doesNotMatch(out, /unhandled|Uncaught \(in promise\)/i, out.slice(-2000));
  }
}
