// The README's main command as a newcomer uses it: clone the repo, run scripts/dev.sh, wait for the ready line,
// load the page and chat with the local model through the widget, press Ctrl-C (SIGINT), and check that nothing
// is left running and every port is free. Also: a port already in use gives a clear message and a non-zero exit.
// The clone shares the tool cache (~/.cache/edgechat) and a cargo target dir under it, so reruns take seconds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { launch, ROOT } from '../browser/support/stack.mjs';

const cache = process.env.EDGECHAT_CACHE ?? path.join(os.homedir(), '.cache/edgechat');
const clone = fs.mkdtempSync(path.join(os.tmpdir(), 'edgechat-newcomer-'));
const EDGE_PORT = 8787; // fixed: Trunk.toml's [[proxy]] sends /api/ there

before(() => {
  execFileSync('git', ['clone', '--quiet', ROOT, clone]);
  // worker/build.sh reads target/ under the repo (it ignores CARGO_TARGET_DIR), so share the build cache by a link.
  const shared = path.join(cache, 'target-newcomer');
  fs.mkdirSync(shared, { recursive: true });
  fs.symlinkSync(shared, path.join(clone, 'target'));
});
after(() => fs.rmSync(clone, { recursive: true, force: true }));

function portFree(port) {
  return new Promise((resolve) => {
    const s = net
      .createServer()
      .once('error', () => resolve(false))
      .listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

async function freePort() {
  const s = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** Processes whose working directory or command line is inside the clone. */
function processesIn(dir) {
  const found = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cwd.startsWith(dir) || cmd.includes(dir)) found.push(`${pid}: ${cmd}`);
    } catch {
      /* the process ended meanwhile */
    }
  }
  return found;
}

function tail(file, lines = 40) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch (e) {
    return String(e);
  }
}

function withoutTargetDir(env) {
  const { CARGO_TARGET_DIR: _unused, ...rest } = env;
  return rest;
}

function runDev(env) {
  const child = spawn('bash', ['scripts/dev.sh'], {
    cwd: clone,
    env: { ...withoutTargetDir(process.env), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    out += d;
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const waitFor = (re, ms) =>
    new Promise((resolve, reject) => {
      const t0 = Date.now();
      const tick = setInterval(() => {
        const m = out.match(re);
        if (m) {
          clearInterval(tick);
          resolve(m);
        } else if (child.exitCode !== null || Date.now() - t0 > ms) {
          clearInterval(tick);
          reject(new Error(`no ${re} after ${Date.now() - t0} ms (exit ${child.exitCode}):\n${out.slice(-3000)}`));
        }
      }, 200);
    });
  return { child, exited, waitFor, output: () => out };
}

test('a port already in use gives a clear message naming what to do, and a non-zero exit', async () => {
  const blocker = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => blocker.once('listening', r));
  const busy = blocker.address().port;
  try {
    const dev = runDev({ EDGECHAT_WEB_PORT: String(busy), EDGECHAT_MODEL_PORT: String(await freePort()) });
    const { code } = await dev.exited;
    assert.notEqual(code, 0);
    assert.match(dev.output(), new RegExp(`port ${busy} is already in use.*EDGECHAT_WEB_PORT=NNNN`));
  } finally {
    blocker.close();
  }
});

test('scripts/dev.sh from a clean clone: ready line, a chat in the browser, Ctrl-C leaves nothing behind', async () => {
  assert.ok(await portFree(EDGE_PORT), `port ${EDGE_PORT} must be free for the edge (is a dev server running?)`);
  const webPort = await freePort();
  const modelPort = await freePort();
  const dev = runDev({ EDGECHAT_WEB_PORT: String(webPort), EDGECHAT_MODEL_PORT: String(modelPort) });
  try {
    const [, url] = await dev.waitFor(/ready: open the app at (http:\/\/127\.0\.0\.1:\d+\/)/, 25 * 60_000);
    const browser = await launch();
    try {
      // The app is at / (its composer appears once it has the edge's config); the embed demo at /embed.html.
      await browser.page.goto(url);
      await browser.page.locator('#composer-input').waitFor({ state: 'visible', timeout: 30_000 });
      await browser.page.goto(`${url}embed.html`);
      const input = browser.page.locator('edge-chat .ec-input').first();
      await input.waitFor({ state: 'visible', timeout: 30_000 });
      await input.fill('What is the capital of Germany?');
      await input.press('Enter');
      // Wait for the answer to settle (any status but streaming), then say what happened if it is not `done`.
      const settled = await browser.page
        .waitForFunction(
          () => {
            const all = document.querySelector('edge-chat')?.shadowRoot?.querySelectorAll('.ec-assistant');
            const last = all?.[all.length - 1];
            return (
              last && last.dataset.status !== 'streaming' && { status: last.dataset.status, text: last.textContent }
            );
          },
          null,
          { timeout: 120_000 },
        )
        .then((h) => h.jsonValue())
        .catch(async (e) => {
          await browser.page.screenshot({ path: path.join(os.tmpdir(), 'edgechat-main-command.png') }).catch(() => {});
          throw new Error(
            `${e.message}\n--- dev.sh output ---\n${dev.output().slice(-2000)}\n--- trunk.log ---\n${tail(path.join(cache, 'logs/trunk.log'))}`,
          );
        });
      // The 135M demo model sometimes rambles to the token cap: that still is a whole round trip, shown as such.
      const finished =
        settled.status === 'done' || (settled.status === 'truncated' && /token limit/.test(settled.text));
      assert.ok(
        finished,
        `the answer ended ${settled.status}: ${settled.text}\n--- edge.log ---\n${tail(path.join(cache, 'logs/edge.log'))}\n--- trunk.log ---\n${tail(path.join(cache, 'logs/trunk.log'))}`,
      );
      assert.ok(settled.text.trim().length > 0, 'the local model answered');
    } finally {
      await browser.close();
    }
  } finally {
    dev.child.kill('SIGINT');
  }
  const { code } = await dev.exited;
  assert.equal(code, 0, dev.output().slice(-2000));
  assert.match(dev.output(), /stopped; ports .* are free/);
  for (const port of [webPort, EDGE_PORT, modelPort]) assert.ok(await portFree(port), `port ${port} is free`);
  // Give the kernel a moment to reap, then nothing from the clone may remain.
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(processesIn(clone), []);
});
