// End-to-end: the built widget in headless Chromium against the real edge in workerd with resumable streams (the
// STREAMS Durable Object) and the mock upstream. The network is cut mid-answer, the page reloaded mid-answer, the
// answer stopped by id and continued after a token-limit cut; the answer must end with exactly the text of an
// uninterrupted run. The last test runs an edge without the object: stop by abort, no streams endpoint.
//
// The widget is embedded cross-origin, as on a customer's site: the page comes from one server, the edge is
// reached through another (a proxy on another port, which can drop connections). One test embeds it same-origin
// (the page's own /api/ proxied to the edge, as `trunk serve` does): the browser then resumes with no `Origin`.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startRealBackend, startStatic, launch, shot } from './support/stack.mjs';
import { sel, open, send, lastAnswer, settled, eventually } from './support/widget.mjs';

// 48 lines, ~1.9 KB: at 8 code points every 15 ms it streams for ~3.5 s.
const LONG = Array.from({ length: 48 }, (_, i) => `Line ${i + 1} of the long answer, with **bold** words.`).join(
  '\n\n',
);
const slow = (text) => ({ text, chunk: 8, delayMs: 15 });

let edge, web, api, browser, page, apiCalls, PAGE;

/** Serves a page at `${host.url}/${name}.html` with the widget talking to `endpoint` (cross-origin). */
async function embedPage(host, endpoint, name = 'resume') {
  const url = `${host.url}/${name}.html`;
  const html =
    '<!doctype html><meta charset="utf-8"><title>resume</title><script type="module" src="/edge-chat.js"></script>' +
    `<edge-chat endpoint="${endpoint}" title="Resume test" mode="inline"></edge-chat>`;
  await page.route(url, (route) => route.fulfill({ contentType: 'text/html; charset=utf-8', body: html }));
  return url;
}

before(async () => {
  // max_tokens 1000: the continue test's first answer is cut by the limit.
  // keepalive_ms 300: the widget takes a resumable stream silent for 3 intervals (~1 s) for a dead connection.
  edge = await startRealBackend({ streams: true, limits: { max_tokens: 1000, keepalive_ms: 300 } });
  web = await startStatic({ edgeUrl: () => edge.url });
  api = await startStatic({ edgeUrl: () => edge.url });
  // Chromium 156 asks permission (denied when headless) for a page's fetch to another loopback origin
  // (Local Network Access); a deployed edge is public, so the tests turn the check off.
  browser = await launch({ args: ['--disable-features=LocalNetworkAccessChecks'] });
  page = browser.page;
  PAGE = await embedPage(web, api.url);
  page.on('request', (r) => {
    if (new URL(r.url()).pathname.startsWith('/api/chat')) {
      apiCalls.push({
        method: r.method(),
        path: new URL(r.url()).pathname,
        lastEventId: r.headers()['last-event-id'],
        origin: r.headers().origin,
      });
    }
  });
});

after(async () => {
  await browser?.close();
  await web?.stop();
  await api?.stop();
  await edge?.stop();
});

beforeEach(async () => {
  apiCalls = [];
  edge.up.reset();
  await browser.context.setOffline(false);
  await page.goto(PAGE);
  await page.evaluate(() => {
    localStorage.clear();
    sessionStorage.clear();
  });
  await open(page, PAGE);
  // The config (resumable) is loaded before the first send.
  await page.locator('edge-chat .ec-simulated').waitFor();
});

/** The last answer's raw text as the widget saved it (what goes back to the edge as history). */
const savedAnswer = () =>
  page.evaluate(() => {
    const key = Object.keys(localStorage).find((k) => k.endsWith(':chat'));
    return JSON.parse(localStorage.getItem(key))
      .turns.filter((t) => t.role === 'assistant')
      .at(-1);
  });
const shown = () => lastAnswer(page).locator('.ec-md').innerText();
const resumes = () => apiCalls.filter((c) => c.method === 'GET' && c.path.startsWith('/api/chat/streams/'));

/** Sends `question`, waits until at least `chars` characters of the answer are on screen. */
async function sendAndWait(question, chars) {
  await send(page, question);
  await eventually(async () => (await shown()).length >= chars, { timeout: 10000, what: `${chars} characters` });
}

let uninterrupted;

test('uninterrupted run (the reference text)', async () => {
  edge.queue(slow(LONG));
  await send(page, 'tell me a long story');
  assert.equal(await settled(page, 20000), 'done');
  uninterrupted = await shown();
  assert.equal((await savedAnswer()).text, LONG);
  assert.equal(resumes().length, 0, 'no reconnect needed');
});

test('network lost mid-answer and restored: reconnecting, then the same text as an uninterrupted run', async () => {
  edge.queue(slow(LONG));
  await sendAndWait('tell me a long story', 200);
  await browser.context.setOffline(true);
  assert.ok(api.dropConnections() >= 1, 'the streaming response was open');
  const answer = lastAnswer(page);
  await answer.locator('.ec-reconnecting').waitFor({ timeout: 5000 });
  assert.equal(await answer.getAttribute('data-status'), 'streaming');
  const during = await shown();
  assert.ok(during.length >= 200 && during.length < uninterrupted.length, 'the text so far stays while reconnecting');
  await shot(page, 'resume-reconnecting');
  await new Promise((r) => setTimeout(r, 1500));
  await browser.context.setOffline(false);
  assert.equal(await settled(page, 30000), 'done');
  assert.equal(await answer.locator('.ec-reconnecting').count(), 0);
  assert.equal(await shown(), uninterrupted);
  assert.equal((await savedAnswer()).text, LONG);
  assert.equal(await page.locator(sel.answer).count(), 1);
  const r = resumes();
  assert.ok(r.length >= 1, 'resumed through GET /api/chat/streams/{id}');
  assert.ok(Number(r.at(-1).lastEventId) > 1, `Last-Event-ID sent (${r.at(-1).lastEventId})`);
  // One upstream request: the edge kept generating while the browser was away.
  assert.equal(edge.requests().length, 1);
});

test('a connection that hangs (no error, no end): taken for dead after three keep-alive intervals, resumed', async () => {
  const cfg = await page.evaluate(async (u) => (await fetch(`${u}/api/config`)).json(), api.url);
  assert.equal(cfg.limits.keepalive_ms, 300, 'the config tells the widget the keep-alive interval');
  edge.queue(slow(LONG));
  await sendAndWait('tell me a long story', 200);
  const stalledAt = Date.now();
  assert.ok(api.stallConnections() >= 1, 'the streaming response was open');
  await eventually(() => resumes().length >= 1, { timeout: 10000, what: 'a resume after the silence' });
  const waited = Date.now() - stalledAt;
  assert.ok(waited >= 800, `not before three keep-alive intervals (${waited} ms)`);
  assert.equal(await settled(page, 30000), 'done');
  assert.equal(await shown(), uninterrupted);
  assert.equal((await savedAnswer()).text, LONG);
  assert.equal(edge.requests().length, 1, 'the edge kept generating; nothing was asked twice');
});

/** Asks for the long answer, reloads the page mid-answer, and checks it completes in place after exactly one
 * resume without asking again; returns that resume request. */
async function reloadMidAnswer() {
  edge.queue(slow(LONG));
  await sendAndWait('tell me a long story', 300);
  await page.reload();
  await page.locator(sel.input).waitFor();
  assert.equal(await settled(page, 30000), 'done');
  assert.equal(await shown(), uninterrupted);
  assert.equal((await savedAnswer()).text, LONG);
  assert.equal(await page.locator(sel.answer).count(), 1);
  assert.equal(await page.locator(sel.user).count(), 1);
  const r = resumes();
  assert.equal(r.length, 1, 'one resume after the reload');
  assert.ok(Number(r[0].lastEventId) > 1, `resumed after the saved event (${r[0].lastEventId})`);
  assert.equal(apiCalls.filter((c) => c.method === 'POST').length, 1, 'the question was not asked again');
  return r[0];
}

test('reload mid-answer: the answer resumes and completes in place', async () => {
  await reloadMidAnswer();
});

test('the element re-mounted mid-answer (an attribute changed): the new widget resumes the same answer', async () => {
  edge.queue(slow(LONG));
  await sendAndWait('tell me a long story', 300);
  // The loader unmounts the widget and mounts a new one when an observed attribute changes.
  await page.evaluate(() => document.querySelector('edge-chat').setAttribute('title', 'Renamed'));
  await eventually(async () => (await page.locator('edge-chat .ec-title').innerText()) === 'Renamed', {
    what: 'the re-mount',
  });
  assert.equal(await settled(page, 30000), 'done');
  assert.equal(await shown(), uninterrupted);
  assert.equal((await savedAnswer()).text, LONG);
  assert.equal(await page.locator(sel.answer).count(), 1);
  assert.equal(resumes().length, 1, 'the new widget resumed the stream once');
  assert.equal(apiCalls.filter((c) => c.method === 'POST').length, 1, 'the question was not asked again');
  assert.equal(edge.requests().length, 1, 'the edge kept generating; nothing was asked twice');
});

test('same-origin page (no Origin on the resume GET): reload mid-answer completes in place', async () => {
  const url = await embedPage(web, web.url, 'same-origin');
  await open(page, url);
  await page.evaluate(() => {
    localStorage.clear();
    sessionStorage.clear();
  });
  await open(page, url);
  await page.locator('edge-chat .ec-simulated').waitFor();
  apiCalls = [];
  const resumed = await reloadMidAnswer();
  assert.equal(resumed.origin, undefined, 'the browser sent no Origin on the same-origin resume');
  assert.ok(apiCalls.find((c) => c.method === 'POST').origin, 'but did on the POST');
});

test('stop on a resumable edge: POST .../stop, the upstream sees the abort, the text so far is kept', async () => {
  edge.queue(slow(LONG));
  await sendAndWait('tell me a long story', 100);
  await page.locator(sel.stop).click();
  assert.equal(await settled(page), 'stopped');
  assert.equal(await lastAnswer(page).locator('.ec-stopped').innerText(), 'Stopped');
  const stops = apiCalls.filter(
    (c) => c.method === 'POST' && /^\/api\/chat\/streams\/[0-9a-f]{64}\/stop$/.test(c.path),
  );
  assert.equal(stops.length, 1);
  await eventually(() => edge.requests().at(-1).aborted, { what: 'the upstream to see the abort' });
  const saved = await savedAnswer();
  assert.ok(saved.text.length > 0 && saved.text.length < LONG.length, `partial text kept (${saved.text.length})`);
  assert.ok(LONG.startsWith(saved.text), 'the kept text is the beginning of the answer');
  // The edge ended the stream itself: its final usage arrived (counted from the text).
  assert.match(await lastAnswer(page).locator('.ec-usage').innerText(), /^\d+ in · \d+ out/);
  assert.match(await lastAnswer(page).locator('.ec-usage').innerText(), /estimated/);
  await shot(page, 'resume-stopped');
});

test('stop before the stream has started: the widget waits for its id, then stops it by id', async () => {
  // The upstream holds before its first event, so the edge has not sent `start` (which carries the stream id).
  edge.queue({ ...slow(LONG), hold: true, after: 0 });
  await send(page, 'a story, but I will change my mind');
  await eventually(() => edge.requests().length === 1, { what: 'the upstream request' });
  await page.locator(sel.stop).click();
  // Nothing to stop by id yet: still streaming, no stop request, and the fetch is not aborted (that would leave
  // the edge generating for no one).
  await page.waitForTimeout(400);
  assert.equal(await lastAnswer(page).getAttribute('data-status'), 'streaming');
  const stopPath = (c) => c.method === 'POST' && /^\/api\/chat\/streams\/[0-9a-f]{64}\/stop$/.test(c.path);
  assert.equal(apiCalls.filter(stopPath).length, 0);
  edge.release();
  assert.equal(await settled(page), 'stopped');
  assert.equal(apiCalls.filter(stopPath).length, 1, 'stopped by id once start arrived');
  await eventually(() => edge.requests().at(-1).aborted, { what: 'the upstream to see the abort' });
  const saved = await savedAnswer();
  assert.ok(saved.text.length < LONG.length && LONG.startsWith(saved.text), `a prefix at most (${saved.text.length})`);
  assert.match(await lastAnswer(page).locator('.ec-usage').innerText(), /^\d+ in · \d+ out/);
});

test('continue after a max_tokens cut: the same bubble grows and ends done', async () => {
  // 1500 mock tokens against the edge's max_tokens of 1000: cut by the limit.
  edge.queue({ text: 'word '.repeat(1500), chunk: 40 });
  await send(page, 'a very long list');
  assert.equal(await settled(page), 'truncated');
  const err = lastAnswer(page).locator('.ec-error');
  assert.equal(await err.getAttribute('data-kind'), 'truncated');
  assert.match(await err.innerText(), /token limit/);
  const partial = (await savedAnswer()).text;
  assert.ok(partial.length > 0 && partial.length < 7500, `cut answer (${partial.length} chars)`);
  await page
    .locator('edge-chat .ec-assistant')
    .last()
    .evaluate((el) => {
      window.__bubble = el;
    });
  const cont = lastAnswer(page).locator('.ec-continue');
  assert.equal(await cont.getAttribute('aria-label'), 'Continue this answer from where it stopped');
  edge.queue({ text: 'and that is the end.' });
  await cont.focus();
  await page.keyboard.press('Enter');
  assert.equal(await settled(page), 'done');
  assert.equal((await savedAnswer()).text, `${partial}and that is the end.`);
  assert.equal(await page.locator(sel.answer).count(), 1);
  assert.ok(
    await page
      .locator('edge-chat .ec-assistant')
      .last()
      .evaluate((el) => el === window.__bubble),
    'same bubble',
  );
  assert.equal(await lastAnswer(page).locator('.ec-error').count(), 0);
  assert.equal(await lastAnswer(page).locator('.ec-continue').count(), 0);
  // The edge got the partial answer as the last turn, with "continue".
  const posts = edge.requests();
  const sent = posts.at(-1).body.messages;
  assert.deepEqual(
    sent.slice(-2).map((m) => m.role),
    ['assistant', 'user'],
    'OpenAI-style: partial + a continue turn',
  );
  assert.equal(sent.at(-2).content, partial);
  await shot(page, 'resume-continued');
});

test('a stream the edge no longer has: cut off with a clear message, Continue offered', async () => {
  edge.queue({ text: 'short answer' });
  await send(page, 'hello');
  await settled(page);
  // The widget saves the ended answer once its stream is closed (just after the status shows): wait for that save.
  await eventually(async () => (await savedAnswer())?.status === 'done', { what: 'the ended answer saved' });
  // As if the page had been closed mid-answer long ago: the saved stream id is unknown to the edge.
  await page.evaluate(() => {
    const key = Object.keys(localStorage).find((k) => k.endsWith(':chat'));
    const saved = JSON.parse(localStorage.getItem(key));
    Object.assign(saved.turns.at(-1), { status: 'streaming', stream: { id: 'ab'.repeat(32), last: 3 } });
    localStorage.setItem(key, JSON.stringify(saved));
  });
  await page.reload();
  await page.locator(sel.input).waitFor();
  assert.equal(await settled(page), 'truncated');
  assert.equal(resumes().length, 1);
  assert.equal(resumes()[0].lastEventId, '3');
  assert.equal(await shown(), 'short answer');
  const err = lastAnswer(page).locator('.ec-error');
  assert.equal(await err.getAttribute('data-kind'), 'truncated');
  assert.match(await err.innerText(), /could not be resumed/);
  assert.equal(await lastAnswer(page).locator('.ec-continue').count(), 1);
});

test('an edge without resumable streams: stop aborts, a lost connection is an error, no streams endpoint', async () => {
  const plain = await startRealBackend({ streams: false });
  const api2 = await startStatic({ edgeUrl: () => plain.url });
  const url = await embedPage(web, api2.url, 'plain');
  try {
    await page.goto(url);
    await page.evaluate(() => localStorage.clear());
    await open(page, url);
    await page.locator('edge-chat .ec-simulated').waitFor();
    assert.equal(
      await page.evaluate(async (u) => (await (await fetch(`${u}/api/config`)).json()).resumable, api2.url),
      false,
    );
    plain.queue(slow(LONG));
    await sendAndWait('tell me a long story', 100);
    await page.locator(sel.stop).click();
    assert.equal(await settled(page), 'stopped');
    await eventually(() => plain.requests().at(-1).aborted, { what: 'the upstream to see the abort' });
    assert.ok((await savedAnswer()).text.length > 0);
    // A lost connection cannot be resumed here: the answer is cut off, shown as a network error.
    plain.queue(slow(LONG));
    await sendAndWait('another long story', 100);
    api2.dropConnections();
    assert.equal(await settled(page), 'truncated');
    assert.equal(await lastAnswer(page).locator('.ec-error').getAttribute('data-kind'), 'network');
    assert.equal(await lastAnswer(page).locator('.ec-reconnecting').count(), 0);
    assert.equal(apiCalls.filter((c) => c.path.startsWith('/api/chat/streams')).length, 0);
  } finally {
    await page.unroute(url);
    await api2.stop();
    await plain.stop();
  }
});
