// The Workers module entry: instantiate the Rust/wasm handler and hand it every request.
import wasm from './pkg/edgechat_worker_bg.wasm';
import { initSync, handle, LimiterCore, StreamCore } from './pkg/edgechat_worker.js';

initSync({ module: wasm });

export default {
  fetch: (request, env, ctx) => handle(request, env, ctx),
};

/**
 * Durable Object behind the `LIMITER` binding: one instance per client key holds that client's request window,
 * open streams and daily budget, so limits are exact across isolates. The logic is the Rust `Limiter`.
 */
export class EdgechatLimiter {
  constructor(state) {
    this.state = state;
    this.core = new LimiterCore();
  }

  async fetch(request) {
    const answer = this.core.apply(await request.text());
    return new Response(answer, { headers: { 'content-type': 'text/plain' } });
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
