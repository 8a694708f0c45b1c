// The usage store's JavaScript side (imported by the edge's wasm through wasm-bindgen: worker/src/rt/usage.rs).
// Rust builds each request's record (worker/src/usage/mod.rs, from its log line) and hands it here; everything
// after that is here, in JavaScript, to keep the edge's wasm within its size budget: which shard keeps a record,
// the roll-up a record adds to, the in-process store (Node, or workerd without the USAGE binding), and the admin
// API's queries: parameters, the fan-out to every shard, the merge, percentiles and the answer's JSON
// (docs/admin-api.md). The shards' SQL is the `EdgechatUsage` Durable Object's (worker/entry.mjs); it and
// `MemoryShard` answer the same calls (`write`, `usage`, `requests`) with the same rows.

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Longest `to - from` of an aggregate query. */
export const MAX_RANGE_MS = 90 * DAY_MS;
/** The `group_by` dimensions. */
export const DIMS = ['hour', 'day', 'model', 'site_key', 'subject', 'outcome', 'task'];
/** Time-to-first-byte buckets: -1 none, 0 under 1 ms, b >= 1 holds [10^((b-1)/10), 10^(b/10)) ms, up to 70. */
export const BUCKETS = 71;

/** FNV-1a of the request id modulo `shards`: random ids spread writes evenly. */
export function shardOf(id, shards) {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i) & 0xff;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % Math.max(1, shards);
}

/** The roll-up histogram bucket of a time to first byte (ms, or null). */
export function ttfbBucket(ms) {
  if (ms === null || ms === undefined) return -1;
  if (ms < 1) return 0;
  return Math.min(BUCKETS - 1, 1 + Math.floor(10 * Math.log10(ms) + 1e-9));
}

/**
 * The value a percentile in bucket `b` reports: the bucket's geometric midpoint (0.5 ms for bucket 0), within
 * 12.2 % of every value in the bucket; rounded to 0.1 ms.
 */
export function bucketValue(b) {
  if (b <= 0) return 0.5;
  return Math.round(10 ** ((b - 0.5) / 10) * 10) / 10;
}

/** A record's key in a store (the cursor's id): the request id, `.summary` added for a summarizer call. */
const keyOf = (r) => (r.kind === 'chat' ? r.id : `${r.id}.${r.kind}`);
const cachedOf = (r) => (r.cache === 'exact' || r.cache === 'semantic' ? 1 : 0);

/**
 * The in-process store (single-process; bounded): the newest `memory_records` records and hourly roll-ups for
 * `rollup_ms`. Answers the same calls as a `USAGE` shard (the roll-ups are handed over unsummed: `usage_json`
 * below groups them the same).
 */
export class MemoryShard {
  constructor() {
    this.records = [];
    this.rollups = new Map();
  }

  write(r, meta, settings, now) {
    const keepFrom = now - meta.keep_records_ms;
    const over = this.records.length + 1 - Math.max(1, settings.memory_records);
    let drop = Math.max(0, over);
    while (drop < this.records.length && this.records[drop].time < keepFrom) drop++;
    if (drop) this.records.splice(0, drop);
    this.records.push({ time: r.time, id: meta.key, json: JSON.stringify(r), r });
    const cut = now - meta.keep_rollups_ms - HOUR_MS;
    const hour = r.time - (r.time % HOUR_MS);
    const k = [hour, r.model ?? '', r.site_key ?? '', r.subject ?? '', r.task ?? '', r.outcome, meta.bucket];
    const key = JSON.stringify(k);
    let row = this.rollups.get(key);
    if (!row) {
      for (const [old, v] of this.rollups) if (v.t < cut) this.rollups.delete(old);
      row = { t: hour, model: k[1], site_key: k[2], subject: k[3], task: k[4], outcome: k[5], bucket: k[6] };
      for (const m of SUMS) row[m] = 0;
      this.rollups.set(key, row);
    }
    row.requests += 1;
    row.cached += meta.cached;
    for (const m of TOKENS) row[m] += r[m];
    row.cost_usd += r.cost_usd ?? 0;
  }

  usage(q) {
    const rows = [];
    const today = { cost_usd: 0, tokens: 0 };
    for (const row of this.rollups.values()) {
      if (row.t >= q.today) {
        today.cost_usd += row.cost_usd;
        today.tokens += TOKENS.reduce((a, m) => a + row[m], 0);
      }
      if (row.t >= q.from && row.t < q.to) rows.push(row);
    }
    return { rows, today };
  }

  requests(q) {
    return this.records.filter((x) => {
      const r = x.r;
      if (q.before_time !== null && !(x.time < q.before_time || (x.time === q.before_time && x.id < q.before_id)))
        return false;
      if (q.model !== null && r.model !== q.model && r.alias !== q.model) return false;
      if (q.outcome !== null && r.outcome !== q.outcome) return false;
      return q.site_key === null || r.site_key === q.site_key;
    });
  }
}

const TOKENS = ['input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_write_tokens'];
const SUMS = ['requests', 'cached', ...TOKENS, 'cost_usd'];

/** The isolate's (on Node: the process's) store, without the `USAGE` binding. */
export const memory = new MemoryShard();

function shardStub(ns, n) {
  return ns.get(ns.idFromName(`usage-${n}`));
}

/** Longest a record waits in its isolate for others to share its shard write, ms. */
export const WRITE_WAIT_MS = 250;
/** Most records queued in an isolate before they are written at once. */
export const WRITE_BATCH = 200;

// Records waiting to be written: one RPC per WRITE_WAIT_MS from each isolate, rather than one per request (a write
// per request, or per shard, ran beside the next request on the isolate's one thread).
const queue = { items: [], timer: false, lost: 0 };

// The settings, parsed once per distinct JSON (an isolate sees the same settings request after request). Read only.
let settings = { json: '', value: null };
function settingsOf(json) {
  if (json !== settings.json) settings = { json, value: Object.freeze(JSON.parse(json)) };
  return settings.value;
}

/**
 * Keeps one record (its JSON, from Rust): in a `USAGE` shard (batched per isolate), or in memory.
 * `settings` (JSON): shards, retention_ms, rollup_ms, memory_records. Rejects when records were lost (the caller
 * logs it): `usage store lost N record(s) (M in this isolate): why`.
 */
export async function usageWrite(env, recordJson, settingsJson) {
  const r = JSON.parse(recordJson);
  const s = settingsOf(settingsJson);
  const meta = {
    key: keyOf(r),
    bucket: ttfbBucket(r.ttfb_ms),
    cached: cachedOf(r),
    keep_records_ms: s.retention_ms,
    keep_rollups_ms: s.rollup_ms,
  };
  if (!env.USAGE) {
    // Test-only fault injection (docs/admin-api.md): a store that throws must never fail a request.
    if (env.EDGECHAT_USAGE_FAULT === 'throw') throw lost(1, 'usage store fault injected (EDGECHAT_USAGE_FAULT=throw)');
    memory.write(r, meta, s, Date.now());
    return;
  }
  queue.items.push({ id: r.id, pair: [recordJson, JSON.stringify(meta)] });
  let items;
  if (queue.items.length >= WRITE_BATCH) {
    items = queue.items.splice(0);
  } else if (!queue.timer) {
    // This record's task (kept alive by waitUntil) writes the batch.
    queue.timer = true;
    await new Promise((done) => setTimeout(done, WRITE_WAIT_MS));
    queue.timer = false;
    items = queue.items.splice(0);
  } else {
    return;
  }
  // The whole batch to one shard, the one its first (random) request id hashes to: one RPC per batch, and over
  // many batches and isolates the shards fill evenly. Reads ask every shard, so any shard may hold any record.
  try {
    await shardStub(env.USAGE, shardOf(items[0].id, s.shards)).writeMany(JSON.stringify(items.map((it) => it.pair)));
  } catch (e) {
    throw lost(items.length, String(e?.message ?? e).slice(0, 200));
  }
}

function lost(count, why) {
  queue.lost += count;
  return new Error(`usage store lost ${count} record(s) (${queue.lost} in this isolate): ${why}`);
}

class BadParam extends Error {
  constructor(param, message) {
    super(message);
    this.param = param;
  }
}

const TIME_HELP = 'must be Unix milliseconds or an RFC 3339 time (2026-12-07T01:00:00Z)';
const RFC3339 = /^(\d{4})-(\d\d)-(\d\d)(?:[Tt ](\d\d):(\d\d):(\d\d)(\.\d+)?([Zz]|[+-]\d\d:\d\d))?$/;

/** Unix ms from digits or RFC 3339 (a date alone is its midnight UTC); NaN otherwise. */
export function parseTime(s) {
  if (/^\d+$/.test(s)) return Number(s);
  const m = RFC3339.exec(s);
  if (!m) return Number.NaN;
  const [y, mo, d, h = 0, mi = 0, sec = 0] = m.slice(1, 7).map((x) => (x === undefined ? undefined : Number(x)));
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return Number.NaN;
  let t = Date.UTC(y, mo - 1, d, h, mi, sec) + (m[7] ? Math.floor(Number(`0${m[7]}`) * 1000) : 0);
  if (m[8] && m[8].length === 6) {
    const off = (Number(m[8].slice(1, 3)) * 60 + Number(m[8].slice(4, 6))) * 60_000;
    t += m[8][0] === '+' ? -off : off;
  }
  return t;
}

function params(url, known) {
  const out = new Map();
  const search = new URL(url).search.slice(1);
  for (const part of search.split('&').filter(Boolean)) {
    const eq = part.indexOf('=');
    let name;
    let value;
    try {
      name = decodeURIComponent((eq < 0 ? part : part.slice(0, eq)).replaceAll('+', ' '));
      value = decodeURIComponent((eq < 0 ? '' : part.slice(eq + 1)).replaceAll('+', ' '));
    } catch {
      throw new BadParam(
        known.includes(name) ? name : 'query',
        `\`${name ?? 'a parameter'}\` is not valid percent-encoded UTF-8`,
      );
    }
    if (!known.includes(name))
      throw new BadParam('query', `unknown parameter \`${name.slice(0, 40)}\`; expected one of: ${known.join(', ')}`);
    if (out.has(name)) throw new BadParam(name, `\`${name}\` is given twice`);
    out.set(name, value);
  }
  return out;
}

/** `GET /api/admin/usage`'s query at `now`: range floored / raised to whole hours, dims, start of today. */
export function usageQuery(url, now) {
  const p = params(url, ['from', 'to', 'group_by']);
  const time = (name) => {
    if (!p.has(name)) return null;
    const t = parseTime(p.get(name));
    if (!Number.isFinite(t)) throw new BadParam(name, `\`${name}\` ${TIME_HELP}`);
    return t;
  };
  let dims = ['day'];
  if (p.has('group_by')) {
    dims = p
      .get('group_by')
      .split(',')
      .map((d) => d.trim());
    const help = 'must be one or two of hour, day, model, site_key, subject, outcome, task (comma-separated)';
    if (dims.some((d) => !DIMS.includes(d))) throw new BadParam('group_by', `\`group_by\` ${help}`);
    if (new Set(dims).size !== dims.length) throw new BadParam('group_by', '`group_by` names a dimension twice');
    if (dims.length > 2) throw new BadParam('group_by', '`group_by` takes at most two dimensions');
    if (dims.includes('hour') && dims.includes('day'))
      throw new BadParam('group_by', '`group_by` cannot group by both hour and day');
  }
  const toIn = time('to');
  const fromIn = time('from');
  const to = Math.ceil((toIn ?? now) / HOUR_MS) * HOUR_MS;
  const span = dims.includes('hour') ? DAY_MS : 30 * DAY_MS;
  const from = Math.floor((fromIn ?? to - span) / HOUR_MS) * HOUR_MS;
  if (from >= to) throw new BadParam('from', '`from` must be before `to`');
  if (to - from > MAX_RANGE_MS) throw new BadParam('from', '`from` is more than 90 days before `to`');
  return { from, to, dims, today: now - (now % DAY_MS) };
}

/** `GET /api/admin/requests`'s query. */
export function requestsQuery(url) {
  const p = params(url, ['limit', 'before', 'model', 'outcome', 'site_key']);
  const q = { limit: 50, before_time: null, before_id: '', model: null, outcome: null, site_key: null };
  if (p.has('limit')) {
    const v = p.get('limit');
    if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 500)
      throw new BadParam('limit', '`limit` must be an integer from 1 to 500');
    q.limit = Number(v);
  }
  if (p.has('before')) {
    const m = /^(\d+)\.([A-Za-z0-9._-]{1,80})$/.exec(p.get('before'));
    if (!m) throw new BadParam('before', '`before` is not a cursor this API gave (`next`)');
    q.before_time = Number(m[1]);
    q.before_id = m[2];
  }
  for (const name of ['model', 'outcome', 'site_key']) {
    if (!p.has(name)) continue;
    const v = p.get(name);
    if (v.length < 1 || v.length > 200) throw new BadParam(name, `\`${name}\` must be 1 to 200 characters`);
    q[name] = v;
  }
  return q;
}

const pad = (n) => String(n).padStart(2, '0');
const dayString = (t) => new Date(t - (t % DAY_MS)).toISOString().slice(0, 10);
const hourString = (t) => `${dayString(t)}T${pad(Math.floor((t % DAY_MS) / HOUR_MS))}:00:00Z`;
const roundUsd = (x) => Math.round(x * 1e9) / 1e9;

function newGroup() {
  const g = { outcomes: {}, ttfb: new Array(BUCKETS).fill(0) };
  for (const m of SUMS) g[m] = 0;
  return g;
}

function addRow(g, row) {
  for (const m of SUMS) g[m] += Number(row[m] ?? 0);
  g.outcomes[row.outcome] = (g.outcomes[row.outcome] ?? 0) + Number(row.requests);
  if (row.bucket >= 0 && row.bucket < BUCKETS) g.ttfb[row.bucket] += Number(row.requests);
}

function percentile(g, p) {
  const n = g.ttfb.reduce((a, c) => a + c, 0);
  if (!n) return null;
  const rank = Math.max(1, Math.ceil(p * n));
  let seen = 0;
  for (let b = 0; b < BUCKETS; b++) {
    seen += g.ttfb[b];
    if (seen >= rank) return bucketValue(b);
  }
  return null;
}

function metrics(g) {
  const outcomes = Object.fromEntries(Object.entries(g.outcomes).sort(([a], [b]) => (a < b ? -1 : 1)));
  return {
    requests: g.requests,
    errors: g.outcomes.error ?? 0,
    cached: g.cached,
    input_tokens: g.input_tokens,
    output_tokens: g.output_tokens,
    cache_read_tokens: g.cache_read_tokens,
    cache_write_tokens: g.cache_write_tokens,
    cost_usd: roundUsd(g.cost_usd),
    ttfb_p50_ms: percentile(g, 0.5),
    ttfb_p95_ms: percentile(g, 0.95),
    outcomes,
  };
}

const dimValue = (row, d) =>
  d === 'hour' ? hourString(row.t) : d === 'day' ? dayString(row.t) : row[d] === '' ? null : (row[d] ?? null);

/**
 * The `usage` answer from roll-up rows (pre-summed by a shard, or a memory store's as they are: sums merge the
 * same), today's sums and the daily limits.
 */
export function usageJson(q, rows, today, limits) {
  const groups = new Map();
  const totals = newGroup();
  for (const row of rows) {
    const dims = q.dims.map((d) => dimValue(row, d));
    const key = JSON.stringify(dims);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = Object.assign(newGroup(), { dims })));
    addRow(g, row);
    addRow(totals, row);
  }
  const cmp = (a, b) => {
    for (let i = 0; i < a.dims.length; i++) {
      const [x, y] = [a.dims[i], b.dims[i]];
      if (x !== y) return x === null ? -1 : y === null ? 1 : x < y ? -1 : 1;
    }
    return 0;
  };
  return {
    from: q.from,
    to: q.to,
    group_by: q.dims,
    groups: [...groups.values()]
      .sort(cmp)
      .map((g) => ({ ...Object.fromEntries(q.dims.map((d, i) => [d, g.dims[i]])), ...metrics(g) })),
    totals: metrics(totals),
    budget: {
      daily_spend_usd: limits.daily_spend_usd > 0 ? limits.daily_spend_usd : null,
      daily_tokens: limits.daily_tokens > 0 ? limits.daily_tokens : null,
      spent_today_usd: roundUsd(today.cost_usd),
      tokens_today: today.tokens,
    },
  };
}

/** The `requests` answer: every shard's matches merged newest first (ties by key), `limit` of them, and a cursor. */
export function requestsJson(listed, limit) {
  listed.sort((a, b) => b.time - a.time || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const page = listed.slice(0, limit);
  const last = page.at(-1);
  const next = listed.length > limit && last ? `${last.time}.${last.id}` : null;
  return `{"requests":[${page.map((x) => x.json).join(',')}],"next":${JSON.stringify(next)}}`;
}

/**
 * Serves an admin query (`kind` "usage" or "requests"; the route, auth and logging are Rust's). Answers a line of
 * what it is, then its text: `ok\n<the answer's JSON>`, `bad\n<param>\n<message>` for a bad parameter, or
 * `fail\n<why>` when a store failed.
 */
export async function usageAdmin(env, kind, url, settingsJson, now) {
  const s = JSON.parse(settingsJson);
  try {
    const q = kind === 'usage' ? usageQuery(url, now) : requestsQuery(url);
    const shards = env.USAGE ? Array.from({ length: s.shards }, (_, n) => shardStub(env.USAGE, n)) : null;
    // A shard asked for `limit + 1` tells the merge whether more remain.
    const shardQuery = JSON.stringify(kind === 'usage' ? q : { ...q, limit: q.limit + 1 });
    const answers = shards
      ? (await Promise.all(shards.map((st) => st[kind](shardQuery)))).map((a) => JSON.parse(a))
      : [kind === 'usage' ? memory.usage(q) : memory.requests(q)];
    if (kind === 'requests') return `ok\n${requestsJson(answers.flat(), q.limit)}`;
    const today = { cost_usd: 0, tokens: 0 };
    for (const a of answers) {
      today.cost_usd += a.today.cost_usd;
      today.tokens += a.today.tokens;
    }
    const rows = answers.flatMap((a) => a.rows);
    return `ok\n${JSON.stringify(usageJson(q, rows, today, s))}`;
  } catch (e) {
    if (e instanceof BadParam) return `bad\n${e.param}\n${e.message}`;
    return `fail\n${String(e?.message ?? e).slice(0, 200)}`;
  }
}
