// One import for the JS test fixtures:
//
//   import { startUpstream, startEdge, launch, browserEdgeVars, readSse } from '../support/index.mjs';
//
// - the mock upstream that speaks the providers' wire formats, with fault injection (tests/upstream/server.mjs)
// - the edge in real workerd through Miniflare, built when its sources changed (tests/support/edge.mjs)
// - headless Debian Chromium through playwright-core, a static server for dist/ with /api/ proxied to an edge, and
//   the edge settings the browser tests use (tests/browser/support/stack.mjs)
// - reading SSE through eventsource-parser (tests/support/sse.mjs)
export { startUpstream, DEFAULT_KEYS } from '../upstream/server.mjs';
export { startEdge, buildEdge } from './edge.mjs';
export {
  launch,
  shot,
  startStatic,
  startBackend,
  browserEdgeVars,
  CHROMIUM_ARGS,
  ROOT,
  DIST,
} from '../browser/support/stack.mjs';
export { parseSse, readSse, readSseData, sseStream } from './sse.mjs';
export { workerCompat, workerBuild } from './wrangler.mjs';
