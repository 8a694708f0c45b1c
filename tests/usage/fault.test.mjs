// A failing usage store never fails a request: with the test-only EDGECHAT_USAGE_FAULT=throw, the USAGE Durable
// Object's write throws (workerd) or the in-process store's write fails (Node); the chat completes normally and the
// failure is logged and counted (`usage_store_error`: records lost, and in the isolate so far).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readSse } from '../support/edge.mjs';
import { setup, config, RUNTIMES } from '../edge/common.mjs';
import { ADMIN_TOKEN, admin, sleep } from './helpers.mjs';

const stacks = [];
after(async () => {
  for (const s of stacks) await s.stop();
});

for (const runtime of RUNTIMES) {
  test(`${runtime}: a store that throws costs a logged, counted error and nothing else`, async () => {
    const t = await setup({ runtime, edgeConfig: config(), vars: { ADMIN_TOKEN, EDGECHAT_USAGE_FAULT: 'throw' } });
    stacks.push(t);
    const ids = [];
    for (const content of ['first', 'second']) {
      const res = await t.chat({ model: 'fast', messages: [{ role: 'user', content }] });
      assert.equal(res.status, 200);
      const events = await readSse(res);
      assert.deepEqual(
        events.slice(-2).map((e) => e.event),
        ['usage', 'done'],
      );
      ids.push(res.headers.get('x-request-id'));
      assert.equal((await t.edge.logFor(ids.at(-1))).outcome, 'complete');
    }
    const errors = () =>
      t.edge
        .output()
        .split('\n')
        .filter((l) => l.includes('usage_store_error'))
        .map((l) => JSON.parse(l.slice(l.indexOf('{'))));
    // The records' writes fail (workerd: the shard's writeMany throws for the batch; Node: each write); the log
    // says how many records were lost, with a running count.
    const lostOf = (e) => Number(/lost (\d+) record/.exec(e.usage_store_error)?.[1] ?? 0);
    const deadline = Date.now() + 5000;
    while (errors().reduce((a, e) => a + lostOf(e), 0) < 2 && Date.now() < deadline) await sleep(25);
    const seen = errors();
    assert.equal(
      seen.reduce((a, e) => a + lostOf(e), 0),
      2,
      JSON.stringify(seen),
    );
    assert.match(seen[0].usage_store_error, /fault injected/);
    assert.match(seen.at(-1).usage_store_error, /\(2 in this isolate\)/, 'counted');
    assert.ok(seen.every((e) => ids.includes(e.request_id)));
    const page = await (await admin(t.edge, '/api/admin/requests')).json();
    assert.deepEqual(page.requests, [], 'nothing was kept');
  });
}
