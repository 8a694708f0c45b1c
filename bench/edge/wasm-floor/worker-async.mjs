// The wasm floor with its I/O driven from Rust (src/rust_io.rs `handle`), as the edge drives its own; served on
// every path. worker.mjs is the same work with the I/O in the reference's JS.
import wasm from './pkg/edgechat_wasm_floor_bg.wasm';
import * as reference from './reference-worker.mjs';
import { handle, initSync, makeQueue } from './pkg/edgechat_wasm_floor.js';

initSync({ module: wasm });
// As the edge (worker/src/rt/mod.rs `start`): wasm-bindgen's task queue made while the global `queueMicrotask` is
// hidden, so it schedules with a promise's `then` (workerd's `queueMicrotask` wraps every callback it queues).
const queueMicrotask = globalThis.queueMicrotask;
globalThis.queueMicrotask = undefined;
makeQueue();
globalThis.queueMicrotask = queueMicrotask;

export default {
  fetch: (req, env, ctx) => handle(req, env, ctx, reference),
};
