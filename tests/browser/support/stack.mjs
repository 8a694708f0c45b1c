// Test stack for the widget: a static server for dist/ (plus test pages) that proxies /api/ to an edge, and a
// headless Chromium (playwright-core, Debian's /usr/bin/chromium, never a downloaded browser).
import http from 'node:http';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '../../..');
export const DIST = process.env.EDGECHAT_DIST ?? path.join(ROOT, 'dist');
export const ARTIFACTS = path.join(ROOT, 'tests/artifacts');
const PAGES = path.join(here, '../pages');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
};

/** Serves `dist` (default dist/) at / (a path without an extension that is no file gets dist/index.html: the
 * app's routes, as a static host with a single-page-app fallback), tests/browser/pages at /test/, and proxies
 * /api/ to `edgeUrl()` (and
 * each `proxies` prefix to its URL, with the prefix removed). `dropConnections()` breaks every proxied response
 * still open (the browser sees its connection fail mid-body, as when the network goes away). */
export async function startStatic({ edgeUrl, dist = DIST, proxies = {} }) {
  const DIST = dist;
  const open = new Set();
  if (!fs.existsSync(path.join(DIST, '.release'))) {
    throw new Error(
      `${DIST} has no release build (a \`trunk serve\` debug build?): run tests/browser/run.sh, which runs trunk build --release`,
    );
  }
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname.startsWith('/api/')) {
      open.add(res);
      res.on('close', () => open.delete(res));
      return proxy(req, res, edgeUrl());
    }
    for (const [prefix, target] of Object.entries(proxies)) {
      if (url.pathname.startsWith(prefix)) {
        req.url = req.url.slice(prefix.length - 1);
        return proxy(req, res, target());
      }
    }
    const [base, rel] = url.pathname.startsWith('/test/')
      ? [PAGES, url.pathname.slice('/test/'.length)]
      : [DIST, url.pathname.slice(1) || 'index.html'];
    let file = path.join(base, path.normalize(decodeURIComponent(rel)));
    if (!file.startsWith(base)) {
      res.writeHead(403).end();
      return;
    }
    if (base === DIST && !path.extname(file) && !fs.existsSync(file)) file = path.join(DIST, 'index.html');
    try {
      const data = await fsp.readFile(file);
      res.writeHead(200, {
        'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
        'cache-control': 'no-store',
      });
      res.end(data);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    dropConnections: () => {
      const n = open.size;
      for (const res of open) res.socket?.destroy();
      return n;
    },
    /** Stops forwarding every proxied response still open but keeps the browser's connection open and silent
     * (no error, no end: a connection that hangs, as in a tunnel). */
    stallConnections: () => {
      const n = open.size;
      for (const res of open) {
        const up = res.upstream;
        if (!up) continue;
        up.removeAllListeners('aborted');
        up.removeAllListeners('error');
        up.on('error', () => {});
        up.unpipe(res);
        up.resume();
      }
      return n;
    },
    stop: () =>
      new Promise((r) => {
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
}

function proxy(req, res, target) {
  const url = new URL(req.url, target);
  const up = http.request(url, { method: req.method, headers: { ...req.headers, host: url.host } }, (upRes) => {
    res.writeHead(upRes.statusCode, upRes.headers);
    res.upstream = upRes;
    // The edge dropped the connection mid-body: pass on what arrived, then close without the final chunk.
    // (Chromium may discard bytes that arrive in the same read as a broken chunked body's end, so leave a gap.)
    const drop = () =>
      setTimeout(() => {
        upRes.unpipe(res);
        res.socket?.end();
      }, 30);
    upRes.on('aborted', drop);
    upRes.on('error', drop);
    upRes.pipe(res);
  });
  // An edge that drops the connection drops the browser's too (a network error, as without the proxy).
  up.on('error', () => res.socket?.destroy());
  // The browser aborting (stop) must reach the edge: close the upstream request when the client goes away.
  res.on('close', () => up.destroy());
  req.pipe(up);
}

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A fresh browser context on a fresh --user-data-dir; dialogs are recorded (and dismissed) for the XSS suite.
 * `args` are extra Chromium flags. */
export async function launch({ args = [] } = {}) {
  const userDataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'edgechat-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [...CHROMIUM_ARGS, ...args],
    viewport: { width: 900, height: 800 },
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  const dialogs = [];
  const consoleErrors = [];
  context.on('page', (p) => watch(p));
  function watch(p) {
    p.on('dialog', (d) => {
      dialogs.push(d.message());
      d.dismiss().catch(() => {});
    });
    p.on('pageerror', (e) => consoleErrors.push(String(e)));
  }
  context.pages().forEach(watch);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    dialogs,
    consoleErrors,
    close: async () => {
      await context.close();
      await fsp.rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Saves a screenshot under tests/artifacts/ (gitignored). */
export async function shot(page, name) {
  await fsp.mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Edge settings for the browser tests: two aliases on the mock upstream, any 127.0.0.1 origin, no site keys, no
 * limits, no retries or cache (so each fault reaches the widget), answers marked simulated. */
export function browserEdgeVars(upstreamUrl) {
  return {
    OPENAI_BASE_URL: `${upstreamUrl}/v1`,
    ANTHROPIC_BASE_URL: `${upstreamUrl}/v1`,
    OPENAI_API_KEY: 'sk-test-openai-0000',
    ANTHROPIC_API_KEY: 'sk-ant-test-0000',
    EDGECHAT_CONFIG: JSON.stringify({
      models: {
        fast: { provider: 'openai-chat', model: 'gpt-4o-mini', label: 'Fast' },
        smart: { provider: 'anthropic', model: 'claude-haiku-4-5', label: 'Smart' },
      },
      default_model: 'fast',
      allowed_origins: ['http://127.0.0.1:*'],
      limits: { requests_per_minute: 0, concurrent_streams: 0, daily_tokens: 0, max_tokens: 2048 },
      retry: { max_attempts: 1, base_delay_ms: 5, max_delay_ms: 20, max_retry_after_ms: 2000 },
      cache: { exact: false },
      simulated: true,
    }),
  };
}

/**
 * Starts the backend the widget talks to. With EDGECHAT_E2E_EDGE=real (and not `inline`): the real edge in workerd
 * (tests/support/edge.mjs) in front of the mock upstream (tests/upstream/server.mjs), which understands the same
 * queue() vocabulary. Otherwise the inline protocol edge (support/mock-edge.mjs). `requests()` lists the chat
 * requests as the backend saw them (for the real stack: the provider requests the upstream received).
 */
export async function startBackend(options = {}) {
  if (process.env.EDGECHAT_E2E_EDGE === 'real' && !options.inline) return startRealBackend();
  const { startMockEdge } = await import('./mock-edge.mjs');
  return startMockEdge(options);
}

/**
 * The real edge in workerd in front of the mock upstream (browserEdgeVars). `streams: true` binds the STREAMS
 * Durable Object (resumable streams); `limits` are merged into the edge's limits, `models` into its models, and
 * `config` over the rest of its configuration (its `models`, too, merged into the aliases). `up` is the mock upstream.
 */
export async function startRealBackend({ streams = false, limits = {}, models = {}, config: extra = {} } = {}) {
  const { startUpstream } = await import('../../upstream/server.mjs');
  const { startEdge } = await import('../../support/edge.mjs');
  const up = await startUpstream({ port: 0, delayMs: 3 });
  const vars = browserEdgeVars(up.url);
  const config = JSON.parse(vars.EDGECHAT_CONFIG);
  Object.assign(config, extra, { models: { ...config.models, ...extra.models } });
  config.limits = { ...config.limits, ...limits };
  config.models = { ...config.models, ...models };
  const edge = await startEdge({ vars: { ...vars, EDGECHAT_CONFIG: JSON.stringify(config) }, streams });
  return {
    url: edge.url,
    kind: 'real',
    up,
    queue: (...plans) => plans.forEach((p) => up.queue(p)),
    release: () => up.release(),
    requests: () => up.requests().filter((r) => /\/(chat\/completions|messages)$/.test(r.path)),
    logs: () => edge.logs(),
    stop: async () => {
      await edge.stop();
      await up.close();
    },
  };
}
