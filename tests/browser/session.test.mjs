// Signed-in users (worker/README.md "Session tokens", www/README.md): `session-token`, the `sessionToken` property
// and `token-url` reach the edge as `Authorization: Bearer` on every request; a fetched token is fetched with the
// page's cookies, kept in memory only, fetched again before it expires and once after a 401 (the request is then
// sent again once); a failed fetch is an error on screen. Against the inline protocol edge (it records every
// request's headers), and at the end against the real edge in workerd with a `require_session` site key.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHmac } from 'node:crypto';
import { startBackend, startStatic, launch, shot, browserEdgeVars } from './support/stack.mjs';
import { open, send, lastAnswer, settled, eventually } from './support/widget.mjs';

let edge, tokens, web, browser, page;

/** The host site's token endpoint: a new token per fetch (`tok-1`, `tok-2`, …) living `ttl` seconds. */
async function startTokenServer() {
  const state = { n: 0, ttl: 900, fail: 0, hits: [], mint: null };
  const server = http.createServer((req, res) => {
    state.hits.push({ path: req.url, cookie: req.headers.cookie ?? '' });
    if (state.fail > 0) {
      state.fail--;
      res.writeHead(500, { 'content-type': 'text/plain' }).end('backend down');
      return;
    }
    const token = state.mint ? state.mint() : `tok-${++state.n}`;
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify({ token, expires_at: Math.floor(Date.now() / 1000) + state.ttl }));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, state, stop: () => new Promise((r) => server.close(r)) };
}

/** Serves `${web.url}/${name}.html` with one `<edge-chat ${attrs}>` talking to the page's own origin. */
async function pageWith(name, attrs) {
  const url = `${web.url}/${name}.html`;
  const html =
    '<!doctype html><meta charset="utf-8"><title>session</title><script type="module" src="/edge-chat.js"></script>' +
    `<edge-chat title="Session test" mode="inline" ${attrs}></edge-chat>`;
  await page.route(url, (route) => route.fulfill({ contentType: 'text/html; charset=utf-8', body: html }));
  return url;
}

const bearer = (r) => r.headers.authorization;
const configCalls = () => edge.allRequests().filter((r) => r.path === '/api/config');

/** Shifts the page's clock (`Date.now`, which the widget reads) by `ms`. */
const shiftClock = (ms) =>
  page.evaluate((ms) => {
    const real = Date.now.bind(Date);
    Date.now = () => real() + ms;
  }, ms);

before(async () => {
  edge = await startBackend({ inline: true, requireSession: true });
  tokens = await startTokenServer();
  web = await startStatic({ edgeUrl: () => edge.url, proxies: { '/auth/': () => tokens.url } });
  browser = await launch();
  page = browser.page;
});

after(async () => {
  await browser?.close();
  await web?.stop();
  await tokens?.stop();
  await edge?.stop();
});

beforeEach(async () => {
  Object.assign(tokens.state, { n: 0, ttl: 900, fail: 0, hits: [], mint: null });
  edge.requests().length = 0;
  edge.allRequests().length = 0;
  await page.goto(`${web.url}/`);
  await page.evaluate(() => {
    localStorage.clear();
    sessionStorage.clear();
  });
});

test('session-token attribute and sessionToken property: Bearer on every request; a new token without a remount', async () => {
  await open(page, await pageWith('attr', 'session-token="fixed-abc"'));
  await page.locator('edge-chat .ec-model').waitFor();
  assert.equal(bearer(configCalls().at(-1)), 'Bearer fixed-abc');
  await send(page, 'hello');
  assert.equal(await settled(page), 'done');
  assert.equal(bearer(edge.requests().at(-1)), 'Bearer fixed-abc');
  // A new attribute value, then the property, replace the token in the mounted widget: same DOM, conversation kept.
  await page.evaluate(() => {
    window.__root = document.querySelector('edge-chat').shadowRoot.querySelector('.ec-widget');
  });
  await page.evaluate(() => document.querySelector('edge-chat').setAttribute('session-token', 'attr-2'));
  await send(page, 'with a new attribute');
  assert.equal(await settled(page), 'done');
  assert.equal(bearer(edge.requests().at(-1)), 'Bearer attr-2');
  await page.evaluate(() => {
    document.querySelector('edge-chat').sessionToken = 'prop-def';
  });
  assert.equal(await page.evaluate(() => document.querySelector('edge-chat').sessionToken), 'prop-def');
  await send(page, 'again');
  assert.equal(await settled(page), 'done');
  assert.equal(bearer(edge.requests().at(-1)), 'Bearer prop-def');
  assert.ok(await page.evaluate(() => window.__root.isConnected), 'not remounted');
  assert.equal(await page.locator('edge-chat .ec-assistant').count(), 3);
  // Set before the element is upgraded (the loader is a module, so a page script may run first).
  const early = `${web.url}/early.html`;
  await page.route(early, (route) =>
    route.fulfill({
      contentType: 'text/html; charset=utf-8',
      body:
        '<!doctype html><meta charset="utf-8"><edge-chat title="Early"></edge-chat>' +
        '<script>document.querySelector("edge-chat").sessionToken = "early-xyz";</script>' +
        '<script type="module" src="/edge-chat.js"></script>',
    }),
  );
  await open(page, early);
  await page.locator('edge-chat .ec-model').waitFor();
  assert.equal(bearer(configCalls().at(-1)), 'Bearer early-xyz');
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
  assert.ok(!/prop-def|early-xyz/.test(stored), 'a token from the property is not stored');
});

test('token-url: fetched with the page cookies, sent as Bearer, kept in memory only, reused while fresh', async () => {
  await browser.context.addCookies([{ name: 'host_session', value: 'user-42', url: web.url }]);
  await open(page, await pageWith('url', 'token-url="/auth/token"'));
  await page.locator('edge-chat .ec-model').waitFor();
  assert.equal(bearer(configCalls().at(-1)), 'Bearer tok-1');
  assert.equal(tokens.state.hits.length, 1);
  assert.match(tokens.state.hits[0].cookie, /host_session=user-42/, 'credentials included');
  await send(page, 'first');
  assert.equal(await settled(page), 'done');
  await send(page, 'second');
  assert.equal(await settled(page), 'done');
  assert.deepEqual(edge.requests().map(bearer), ['Bearer tok-1', 'Bearer tok-1']);
  assert.equal(tokens.state.hits.length, 1, 'one fetch while the token is fresh');
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
  assert.ok(!stored.includes('tok-1'), `no token in web storage: ${stored}`);
});

test('token-url: fetched again before expiry (under 60 s or a tenth of its lifetime left), not earlier', async () => {
  tokens.state.ttl = 120; // a tenth: 12 s
  await open(page, await pageWith('ttl', 'token-url="/auth/token"'));
  await page.locator('edge-chat .ec-model').waitFor();
  await shiftClock(100_000); // ~20 s left
  await send(page, 'one');
  assert.equal(await settled(page), 'done');
  assert.equal(bearer(edge.requests().at(-1)), 'Bearer tok-1');
  await shiftClock(10_000); // ~10 s left
  await send(page, 'two');
  assert.equal(await settled(page), 'done');
  assert.equal(bearer(edge.requests().at(-1)), 'Bearer tok-2');
  // A long-lived token: refreshed once less than 60 s remain.
  tokens.state.ttl = 3600;
  await open(page, await pageWith('ttl2', 'token-url="/auth/token"'));
  await page.locator('edge-chat .ec-model').waitFor();
  assert.equal(bearer(configCalls().at(-1)), 'Bearer tok-3');
  await shiftClock(3_520_000); // ~80 s left
  await send(page, 'three');
  assert.equal(await settled(page), 'done');
  assert.equal(bearer(edge.requests().at(-1)), 'Bearer tok-3');
  await shiftClock(30_000); // ~50 s left
  await send(page, 'four');
  assert.equal(await settled(page), 'done');
  assert.equal(bearer(edge.requests().at(-1)), 'Bearer tok-4');
});

test('token-url: a 401 from the edge fetches a new token and sends the request once more; a second 401 is shown', async () => {
  await open(page, await pageWith('401', 'token-url="/auth/token"'));
  await page.locator('edge-chat .ec-model').waitFor();
  edge.queue({ status: 401, type: 'unauthorized', message: 'session token expired' });
  await send(page, 'retry me');
  assert.equal(await settled(page), 'done');
  assert.deepEqual(edge.requests().map(bearer), ['Bearer tok-1', 'Bearer tok-2']);
  assert.equal(tokens.state.hits.length, 2);
  // Refused again with the new token: no third attempt, a clear error.
  edge.queue(
    { status: 401, type: 'unauthorized', message: 'session token expired' },
    { status: 401, type: 'unauthorized', message: 'unknown user' },
  );
  await send(page, 'refused');
  assert.equal(await settled(page), 'failed');
  assert.equal(edge.requests().length, 4);
  const error = lastAnswer(page).locator('.ec-error');
  assert.equal(await error.getAttribute('data-kind'), 'auth');
  assert.match(await error.innerText(), /Not signed in.*unknown user/s);
});

test('token-url: a failed token fetch is an error on screen, and Retry works once the backend answers', async () => {
  tokens.state.fail = 2; // the config's fetch and the first question's
  await open(page, await pageWith('fail', 'token-url="/auth/token"'));
  const note = page.locator('edge-chat .ec-error-note');
  await note.waitFor();
  assert.match(await note.innerText(), /Not signed in.*Could not get a session token: HTTP 500/s);
  await send(page, 'hello?');
  assert.equal(await settled(page), 'failed');
  const error = lastAnswer(page).locator('.ec-error');
  assert.equal(await error.getAttribute('data-kind'), 'auth');
  assert.match(await error.innerText(), /Could not get a session token: HTTP 500/);
  assert.equal(edge.requests().length, 0, 'nothing sent to the edge without a token');
  await shot(page, 'session-token-failed');
  await error.locator('.ec-retry').click();
  assert.equal(await settled(page), 'done');
  assert.equal(bearer(edge.requests().at(-1)), 'Bearer tok-1');
});

test('the real edge: a require_session site key works through the widget with session-token and token-url', async () => {
  const { startUpstream } = await import('../upstream/server.mjs');
  const { startEdge } = await import('../support/edge.mjs');
  const SECRET = 'test-session-secret-0123456789';
  const up = await startUpstream({ port: 0, delayMs: 2 });
  const vars = browserEdgeVars(up.url);
  const config = JSON.parse(vars.EDGECHAT_CONFIG);
  config.site_keys = { pk_test_sess: { origins: ['http://127.0.0.1:*'], require_session: true } };
  const real = await startEdge({ vars: { ...vars, EDGECHAT_CONFIG: JSON.stringify(config), SESSION_SECRET: SECRET } });
  // worker/README.md "Session tokens".
  const mint = (sub, ttl = 900) => {
    const payload = Buffer.from(
      JSON.stringify({ site: 'pk_test_sess', sub, exp: Math.floor(Date.now() / 1000) + ttl }),
    ).toString('base64url');
    return `${payload}.${createHmac('sha256', SECRET).update(payload).digest('base64url')}`;
  };
  const realWeb = await startStatic({ edgeUrl: () => real.url, proxies: { '/auth/': () => tokens.url } });
  const at = async (name, attrs) => {
    const url = `${realWeb.url}/${name}.html`;
    await page.route(url, (route) =>
      route.fulfill({
        contentType: 'text/html; charset=utf-8',
        body:
          '<!doctype html><meta charset="utf-8"><script type="module" src="/edge-chat.js"></script>' +
          `<edge-chat title="Signed in" site-key="pk_test_sess" ${attrs}></edge-chat>`,
      }),
    );
    await page.goto(url);
    await page.evaluate(() => {
      localStorage.clear();
    });
    await open(page, url);
  };
  try {
    // Without a token the edge refuses, and the widget says why.
    await at('none', '');
    const note = page.locator('edge-chat .ec-error-note');
    await note.waitFor();
    assert.match(await note.innerText(), /Not signed in.*session token/s);
    await send(page, 'anyone there?');
    assert.equal(await settled(page), 'failed');
    assert.equal(await lastAnswer(page).locator('.ec-error').getAttribute('data-kind'), 'auth');
    // With one it works, counted per user.
    await at('token', `session-token="${mint('user-42')}"`);
    await page.locator('edge-chat .ec-simulated').waitFor();
    await send(page, 'hello as user-42');
    assert.equal(await settled(page), 'done');
    assert.match(await lastAnswer(page).locator('.ec-md').innerText(), /\S/);
    const line = await eventually(() => real.logs().find((l) => l.route === '/api/chat' && l.outcome === 'complete'), {
      what: 'the log line',
    });
    assert.match(line.client, /user-42/);
    // token-url minting real tokens.
    tokens.state.mint = () => mint('user-43');
    await at('url', 'token-url="/auth/token"');
    await page.locator('edge-chat .ec-simulated').waitFor();
    await send(page, 'hello as user-43');
    assert.equal(await settled(page), 'done');
    await eventually(() => real.logs().some((l) => l.route === '/api/chat' && /user-43/.test(l.client)), {
      what: 'user-43 served',
    });
  } finally {
    await realWeb.stop();
    await real.stop();
    await up.close();
  }
});
