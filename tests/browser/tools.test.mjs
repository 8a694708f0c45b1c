// Client tools and the host API end to end: the built widget (dist/) in headless Chromium, the real edge in workerd
// with a site key that allows client tools, the mock upstream scripting the model's tool calls. The page registers
// tools on the element (tests/browser/pages/tools.html) and records every edgechat:* event it hears on `document`.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startRealBackend, startStatic, launch, shot } from './support/stack.mjs';
import { lastAnswer, eventually } from './support/widget.mjs';

const MAX_STEPS = 2;
let edge, web, browser, page;

before(async () => {
  edge = await startRealBackend({
    config: {
      site_keys: {
        // allow_no_origin: the page reaches the edge through the static server's same-origin /api/ proxy, and a
        // browser sends no Origin on a same-origin GET (/api/config, where the widget learns max_steps).
        pk_tools: {
          origins: ['http://127.0.0.1:*'],
          allow_no_origin: true,
          client_tools: { max_steps: MAX_STEPS, max_tools: 4 },
        },
      },
    },
  });
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
  edge.up.reset();
  await page.goto(`${web.url}/test/tools.html`);
  await page.evaluate(() => localStorage.clear());
});

const chats = () => edge.up.requests().filter((r) => r.path.endsWith('/chat/completions'));
const heard = (type) => page.evaluate((t) => window.heard.filter((e) => e.type === `edgechat:${t}`), type);
const input = () => page.locator('edge-chat .ec-input');

async function load(query = '') {
  await page.goto(`${web.url}/test/tools.html${query}`);
  const ready = query.includes('mode=bubble') ? page.locator('edge-chat .ec-launcher') : input();
  await ready.waitFor({ state: 'visible', timeout: 15000 });
}

async function ask(text) {
  await input().fill(text);
  await input().press('Enter');
}

/** Waits until the widget is idle (no answer streaming, no tool running) with `n` answers. */
async function idle(n) {
  await page.waitForFunction(
    (n) => {
      const root = document.querySelector('edge-chat').shadowRoot;
      return root.querySelectorAll('.ec-assistant').length === n && root.querySelector('.ec-send');
    },
    n,
    { timeout: 15000 },
  );
}

test('a tool without confirmation: runs, its result shows inert and goes back, the loop answers; events on document', async () => {
  await load();
  edge.queue({ toolCalls: [{ name: 'lookup_order', arguments: { number: '42' } }] });
  await ask('Where is order 42?');
  await idle(2);
  assert.deepEqual(await page.evaluate(() => window.ran), [['lookup_order', '42']]);
  const call = page.locator('edge-chat .ec-call').first();
  assert.equal(await call.getAttribute('data-state'), 'done');
  assert.equal(await call.locator('.ec-call-name').innerText(), 'lookup_order');
  const result = await call.locator('.ec-result pre').innerText();
  assert.deepEqual(JSON.parse(result), {
    number: '42',
    status: 'shipped',
    note: '<img src=x onerror="window.pwned=1">',
  });
  assert.equal(await page.locator('edge-chat .ec-result img').count(), 0, 'a result is text, never markup');
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  assert.match(await lastAnswer(page).locator('.ec-md').innerText(), /^Tool result received:/);

  // The second request carried the call and its result; the provider (mock) checks they match.
  const [first, second] = chats();
  assert.deepEqual(
    first.body.tools.map((t) => t.function.name),
    ['lookup_order', 'now', 'hang', 'cancel_order'],
  );
  const sent = second.body.messages;
  assert.equal(sent.at(-1).role, 'tool');
  assert.equal(sent.at(-1).tool_call_id, sent.at(-2).tool_calls[0].id);
  assert.deepEqual(JSON.parse(sent.at(-1).content).status, 'shipped');

  // The page heard everything on `document`: composed, bubbling events from the element.
  const all = await page.evaluate(() => window.heard);
  assert.ok(all.length > 0 && all.every((e) => e.composed && e.bubbles && e.target === 'EDGE-CHAT'));
  const [tool] = await heard('tool-call');
  assert.equal(tool.detail.name, 'lookup_order');
  assert.equal(tool.detail.is_error, false);
  assert.equal(JSON.parse(tool.detail.arguments).number, '42');
  const messages = await heard('message');
  assert.deepEqual(
    messages.map((m) => [m.detail.role, m.detail.status]),
    [
      ['user', 'done'],
      ['assistant', 'done'],
      ['assistant', 'done'],
    ],
  );
  const usage = await heard('usage');
  assert.equal(usage.length, 2);
  assert.equal(usage[1].detail.steps, 2);
  assert.equal(
    usage[1].detail.total.input_tokens,
    usage[0].detail.input_tokens + usage[1].detail.input_tokens,
    'the total adds the steps up',
  );
  assert.match(await lastAnswer(page).locator('.ec-usage').innerText(), /^\d+ in · \d+ out.* · 2 steps$/);
});

test('a tool with confirmation: nothing runs until the user says; a no goes back as an error result', async () => {
  await load();
  edge.queue({ toolCalls: [{ name: 'cancel_order', arguments: { number: '7' } }] });
  await ask('Cancel order 7');
  const allow = page.locator('edge-chat .ec-allow');
  await allow.waitFor();
  assert.equal(await page.locator('edge-chat .ec-call').getAttribute('data-state'), 'confirm');
  assert.equal(
    await page
      .locator('edge-chat .ec-confirm')
      .innerText()
      .then((t) => t.includes('Run this tool?')),
    true,
  );
  await page.waitForTimeout(200);
  assert.deepEqual(await page.evaluate(() => window.ran), [], 'not run before the answer');
  assert.equal(chats().length, 1, 'no next step yet');
  await page.locator('edge-chat .ec-deny').click();
  await idle(2);
  assert.deepEqual(await page.evaluate(() => window.ran), []);
  assert.equal(await page.locator('edge-chat .ec-call').first().getAttribute('data-state'), 'error');
  assert.match(JSON.parse(chats()[1].body.messages.at(-1).content).error, /declined/);

  edge.queue({ toolCalls: [{ name: 'cancel_order', arguments: { number: '8' } }] });
  await ask('Cancel order 8 then');
  await allow.waitFor();
  await allow.click();
  await idle(4);
  assert.deepEqual(await page.evaluate(() => window.ran), [['cancel_order', '8']]);
  assert.deepEqual(JSON.parse(chats()[3].body.messages.at(-1).content), { cancelled: '8' });
});

test('a tool that throws and one that never answers: error results to the model, the loop goes on', async () => {
  await load();
  edge.queue({
    toolCalls: [
      { name: 'now', arguments: {} },
      { name: 'hang', arguments: {} },
    ],
  });
  await ask('What time is it?');
  await idle(2);
  const results = chats()[1].body.messages.filter((m) => m.role === 'tool');
  assert.deepEqual(
    results.map((m) => JSON.parse(m.content)),
    [{ error: 'clock is broken' }, { error: 'timed out after 300 ms' }],
  );
  assert.deepEqual(await page.locator('edge-chat .ec-call').evaluateAll((l) => l.map((e) => e.dataset.state)), [
    'error',
    'error',
  ]);
  const tools = await heard('tool-call');
  assert.deepEqual(
    tools.map((t) => [t.detail.name, t.detail.is_error]),
    [
      ['now', true],
      ['hang', true],
    ],
  );
  assert.match(await lastAnswer(page).locator('.ec-md').innerText(), /^Tool result received:/);
});

test('max_tool_steps: calls after the last allowed step are not run, and the next question still goes', async () => {
  await load();
  for (let i = 0; i <= MAX_STEPS; i++)
    edge.queue({ toolCalls: [{ name: 'lookup_order', arguments: { number: `${i}` } }] });
  await ask('Look everything up');
  await idle(MAX_STEPS + 1);
  assert.equal(chats().length, MAX_STEPS + 1, 'one request per step, none refused');
  assert.deepEqual(await page.evaluate(() => window.ran.map((r) => r[1])), ['0', '1']);
  const last = lastAnswer(page).locator('.ec-call');
  assert.equal(await last.getAttribute('data-state'), 'error');
  assert.match(await last.locator('.ec-result').innerText(), /tool step limit reached/);
  edge.queue({ text: 'You are welcome.' });
  await ask('Thanks');
  await idle(MAX_STEPS + 2);
  const sent = chats().at(-1).body.messages;
  assert.equal(sent.at(-1).content, 'Thanks');
  assert.match(JSON.parse(sent.at(-2).content).error, /step limit/, 'the unrun call is answered in the history');
});

test('Stop while a tool waits: the loop ends, its calls are answered as stopped, the chat goes on', async () => {
  await load();
  edge.queue({ toolCalls: [{ name: 'cancel_order', arguments: { number: '9' } }] });
  await ask('Cancel 9');
  await page.locator('edge-chat .ec-allow').waitFor();
  await page.locator('edge-chat .ec-stop').click();
  await idle(1);
  assert.equal(chats().length, 1, 'no next step after a stop');
  assert.match(await page.locator('edge-chat .ec-result').innerText(), /stopped by the user/);
  edge.queue({ text: 'All right.' });
  await ask('Never mind');
  await idle(2);
  assert.equal(chats().length, 2);
  assert.equal(await lastAnswer(page).locator('.ec-md').innerText(), 'All right.');
});

test('a reload while a tool waits: the call that ran keeps its result, the open one is answered, the chat goes on', async () => {
  await load();
  edge.queue({
    toolCalls: [
      { name: 'lookup_order', arguments: { number: '5' } },
      { name: 'cancel_order', arguments: { number: '5' } },
    ],
  });
  await ask('Look up order 5 and cancel it');
  await page.locator('edge-chat .ec-allow').waitFor();
  assert.deepEqual(await page.evaluate(() => window.ran), [['lookup_order', '5']], 'the first call ran');

  // The page goes away while the second call waits for the user.
  await load();
  await idle(1);
  assert.deepEqual(await page.locator('edge-chat .ec-call').evaluateAll((l) => l.map((e) => e.dataset.state)), [
    'done',
    'error',
  ]);
  assert.match(
    await page.locator('edge-chat .ec-call').nth(1).locator('.ec-result').innerText(),
    /page was closed before the tool finished/,
  );
  assert.equal(await page.locator('edge-chat .ec-allow').count(), 0, 'no confirmation left to answer');
  assert.equal(chats().length, 1, 'nothing was sent on the reload');

  edge.queue({ text: 'Noted.' });
  await ask('What happened?');
  await idle(2);
  assert.deepEqual(await page.evaluate(() => window.ran), [], 'nothing ran again after the reload');
  const sent = chats().at(-1).body.messages;
  const results = sent.filter((m) => m.role === 'tool');
  assert.deepEqual(
    results.map((m) => m.tool_call_id),
    sent.find((m) => m.tool_calls)?.tool_calls.map((c) => c.id),
    'the history answers every call',
  );
  assert.equal(JSON.parse(results[0].content).status, 'shipped');
  assert.match(JSON.parse(results[1].content).error, /page was closed/);
  assert.equal(sent.at(-1).content, 'What happened?');
  assert.equal(await lastAnswer(page).locator('.ec-md').innerText(), 'Noted.');
});

test('host API: send(), clear(), open()/close() on a bubble, sessionToken; greeting and suggestions', async () => {
  await load('?mode=bubble&greeting=Hi! Ask me about orders.&suggestions=Where is my order?|How do refunds work?');
  const el = page.locator('edge-chat');
  await page.waitForFunction(() => document.querySelector('edge-chat').shadowRoot?.querySelector('.ec-launcher'));
  assert.equal(await page.locator('edge-chat .ec-panel').count(), 0);
  await el.evaluate((e) => e.open());
  await page.locator('edge-chat .ec-greeting').waitFor();
  assert.equal(await page.locator('edge-chat .ec-greeting').innerText(), 'Hi! Ask me about orders.');
  assert.deepEqual(await page.locator('edge-chat .ec-suggestion').allInnerTexts(), [
    'Where is my order?',
    'How do refunds work?',
  ]);
  edge.queue({ text: 'Refunds take five days.' }, { text: 'Sure.' });
  await page.locator('edge-chat .ec-suggestion').nth(1).click();
  await idle(1);
  assert.equal(chats()[0].body.messages.at(-1).content, 'How do refunds work?');
  assert.equal(await page.locator('edge-chat .ec-greeting').count(), 0, 'the greeting gives way to the chat');
  assert.equal(await el.evaluate((e) => e.send('')), false, 'blank text is not sent');
  assert.equal(await el.evaluate((e) => e.send('Second question')), true);
  await idle(2);
  assert.equal(chats()[1].body.messages.at(-1).content, 'Second question');
  assert.ok(
    chats()[1].body.messages.every((m) => !m.content.includes('Ask me about orders')),
    'never sent',
  );
  await el.evaluate((e) => e.clear());
  await page.locator('edge-chat .ec-greeting').waitFor();
  assert.equal(await page.locator('edge-chat .ec-turn').count(), 0);
  await el.evaluate((e) => e.close());
  await eventually(async () => (await page.locator('edge-chat .ec-panel').count()) === 0, { what: 'closed' });
  assert.equal(await el.evaluate((e) => typeof e.sessionToken), 'object', 'sessionToken: null until set');
  await el.evaluate((e) => {
    e.sessionToken = 'tok';
  });
  assert.equal(await el.evaluate((e) => e.sessionToken), 'tok');
});

test('strings: every replaced text shows; a right-to-left element mirrors the layout', async () => {
  const strings = {
    send: 'إرسال',
    newChat: 'محادثة جديدة',
    clearAll: 'مسح الكل',
    placeholder: 'اكتب رسالتك…',
    empty: 'اسأل أي شيء.',
    usage: '{i} دخول · {o} خروج',
    copy: 'نسخ',
    copyCode: 'نسخ الشيفرة',
  };
  await load(`?dir=rtl&strings=${encodeURIComponent(JSON.stringify(strings))}`);
  assert.equal(await page.locator('edge-chat .ec-send').innerText(), strings.send);
  assert.equal(await page.locator('edge-chat .ec-new').innerText(), strings.newChat);
  assert.equal(await page.locator('edge-chat .ec-clear').innerText(), strings.clearAll);
  assert.equal(await input().getAttribute('placeholder'), strings.placeholder);
  assert.equal(await page.locator('edge-chat .ec-empty').innerText(), strings.empty);
  assert.equal(await page.locator('edge-chat .ec-title').innerText(), 'Orders');
  edge.queue({ toolCalls: [{ name: 'lookup_order', arguments: { number: '5' } }] });
  await ask('أين طلبي رقم 5؟');
  await idle(2);
  assert.match(await lastAnswer(page).locator('.ec-usage').innerText(), /^\d+ دخول · \d+ خروج/);
  const box = (sel) => page.locator(`edge-chat ${sel}`).first().boundingBox();
  const [panel, user, send, title] = await Promise.all([
    box('.ec-panel'),
    box('.ec-bubble'),
    box('.ec-send'),
    box('.ec-title'),
  ]);
  assert.equal(await page.locator('edge-chat .ec-panel').evaluate((e) => getComputedStyle(e).direction), 'rtl');
  assert.ok(user.x - panel.x < 40, `the user's message sits on the left: ${JSON.stringify({ user, panel })}`);
  assert.ok(send.x - panel.x < 40, 'Send is at the left end of the composer');
  assert.ok(panel.x + panel.width - (title.x + title.width) < 40, 'the title starts on the right');
  await shot(page, 'rtl');
  // A code block's Copy button too: the renderer writes English, the widget relabels it (also while it streams).
  edge.queue({ text: 'Code:\n\n```js\nlet x = 1;\n```\n\nDone.', chunk: 4, delayMs: 5 });
  await ask('كود؟');
  await idle(3);
  const copy = lastAnswer(page).locator('.ec-copy');
  assert.equal(await copy.innerText(), strings.copy);
  assert.equal(await copy.getAttribute('aria-label'), strings.copyCode);

  // The page's direction is enough (the element inherits it), and the English defaults come back without strings.
  await load('?page-dir=rtl');
  assert.equal(await page.locator('edge-chat .ec-send').innerText(), 'Send');
  assert.equal(await page.locator('edge-chat .ec-panel').evaluate((e) => getComputedStyle(e).direction), 'rtl');
});
