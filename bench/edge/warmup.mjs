#!/usr/bin/env node
// How the c=1 time to first byte changes as an isolate warms up: the edge's `/api/chat` and the same work written in
// JS (`reference-worker.mjs` `/widget`), each in raw workerd, their requests alternating, one at a time. Prints the
// median time to the first body byte per window of requests (the 1st-100th, 101st-300th, …) and the edge's
// difference. V8 runs a wasm function in its baseline tier (Liftoff) until it has run enough to be optimized; the
// windows show how long that takes for a request's path, and what is left once it has. Not a test; loopback only.
//
//   node bench/edge/warmup.mjs [--n 6000] [--words 8] [--pkg DIR]
import { median, option } from './measure.mjs';
import { startWidgetPair } from './widget-pair.mjs';

const n = Number(option('n', 6000));
if (!Number.isInteger(n) || n < 100) throw new Error('--n needs a whole number of at least 100');

const pair = await startWidgetPair({ pkg: option('pkg'), words: Number(option('words', 8)), tag: 'warm' });
const { paths } = pair;
const ttfb = paths.map(() => []);
try {
  for (let i = 0; i < n; i++) {
    // Alternate which goes first, so neither always follows the other.
    for (const k of i % 2 ? [1, 0] : [0, 1]) ttfb[k].push(await paths[k].send(i));
  }
} finally {
  await pair.stop();
}
const bounds = [0, 100, 300, 1000, 2000, 4000, 6000, 9000, 12000, 20000, 50000].filter((b) => b < n).concat(n);
console.log(`c=1, ${n} requests per path, alternating; median time to first byte (ms) per window of requests`);
console.log(`${'requests'.padEnd(14)}${paths.map((p) => p.name.padStart(16)).join('')}${'edge - JS'.padStart(12)}`);
for (let k = 0; k + 1 < bounds.length; k++) {
  const [a, b] = [bounds[k], bounds[k + 1]];
  const m = ttfb.map((t) => median(t.slice(a, b)));
  const cells = m.map((x) => x.toFixed(3).padStart(16)).join('');
  console.log(`${`${a + 1}-${b}`.padEnd(14)}${cells}${(m[0] - m[1]).toFixed(3).padStart(12)}`);
}
process.exit(0);
