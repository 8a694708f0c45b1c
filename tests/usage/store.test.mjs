// The usage store's JavaScript side on its own (worker/src/usage/store.mjs, worker/src/otel.mjs): shard spread,
// time-to-first-byte buckets and their stated error, time parsing, every bad parameter named, the in-process
// store's bounds, the merge of shard rows and memory rows, paging, and the span's attributes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MemoryShard,
  bucketValue,
  parseTime,
  requestsJson,
  requestsQuery,
  shardOf,
  ttfbBucket,
  usageJson,
  usageQuery,
} from '../../worker/src/usage/store.mjs';
import { exportBody, span } from '../../worker/src/otel.mjs';

const T0 = Date.UTC(2026, 11, 7, 1, 30); // 2026-12-07T01:30:00Z
const HOUR = 3_600_000;
const DAY = 86_400_000;
const URL_ = (q) => `https://edge.example/api/admin/x?${q}`;

function rec(id, time, model, outcome, ttfb, cost) {
  return {
    id,
    time,
    route: '/api/chat',
    kind: 'chat',
    model,
    alias: 'a',
    outcome,
    ttfb_ms: ttfb,
    input_tokens: 10,
    output_tokens: 5,
    cache_read_tokens: 2,
    cache_write_tokens: 0,
    cost_usd: cost,
    cache: null,
    site_key: null,
    subject: null,
    task: null,
  };
}

test('shards spread random ids evenly', () => {
  const counts = new Array(16).fill(0);
  for (let i = 0; i < 16_000; i++) counts[shardOf(Math.random().toString(16).slice(2, 18), 16)]++;
  assert.ok(
    counts.every((c) => c > 800 && c < 1200),
    String(counts),
  );
  assert.equal(shardOf('anything', 1), 0);
});

test('a percentile read from a bucket is within 12.2 % of every value in it', () => {
  assert.deepEqual([ttfbBucket(null), ttfbBucket(0), ttfbBucket(1)], [-1, 0, 1]);
  for (const ms of [1, 2, 7, 10, 99, 100, 101, 999, 1000, 12_345, 600_000]) {
    const v = bucketValue(ttfbBucket(ms));
    assert.ok(Math.abs(v - ms) / ms <= 0.123, `${ms} ms reads as ${v}`);
  }
});

test('times: Unix ms or RFC 3339', () => {
  assert.equal(parseTime('2026-12-07T01:30:00Z'), T0);
  assert.equal(parseTime('2026-12-07T03:30:00+02:00'), T0);
  assert.equal(parseTime('2026-12-06T23:30:00-02:00'), T0);
  assert.equal(parseTime('2026-12-07T01:30:00.250Z'), T0 + 250);
  assert.equal(parseTime('2026-12-07'), T0 - 5_400_000);
  assert.equal(parseTime(String(T0)), T0);
  for (const bad of ['', 'yesterday', '2026-13-01', '2026-12-07T25:00:00Z', '2026-12-07T01:00:00', '-5', '1.5'])
    assert.ok(Number.isNaN(parseTime(bad)), bad);
});

function badParam(f) {
  try {
    f();
  } catch (e) {
    return e.param;
  }
  assert.fail('no error');
}

test('usage queries: defaults, whole hours, and every bad parameter named', () => {
  let q = usageQuery(URL_(''), T0);
  assert.deepEqual(q.dims, ['day']);
  assert.equal(q.to, Math.ceil(T0 / HOUR) * HOUR);
  assert.equal(q.to - q.from, 30 * DAY);
  assert.equal(q.today, T0 - (T0 % DAY));
  q = usageQuery(URL_('group_by=hour%2Cmodel&to=2026-12-07T02%3A00%3A00Z'), T0);
  assert.deepEqual([q.dims, q.to - q.from], [['hour', 'model'], DAY]);
  q = usageQuery(URL_(`from=${T0 - 10}&to=${T0 + 10}`), T0);
  assert.deepEqual([q.from, q.to], [Math.floor(T0 / HOUR) * HOUR, Math.ceil(T0 / HOUR) * HOUR]);
  for (const [query, param] of [
    ['from=yesterday', 'from'],
    ['to=soon', 'to'],
    ['from=2026-12-08&to=2026-12-07', 'from'],
    ['from=2026-01-01&to=2026-12-07', 'from'],
    ['group_by=week', 'group_by'],
    ['group_by=hour,day', 'group_by'],
    ['group_by=model,model', 'group_by'],
    ['group_by=model,task,outcome', 'group_by'],
    ['group_by=', 'group_by'],
    ['colour=red', 'query'],
    ['from=1&from=2', 'from'],
    ['from=%ZZ', 'from'],
  ])
    assert.equal(
      badParam(() => usageQuery(URL_(query), T0)),
      param,
      query,
    );
});

test('requests queries: defaults and every bad parameter named', () => {
  assert.equal(requestsQuery(URL_('')).limit, 50);
  const q = requestsQuery(URL_('limit=500&before=123.abc.summary&model=gpt-4o&outcome=error&site_key=pk%20x'));
  assert.deepEqual(
    [q.limit, q.before_time, q.before_id, q.model, q.outcome, q.site_key],
    [500, 123, 'abc.summary', 'gpt-4o', 'error', 'pk x'],
  );
  for (const [query, param] of [
    ['limit=0', 'limit'],
    ['limit=501', 'limit'],
    ['limit=ten', 'limit'],
    ['before=abc', 'before'],
    ['before=1.a/b', 'before'],
    ['model=', 'model'],
    ['x=1', 'query'],
  ])
    assert.equal(
      badParam(() => requestsQuery(URL_(query))),
      param,
      query,
    );
});

const settings = { shards: 1, retention_ms: 30 * DAY, rollup_ms: 400 * DAY, memory_records: 100 };
const meta = (r) => ({
  key: r.id,
  bucket: ttfbBucket(r.ttfb_ms),
  cached: 0,
  keep_records_ms: settings.retention_ms,
  keep_rollups_ms: settings.rollup_ms,
});

test('the in-process store: aggregates by two dimensions, budget, paging, bounds', () => {
  const store = new MemoryShard();
  const recs = [
    rec('a1', T0, 'm1', 'complete', 100, 0.5),
    rec('a2', T0 + 1, 'm1', 'error', null, null),
    rec('a3', T0 + HOUR, 'm2', 'complete', 10, 0.25),
    rec('a4', T0 + HOUR, 'm2', 'stopped', 1000, 0.125),
  ];
  for (const r of recs) store.write(r, meta(r), settings, T0 + HOUR);
  const q = usageQuery(URL_(`group_by=hour,model&from=${T0 - HOUR}&to=${T0 + 2 * HOUR}`), T0 + HOUR);
  const { rows, today } = store.usage(q);
  assert.deepEqual(today, { cost_usd: 0.875, tokens: 68 });
  const v = usageJson(q, rows, today, { daily_spend_usd: 5, daily_tokens: 0 });
  assert.equal(v.groups.length, 2);
  assert.deepEqual([v.groups[0].hour, v.groups[0].model], ['2026-12-07T01:00:00Z', 'm1']);
  assert.deepEqual([v.groups[0].requests, v.groups[0].errors], [2, 1]);
  assert.equal(v.groups[0].ttfb_p50_ms, bucketValue(ttfbBucket(100)));
  assert.deepEqual(v.groups[1].outcomes, { complete: 1, stopped: 1 });
  assert.deepEqual([v.totals.requests, v.totals.input_tokens, v.totals.cost_usd], [4, 40, 0.875]);
  assert.deepEqual(v.budget, { daily_spend_usd: 5, daily_tokens: null, spent_today_usd: 0.875, tokens_today: 68 });

  const page = (query) => {
    const rq = requestsQuery(URL_(query));
    return JSON.parse(requestsJson(store.requests(rq), rq.limit));
  };
  const p1 = page('limit=3');
  assert.deepEqual(
    p1.requests.map((r) => r.id),
    ['a4', 'a3', 'a2'],
  );
  const p2 = page(`limit=3&before=${p1.next}`);
  assert.deepEqual([p2.requests[0].id, p2.next], ['a1', null]);
  assert.equal(page('model=m2&outcome=stopped').requests.length, 1);
  assert.equal(page('model=a').requests.length, 4, 'model= matches the alias too');

  const small = { ...settings, memory_records: 2, rollup_ms: DAY };
  const s = new MemoryShard();
  for (const r of recs) s.write(r, { ...meta(r), keep_rollups_ms: DAY }, small, T0 + HOUR);
  assert.equal(s.records.length, 2, 'the newest memory_records');
  const late = rec('late', T0 + 3 * DAY, 'm1', 'complete', null, 0);
  s.write(late, { ...meta(late), keep_rollups_ms: DAY }, small, T0 + 3 * DAY);
  assert.equal(s.usage(usageQuery(URL_(`from=${T0}&to=${T0 + 3 * DAY + HOUR}`), T0)).rows.length, 1);
});

test('rows pre-summed by shards merge like memory rows', () => {
  const q = usageQuery(URL_(`group_by=day&from=${T0}&to=${T0 + HOUR}`), T0);
  const day = T0 - (T0 % DAY);
  const rows = [
    { t: day, outcome: 'complete', bucket: 21, requests: 3, cached: 1, input_tokens: 30, cost_usd: 0.5 },
    { t: day, outcome: 'complete', bucket: 21, requests: 1, input_tokens: 10, cost_usd: 0.25 },
    { t: day, outcome: 'error', bucket: -1, requests: 2 },
  ];
  const v = usageJson(q, rows, { cost_usd: 0, tokens: 0 }, {});
  assert.equal(v.groups.length, 1);
  const g = v.groups[0];
  assert.deepEqual(
    [g.day, g.requests, g.errors, g.cached, g.input_tokens, g.cost_usd],
    ['2026-12-07', 6, 2, 1, 40, 0.75],
  );
  assert.equal(g.ttfb_p95_ms, bucketValue(21));
});

test('spans carry the GenAI attributes; a summary span is its request span child', () => {
  const r = {
    ...rec('0123456789abcdef', 1000, 'gpt-4o-mini', 'error', null, 0.25),
    alias: 'fast',
    provider: 'openai-chat',
    status: 502,
    error_type: '502',
    duration_ms: 7,
    attempts: 1,
    fallback: false,
    estimated: false,
  };
  const s = span(r);
  const a = Object.fromEntries(s.attributes.map((x) => [x.key, x.value]));
  assert.equal(a['gen_ai.provider.name'].stringValue, 'openai');
  assert.equal(a['gen_ai.request.model'].stringValue, 'fast');
  assert.equal(a['gen_ai.response.model'].stringValue, 'gpt-4o-mini');
  assert.equal(a['gen_ai.usage.input_tokens'].intValue, '12');
  assert.equal(a['error.type'].stringValue, '502');
  assert.equal(a['edgechat.cost_usd'].doubleValue, 0.25);
  assert.deepEqual([s.status.code, s.endTimeUnixNano, s.traceId.length, s.spanId.length], [2, '1007000000', 32, 16]);
  const sum = span({ ...r, kind: 'summary' });
  assert.deepEqual([sum.traceId, sum.parentSpanId], [s.traceId, s.spanId]);
  const body = JSON.parse(exportBody([s, sum], '0.1.0'));
  assert.equal(body.resourceSpans[0].scopeSpans[0].spans.length, 2);
});
