// The Workers module entry: instantiate the Rust/wasm handler and hand it every request.
import { DurableObject } from 'cloudflare:workers';
import wasm from './pkg/edgechat_worker_bg.wasm';
import { initSync, handle, LimiterCore, SemanticIndexCore, StreamCore } from './pkg/edgechat_worker.js';

initSync({ module: wasm });

export default {
  fetch: (request, env, ctx) => handle(request, env, ctx),
};

/**
 * Durable Object behind the `LIMITER` binding: one instance per client key holds that client's request window,
 * open streams and daily budget, so limits are exact across isolates. The logic is the Rust `Limiter`; the daily
 * budget is also written to storage so it survives the object leaving memory.
 */
export class EdgechatLimiter extends DurableObject {
  constructor(state, env) {
    super(state, env);
    this.state = state;
    this.core = new LimiterCore();
    state.blockConcurrencyWhile(async () => {
      const saved = await state.storage.get('budgets');
      if (typeof saved === 'string') this.core.import_budgets(saved);
    });
  }

  /** One operation line in, the answer line out: called over RPC (`stub.apply(op)`, worker/src/rt/store.rs). */
  async apply(op) {
    const answer = this.core.apply(String(op));
    if (op.startsWith('release|')) await this.state.storage.put('budgets', this.core.export_budgets());
    return answer;
  }

  /** The same over HTTP (the body is the operation line), for callers without RPC. */
  async fetch(request) {
    return new Response(await this.apply(await request.text()), { headers: { 'content-type': 'text/plain' } });
  }
}

/**
 * Durable Object behind the `CACHE_INDEX` binding: one instance per semantic index (model and cache scope, see
 * worker/src/cache/scope.rs) holds that index, so concurrent stores all land (one writer, in memory, then
 * storage) instead of overwriting each other. The logic is the Rust `SemanticIndexCore`; each entry is one
 * storage value (`e:<answer key>`), evicted ones are deleted.
 */
export class EdgechatCacheIndex extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.core = new SemanticIndexCore();
    ctx.blockConcurrencyWhile(async () => {
      for (const entry of (await ctx.storage.list({ prefix: 'e:' })).values()) this.core.load(entry);
    });
  }

  /** A query (JSON) in, the best match (JSON, or `null`) out: called over RPC (worker/src/rt/store.rs). */
  query(q) {
    return this.core.query(String(q));
  }

  /** Adds an entry (JSON); answers `ok` once it is in storage. */
  async insert(ins) {
    const out = this.core.insert(String(ins));
    if (out.startsWith('error|')) return out;
    const { id, entry, evicted } = JSON.parse(out);
    await this.ctx.storage.put(id, entry);
    if (evicted.length) await this.ctx.storage.delete(evicted);
    return 'ok';
  }
}

/**
 * Durable Object behind the `USAGE` binding: one of `usage.shards` SQLite objects (`usage-0` … `usage-<n-1>`) that
 * keep the usage records (worker/src/usage; docs/admin-api.md). A record goes to the shard its request id hashes
 * to, so writes spread evenly; the admin API asks every shard and merges (worker/src/rt/usage.rs). Each shard keeps
 * the raw records (`records`, for `usage.retention_days`) and hourly roll-ups with a time-to-first-byte histogram
 * (`rollups`, for `usage.rollup_days`), both pruned at most every ten minutes on write. SQL only: what a record
 * adds (its bucket, whether it was cached) and all merging are the Rust side's.
 */
export class EdgechatUsage extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS records (
      time INTEGER NOT NULL, id TEXT NOT NULL, model TEXT, alias TEXT, outcome TEXT NOT NULL, site_key TEXT,
      json TEXT NOT NULL, PRIMARY KEY (time, id)) WITHOUT ROWID`);
    this.sql.exec(`CREATE TABLE IF NOT EXISTS rollups (
      hour INTEGER NOT NULL, model TEXT NOT NULL, site_key TEXT NOT NULL, subject TEXT NOT NULL, task TEXT NOT NULL,
      outcome TEXT NOT NULL, bucket INTEGER NOT NULL, requests INTEGER NOT NULL, cached INTEGER NOT NULL,
      input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, cache_read_tokens INTEGER NOT NULL,
      cache_write_tokens INTEGER NOT NULL, cost_usd REAL NOT NULL,
      PRIMARY KEY (hour, model, site_key, subject, task, outcome, bucket)) WITHOUT ROWID`);
    this.prunedAt = 0;
  }

  /** Keeps a batch (JSON `[[recordJson, metaJson], …]`, from worker/src/usage/store.mjs) in one transaction. */
  writeMany(batchJson) {
    // Test-only fault injection (docs/admin-api.md): a store that throws must never fail a request.
    if (this.env.EDGECHAT_USAGE_FAULT === 'throw')
      throw new Error('usage store fault injected (EDGECHAT_USAGE_FAULT=throw)');
    this.ctx.storage.transactionSync(() => {
      for (const [record, meta] of JSON.parse(batchJson)) this.write(record, meta);
    });
    return 'ok';
  }

  /** Keeps one record (its JSON) and adds it to its hour's roll-up; `meta` (JSON): its key, bucket, cached, retention. */
  write(recordJson, metaJson) {
    const r = JSON.parse(recordJson);
    const m = JSON.parse(metaJson);
    const hour = r.time - (r.time % 3_600_000);
    this.sql.exec(
      'INSERT OR REPLACE INTO records (time, id, model, alias, outcome, site_key, json) VALUES (?, ?, ?, ?, ?, ?, ?)',
      r.time,
      m.key,
      r.model,
      r.alias,
      r.outcome,
      r.site_key,
      recordJson,
    );
    this.sql.exec(
      `INSERT INTO rollups VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (hour, model, site_key, subject, task, outcome, bucket) DO UPDATE SET
         requests = requests + 1, cached = cached + excluded.cached,
         input_tokens = input_tokens + excluded.input_tokens, output_tokens = output_tokens + excluded.output_tokens,
         cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,
         cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens, cost_usd = cost_usd + excluded.cost_usd`,
      hour,
      r.model ?? '',
      r.site_key ?? '',
      r.subject ?? '',
      r.task ?? '',
      r.outcome,
      m.bucket,
      m.cached,
      r.input_tokens,
      r.output_tokens,
      r.cache_read_tokens,
      r.cache_write_tokens,
      r.cost_usd ?? 0,
    );
    const now = Date.now();
    if (now - this.prunedAt > 600_000) {
      this.prunedAt = now;
      this.sql.exec('DELETE FROM records WHERE time < ?', now - m.keep_records_ms);
      this.sql.exec('DELETE FROM rollups WHERE hour < ?', now - m.keep_rollups_ms - 3_600_000);
    }
    return 'ok';
  }

  /** Roll-up rows pre-summed by the asked dimensions, the outcome and the bucket; and today's sums (JSON). */
  usage(queryJson) {
    const q = JSON.parse(queryJson);
    const columns = {
      hour: 'hour AS t',
      day: '(hour - hour % 86400000) AS t',
      model: 'model',
      site_key: 'site_key',
      subject: 'subject',
      task: 'task',
      outcome: null,
    };
    const picked = q.dims.filter((d) => columns[d]).map((d) => columns[d]);
    const keys = picked.map((c) => c.replace(/.* AS /, ''));
    const rows = this.sql
      .exec(
        `SELECT ${[...picked, 'outcome', 'bucket'].join(', ')}, SUM(requests) AS requests, SUM(cached) AS cached,
           SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens,
           SUM(cache_read_tokens) AS cache_read_tokens, SUM(cache_write_tokens) AS cache_write_tokens,
           SUM(cost_usd) AS cost_usd
         FROM rollups WHERE hour >= ? AND hour < ? GROUP BY ${[...keys, 'outcome', 'bucket'].join(', ')}`,
        q.from,
        q.to,
      )
      .toArray();
    const today = this.sql
      .exec(
        `SELECT COALESCE(SUM(cost_usd), 0) AS cost_usd,
           COALESCE(SUM(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens), 0) AS tokens
         FROM rollups WHERE hour >= ?`,
        q.today,
      )
      .one();
    return JSON.stringify({ rows, today });
  }

  /** The newest records before the cursor, filtered (JSON `[{time, id, json}]`, at most `limit`). */
  requests(queryJson) {
    const q = JSON.parse(queryJson);
    const before = q.before_time ?? null;
    return JSON.stringify(
      this.sql
        .exec(
          `SELECT time, id, json FROM records
           WHERE (?1 IS NULL OR time < ?1 OR (time = ?1 AND id < ?2))
             AND (?3 IS NULL OR model = ?3 OR alias = ?3) AND (?4 IS NULL OR outcome = ?4)
             AND (?5 IS NULL OR site_key = ?5)
           ORDER BY time DESC, id DESC LIMIT ?6`,
          before,
          q.before_id ?? '',
          q.model ?? null,
          q.outcome ?? null,
          q.site_key ?? null,
          q.limit,
        )
        .toArray(),
    );
  }
}

/**
 * Durable Object behind the `STREAMS` binding: one instance per `/api/chat` stream owns the upstream request and
 * keeps the stream's events, so clients can resume by `Last-Event-ID` and stop it by id. The logic is the Rust
 * `StreamCore` (worker/src/rt/streams.rs).
 */
export class EdgechatStream {
  constructor(state, env) {
    this.core = new StreamCore(state, env);
  }

  fetch(request) {
    return this.core.fetch(request);
  }

  alarm() {
    return this.core.alarm();
  }
}
