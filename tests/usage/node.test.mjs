// The usage store on plain Node (worker/node.mjs): the same admin API over the in-process store (single-process,
// bounded): records read back newest first with paging, aggregates by each group_by, totals equal what the
// clients saw.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readSse } from '../support/edge.mjs';
import { setup, config } from '../edge/common.mjs';
import { ADMIN_TOKEN, admin, allRecords, waitForRecords, widgetUsage, METRICS, sum } from './helpers.mjs';

let t;
before(async () => {
  t = await setup({ runtime: 'node', edgeConfig: config({ usage: { memory_records: 4 } }), vars: { ADMIN_TOKEN } });
});
after(async () => {
  await t?.stop();
});

test('node: records and aggregates from the in-process store, bounded to usage.memory_records', async () => {
  const seen = [];
  for (const [content, scenario] of [
    ['one', null],
    ['two', '400'],
    ['three', null],
  ]) {
    if (scenario) t.up.queue({ scenario, match: '/chat/completions' });
    const res = await t.chat({ model: 'fast', messages: [{ role: 'user', content }] });
    let events = [];
    if (res.status === 200) events = await readSse(res);
    else await res.text();
    seen.push({ id: res.headers.get('x-request-id'), usage: widgetUsage(events), status: res.status });
  }
  const records = await waitForRecords(t.edge, 3);
  assert.deepEqual(
    records.map((r) => r.id),
    seen.map((s) => s.id).reverse(),
    'newest first',
  );
  assert.deepEqual(
    records.map((r) => r.outcome),
    ['complete', 'error', 'complete'],
  );
  for (const dim of ['hour', 'day', 'model', 'site_key', 'subject', 'outcome', 'task']) {
    const u = await (await admin(t.edge, `/api/admin/usage?group_by=${dim}`)).json();
    assert.equal(u.totals.requests, 3, dim);
    for (const m of METRICS)
      assert.equal(
        u.totals[m],
        sum(
          seen.map((s) => s.usage),
          m,
        ),
        `${dim} ${m}`,
      );
    assert.ok(
      Math.abs(
        u.totals.cost_usd -
          sum(
            seen.map((s) => s.usage),
            'cost_usd',
          ),
      ) < 1e-9,
    );
    assert.equal(sum(u.groups, 'requests'), 3);
  }
  const page = await (await admin(t.edge, '/api/admin/requests?limit=2')).json();
  assert.equal(page.requests.length, 2);
  assert.ok(page.next);
  // Bounded: two more requests, and only the newest four records remain (the aggregates keep counting).
  for (const content of ['four', 'five'])
    await readSse(await t.chat({ model: 'fast', messages: [{ role: 'user', content }] }));
  const deadline = Date.now() + 5000;
  let u;
  do {
    u = await (await admin(t.edge, '/api/admin/usage')).json();
  } while (u.totals.requests < 5 && Date.now() < deadline);
  assert.equal(u.totals.requests, 5);
  assert.equal((await allRecords(t.edge)).length, 4);
  assert.equal((await admin(t.edge, '/api/admin/requests', { token: 'wrong' })).status, 401);
});
