// Provider-side limits and live budgets through the real widget and the real edge in workerd (worker/README.md
// "The site owner's assistant", point 5 of the assistant issue): a daily token budget that runs out in the middle
// of an answer ends it with `done {stopped, reason: "budget"}`, which the widget shows as stopped *by the budget*
// (not by the person), keeping the text so far; Continue picks it up once the budget allows again. A model's
// provider-wide per-minute limit refuses the next request with 429 `rate_limited` and a Retry-After the widget
// shows as a wait.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStatic, launch, shot, browserEdgeVars } from './support/stack.mjs';
import { open, send, lastAnswer, settled, eventually } from './support/widget.mjs';
import { startUpstream } from '../upstream/server.mjs';
import { startEdge } from '../support/edge.mjs';

let up, edge, web, browser, page;

/** The real edge in workerd with `limits` and `models` merged into the browser tests' configuration. */
async function edgeWith({ limits = {}, models = {}, extra = {} } = {}) {
  const vars = browserEdgeVars(up.url);
  const config = JSON.parse(vars.EDGECHAT_CONFIG);
  Object.assign(config, extra);
  config.limits = { ...config.limits, ...limits };
  for (const [alias, o] of Object.entries(models)) config.models[alias] = { ...config.models[alias], ...o };
  return startEdge({ vars: { ...vars, EDGECHAT_CONFIG: JSON.stringify(config) } });
}

before(async () => {
  up = await startUpstream({ port: 0, delayMs: 3 });
  web = await startStatic({ edgeUrl: () => edge.url });
  browser = await launch();
  page = browser.page;
});

after(async () => {
  await browser?.close();
  await web?.stop();
  await edge?.stop();
  await up?.close();
});

async function fresh() {
  await page.goto(`${web.url}/embed.html`);
  await page.evaluate(() => localStorage.clear());
  await open(page, `${web.url}/embed.html`);
}

test('a daily budget that runs out mid-answer: stopped by the budget, text kept, Continue after it resets', async () => {
  edge = await edgeWith({ limits: { daily_tokens: 60 } });
  try {
    await fresh();
    await send(page, 'tell me a long story mock:words=200');
    assert.equal(await settled(page), 'stopped');
    const answer = lastAnswer(page);
    const cut = await answer.locator('.ec-md').innerText();
    assert.ok(cut.trim().split(/\s+/).length >= 10, `the text so far is kept: ${cut}`);
    // Not a plain stop: the widget says the budget ended it.
    const alert = answer.locator('.ec-error');
    await alert.waitFor();
    assert.equal(await alert.getAttribute('data-kind'), 'ratelimited');
    assert.match(await alert.innerText(), /budget ran out/i);
    // Continue carries the answer on from where the budget cut it.
    assert.equal(await answer.locator('.ec-continue').count(), 1);
    const line = await eventually(() => edge.logs().find((l) => l.route === '/api/chat' && l.outcome === 'budget'), {
      what: 'the budget log line',
    });
    assert.ok(line.output_tokens > 0);
    await shot(page, 'widget-budget-stopped');
    // The day's budget is spent: the next question (the same visitor, asked outside the widget to keep the cut
    // answer the last one) is refused before it reaches the provider.
    const sent = up.requests().length;
    const refused = await fetch(`${edge.url}/api/chat`, {
      method: 'POST',
      headers: { origin: web.url, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'one more?' }] }),
    });
    assert.equal(refused.status, 429);
    assert.equal((await refused.json()).error.type, 'budget_exceeded');
    assert.equal(up.requests().length, sent, 'nothing sent upstream');

    // The budget resets (a new day: here a fresh edge, with room for the rest). Continue the cut answer.
    await edge.stop();
    edge = await edgeWith({ limits: { daily_tokens: 100_000 } });
    await page.reload();
    await page.locator('edge-chat .ec-input').waitFor();
    const cont = page.locator('edge-chat .ec-assistant').first().locator('.ec-continue');
    await cont.click();
    await eventually(
      async () => (await page.locator('edge-chat .ec-assistant').first().getAttribute('data-status')) === 'done',
      { timeout: 15000, what: 'the continued answer to finish' },
    );
    const whole = await page.locator('edge-chat .ec-assistant').first().locator('.ec-md').innerText();
    assert.ok(whole.length > cut.length, 'the answer grew');
    assert.ok(whole.startsWith(cut.trim().slice(0, 40)), 'and kept its beginning');
    assert.equal(await page.locator('edge-chat .ec-assistant').first().locator('.ec-error').count(), 0);
  } finally {
    await edge.stop();
    edge = null;
  }
});

test("a model's provider-wide per-minute limit: the next request waits, then 429 shown with its wait", async () => {
  edge = await edgeWith({ models: { fast: { provider_rpm: 1 } }, extra: { provider_wait_ms: 200 } });
  try {
    await fresh();
    await send(page, 'first mock:words=3');
    assert.equal(await settled(page), 'done');
    const sent = up.requests().length;
    const started = Date.now();
    await send(page, 'second mock:words=3');
    assert.equal(await settled(page), 'failed');
    const alert = lastAnswer(page).locator('.ec-error');
    assert.equal(await alert.getAttribute('data-kind'), 'ratelimited');
    // The window frees in about a minute: the widget says how long to wait.
    assert.match(await alert.innerText(), /Rate limited: try again in \d+ s/);
    const wait = Number((await alert.innerText()).match(/try again in (\d+) s/)[1]);
    assert.ok(wait >= 30 && wait <= 60, `wait ${wait} s`);
    assert.ok(Date.now() - started < 5000, 'refused after a short wait, not held');
    assert.equal(up.requests().length, sent, 'nothing sent upstream');
    await shot(page, 'widget-provider-limit');
  } finally {
    await edge.stop();
    edge = null;
  }
});
