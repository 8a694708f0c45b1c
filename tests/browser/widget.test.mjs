// End-to-end: the built widget (dist/) in headless Chromium against an edge speaking docs/protocol.md.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startBackend, startStatic, launch, shot } from './support/stack.mjs';
import { MARKDOWN_ANSWER } from './support/mock-edge.mjs';
import { sel, open, send, lastAnswer, settled, eventually } from './support/widget.mjs';

/** The user/assistant turns of a chat request as the backend saw it (edge protocol or provider format). */
const turns = (req) =>
  req.body.messages
    .filter((m) => m.role === 'user' || m.role === 'assistant')
    .map((m) => ({
      role: m.role,
      content: typeof m.content === 'string' ? m.content : m.content.map((c) => c.text).join(''),
    }));

let edge, web, browser, page;

before(async () => {
  // The inline protocol edge by default; the real edge + mock upstream with EDGECHAT_E2E_EDGE=real.
  edge = await startBackend({ config: { simulated: true } });
  console.log(`# widget tests against the ${edge.kind} edge`);
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
  });
  await open(page, `${web.url}/embed.html`);
});

test('config: simulated notice and model picker', async () => {
  await page.locator('edge-chat .ec-simulated').waitFor();
  assert.match(await page.locator('edge-chat .ec-simulated').innerText(), /simulated/i);
  const options = await page.locator('edge-chat .ec-model option').allInnerTexts();
  assert.deepEqual(options, ['Fast', 'Smart']);
});

test('streams markdown progressively; finished blocks keep their DOM nodes', async () => {
  edge.queue({ text: MARKDOWN_ANSWER, chunk: 3, delayMs: 12 });
  await send(page, 'show me markdown');
  const md = lastAnswer(page).locator('.ec-md');
  // The heading moves from the growing tail to the finished blocks once the next block has started.
  await md.locator(':scope > .ec-chunk > h1').waitFor();
  // Mark the first finished block; it must be the very same node at the end.
  await page.locator('edge-chat .ec-log').evaluate(() => {
    const root = document.querySelector('edge-chat').shadowRoot;
    window.__firstBlock = [...root.querySelectorAll('.ec-assistant')].at(-1).querySelector('.ec-md > .ec-chunk > h1');
  });
  assert.equal(await page.locator(sel.log).getAttribute('aria-busy'), 'true');
  const partial = await md.innerText();
  assert.ok(partial.length < MARKDOWN_ANSWER.length, 'answer is still arriving');
  await shot(page, 'widget-streaming');
  assert.equal(await settled(page), 'done');
  assert.equal(await page.locator(sel.log).getAttribute('aria-busy'), 'false');
  const same = await page.evaluate(() => {
    const root = document.querySelector('edge-chat').shadowRoot;
    const h1 = [...root.querySelectorAll('.ec-assistant')].at(-1).querySelector('.ec-md > .ec-chunk > h1');
    return window.__firstBlock.isConnected && h1 === window.__firstBlock;
  });
  assert.ok(same, 'the heading rendered first is the same DOM node after the answer finished');
  assert.equal(await md.locator('h1').innerText(), 'Heading one');
  assert.equal(await md.locator('p strong').first().innerText(), 'bold');
  assert.equal(await md.locator('p em').first().innerText(), 'em');
  const link = md.locator('a').first();
  assert.equal(await link.getAttribute('href'), 'https://example.com/docs');
  assert.equal(await link.getAttribute('target'), '_blank');
  assert.match(await link.getAttribute('rel'), /noopener/);
  assert.match(await link.getAttribute('rel'), /noreferrer/);
  assert.equal(await md.locator('ul > li > ul > li').innerText(), 'nested');
  assert.equal(await md.locator('ol > li').count(), 2);
  assert.match(await md.locator('.ec-code code').innerText(), /println!\("hello"\);/);
  assert.equal(await md.locator('.ec-code .ec-copy').count(), 1);
  assert.equal(await md.locator('table td').count(), 2);
  assert.equal(await md.locator('blockquote').innerText(), 'a quote');
  const usage = await lastAnswer(page).locator('.ec-usage').innerText();
  assert.match(usage, edge.kind === 'inline' ? /^12 in · \d+ out · \$0\.0001$/ : /^\d+ in · \d+ out/);
  // Focus returns to the input when the answer ends.
  assert.ok(await page.locator(sel.input).evaluate((el) => el.getRootNode().activeElement === el));
  await shot(page, 'widget-answer');
});

test('the log follows a streaming answer to its end, and stops following when the reader scrolls up', async () => {
  const long = Array.from({ length: 60 }, (_, i) => `Paragraph ${i + 1} of a long answer.`).join('\n\n');
  const log = page.locator(sel.log);
  const gap = () => log.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
  edge.queue({ text: long, chunk: 12, delayMs: 8 });
  await send(page, 'a long answer please');
  await eventually(async () => await log.evaluate((el) => el.scrollHeight > el.clientHeight * 1.5), {
    what: 'the answer to overflow the log',
  });
  assert.ok((await gap()) <= 40, `following the end while it streams (gap ${await gap()} px)`);
  // The reader scrolls up mid-answer: the log stays where they are.
  await log.evaluate((el) => {
    el.scrollTop = 0;
  });
  await page.waitForTimeout(300);
  assert.equal(await lastAnswer(page).getAttribute('data-status'), 'streaming', 'still streaming');
  assert.ok((await log.evaluate((el) => el.scrollTop)) < 40, 'not pulled back down');
  assert.equal(await settled(page), 'done');
  assert.ok((await log.evaluate((el) => el.scrollTop)) < 40, 'still where the reader left it');
  // Asking again shows the new answer.
  edge.queue({ text: long, chunk: 40, delayMs: 2 });
  await send(page, 'and again');
  assert.equal(await settled(page), 'done');
  await eventually(async () => (await gap()) <= 40, { what: 'the end of the new answer in view' });
});

test('copy button copies the code block', async () => {
  edge.queue({ text: '```js\nconsole.log(1)\n```\n' });
  await send(page, 'code please');
  await settled(page);
  await lastAnswer(page).locator('.ec-copy').click();
  assert.equal(await lastAnswer(page).locator('.ec-copy').innerText(), 'Copied');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), 'console.log(1)\n');
});

test('stop before the first token aborts the request and keeps the draft', async () => {
  edge.queue({ hold: true });
  await send(page, 'hold on');
  await page.locator(sel.stop).waitFor();
  await page.locator(sel.input).fill('my next question');
  await page.locator(sel.stop).click();
  assert.equal(await settled(page), 'stopped');
  assert.equal(await lastAnswer(page).locator('.ec-stopped').innerText(), 'Stopped');
  await eventually(() => edge.requests().at(-1).aborted, { what: 'the edge to see the abort' });
  assert.equal(await page.locator(sel.input).inputValue(), 'my next question');
  edge.release();
  await shot(page, 'widget-stopped-early');
});

test('stop during streaming keeps the text so far, marked stopped', async () => {
  edge.queue({ text: 'word '.repeat(400), chunk: 5, delayMs: 15 });
  await send(page, 'long one');
  await lastAnswer(page).locator('.ec-md p').waitFor();
  await page.keyboard.press('Escape');
  assert.equal(await settled(page), 'stopped');
  const text = await lastAnswer(page).locator('.ec-md').innerText();
  assert.ok(text.length > 0 && text.length < 2000, `partial text kept (${text.length} chars)`);
  await eventually(() => edge.requests().at(-1).aborted, { what: 'abort at the edge' });
  // Stopped answers are sent back as history (marked interrupted in the edge protocol).
  edge.queue({ text: 'ok' });
  await send(page, 'next');
  await settled(page);
  const last = edge.requests().at(-1);
  assert.equal(turns(last).at(-2).role, 'assistant');
  assert.ok(text.startsWith(turns(last).at(-2).content.trim().slice(0, 20)));
  if (edge.kind === 'inline') assert.equal(last.body.messages.at(-2).interrupted, true);
});

test('regenerate asks again with the same history', async () => {
  edge.queue({ text: 'first answer' });
  await send(page, 'question one');
  await settled(page);
  edge.queue({ text: 'second answer' });
  await lastAnswer(page).locator('.ec-regen').click();
  await settled(page);
  assert.equal(await page.locator(sel.answer).count(), 1);
  assert.equal(await lastAnswer(page).locator('.ec-md').innerText(), 'second answer');
  const [a, b] = edge.requests().slice(-2).map(turns);
  assert.deepEqual(a, b);
  assert.deepEqual(b, [{ role: 'user', content: 'question one' }]);
});

test('edit and resend the last user message', async () => {
  edge.queue({ text: 'answer' });
  await send(page, 'tpyo question');
  await settled(page);
  await page.locator('edge-chat .ec-edit').click();
  assert.equal(await page.locator(sel.input).inputValue(), 'tpyo question');
  assert.equal(await page.locator(sel.user).count(), 0);
  assert.ok(await page.locator(sel.input).evaluate((el) => el.getRootNode().activeElement === el), 'input focused');
  edge.queue({ text: 'better answer' });
  await send(page, 'typo question');
  await settled(page);
  assert.deepEqual(turns(edge.requests().at(-1)), [{ role: 'user', content: 'typo question' }]);
});

test('rate limited: shows the wait, keeps the message, retry works', async () => {
  edge.queue({ status: 429, retryAfter: 7 });
  await send(page, 'mock:429 please');
  assert.equal(await settled(page), 'failed');
  const err = lastAnswer(page).locator('.ec-error');
  assert.equal(await err.getAttribute('data-kind'), 'ratelimited');
  assert.match(await err.innerText(), /Rate limited: try again in 7 s/);
  assert.equal(await page.locator(sel.user).last().locator('.ec-bubble').innerText(), 'mock:429 please');
  await shot(page, 'widget-rate-limited');
  edge.queue({ text: 'fine now' });
  await err.locator('.ec-retry').click();
  assert.equal(await settled(page), 'done');
  assert.equal(await lastAnswer(page).locator('.ec-md').innerText(), 'fine now');
});

test('mid-stream provider error keeps the partial text and offers retry', async () => {
  edge.queue({
    text: 'partial text',
    end: 'error',
    error: { type: 'upstream_error', message: 'provider exploded', retryable: true },
  });
  await send(page, 'break');
  assert.equal(await settled(page), 'truncated');
  assert.equal(await lastAnswer(page).locator('.ec-md').innerText(), 'partial text');
  const err = lastAnswer(page).locator('.ec-error');
  assert.equal(await err.getAttribute('data-kind'), 'provider');
  // The real stack shows the mock provider's own message.
  assert.match(await err.innerText(), edge.kind === 'inline' ? /provider exploded/ : /Provider error\s+\S/);
  assert.equal(await err.locator('.ec-retry').count(), 1);
  await shot(page, 'widget-provider-error');
});

test('truncated stream (no done/error) is marked cut off', async () => {
  edge.queue({ text: 'cut here', end: 'truncate' });
  await send(page, 'truncate me');
  assert.equal(await settled(page), 'truncated');
  assert.equal(await lastAnswer(page).locator('.ec-md').innerText(), 'cut here');
  assert.equal(await lastAnswer(page).locator('.ec-error').getAttribute('data-kind'), 'truncated');
  assert.match(await lastAnswer(page).locator('.ec-error').innerText(), /Answer cut off/);
});

test('connection lost mid-answer: partial text kept, shown as a network error, retry works', async () => {
  edge.queue({ text: 'partial before the drop', drop: true });
  await send(page, 'network down');
  assert.equal(await settled(page), 'truncated');
  assert.equal(await lastAnswer(page).locator('.ec-md').innerText(), 'partial before the drop');
  const err = lastAnswer(page).locator('.ec-error');
  // Inline: the browser's own connection breaks (network). Real stack: the upstream's connection breaks and the
  // edge reports the answer as truncated.
  const kind = edge.kind === 'inline' ? 'network' : 'truncated';
  assert.equal(await err.getAttribute('data-kind'), kind);
  assert.match(await err.innerText(), kind === 'network' ? /Network error/ : /Answer cut off/);
  await shot(page, 'widget-network-error');
  edge.queue({ text: 'back' });
  await err.locator('.ec-retry').click();
  assert.equal(await settled(page), 'done');
  assert.equal(await lastAnswer(page).locator('.ec-md').innerText(), 'back');
});

test('conversation and draft survive a reload; clear all removes them', async () => {
  edge.queue({ text: 'remember **me**' });
  await send(page, 'persist this');
  await settled(page);
  await page.locator(sel.input).fill('half-typed draft');
  await page.reload();
  await page.locator(sel.input).waitFor();
  await lastAnswer(page).locator('.ec-md strong').waitFor();
  assert.equal(await lastAnswer(page).locator('.ec-md').innerText(), 'remember me');
  assert.equal(await page.locator(sel.user).locator('.ec-bubble').innerText(), 'persist this');
  assert.equal(await page.locator(sel.input).inputValue(), 'half-typed draft');
  await shot(page, 'widget-after-reload');
  await page.locator('edge-chat .ec-clear').click();
  assert.equal(await page.locator(sel.answer).count(), 0);
  await page.reload();
  await page.locator(sel.input).waitFor();
  assert.equal(await page.locator(sel.answer).count(), 0);
  assert.equal(await page.locator(sel.input).inputValue(), '');
});

test('keyboard: Shift+Enter is a newline, Enter sends, new chat clears', async () => {
  const input = page.locator(sel.input);
  await input.focus();
  await page.keyboard.type('line one');
  await page.keyboard.press('Shift+Enter');
  await page.keyboard.type('line two');
  assert.equal(await input.inputValue(), 'line one\nline two');
  edge.queue({ text: 'got both lines' });
  await page.keyboard.press('Enter');
  await settled(page);
  assert.equal(turns(edge.requests().at(-1)).at(-1).content, 'line one\nline two');
  assert.equal(await input.inputValue(), '');
  // Tab reaches the controls; New chat works from the keyboard.
  await page.locator('edge-chat .ec-new').focus();
  await page.keyboard.press('Enter');
  assert.equal(await page.locator(sel.answer).count(), 0);
});

test('narrow screens: usable at 320 px without horizontal scrolling', async () => {
  await page.setViewportSize({ width: 320, height: 640 });
  edge.queue({ text: MARKDOWN_ANSWER });
  await send(page, 'narrow');
  await settled(page);
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  assert.ok(overflow <= 0, `page scrolls horizontally by ${overflow}px`);
  const box = await page.locator('edge-chat .ec-panel').boundingBox();
  assert.ok(box.width <= 320, `panel is ${box.width}px wide`);
  await shot(page, 'widget-320px');
  await page.setViewportSize({ width: 900, height: 800 });
});

test('follows prefers-color-scheme and prefers-reduced-motion', async () => {
  const panelBg = () => page.locator('edge-chat .ec-panel').evaluate((el) => getComputedStyle(el).backgroundColor);
  await page.emulateMedia({ colorScheme: 'light', reducedMotion: 'no-preference' });
  assert.equal(await panelBg(), 'rgb(255, 255, 255)');
  await page.emulateMedia({ colorScheme: 'dark' });
  assert.equal(await panelBg(), 'rgb(21, 24, 28)');
  await shot(page, 'widget-dark');
  edge.queue({ hold: true });
  await send(page, 'motion check');
  const dots = lastAnswer(page).locator('.ec-dots');
  await dots.waitFor();
  assert.equal(await dots.evaluate((el) => getComputedStyle(el).animationName), 'ec-pulse');
  await page.emulateMedia({ reducedMotion: 'reduce' });
  assert.equal(await dots.evaluate((el) => getComputedStyle(el).animationName), 'none');
  await page.locator(sel.stop).click();
  await settled(page);
  edge.release();
  await page.emulateMedia({ colorScheme: 'light', reducedMotion: 'no-preference' });
});
