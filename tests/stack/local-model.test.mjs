// The whole stack with the real local model: headless Chromium types a question into the widget (dist/ release
// build), the edge in workerd streams the local SmolLM2 model's answer back, the answer grows on screen, and the
// usage footnote appears. Needs dist/ (tests/browser/run.sh builds it) and the cached model (scripts/setup.sh).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEdge } from '../support/edge.mjs';
import { startStatic, launch, shot } from '../browser/support/stack.mjs';
import { startModel } from './model.mjs';
import { open, send, sel, settled } from '../browser/support/widget.mjs';

let model, edge, site, browser;

before(async () => {
  model = await startModel();
  edge = await startEdge({ upstreams: { compat: `${model.url}/v1` } });
  site = await startStatic({ edgeUrl: () => edge.url });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await site?.stop();
  await edge?.stop();
  await model?.stop();
});

test('a question typed into the widget is answered by the local model, progressively, with usage shown', async () => {
  const { page } = browser;
  await open(page, `${site.url}/embed.html`); // the embed demo (the app is at /)
  const config = await (await fetch(`${site.url}/api/config`)).json();
  assert.equal(config.default_model, 'local');
  assert.equal(config.simulated, false, 'a real local model is not a simulation');

  await send(page, 'What is the capital of Germany? Answer in one sentence.');
  const answer = page.locator(sel.answer).last();
  // Sample the answer's length while it streams: it must be seen growing before the stream ends.
  const lengths = [];
  const start = Date.now();
  while (Date.now() - start < 30_000) {
    const [len, status] = await answer
      .evaluate((el) => [el.textContent.length, el.dataset.status])
      .catch(() => [0, 'streaming']);
    if (len > 0 && lengths.at(-1) !== len) lengths.push(len);
    if (status && status !== 'streaming') break;
    await new Promise((r) => setTimeout(r, 15));
  }
  const status = await settled(page, 30_000);
  // The 135M model sometimes rambles to the token cap: still a whole round trip, and shown as such.
  const capped = status === 'truncated' && /token limit/.test(await answer.textContent());
  assert.ok(status === 'done' || capped, `the answer finished normally (${status})`);
  assert.ok(lengths.length >= 2, `the answer grew on screen in steps (${lengths.join(' → ')})`);
  // What a 135M model samples is not under test (it once answered "Der Kaiserreich"): the round trip is.
  const text = (await answer.locator('.ec-md').innerText()).trim();
  assert.ok(text.length > 0, 'the model answered');
  const usage = page.locator('edge-chat .ec-usage').last();
  await usage.waitFor({ timeout: 5000 });
  const out = Number((await usage.textContent()).match(/(\d+) out/)?.[1]);
  assert.ok(out > 0, `the output tokens the model reported are shown (${await usage.textContent()})`);
  await shot(page, 'stack-local-model');
});
