#!/usr/bin/env node
// Where a request's time to first byte goes on Node, edge against Node's floor (the reference JS pump), at c=1:
// handler start -> the upstream `fetch` called -> the upstream's headers -> the handler's Response -> the client's
// first body byte (the edge returns its Response once the upstream's first chunk is in, so a retry or fallback can
// still replace it; the pump returns it at the headers and waits for that chunk after). Node's clock runs during a request (workerd's does not: it moves only on I/O), so the phases are
// read from outside the wasm: both handlers are served in this process by worker/node.mjs `serve`, and the global
// `fetch` is wrapped to stamp the first call after a handler starts. Not a test; loopback only.
//   node bench/edge/phases.mjs [--n 300] [--route /api/chat | /v1/chat/completions | /v1/messages]
import { median, streamOnce, option } from './measure.mjs';
import reference from './reference-worker.mjs';
import { benchVars, startUpstreamProcess } from './run.mjs';

const n = Number(option('n', 300));
const route = option('route', '/api/chat');
const WORDS = 'mock:words=8 mock:delay=2';

const up = await startUpstreamProcess({ recordSends: false });
const { serve, fetchHandler } = await import('../../worker/node.mjs');
let current = null;
const realFetch = globalThis.fetch;
globalThis.fetch = (...args) => {
  const r = current && !current.fetch ? current : null;
  if (r) r.fetch = performance.now();
  const sent = realFetch(...args);
  if (r)
    sent.then(
      () => (r.headers = performance.now()),
      () => {},
    );
  return sent;
};
const rows = { edge: [], floor: [] };
const timed = (kind, handler) => async (request, env) => {
  const row = { start: performance.now() };
  current = row;
  const response = await handler(request, env);
  row.response = performance.now();
  rows[kind].push(row);
  return response;
};
const edge = await serve({ port: 0, env: benchVars(up.url), handler: timed('edge', fetchHandler) });
const floor = await serve({ port: 0, env: { UP: up.url }, handler: timed('floor', reference.fetch) });
const messages = (i) => [{ role: 'user', content: `phases ${i} ${WORDS}` }];
const edgeRequest = (i) => {
  const url = `http://127.0.0.1:${edge.address().port}${route}`;
  if (route === '/api/chat') {
    const headers = { origin: 'http://127.0.0.1:8080', 'x-edgechat-site-key': 'pk_bench_0000' };
    return streamOnce(url, { headers, body: { model: 'fast', messages: messages(i) }, format: 'widget' });
  }
  if (route === '/v1/messages') {
    const headers = { 'x-api-key': 'pk_bench_0000', 'anthropic-version': '2023-06-01' };
    const body = { model: 'fast', max_tokens: 1024, stream: true, messages: messages(i) };
    return streamOnce(url, { headers, body, format: 'anthropic' });
  }
  const body = { model: 'fast', stream: true, messages: messages(i) };
  return streamOnce(url, { headers: { authorization: 'Bearer pk_bench_0000' }, body, format: 'chat' });
};
const floorRequest = (i) =>
  streamOnce(`http://127.0.0.1:${floor.address().port}/pump`, {
    headers: {},
    body: { model: 'gpt-4o-mini', stream: true, messages: messages(i) },
    format: 'chat',
  });
const ttfb = { edge: [], floor: [] };
try {
  for (let i = 0; i < n + 30; i++) {
    let a;
    let b;
    if (i % 2) {
      a = await edgeRequest(i);
      b = await floorRequest(i);
    } else {
      b = await floorRequest(i);
      a = await edgeRequest(i);
    }
    if (a.error || b.error) throw new Error(a.error ?? b.error);
    ttfb.edge.push(a.ttfb);
    ttfb.floor.push(b.ttfb);
  }
} finally {
  edge.close();
  floor.close();
  await up.close();
}
const f = (x) => x.toFixed(3).padStart(8);
console.log(
  `c=1, ${n} requests each (after 30 warm-up), ${route} on the edge against the JS pump, both on Node; medians, ms`,
);
console.log(
  `  ${'path'.padEnd(6)} ${'start->fetch'.padStart(13)} ${'fetch->headers'.padStart(15)} ${'headers->Response'.padStart(18)} ${'TTFB at client'.padStart(15)}`,
);
for (const k of ['edge', 'floor']) {
  const r = rows[k].slice(30);
  const m = (g) => median(r.map(g));
  console.log(
    `  ${k.padEnd(6)} ${f(m((x) => x.fetch - x.start)).padStart(13)} ${f(m((x) => x.headers - x.fetch)).padStart(15)} ${f(m((x) => x.response - x.headers)).padStart(18)} ${f(median(ttfb[k].slice(30))).padStart(15)}`,
  );
}
process.exit(0);
