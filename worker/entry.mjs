// The Workers module entry: instantiate the Rust/wasm handler and hand it every request.
import wasm from './pkg/edgechat_worker_bg.wasm';
import { initSync, handle, LimiterCore } from './pkg/edgechat_worker.js';

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
    return new Response(answer, { headers: { 'content-type': 'application/json' } });
  }
}
