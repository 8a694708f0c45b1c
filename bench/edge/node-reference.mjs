#!/usr/bin/env node
// The reference Workers of the benchmark (reference-worker.mjs: `/asis` returns the upstream's Response, `/pump` reads
// and writes every chunk in JavaScript) on plain Node, served by the edge's own Node server (worker/node.mjs
// `serve`): the floor of the Node runtime, as the same Workers in workerd are workerd's (`baselines.mjs`).
//   node bench/edge/node-reference.mjs --up http://127.0.0.1:UP [--port P]
// Prints `listening on http://127.0.0.1:P`. Loopback only.
import { serve } from '../../worker/node.mjs';
import { option } from './measure.mjs';
import reference from './reference-worker.mjs';

const up = option('up');
if (!up) throw new Error('--up URL (the mock upstream) is required');
const server = await serve({
  port: Number(option('port') ?? 0),
  host: '127.0.0.1',
  env: { UP: up },
  handler: (request, env) => reference.fetch(request, env),
});
console.log(`listening on http://127.0.0.1:${server.address().port}`);
