// FAKE admin API: a stand-in for the edge's `GET /api/admin/usage` and `GET /api/admin/requests` (docs/admin-api.md)
// that serves their documented contract from request records the test makes up. It lets the dashboard
// be tested with records spread over days (the real edge only has what a test sent in the last minute); the real
// edge's own test is tests/browser/dashboard.test.mjs's first part. Not an implementation of the edge: only the
// contract's shapes, filters, cursor and errors.
import http from 'node:http';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const DIMS = ['hour', 'day', 'model', 'site_key', 'subject', 'outcome', 'task'];

const iso = (t) => new Date(t).toISOString();
const dimValue = (r, d) =>
  d === 'hour' ? `${iso(r.time - (r.time % HOUR)).slice(0, 13)}:00:00Z` : d === 'day' ? iso(r.time).slice(0, 10) : r[d];

/** Nearest-rank percentile of a sorted list. */
const pct = (sorted, p) => (sorted.length ? sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] : null);

function metrics(list) {
  const ttfb = list
    .map((r) => r.ttfb_ms)
    .filter((x) => x != null)
    .sort((a, b) => a - b);
  const outcomes = {};
  for (const r of list) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
  const sum = (k) => list.reduce((n, r) => n + r[k], 0);
  return {
    requests: list.length,
    errors: list.filter((r) => r.outcome === 'error').length,
    cached: list.filter((r) => r.cache === 'exact' || r.cache === 'semantic').length,
    input_tokens: sum('input_tokens'),
    output_tokens: sum('output_tokens'),
    cache_read_tokens: sum('cache_read_tokens'),
    cache_write_tokens: sum('cache_write_tokens'),
    cost_usd: sum('cost_usd'),
    ttfb_p50_ms: pct(ttfb, 50),
    ttfb_p95_ms: pct(ttfb, 95),
    outcomes,
  };
}

const time = (v) => (/^\d+$/.test(v) ? Number(v) : Date.parse(v));

/** Made-up records: `n` requests over the last `days` days, a mix of models, site keys, subjects and outcomes
 * (deterministic). */
export function makeRecords({ n = 300, days = 7, now = Date.now() } = {}) {
  let seed = 42;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const pick = (list, weights) => {
    let x = rnd() * weights.reduce((a, b) => a + b, 0);
    for (let i = 0; i < list.length; i++) if ((x -= weights[i]) < 0) return list[i];
    return list.at(-1);
  };
  const models = { fast: [0.15, 0.6], smart: [3, 15], local: [0, 0] };
  return Array.from({ length: n }, (_, i) => {
    const t = now - Math.floor(rnd() ** 1.6 * days * DAY);
    const model = pick(Object.keys(models), [6, 3, 1]);
    const outcome = pick(['complete', 'error', 'aborted', 'truncated'], [85, 8, 5, 2]);
    const cache = outcome === 'complete' ? pick(['miss', 'exact', 'semantic'], [7, 2, 1]) : 'miss';
    const input = cache === 'miss' ? 200 + Math.floor(rnd() * 1800) : 0;
    const output = outcome === 'error' || cache !== 'miss' ? 0 : 50 + Math.floor(rnd() * 900);
    const [pin, pout] = models[model];
    return {
      id: `req-${String(i).padStart(4, '0')}`,
      time: t,
      route: '/api/chat',
      kind: 'chat',
      site_key: pick(['pk_docs', 'pk_shop', 'pk_blog', null], [5, 3, 1, 1]),
      subject: pick(['user-1', 'user-2', 'user-3', 'user-4', null], [4, 3, 2, 1, 2]),
      alias: model,
      model,
      task: null,
      status: outcome === 'error' ? 502 : 200,
      outcome,
      attempts: outcome === 'error' ? 3 : 1,
      fallback: false,
      cache,
      ttfb_ms: outcome === 'error' ? null : Math.floor(80 + rnd() ** 3 * (model === 'smart' ? 2400 : 900)),
      duration_ms: 300 + Math.floor(rnd() * 4000),
      input_tokens: input,
      output_tokens: output,
      cache_read_tokens: 0,
      cache_write_tokens: 0,
      estimated: false,
      cost_usd: (input * pin + output * pout) / 1e6,
      error_type: outcome === 'error' ? 'upstream_error' : null,
    };
  }).sort((a, b) => b.time - a.time || (a.id < b.id ? 1 : -1));
}

/** Starts the fake on 127.0.0.1 (port 0). `token` null: the admin API is off (404), as on an edge without
 * ADMIN_TOKEN. Other /api/ paths answer a minimal /api/config and 404. */
export async function startFakeAdmin({ token = 'admin-test-token', records = makeRecords(), budget = {} } = {}) {
  const state = { token, records, budget: { daily_spend_usd: 5, daily_tokens: null, ...budget } };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const json = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    const error = (status, type, message) => json(status, { error: { type, message } });
    if (url.pathname === '/api/config') return json(200, { models: [{ alias: 'fast', label: 'Fast' }] });
    if (!url.pathname.startsWith('/api/admin/')) return error(404, 'not_found', 'not found');
    if (!state.token) return error(404, 'not_found', 'not found');
    if (req.headers.authorization !== `Bearer ${state.token}`)
      return error(401, 'unauthorized', 'admin token required');
    const q = url.searchParams;
    if (url.pathname === '/api/admin/usage') {
      const now = Date.now();
      const from = q.has('from') ? time(q.get('from')) : now - DAY;
      const to = q.has('to') ? time(q.get('to')) : now;
      if (Number.isNaN(from)) return error(400, 'invalid_request', 'from: not a time');
      if (Number.isNaN(to)) return error(400, 'invalid_request', 'to: not a time');
      const dims = (q.get('group_by') ?? 'day').split(',');
      if (dims.length > 2 || dims.some((d) => !DIMS.includes(d)))
        return error(
          400,
          'invalid_request',
          'group_by: one or two of hour, day, model, site_key, subject, outcome, task',
        );
      const list = state.records.filter((r) => r.time >= from && r.time < to);
      const groups = new Map();
      for (const r of list) {
        const key = JSON.stringify(dims.map((d) => dimValue(r, d)));
        if (!groups.has(key)) groups.set(key, []);
        groups.get(key).push(r);
      }
      const midnight = now - (now % DAY);
      const today = state.records.filter((r) => r.time >= midnight);
      return json(200, {
        from,
        to,
        group_by: dims,
        groups: [...groups.entries()].map(([key, rs]) => ({
          ...Object.fromEntries(JSON.parse(key).map((v, i) => [dims[i], v])),
          ...metrics(rs),
        })),
        totals: metrics(list),
        budget: {
          ...state.budget,
          spent_today_usd: today.reduce((n, r) => n + r.cost_usd, 0),
          tokens_today: today.reduce((n, r) => n + r.input_tokens + r.output_tokens, 0),
        },
      });
    }
    if (url.pathname === '/api/admin/requests') {
      const limit = q.has('limit') ? Number(q.get('limit')) : 50;
      if (!Number.isInteger(limit) || limit < 1 || limit > 500) return error(400, 'invalid_request', 'limit: 1 to 500');
      let list = state.records.filter((r) =>
        ['model', 'outcome', 'site_key'].every((k) => !q.get(k) || r[k] === q.get(k)),
      );
      if (q.get('before')) {
        const i = list.findIndex((r) => r.id === Buffer.from(q.get('before'), 'base64url').toString());
        if (i < 0) return error(400, 'invalid_request', 'before: unknown cursor');
        list = list.slice(i + 1);
      }
      const page = list.slice(0, limit);
      const next = list.length > limit ? Buffer.from(page.at(-1).id).toString('base64url') : null;
      return json(200, { requests: page, next });
    }
    return error(404, 'not_found', 'not found');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    state,
    stop: () => new Promise((r) => server.close(() => r())),
  };
}
