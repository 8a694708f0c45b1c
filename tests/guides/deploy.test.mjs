// Performs every offline step of docs/deploy/README.md: the Workers bundle (wrangler deploy --dry-run), the Node
// and Deno starts of the same build answering /api/config and streaming /api/chat from the mock upstream, and a
// static-host serve of dist/ with the guide's embed snippet rendering the widget in headless Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { startUpstream } from '../upstream/server.mjs';
import { buildEdge } from '../support/edge.mjs';
import { launch, ROOT } from '../browser/support/stack.mjs';

const bin = (name) => path.join(ROOT, 'node_modules/.bin', name);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'edgechat-guides-'));
const OPENAI_KEY = 'sk-test-openai-0000';
let up;

before(async () => {
  await buildEdge();
  up = await startUpstream({ keys: { openai: OPENAI_KEY } });
});
after(async () => {
  await up?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('Workers: wrangler deploy --dry-run bundles the edge offline with its bindings', () => {
  const run = spawnSync(bin('wrangler'), ['deploy', '--dry-run', '--outdir', path.join(tmp, 'bundle')], {
    cwd: path.join(ROOT, 'worker'),
    encoding: 'utf8',
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
  });
  const out = stripVTControlCharacters(run.stdout + run.stderr); // without the colours
  assert.equal(run.status, 0, out);
  assert.match(out, /--dry-run: exiting now/);
  // The bundler's warnings (a duplicate key in wasm-bindgen's import object, say) would reach every deployer.
  assert.doesNotMatch(out, /\[WARNING\]/, 'the bundle builds without warnings');
  assert.match(
    out,
    /\[custom build\] Running: bash .*build\.sh/,
    'wrangler builds the wasm first ([build] in wrangler.toml)',
  );
  for (const binding of ['LIMITER', 'STREAMS', 'CACHE_INDEX', 'CACHE']) assert.match(out, new RegExp(binding));
  const files = fs.readdirSync(path.join(tmp, 'bundle'));
  assert.ok(
    files.some((f) => f.endsWith('.wasm')),
    `bundle has the wasm: ${files}`,
  );
  assert.ok(files.includes('entry.js'), `bundle has the entry: ${files}`);
});

/** Starts a server process, waits for `ready` in its output, returns its base URL and a stop function. */
function startServer(cmd, args, env, ready) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`no ready line in 60 s: ${out}`));
    }, 60_000);
    const onData = (d) => {
      out += d;
      const m = out.match(ready);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1],
          stop: () =>
            new Promise((r) => {
              child.once('exit', r);
              child.kill('SIGTERM');
            }),
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code}: ${out}`));
    });
  });
}

async function checkEdge(url) {
  const config = await (await fetch(`${url}/api/config`)).json();
  assert.equal(config.resumable, false, 'no Durable Object outside Workers');
  const res = await fetch(`${url}/api/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: 'http://127.0.0.1:5555' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'hello from the guide' }] }),
  });
  assert.equal(res.status, 200);
  const body = await res.text();
  assert.match(body, /event: delta/);
  assert.match(body, /event: done/);
  assert.ok(!body.includes(OPENAI_KEY), 'the key never reaches the client');
}

const edgeEnv = () => ({ OPENAI_API_KEY: OPENAI_KEY, OPENAI_BASE_URL: `${up.url}/v1` });

test('Node: node worker/node.mjs serves the same build', async () => {
  const port = await freePort();
  const edge = await startServer(
    process.execPath,
    [path.join(ROOT, 'worker/node.mjs'), '--port', String(port)],
    edgeEnv(),
    /listening on (http:\/\/[\d.:]+)/,
  );
  try {
    await checkEdge(edge.url);
  } finally {
    await edge.stop();
  }
});

test('Deno: Deno.serve with fetchHandler serves the same build', async () => {
  const port = await freePort();
  const serve = path.join(tmp, 'serve.mjs');
  fs.writeFileSync(
    serve,
    `import { fetchHandler } from ${JSON.stringify(path.join(ROOT, 'worker/node.mjs'))};
Deno.serve({ hostname: '127.0.0.1', port: ${port}, onListen: ({ port }) => console.log('deno ready on http://127.0.0.1:' + port) }, (request) => fetchHandler(request));
`,
  );
  const edge = await startServer(
    bin('deno'),
    ['run', '--allow-net', '--allow-read', '--allow-env', serve],
    { ...edgeEnv(), DENO_NO_UPDATE_CHECK: '1', DENO_DIR: path.join(tmp, 'deno') },
    /deno ready on (http:\/\/[\d.:]+)/,
  );
  try {
    await checkEdge(edge.url);
  } finally {
    await edge.stop();
  }
});

test('Static host: dist/ on a plain file server, embedded with the guide snippet', async () => {
  const dist = path.join(ROOT, 'dist');
  assert.ok(fs.existsSync(path.join(dist, 'edge-chat.js')), 'dist/ is built (tests/browser/run.sh builds it)');
  // A plain static host: python's http.server, serving dist/ under /edgechat/ and the host page at /.
  const site = path.join(tmp, 'site');
  fs.mkdirSync(site);
  fs.cpSync(dist, path.join(site, 'edgechat'), { recursive: true });
  const guide = fs.readFileSync(path.join(ROOT, 'docs/deploy/README.md'), 'utf8');
  const snippet = guide.match(/<script type="module" src="https:\/\/cdn\.example\.com[^]*?<\/edge-chat>/)[0];
  const edgePort = await freePort();
  const edge = await startServer(
    process.execPath,
    [path.join(ROOT, 'worker/node.mjs'), '--port', String(edgePort)],
    edgeEnv(),
    /listening on (http:\/\/[\d.:]+)/,
  );
  const port = await freePort();
  fs.writeFileSync(
    path.join(site, 'index.html'),
    `<!doctype html><title>host</title><body><h1>Host page</h1>
${snippet
  .replace('https://cdn.example.com/edgechat/', '/edgechat/')
  .replace('https://chat.example.com', edge.url)
  .replace('mode="bubble"', 'mode="inline"')
  .replace('pk_live_...', '')}
</body>`,
  );
  const host = await startServer(
    'python3',
    ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', site],
    {},
    /Serving HTTP on [\d.]+ port (\d+)/,
  ).then((s) => ({ ...s, url: `http://127.0.0.1:${port}` }));
  const browser = await launch();
  try {
    await browser.page.goto(host.url);
    const input = browser.page.locator('edge-chat .ec-input');
    await input.waitFor({ state: 'visible', timeout: 15000 });
    const inShadow = await browser.page.evaluate(
      () => !!document.querySelector('edge-chat').shadowRoot?.querySelector('.ec-input'),
    );
    assert.ok(inShadow, "the widget renders inside the element's shadow root");
    await input.fill('hello from a static host');
    await input.press('Enter');
    const answer = browser.page.locator('edge-chat .ec-assistant').last();
    await browser.page.waitForFunction(
      () => {
        const all = document.querySelector('edge-chat').shadowRoot.querySelectorAll('.ec-assistant');
        return all.length && all[all.length - 1].dataset.status === 'done';
      },
      null,
      { timeout: 15000 },
    );
    assert.ok((await answer.textContent()).length > 0, 'the edge answered the embedded widget');
    assert.deepEqual(browser.consoleErrors, []);
  } finally {
    await browser.close();
    await host.stop();
    await edge.stop();
  }
});

function freePort() {
  return new Promise((resolve) => {
    const s = http.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
