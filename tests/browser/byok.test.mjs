// Bring-your-own-key mode (`<edge-chat byok>`, which loads the variant built with the cargo feature `byok` from
// dist/byok/): the core builds the provider request in the browser and the widget calls the provider (the mock
// upstream) directly; the key never reaches the edge. A page without the attribute never downloads the variant.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBackend, startStatic, launch, shot } from './support/stack.mjs';
import { startUpstream } from '../upstream/server.mjs';
import { sel, open, send, lastAnswer, settled } from './support/widget.mjs';

const KEY = 'sk-test-openai-0000';
let edge, up, web, browser, page, PAGE;
const fetched = [];

before(async () => {
  edge = await startBackend({ inline: true });
  up = await startUpstream({ port: 0, delayMs: 2 });
  // The provider is reached through the page's origin (/up/ -> mock upstream): the mock sends no CORS headers.
  web = await startStatic({ edgeUrl: () => edge.url, proxies: { '/up/': () => up.url } });
  browser = await launch();
  page = browser.page;
  page.on('request', (r) => fetched.push(new URL(r.url()).pathname));
  PAGE = `${web.url}/byok.html`;
  const html =
    '<!doctype html><meta charset="utf-8"><title>byok</title><script type="module" src="/edge-chat.js"></script>' +
    '<edge-chat title="BYOK test" mode="inline" byok></edge-chat>';
  await page.route(PAGE, (route) => route.fulfill({ contentType: 'text/html; charset=utf-8', body: html }));
  // The default page first: it must not download the variant.
  await open(page, `${web.url}/embed.html`);
  assert.equal(await page.locator('edge-chat .ec-byok').count(), 0, 'no BYOK form without the attribute');
  assert.ok(!fetched.some((p) => p.startsWith('/byok/')), 'the variant is not downloaded without the attribute');
  await open(page, PAGE);
  assert.ok(fetched.includes('/byok/edgechat-www_bg.wasm'), 'the attribute loads the variant');
});

after(async () => {
  await browser?.close();
  await web?.stop();
  await up?.close();
  await edge?.stop();
});

test('answers come straight from the provider with the key kept in this tab only', async () => {
  const panel = page.locator('edge-chat .ec-byok');
  await panel.locator('summary').click();
  assert.match(await panel.locator('.ec-warn').innerText(), /never reaches this site's server/);
  await panel.locator('select').selectOption('openai-chat');
  await panel.locator('input[type=url]').fill(`${web.url}/up/v1`);
  await panel.locator('input[type=text]').fill('gpt-4o-mini');
  await panel.locator('input[type=password]').fill(KEY);
  await panel.getByText('Use my key').click();
  await page.locator('edge-chat .ec-note.ec-warn').waitFor();
  assert.equal(await page.locator('edge-chat .ec-model').count(), 0, 'no edge model picker in BYOK mode');
  await shot(page, 'byok-enabled');

  const edgeChats = edge.requests().length;
  up.queue({ text: 'Direct **answer** from the provider.', chunk: 3 });
  await send(page, 'hello byok');
  assert.equal(await settled(page), 'done');
  assert.equal(await lastAnswer(page).locator('.ec-md').innerText(), 'Direct answer from the provider.');
  assert.equal(await lastAnswer(page).locator('.ec-md strong').innerText(), 'answer');
  assert.match(await lastAnswer(page).locator('.ec-usage').innerText(), /\d+ in · \d+ out/);

  assert.equal(edge.requests().length, edgeChats, 'the edge saw no chat request');
  const req = up
    .requests()
    .filter((r) => r.path.endsWith('/chat/completions'))
    .at(-1);
  assert.equal(req.headers.authorization, `Bearer ${KEY}`);
  assert.equal(req.body.model, 'gpt-4o-mini');
  assert.equal(req.body.stream, true);
  assert.deepEqual(
    req.body.messages.filter((m) => m.role === 'user').map((m) => m.content),
    ['hello byok'],
  );

  const stored = await page.evaluate(() => ({
    session: JSON.stringify(sessionStorage),
    local: JSON.stringify(localStorage),
  }));
  assert.ok(stored.session.includes(KEY), 'key in sessionStorage');
  assert.ok(!stored.local.includes(KEY), 'key never in localStorage');
  assert.ok(!JSON.stringify(edge.requests().map((r) => r.headers)).includes(KEY), 'key never sent to the edge');

  // Provider errors come back typed.
  up.queue({ status: 429, retryAfter: 4 });
  await send(page, 'again');
  assert.equal(await settled(page), 'failed');
  assert.equal(await lastAnswer(page).locator('.ec-error').getAttribute('data-kind'), 'ratelimited');
  assert.match(await lastAnswer(page).locator('.ec-error').innerText(), /try again in 4 s/);

  await panel.getByText('Forget key').click();
  assert.ok(!(await page.evaluate(() => JSON.stringify(sessionStorage))).includes(KEY), 'key forgotten');
  await page.locator('edge-chat .ec-model').waitFor();
  assert.equal(await page.locator(sel.input).count(), 1);
});
