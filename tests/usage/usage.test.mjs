// The usage store in real workerd (Miniflare, the USAGE SQLite Durable Object shards): every route and outcome
// writes a record, the admin API reads them back (each group_by, paging, filters), the totals equal what the
// clients saw, and the admin API's auth, CORS and parameter errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readSse } from '../support/edge.mjs';
import { setup, config, MODELS, SESSION_SECRET, ORIGIN } from '../edge/common.mjs';
import {
  ADMIN_TOKEN,
  admin,
  allRecords,
  waitForRecords,
  widgetUsage,
  chatStreamUsage,
  messagesStreamUsage,
  responsesUsage,
  METRICS,
  sum,
  sleep,
} from './helpers.mjs';

const SITE = 'pk_shop';
const edgeConfig = config({
  models: {
    ...MODELS,
    tiny: {
      provider: 'openai-chat',
      model: 'gpt-4o-mini',
      context_tokens: 700,
      summarize: { model: 'fast', max_tokens: 60 },
    },
  },
  site_keys: { [SITE]: { origins: ['*'], allow_no_origin: true } },
  routing: { tasks: { chat: 'fast', code: 'smart', summarization: 'fast' } },
  limits: { max_tokens: 200, max_messages: 500, max_total_chars: 500_000, daily_spend_usd: 5 },
  usage: { shards: 4 },
});

function token(claims) {
  const payload = Buffer.from(JSON.stringify({ exp: Math.floor(Date.now() / 1000) + 600, ...claims })).toString(
    'base64url',
  );
  return `${payload}.${createHmac('sha256', SESSION_SECRET).update(payload).digest('base64url')}`;
}

function longChat(turns) {
  const messages = [];
  for (let i = 0; i < turns; i++) {
    messages.push({ role: 'user', content: `Question ${i}: ${'tell me more about the order '.repeat(4)}` });
    messages.push({ role: 'assistant', content: `Answer ${i}: ${'here is what I know about it '.repeat(4)}` });
  }
  messages.push({ role: 'user', content: 'And the last question?' });
  return messages;
}

let t;
let stopped;
/** What each client saw: { id, route, outcome, usage }. */
const seen = [];

before(async () => {
  t = await setup({ edgeConfig, vars: { ADMIN_TOKEN } });
});
after(async () => {
  await t?.stop();
  await stopped?.stop();
});

const KEYED = { 'x-edgechat-site-key': SITE };

async function widget(body, headers = KEYED) {
  const res = await t.chat(body, headers);
  const id = res.headers.get('x-request-id');
  const events = res.status === 200 ? await readSse(res) : [{ status: res.status, body: await res.text() }];
  return { res, id, events };
}

test('workerd: every route and outcome writes a record; the admin API reads them back', async () => {
  const shop = { 'x-edgechat-site-key': SITE, authorization: `Bearer ${token({ site: SITE, sub: 'visitor-1' })}` };
  // complete, on /api/chat with a site key and a session (subject), through task routing
  let r = await widget({ model: 'auto', messages: [{ role: 'user', content: 'Hello there' }] }, shop);
  assert.equal(r.res.status, 200);
  seen.push({ id: r.id, route: '/api/chat', outcome: 'complete', usage: widgetUsage(r.events) });
  // cached: the same deterministic request twice (the second is an exact-cache hit)
  for (const expect of ['miss', 'exact']) {
    r = await widget({ model: 'fast', temperature: 0, messages: [{ role: 'user', content: 'Cache me' }] });
    assert.equal(r.res.status, 200, JSON.stringify(r.events));
    assert.equal(r.res.headers.get('x-edgechat-cache'), expect === 'miss' ? 'miss' : 'hit');
    seen.push({ id: r.id, route: '/api/chat', outcome: 'complete', cache: expect, usage: widgetUsage(r.events) });
  }
  // truncated: the upstream disconnects mid-stream
  t.up.queue({ scenario: 'disconnect', after: 4, match: '/chat/completions' });
  r = await widget({ model: 'fast', messages: [{ role: 'user', content: 'cut me' }] });
  assert.equal(r.events.at(-1).event, 'error');
  seen.push({ id: r.id, route: '/api/chat', outcome: 'truncated', usage: widgetUsage(r.events) });
  // failed: the provider refuses the request
  t.up.queue({ scenario: '400', match: '/chat/completions' });
  r = await widget({ model: 'fast', messages: [{ role: 'user', content: 'refuse me' }] });
  assert.equal(r.res.status, 400);
  seen.push({ id: r.id, route: '/api/chat', outcome: 'error', usage: widgetUsage([]) });
  // summary: a conversation over the model's context is summarized first (a record of its own)
  r = await widget({ model: 'tiny', messages: longChat(12) }, shop);
  assert.equal(r.events[1].event, 'summary');
  seen.push({ id: r.id, route: '/api/chat', outcome: 'complete', usage: widgetUsage(r.events), summarized: true });
  // the SDK routes
  let res = await t.post(
    '/v1/chat/completions',
    {
      model: 'fast',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'sdk chat' }],
    },
    KEYED,
  );
  seen.push({
    id: res.headers.get('x-request-id'),
    route: '/v1/chat/completions',
    outcome: 'complete',
    usage: chatStreamUsage(await res.text()),
  });
  res = await t.post('/v1/responses', { model: 'resp', input: 'sdk responses' }, KEYED);
  assert.equal(res.status, 200);
  seen.push({
    id: res.headers.get('x-request-id'),
    route: '/v1/responses',
    outcome: 'complete',
    usage: responsesUsage(await res.json()),
  });
  res = await t.post(
    '/v1/messages',
    { model: 'smart', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'sdk messages' }] },
    { ...KEYED, 'anthropic-version': '2023-06-01' },
  );
  seen.push({
    id: res.headers.get('x-request-id'),
    route: '/v1/messages',
    outcome: 'complete',
    usage: messagesStreamUsage(await res.text()),
  });

  // Read back: one record per request, plus the summarizer call's.
  const records = await waitForRecords(t.edge, seen.length + 1);
  assert.equal(records.length, seen.length + 1);
  const times = records.map((x) => x.time);
  assert.deepEqual(
    times,
    [...times].sort((a, b) => b - a),
    'newest first',
  );
  for (const s of seen) {
    const rec = records.find((x) => x.id === s.id && x.kind === 'chat');
    assert.ok(rec, `a record for ${s.route} ${s.outcome}`);
    assert.equal(rec.route, s.route);
    assert.equal(rec.outcome, s.outcome, JSON.stringify(rec));
    for (const m of Object.keys(s.usage))
      assert.equal(rec[m] ?? 0, s.usage[m], `${s.route} ${s.outcome} ${m}: ${JSON.stringify(rec)}`);
    if (s.cache) assert.equal(rec.cache, s.cache);
  }
  const summary = records.find((x) => x.kind === 'summary');
  assert.equal(summary.id, seen.find((s) => s.summarized).id, 'the summary record carries its request id');
  assert.ok(summary.input_tokens > 0 && summary.cost_usd > 0);
  const first = records.find((x) => x.id === seen[0].id);
  assert.equal(first.site_key, SITE);
  assert.match(first.subject, /^[0-9a-f]{16}$/, 'the subject is hashed');
  assert.equal(first.task, 'chat');
  assert.equal(first.alias, 'fast', 'the alias auto routed to');
  const failed = records.find((x) => x.outcome === 'error');
  assert.equal(failed.status, 400);
  assert.equal(failed.error_type, '400');
  assert.ok(records.find((x) => x.route === '/v1/messages').ttfb_ms >= 0);

  // Totals (group_by each dimension) equal what the clients saw, plus the summarizer call.
  // (SDK clients see tokens but no cost: theirs is the record's, checked against the request's log line.)
  for (const s of seen.filter((x) => x.route !== '/api/chat')) {
    const rec = records.find((x) => x.id === s.id);
    assert.ok(rec.cost_usd > 0);
    assert.equal(rec.cost_usd, (await t.edge.logFor(s.id)).cost_usd);
    s.usage.cost_usd = rec.cost_usd;
  }
  const clientTotals = {};
  for (const m of [...METRICS, 'cost_usd'])
    clientTotals[m] =
      sum(
        seen.map((s) => s.usage),
        m,
      ) + (summary[m] ?? 0);
  for (const dim of ['hour', 'day', 'model', 'site_key', 'subject', 'outcome', 'task', 'hour,model', 'day,outcome']) {
    const res = await admin(t.edge, `/api/admin/usage?group_by=${dim}`);
    assert.equal(res.status, 200, await res.clone().text());
    const u = await res.json();
    assert.deepEqual(u.group_by, dim.split(','));
    assert.equal(u.totals.requests, records.length, dim);
    for (const m of METRICS) assert.equal(u.totals[m], clientTotals[m], `${dim} ${m}`);
    assert.ok(
      Math.abs(u.totals.cost_usd - clientTotals.cost_usd) < 1e-9,
      `${dim} cost ${u.totals.cost_usd} vs ${clientTotals.cost_usd}`,
    );
    assert.equal(sum(u.groups, 'requests'), records.length, `${dim}: the groups add up`);
    for (const m of METRICS) assert.equal(sum(u.groups, m), u.totals[m]);
    for (const g of u.groups) for (const d of u.group_by) assert.ok(d in g, `${dim} group has ${d}`);
    assert.equal(u.totals.errors, 1);
    assert.equal(u.totals.cached, 1);
    assert.equal(u.totals.outcomes.truncated, 1);
    assert.ok(u.totals.ttfb_p50_ms > 0 && u.totals.ttfb_p95_ms >= u.totals.ttfb_p50_ms);
    assert.equal(u.budget.daily_spend_usd, 5);
    assert.equal(u.budget.daily_tokens, null);
    assert.ok(Math.abs(u.budget.spent_today_usd - clientTotals.cost_usd) < 1e-9);
  }
  const byModel = await (await admin(t.edge, '/api/admin/usage?group_by=model')).json();
  const mini = byModel.groups.find((g) => g.model === 'gpt-4o-mini');
  assert.equal(mini.requests, records.filter((x) => x.model === 'gpt-4o-mini').length);
  const byHour = await (await admin(t.edge, '/api/admin/usage?group_by=hour')).json();
  assert.match(byHour.groups[0].hour, /^\d{4}-\d\d-\d\dT\d\d:00:00Z$/);
  const byDay = await (await admin(t.edge, '/api/admin/usage?group_by=day')).json();
  assert.match(byDay.groups[0].day, /^\d{4}-\d\d-\d\d$/);
  const bySite = await (await admin(t.edge, '/api/admin/usage?group_by=site_key')).json();
  assert.equal(
    bySite.groups.find((g) => g.site_key === SITE).requests,
    records.filter((x) => x.site_key === SITE).length,
  );
  // a range that holds nothing
  const empty = await (
    await admin(t.edge, '/api/admin/usage?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z')
  ).json();
  assert.deepEqual([empty.groups.length, empty.totals.requests], [0, 0]);

  // Paging (2 a page) lists every record once, newest first; filters.
  const paged = await allRecords(t.edge, '', 2);
  assert.deepEqual(
    paged.map((x) => `${x.id}.${x.kind}`),
    records.map((x) => `${x.id}.${x.kind}`),
  );
  assert.deepEqual(
    (await allRecords(t.edge, 'outcome=error')).map((x) => x.id),
    [failed.id],
  );
  assert.equal((await allRecords(t.edge, `site_key=${SITE}`)).length, records.length);
  assert.equal((await allRecords(t.edge, 'model=smart')).length, 1, 'model= matches the alias too');
});

test('workerd: the admin API needs the bearer token, is never CORS-exposed, and names bad parameters', async () => {
  assert.equal((await admin(t.edge, '/api/admin/usage', { token: null })).status, 401);
  const wrong = await admin(t.edge, '/api/admin/usage', { token: `${ADMIN_TOKEN}x` });
  assert.equal(wrong.status, 401);
  assert.equal((await wrong.json()).error.type, 'unauthorized');
  assert.equal((await admin(t.edge, '/api/admin/usage', { token: ADMIN_TOKEN.slice(0, -1) })).status, 401);
  const fromSite = await admin(t.edge, '/api/admin/requests', { headers: { origin: ORIGIN } });
  assert.equal(fromSite.status, 200);
  assert.equal(fromSite.headers.get('access-control-allow-origin'), null, 'no CORS headers for an allowed origin');
  assert.equal(fromSite.headers.get('cache-control'), 'no-store');
  const preflight = await fetch(`${t.edge.url}/api/admin/usage`, {
    method: 'OPTIONS',
    headers: {
      origin: ORIGIN,
      'access-control-request-method': 'GET',
      'access-control-request-headers': 'authorization',
    },
  });
  assert.equal(preflight.status, 404);
  assert.equal(preflight.headers.get('access-control-allow-origin'), null);
  const post = await fetch(`${t.edge.url}/api/admin/usage`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  assert.equal(post.status, 405);
  for (const [path, param] of [
    ['/api/admin/usage?group_by=week', 'group_by'],
    ['/api/admin/usage?group_by=hour,day', 'group_by'],
    ['/api/admin/usage?from=yesterday', 'from'],
    ['/api/admin/usage?to=1e9', 'to'],
    ['/api/admin/usage?from=2025-01-01T00:00:00Z', 'from'],
    ['/api/admin/usage?colour=red', 'query'],
    ['/api/admin/requests?limit=0', 'limit'],
    ['/api/admin/requests?limit=501', 'limit'],
    ['/api/admin/requests?before=nonsense', 'before'],
    ['/api/admin/requests?outcome=', 'outcome'],
  ]) {
    const res = await admin(t.edge, path);
    assert.equal(res.status, 400, path);
    const e = (await res.json()).error;
    assert.deepEqual([e.type, e.param], ['bad_request', param], `${path}: ${e.message}`);
    assert.ok(e.message.includes(param === 'query' ? 'colour' : param), e.message);
  }
  assert.equal((await admin(t.edge, '/api/admin/other')).status, 404);
});

test('workerd: a resumable stream stopped by id is recorded as stopped; usage.enabled false keeps nothing; without ADMIN_TOKEN the routes are 404', async () => {
  stopped = await setup({ edgeConfig: config({ usage: { shards: 2 } }), streams: true, vars: { ADMIN_TOKEN } });
  stopped.up.queue({ scenario: 'hold', after: 4 });
  const res = await stopped.chat({ messages: [{ role: 'user', content: 'stop me mock:words=40' }] });
  const streamId = res.headers.get('x-edgechat-stream-id');
  await stopped.up.waitFor((reqs) => reqs.some((x) => x.held));
  const stop = await fetch(`${stopped.edge.url}/api/chat/streams/${streamId}/stop`, {
    method: 'POST',
    headers: { origin: ORIGIN },
  });
  assert.equal(stop.status, 200);
  const usage = widgetUsage(await readSse(res));
  const [rec] = await waitForRecords(stopped.edge, 1);
  assert.equal(rec.outcome, 'stopped');
  assert.equal(rec.id, res.headers.get('x-request-id'));
  for (const m of Object.keys(usage)) assert.equal(rec[m], usage[m], m);
  assert.equal(rec.estimated, true);

  // usage.enabled: false keeps nothing (the admin API still answers).
  const disabled = await setup({ edgeConfig: config({ usage: { enabled: false } }), vars: { ADMIN_TOKEN } });
  try {
    const r = await disabled.chat({ messages: [{ role: 'user', content: 'not kept' }] });
    assert.equal((await readSse(r)).at(-1).event, 'done');
    await disabled.edge.logFor(r.headers.get('x-request-id'));
    await sleep(400); // longer than a batch waits
    const u = await (await admin(disabled.edge, '/api/admin/usage')).json();
    assert.equal(u.totals.requests, 0);
  } finally {
    await disabled.stop();
  }

  const none = await setup({ edgeConfig: config(), vars: {} });
  try {
    for (const path of ['/api/admin/usage', '/api/admin/requests']) {
      const r = await admin(none.edge, path);
      assert.equal(r.status, 404);
      assert.equal((await r.json()).error.type, 'not_found');
    }
  } finally {
    await none.stop();
  }
});

test('workerd: a shard prunes records past retention_days and roll-ups past rollup_days, at most every ten minutes', async () => {
  // A record of this suite as the template (the exact JSON the edge writes), written straight into a fresh edge's
  // one shard with the times changed: the shard's first write prunes, the next ones within ten minutes do not.
  const before = (await allRecords(t.edge)).length;
  await readSse(await t.chat({ messages: [{ role: 'user', content: 'a record to copy' }] }));
  const [template] = await waitForRecords(t.edge, before + 1);
  const fresh = await setup({
    edgeConfig: config({ usage: { shards: 1, retention_days: 1, rollup_days: 1 } }),
    vars: { ADMIN_TOKEN },
  });
  try {
    const DAY = 86_400_000;
    const now = Date.now();
    const meta = (id) => JSON.stringify({ key: id, bucket: 0, cached: 0, keep_records_ms: DAY, keep_rollups_ms: DAY });
    const rec = (id, time) => [JSON.stringify({ ...template, id, time, model: `m-${id}` }), meta(id)];
    const ns = await fresh.edge.mf.getDurableObjectNamespace('USAGE');
    const shard = ns.get(ns.idFromName('usage-0'));
    // Written in this order: `old` first, so the prune its write runs sees it past retention.
    assert.equal(
      await shard.writeMany(JSON.stringify([rec('old', now - 3 * DAY), rec('recent', now - DAY / 2), rec('now', now)])),
      'ok',
    );
    // Within ten minutes of that prune: kept, though past retention.
    assert.equal(await shard.writeMany(JSON.stringify([rec('late', now - 3 * DAY)])), 'ok');

    const ids = (await allRecords(fresh.edge)).map((r) => r.id);
    assert.deepEqual(ids, ['now', 'recent', 'late']);
    const from = new Date(now - 4 * DAY).toISOString();
    const to = new Date(now + DAY).toISOString();
    const u = await (await admin(fresh.edge, `/api/admin/usage?group_by=model&from=${from}&to=${to}`)).json();
    assert.deepEqual(u.groups.map((g) => g.model).sort(), ['m-late', 'm-now', 'm-recent'], 'the old roll-up is gone');
  } finally {
    await fresh.stop();
  }
});
