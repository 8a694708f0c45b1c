// The `reasoning` and `tool_call` events (docs/protocol.md): reasoning streams into a collapsed "Reasoning" block
// above the answer, tool calls are listed under it; both are inert text, survive a reload, and are never sent back.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startBackend, startStatic, launch, shot } from './support/stack.mjs';
import { open, send, lastAnswer, settled } from './support/widget.mjs';

// Always the inline protocol edge: these tests need exact reasoning and tool-call events (the real edge's
// pass-through of them is covered by tests/edge/).
let edge, web, browser, page;

before(async () => {
  edge = await startBackend({ inline: true });
  web = await startStatic({ edgeUrl: () => edge.url });
  browser = await launch();
  page = browser.page;
});

after(async () => {
  await browser?.close();
  await web?.stop();
  await edge?.stop();
});

beforeEach(async () => {
  await page.goto(`${web.url}/embed.html`);
  await page.evaluate(() => {
    localStorage.clear();
    sessionStorage.clear();
    delete window.__xss;
  });
  await open(page, `${web.url}/embed.html`);
});

const REASONING = 'First, recall the capital. <img src=x onerror="window.__xss=1"> It is **Paris**.';
const CALL = { id: 'call_1', name: 'lookup_city', arguments: '{"q":"<script>window.__xss=1</script>"}' };

test('reasoning streams into a collapsed block before the answer; tool calls are listed; all inert', async () => {
  edge.queue({
    reasoning: REASONING,
    text: 'The capital of France is Paris.',
    toolCalls: [CALL],
    chunk: 3,
    delayMs: 15,
  });
  await send(page, 'capital of France?');
  const answer = lastAnswer(page);
  const block = answer.locator('details.ec-reasoning');
  await block.waitFor();
  // While reasoning arrives the answer has no text yet and still says it is thinking.
  assert.equal(await answer.locator('.ec-md').innerText(), '');
  assert.equal(await answer.getAttribute('data-status'), 'streaming');
  assert.equal(await settled(page), 'done');
  assert.equal(await block.getAttribute('open'), null, 'collapsed by default');
  await block.locator('summary').click();
  assert.equal(await block.locator('.ec-reasoning-text').innerText(), REASONING);
  // The block sits before the answer text, inside the answer.
  const order = await answer.evaluate((el) => [...el.children].map((c) => c.className));
  assert.ok(order.indexOf('ec-reasoning') < order.indexOf('ec-md'), order.join(' '));
  assert.equal(await answer.locator('.ec-md').innerText(), 'The capital of France is Paris.');
  assert.equal(await answer.locator('.ec-calls li').count(), 1);
  assert.equal(await answer.locator('.ec-calls .ec-call-name').innerText(), 'lookup_city');
  assert.equal(await answer.locator('.ec-calls .ec-call-args').innerText(), CALL.arguments);
  const inert = await answer.evaluate((el) => ({
    elements: el.querySelectorAll('img,script').length,
    xss: window.__xss ?? null,
  }));
  assert.deepEqual(inert, { elements: 0, xss: null });
  await shot(page, 'widget-reasoning');

  // Saved with the conversation: a reload shows the same reasoning and call.
  await page.reload();
  await open(page, `${web.url}/embed.html`);
  const again = lastAnswer(page);
  await again.locator('details.ec-reasoning').waitFor();
  assert.equal(await again.locator('.ec-reasoning-text').evaluate((e) => e.textContent), REASONING);
  assert.equal(await again.locator('.ec-calls .ec-call-name').innerText(), 'lookup_city');

  // Not sent back: the next request's history has the answer text only.
  edge.queue({ text: 'ok' });
  await send(page, 'thanks');
  assert.equal(await settled(page), 'done');
  const last = edge.requests().at(-1).body.messages;
  const assistant = last.find((m) => m.role === 'assistant');
  assert.equal(assistant.content, 'The capital of France is Paris.');
  assert.equal(assistant.tool_calls, undefined);
  assert.ok(!JSON.stringify(last).includes('recall the capital'), 'reasoning is not in the history');
});

test('an answer without reasoning has no reasoning block', async () => {
  edge.queue({ text: 'Plain answer.' });
  await send(page, 'hi');
  assert.equal(await settled(page), 'done');
  assert.equal(await lastAnswer(page).locator('.ec-reasoning, .ec-calls').count(), 0);
});
