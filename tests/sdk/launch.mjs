#!/usr/bin/env node
// Starts a mock upstream and the edge (real workerd via tests/support/edge.mjs) in front of it, then prints one
// line `EDGECHAT_SDK_READY {"upstream","edge","key"}` for out-of-process tests (pytest), and runs until
// SIGTERM/SIGINT or until its stdin closes. Used by tests/sdk/run.sh.
import { startUpstream } from '../upstream/server.mjs';
import { startEdge } from '../support/edge.mjs';
import { edgeVars, SITE_KEY } from './edge-config.mjs';

const up = await startUpstream({ delayMs: 1 });
let edge;
try {
  // EDGECHAT_EDGE_NO_BUILD=1 runs the existing worker/pkg build as is (no rebuild from sources).
  edge = await startEdge({ vars: edgeVars(up.url), build: process.env.EDGECHAT_EDGE_NO_BUILD !== '1' });
} catch (err) {
  console.error(`launch.mjs: the edge did not start: ${err.stack || err}`);
  await up.close();
  process.exit(1);
}
// Prefixed: the edge build (run by startEdge when sources changed) prints to the same stdout.
console.log(`EDGECHAT_SDK_READY ${JSON.stringify({ upstream: up.url, edge: edge.url, key: SITE_KEY })}`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await edge.stop();
  await up.close();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
