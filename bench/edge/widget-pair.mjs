// The pair that bench/edge/warmup.mjs, perf.mjs and marks.mjs compare at c=1: the edge's `/api/chat` and the same work
// written in JS (`reference-worker.mjs` `/widget`), each in its own raw workerd, against one mock upstream process.
import { streamOnce } from './measure.mjs';
import { startRawEdge, startRawReference, startRawWasmFloor } from './raw-workerd.mjs';
import { benchVars, startUpstreamProcess } from './run.mjs';

const HEADERS = { origin: 'http://127.0.0.1:8080', 'x-edgechat-site-key': 'pk_bench_0000' };

/**
 * Starts the mock upstream, the edge (worker/pkg, or the wasm-bindgen output in `pkg`) and the JS reference (with
 * the text bindings `referenceVars`); `baselinePkg`: also an edge built in that directory, as `baseline edge` (a
 * change measured before and after in one run); `floor`: also the wasm floor (bench/edge/wasm-floor, built), with
 * `referenceVars`, as `wasm widget work` (the I/O in JS) and `wasm widget work, Rust I/O` (driven from Rust).
 * Returns { paths: [{ name, pid, output(), send(i) }] (the edge first, the JS last), stop() }.
 * `send(i)` streams the i-th request's answer (`words` words per answer) and resolves with its time to first byte;
 * it throws on an error. `output()`: what that workerd printed so far. `EDGECHAT_V8_FLAGS` (read when this starts)
 * passes V8 flags to every workerd.
 */
export async function startWidgetPair({
  pkg,
  words = 8,
  tag = 'pair',
  referenceVars = {},
  baselinePkg,
  floor = false,
} = {}) {
  const up = await startUpstreamProcess({ recordSends: false });
  // Each workerd started so far, stopped with the mock if a later one fails to start (none is left behind).
  const started = [];
  const start = async (w) => {
    started.push(await w);
    return started.at(-1);
  };
  const stop = async () => {
    for (const w of started.reverse()) await w.stop();
    await up.close();
  };
  let edge, baseline, wasmFloor, rustIo, ref;
  try {
    edge = await start(startRawEdge(benchVars(up.url), pkg ? { pkg } : {}));
    if (baselinePkg) baseline = await start(startRawEdge(benchVars(up.url), { pkg: baselinePkg }));
    if (floor) wasmFloor = await start(startRawWasmFloor(up.url, referenceVars));
    if (floor) rustIo = await start(startRawWasmFloor(up.url, referenceVars, { rustIo: true }));
    ref = await start(startRawReference(up.url, referenceVars));
  } catch (err) {
    await stop();
    throw err;
  }
  const path = (name, w, route) => ({
    name,
    pid: w.pid,
    output: w.output,
    async send(i) {
      const content = `${tag} ${i} mock:words=${words} mock:delay=2`;
      const body = { model: 'fast', messages: [{ role: 'user', content }] };
      const r = await streamOnce(`${w.url}${route}`, { headers: HEADERS, body, format: 'widget' });
      if (r.error) throw new Error(`${name}, request ${i + 1}: ${r.error}`);
      return r.ttfb;
    },
  });
  return {
    paths: [
      path('edge /api/chat', edge, '/api/chat'),
      ...(baseline ? [path('baseline edge', baseline, '/api/chat')] : []),
      ...(wasmFloor ? [path('wasm widget work', wasmFloor, '/widget')] : []),
      ...(rustIo ? [path('wasm widget work, Rust I/O', rustIo, '/widget')] : []),
      path('JS widget work', ref, '/widget'),
    ],
    stop,
  };
}
