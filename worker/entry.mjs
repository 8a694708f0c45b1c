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
