// Per-client limits in real workerd, with both limiters: the Durable Object (global, exact) and the in-isolate
// fallback when no LIMITER binding exists. Clients are told apart by session subject.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSse, sseStream } from '../support/edge.mjs';
import { setup, config, user, SESSION_SECRET } from './common.mjs';

function token(sub) {
  const payload = Buffer.from(JSON.stringify({ sub, exp: Math.floor(Date.now() / 1000) + 600 })).toString('base64url');
  return `${payload}.${createHmac('sha256', SESSION_SECRET).update(payload).digest('base64url')}`;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

for (const kind of ['durable_object', 'isolate']) {
  let t;
  const as = (sub) => ({ authorization: `Bearer ${token(`${kind}-${sub}`)}` });
  before(async () => {
    t = await setup({
      durableObject: kind === 'durable_object',
      edgeConfig: config({
        limits: { requests_per_minute: 3, concurrent_streams: 1, daily_tokens: 60, stall_timeout_ms: 5000 },
      }),
    });
  });
  after(async () => {
    await t?.stop();
  });

  test(`${kind}: requests per minute → 429 rate_limited with Retry-After`, async () => {
    for (let i = 0; i < 3; i++) {
      const res = await t.chat(user('mock:words=2 hi'), as('rpm'));
      assert.equal(res.status, 200);
      const rid = res.headers.get('x-request-id');
      await readSse(res);
      assert.equal((await t.edge.logFor(rid)).limiter, kind);
    }
    const res = await t.chat(user('hi'), as('rpm'));
    assert.equal(res.status, 429);
    const retry = Number(res.headers.get('retry-after'));
    assert.ok(retry >= 1 && retry <= 60, `retry-after ${retry}`);
    const body = await res.json();
    assert.equal(body.error.type, 'rate_limited');
    assert.match(body.error.message, /3 requests per minute/);
    // Another visitor is not affected.
    assert.equal((await t.chat(user('mock:words=2 hi'), as('other'))).status, 200);
  });

  test(`${kind}: concurrent streams → 429 until the open stream ends`, async () => {
    t.up.queue({ scenario: 'hold', after: 2, match: '/chat/completions' });
    const first = await t.chat(user('hold'), as('conc'));
    const s = sseStream(first);
    assert.equal((await s.next()).event, 'start');
    const second = await t.chat(user('mock:words=2 second'), as('conc'));
    assert.equal(second.status, 429);
    const body = await second.json();
    assert.equal(body.error.type, 'rate_limited');
    assert.match(body.error.message, /1 streams at once/);
    t.up.release();
    for (let e = await s.next(); e; e = await s.next());
    let third;
    for (let i = 0; i < 20; i++) {
      // the slot is released right after the stream's last event
      third = await t.chat(user('mock:words=2 third'), as('conc'));
      if (third.status === 200) break;
      await third.text();
      await sleep(50);
    }
    assert.equal(third.status, 200);
    await third.text();
  });

  test(`${kind}: daily token budget → 429 budget_exceeded`, async () => {
    let status = 0;
    let body;
    let n = 0;
    for (; n < 6; n++) {
      const res = await t.chat(user('budget please'), as('budget'));
      status = res.status;
      if (status !== 200) {
        body = await res.json();
        break;
      }
      await readSse(res);
      await sleep(30);
    }
    assert.equal(status, 429);
    assert.equal(body.error.type, 'budget_exceeded');
    assert.ok(n >= 2, `the budget allowed ${n} requests`);
  });
}

test('durable_object: the daily budget survives a restart (persisted in Durable Object storage)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgechat-limiter-'));
  const edgeConfig = config({ limits: { daily_tokens: 40 } });
  const h = { authorization: `Bearer ${token('persisted')}` };
  try {
    let t = await setup({ edgeConfig, persist: dir });
    // The live budget cuts the answer where the 40 tokens run out: `done` says so, and the day's budget is spent.
    let res = await t.chat(user('budget please mock:words=60'), h);
    assert.equal(res.status, 200);
    const events = await readSse(res);
    const done = events.find((e) => e.event === 'done');
    assert.ok(done, events.map((e) => e.event).join(','));
    assert.equal(done.data.stopped, true);
    assert.equal(done.data.reason, 'budget');
    assert.ok(
      events.some((e) => e.event === 'usage'),
      'usage before done',
    );
    const log = await t.edge.logFor(res.headers.get('x-request-id'));
    assert.equal(log.outcome, 'budget');
    await t.stop();
    t = await setup({ edgeConfig, persist: dir });
    try {
      res = await t.chat(user('budget please'), h);
      assert.equal(res.status, 429);
      assert.equal((await res.json()).error.type, 'budget_exceeded');
    } finally {
      await t.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
