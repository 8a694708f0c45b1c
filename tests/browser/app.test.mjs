// End-to-end: the Leptos app (dist/index.html at /) in headless Chromium against the real edge in workerd with
// resumable streams (the STREAMS Durable Object) and the mock upstream, same-origin (the page's /api/ proxied to
// the edge, as `trunk serve` and a deployment next to the edge do). Threads (create, rename, delete/undo, search,
// export, import good and bad, a full storage quota), the chat with resume after a cut connection and after a
// reload, structured output (a schema that matches and one that does not; the playground module that carries the
// settings and the checks: fetched on first use, after a reload, and said when it cannot be loaded), the event
// inspector's timings and a fallback, compare, the keyboard, 360 px and dark; axe-core on each screen.
// Screenshots in tests/artifacts/app-*.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { startRealBackend, startStatic, launch, shot } from './support/stack.mjs';
import { app, freshApp, ask, settledAnswer, answerText, threadTitles, axeCheck, eventually } from './support/app.mjs';

// 48 lines, ~1.9 KB: at 8 code points every 15 ms it streams for ~3.5 s.
const LONG = Array.from({ length: 48 }, (_, i) => `Line ${i + 1} of the long answer, with **bold** words.`).join(
  '\n\n',
);
const LONG_SHOWN = LONG.replaceAll('**', '');
const slow = (text) => ({ text, chunk: 8, delayMs: 15 });

let edge, web, browser, page, apiCalls;

before(async () => {
  // keepalive_ms 300: a resumable stream silent for ~1 s is taken for a dead connection.
  // `flaky` falls back to `smart` when its provider fails before the first byte.
  edge = await startRealBackend({
    streams: true,
    limits: { keepalive_ms: 300 },
    models: {
      flaky: { provider: 'openai-chat', model: 'gpt-4o-mini', label: 'Flaky (falls back)', fallback: ['smart'] },
    },
    config: { allow_system_prompt: true },
  });
  web = await startStatic({ edgeUrl: () => edge.url });
  browser = await launch();
  page = browser.page;
  apiCalls = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith('/api/chat'))
      apiCalls.push({
        method: r.method(),
        path: u.pathname,
        body: r.postData(),
        lastEventId: r.headers()['last-event-id'],
      });
  });
});

after(async () => {
  await browser?.close();
  await web?.stop();
  await edge?.stop();
});

const resumes = () => apiCalls.filter((c) => c.method === 'GET' && c.path.startsWith('/api/chat/streams/'));

test('threads: create, first question titles it, rename, search by title and text, delete and undo', async () => {
  edge.up.reset();
  await freshApp(page, web.url);
  await page.locator('.log .empty').waitFor();
  assert.deepEqual(await threadTitles(page), ['New thread'], 'a first, empty thread');
  await ask(page, 'What is the capital of France?');
  assert.equal(await settledAnswer(page), 'done');
  assert.match(await answerText(page), /Mock answer to: What is the capital of France\?/);
  await eventually(async () => (await threadTitles(page))[0] === 'What is the capital of France?', {
    what: 'title from the first question',
  });
  assert.equal(await page.locator(app.title).innerText(), 'What is the capital of France?');
  assert.match(
    await page.locator('.turn.answer .usage').innerText(),
    /\d+ in · \d+ out · \$\d/,
    'usage and cost under the answer',
  );

  // A second thread from the button.
  await page.locator('.new-thread').click();
  await page.locator('.log .empty').waitFor();
  await ask(page, 'Tell me about pasta recipes');
  assert.equal(await settledAnswer(page), 'done');
  await eventually(async () => (await threadTitles(page)).length === 2, { what: 'two threads' });

  // Rename.
  await page.locator('.rename-btn').click();
  const name = page.locator('#rename-input');
  await name.fill('Cooking notes');
  await name.press('Enter');
  await eventually(async () => (await threadTitles(page))[0] === 'Cooking notes', { what: 'renamed in the list' });
  assert.equal(await page.locator(app.title).innerText(), 'Cooking notes');

  // Search by title, by text (a word only in an answer), and nothing.
  const search = page.locator(app.search);
  await search.fill('cooking');
  await eventually(async () => JSON.stringify(await threadTitles(page)) === '["Cooking notes"]', {
    what: 'search by title',
  });
  await search.fill('FRANCE');
  await eventually(async () => JSON.stringify(await threadTitles(page)) === '["What is the capital of France?"]', {
    what: 'search by text',
  });
  await search.fill('mock answer');
  await eventually(async () => (await threadTitles(page)).length === 2, { what: 'both answers say it' });
  await search.fill('zebra');
  await page.locator('.sidebar .note', { hasText: 'No thread matches' }).waitFor();
  await search.fill('');

  // Reloaded from IndexedDB.
  await page.reload();
  await page.locator(app.input).waitFor();
  await eventually(async () => (await threadTitles(page)).length === 2, { what: 'threads after a reload' });
  assert.deepEqual(await threadTitles(page), ['Cooking notes', 'What is the capital of France?']);

  // Delete, then undo: back in place with its conversation.
  await page.locator(app.threads, { hasText: 'Cooking notes' }).click();
  await page.locator('.delete').click();
  await page.locator('.notice', { hasText: 'Deleted “Cooking notes”' }).waitFor();
  await eventually(async () => JSON.stringify(await threadTitles(page)) === '["What is the capital of France?"]', {
    what: 'deleted',
  });
  await shot(page, 'app-deleted-undo');
  await page.locator('.notice .undo').click();
  await eventually(async () => (await threadTitles(page)).length === 2, { what: 'undone' });
  assert.equal(await page.locator(app.title).innerText(), 'Cooking notes');
  assert.match(await answerText(page), /Mock answer to: Tell me about pasta recipes/);
  // The undo is stored too.
  await page.reload();
  await page.locator(app.input).waitFor();
  await eventually(async () => (await threadTitles(page)).length === 2, { what: 'undone thread after a reload' });
});

test('threads: export Markdown and JSON; import the JSON back; a bad file is refused and nothing changes', async () => {
  edge.up.reset();
  await freshApp(page, web.url);
  await ask(page, 'Export me please');
  assert.equal(await settledAnswer(page), 'done');
  await eventually(async () => (await threadTitles(page))[0] === 'Export me please', { what: 'titled' });

  await page.locator('details.menu summary').click();
  const [md] = await Promise.all([page.waitForEvent('download'), page.locator('.export-md').click()]);
  assert.equal(md.suggestedFilename(), 'export-me-please.md');
  const markdown = await fs.readFile(await md.path(), 'utf8');
  assert.match(markdown, /^# Export me please\n/);
  assert.match(markdown, /## You\n\nExport me please\n/);
  assert.match(markdown, /## Assistant\n\nMock answer to: Export me please/);

  await page.locator('details.menu summary').click();
  const [js] = await Promise.all([page.waitForEvent('download'), page.locator('.export-json').click()]);
  assert.equal(js.suggestedFilename(), 'export-me-please.json');
  const json = await fs.readFile(await js.path(), 'utf8');
  const exported = JSON.parse(json);
  assert.equal(exported.format, 'edgechat-thread');
  assert.equal(exported.turns.length, 2);
  assert.equal(exported.turns[1].role, 'assistant');
  assert.ok(exported.turns[1].usage.output_tokens > 0);

  const before = await threadTitles(page);
  const refuse = async (name, content, message) => {
    await page.setInputFiles('#import-file', { name, mimeType: 'application/json', buffer: Buffer.from(content) });
    const note = page.locator('.notice.import-error');
    await note.waitFor();
    assert.match(await note.innerText(), message);
    assert.deepEqual(await threadTitles(page), before, `${name}: nothing changed`);
    await page.locator('.notice .dismiss').click();
  };
  await refuse(
    'broken.json',
    '{"format": "edgechat-thread", "turns": [',
    /Import refused, nothing was changed\. The file is not JSON/,
  );
  await refuse('other.json', '{"hello": 1}', /"format" must be "edgechat-thread"/);
  const badRole = { ...exported, turns: [{ role: 'bot', text: 'hi' }] };
  await refuse('bad-role.json', JSON.stringify(badRole), /turns\[0\]: "role" must be "user" or "assistant"/);
  const badText = { ...exported, turns: [exported.turns[0], { ...exported.turns[1], text: 42 }] };
  await refuse('bad-text.json', JSON.stringify(badText), /turns\[1\]: "text" must be a string/);
  await shot(page, 'app-import-refused');

  // The good file: a new thread (the original stays), the same conversation, which continues.
  await page.setInputFiles('#import-file', {
    name: 'export-me-please.json',
    mimeType: 'application/json',
    buffer: Buffer.from(json),
  });
  await page.locator('.notice', { hasText: 'Imported “Export me please”' }).waitFor();
  await eventually(async () => (await threadTitles(page)).length === 2, { what: 'imported as a second thread' });
  assert.match(page.url(), /\/t\//);
  assert.match(await answerText(page), /Mock answer to: Export me please/);
  assert.equal(await page.locator(app.question).count(), 1);
  await ask(page, 'And a follow-up');
  assert.equal(await settledAnswer(page), 'done');
  const sent = JSON.parse(apiCalls.filter((c) => c.method === 'POST').at(-1).body);
  assert.equal(sent.messages.length, 3, 'the imported history goes to the edge');
});

test('chat: the answer resumes in place after the connection is cut, and after a reload', async () => {
  edge.up.reset();
  apiCalls = [];
  await freshApp(page, web.url);
  // Uninterrupted, for the text to compare with.
  edge.queue(slow(LONG));
  await ask(page, 'a long answer please');
  assert.equal(await settledAnswer(page, 30000), 'done');
  assert.equal(await answerText(page), LONG_SHOWN);

  // Cut mid-answer: "Reconnecting…", then the same text, no gap, no duplicate.
  edge.queue(slow(LONG));
  await ask(page, 'the same long answer');
  await eventually(async () => (await answerText(page)).length > 300, { timeout: 10000, what: 'part of the answer' });
  assert.ok(web.dropConnections() >= 1, 'a connection was cut');
  await page
    .locator('.turn.answer .reconnecting')
    .last()
    .waitFor({ timeout: 5000 })
    .catch(() => {});
  assert.equal(await settledAnswer(page, 30000), 'done');
  assert.equal(await answerText(page), LONG_SHOWN);
  assert.ok(resumes().length >= 1, 'resumed with GET /api/chat/streams/{id}');
  assert.ok(Number(resumes()[0].lastEventId) > 1, 'from the last event received');

  // Reload mid-answer: the thread opens and its answer resumes.
  edge.queue(slow(LONG));
  await ask(page, 'once more');
  await eventually(async () => (await answerText(page)).length > 300, { timeout: 10000, what: 'part of the answer' });
  const before = resumes().length;
  await page.reload();
  await page.locator(app.input).waitFor();
  assert.equal(await settledAnswer(page, 30000), 'done');
  assert.equal(await answerText(page), LONG_SHOWN);
  assert.ok(resumes().length > before, 'resumed after the reload');

  // Stop (Esc), Continue, Regenerate, Edit: the shared model's actions from the app.
  edge.queue(slow(LONG));
  await ask(page, 'stop me');
  await eventually(async () => (await answerText(page)).length > 100, { timeout: 10000, what: 'some text' });
  await page.keyboard.press('Escape');
  assert.equal(await settledAnswer(page), 'stopped');
  await page.locator('.turn.answer .badge.stopped').last().waitFor();
  await page.locator('.turn.answer .continue').last().click();
  assert.equal(await settledAnswer(page, 30000), 'done');
  const regenerated = page.locator('.turn.answer .regenerate').last();
  await regenerated.click();
  assert.equal(await settledAnswer(page), 'done');
  assert.match(await answerText(page), /Mock answer to: stop me/);
  await page.locator('.turn.question .edit').last().click();
  assert.equal(await page.locator(app.input).inputValue(), 'stop me');
  await shot(page, 'app-chat');
});

test('structured output: schema errors before sending; a matching answer as a tree; a mismatch as an error', async () => {
  edge.up.reset();
  await freshApp(page, web.url);
  await page.locator('.settings-toggle').click();
  await page.locator('.structured-toggle').check();
  const editor = page.locator('#schema-editor');
  await editor.waitFor();
  await page.locator('#schema-check .check.ok').waitFor();

  // Broken schemas are reported as they are typed, and nothing can be sent.
  await editor.fill('{"type": "object", "properties": {');
  await page.locator('.schema-errors', { hasText: 'The schema is not JSON' }).waitFor();
  await editor.fill('{"type": "object", "properties": {"age": {"type": "int"}}, "required": ["name"]}');
  const errors = await page.locator('.schema-errors li').allInnerTexts();
  assert.deepEqual(errors, [
    '#: "required" names "name", which is not in "properties"',
    '#/properties/age: "type" must be one of string, number, integer, boolean, object, array, null (or a list of them), not "int"',
  ]);
  assert.ok(await page.locator(app.send).isDisabled(), 'Send is disabled while the schema is broken');
  await page.locator(app.input).fill('hello');
  await page.locator(app.input).press('Enter');
  assert.equal(await page.locator(app.answer).count(), 0, 'Enter sends nothing either');
  await axeCheck(page, 'settings with schema errors');

  // A good schema: the mock model answers JSON shaped by it, shown as a tree and validated.
  const schema = {
    type: 'object',
    properties: {
      city: { type: 'string' },
      population: { type: 'integer', minimum: 0 },
      landmarks: { type: 'array', items: { type: 'string' } },
    },
    required: ['city', 'population', 'landmarks'],
    additionalProperties: false,
  };
  await editor.fill(JSON.stringify(schema, null, 2));
  await page.locator('#schema-check .check.ok').waitFor();
  await ask(page, 'Describe Paris');
  assert.equal(await settledAnswer(page), 'done');
  const sent = JSON.parse(apiCalls.filter((c) => c.method === 'POST').at(-1).body);
  assert.deepEqual(sent.response_format, { type: 'json_schema', name: 'answer', schema, strict: true });
  const last = page.locator(app.answer).last();
  await last.locator('.check.ok', { hasText: 'matches the schema' }).waitFor();
  assert.ok((await last.locator('.tree .key', { hasText: 'population' }).count()) === 1, 'the tree shows the keys');
  await shot(page, 'app-structured');
  await axeCheck(page, 'structured answer');

  // The same through Anthropic (a forced tool carries the JSON).
  await page.locator('.model-select').selectOption('smart');
  await ask(page, 'Describe Rome');
  assert.equal(await settledAnswer(page), 'done');
  await page.locator(app.answer).last().locator('.check.ok').waitFor();

  // An answer that does not match: listed where and why.
  await page.locator('.model-select').selectOption('fast');
  edge.queue({ text: '{"city": 42, "landmarks": ["x"], "mayor": "A"}' });
  await ask(page, 'Describe nowhere');
  assert.equal(await settledAnswer(page), 'done');
  const bad = page.locator(app.answer).last().locator('.check.bad');
  await bad.waitFor();
  const why = await bad.locator('li').allInnerTexts();
  assert.deepEqual(why, [
    '$: the required property "population" is missing',
    '$.city: expected string, got integer 42',
    '$.mayor: no value is allowed here',
  ]);
  await shot(page, 'app-structured-mismatch');
});

test('the playground module: loaded on first use; a thread in structured mode after a reload; a failed load is said', async () => {
  edge.up.reset();
  const fetched = [];
  const track = (r) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith('/playground/')) fetched.push(u.pathname);
  };
  page.on('request', track);
  try {
    await freshApp(page, web.url);
    await page.locator('.log .empty').waitFor();
    await ask(page, 'Plain first');
    assert.equal(await settledAnswer(page), 'done');
    assert.deepEqual(fetched, [], 'the first load and a plain answer do not fetch the playground');
    // The settings fetch it; structured mode with the example schema.
    await page.locator('.settings-toggle').click();
    await page.locator('.structured-toggle').check();
    await page.locator('#schema-check .check.ok').waitFor();
    assert.ok(fetched.includes('/playground/edgechat-playground_bg.wasm'), 'the settings load the module');
    await ask(page, 'Describe Paris');
    assert.equal(await settledAnswer(page), 'done');
    await page.locator(app.answer).last().locator('.check.ok').waitFor();

    // After a reload, the settings closed: the thread's answers are still checked, and it can send.
    await page.reload();
    const answer = page.locator(app.answer).last();
    await answer.locator('.check.ok', { hasText: 'matches the schema' }).waitFor({ timeout: 20000 });
    assert.equal(await answer.locator('.tree .key', { hasText: 'population' }).count(), 1, 'the tree after a reload');
    await page.locator(app.input).fill('Describe Rome');
    await eventually(async () => !(await page.locator(app.send).isDisabled()), { what: 'Send enabled' });
    assert.equal(await page.locator('#composer-note').innerText(), '', 'nothing blocks sending');

    // The module cannot be loaded: said under the answers, by the composer and in the settings; nothing is sent.
    await page.route('**/playground/edgechat-playground.js', (r) => r.fulfill({ status: 404, body: 'gone' }));
    try {
      await page.reload();
      const why = /could not be loaded \(\/playground\/edgechat-playground\.js\)/;
      const failed = page.locator(app.answer).last().locator('.check.bad[role=alert]');
      await failed.waitFor({ timeout: 20000 });
      assert.match(await failed.innerText(), why);
      assert.match(await page.locator(app.answer).last().locator('pre.raw').innerText(), /"city"/, 'the raw JSON');
      await page.locator(app.input).fill('Describe Rome');
      assert.match(await page.locator('#composer-note').innerText(), why);
      assert.ok(await page.locator(app.send).isDisabled(), 'Send is disabled without the schema checker');
      await page.locator('.settings-toggle').click();
      assert.match(await page.locator('#thread-settings .check.bad[role=alert]').innerText(), why);
      await axeCheck(page, 'the playground module not loaded');
    } finally {
      await page.unroute('**/playground/edgechat-playground.js');
    }
  } finally {
    page.off('request', track);
  }
});

test('settings: the system prompt, temperature and max tokens go with the questions; reasoning is shown apart', async () => {
  edge.up.reset();
  await freshApp(page, web.url);
  await page.locator('.settings-toggle').click();
  const system = page.locator('.settings textarea').first();
  await system.fill('Answer like a pirate.');
  await system.blur();
  const temperature = page.locator('.settings input[type=number]').first();
  await temperature.fill('3');
  await temperature.blur();
  await page.locator('.settings .problem', { hasText: 'Temperature is a number from 0 to 2' }).waitFor();
  await temperature.fill('0.7');
  await temperature.blur();
  const maxTokens = page.locator('.settings input[type=number]').nth(1);
  assert.equal(await maxTokens.getAttribute('placeholder'), 'up to 2048', 'the limit from /api/config');
  await maxTokens.fill('300');
  await maxTokens.blur();
  await eventually(async () => (await page.locator('.settings .problem').count()) === 0, { what: 'no problem' });
  await ask(page, 'mock:reasoning think first');
  assert.equal(await settledAnswer(page), 'done');
  const sent = JSON.parse(apiCalls.filter((c) => c.method === 'POST').at(-1).body);
  assert.equal(sent.system, 'Answer like a pirate.');
  assert.equal(sent.temperature, 0.7);
  assert.equal(sent.max_tokens, 300);
  const upstream = edge.requests().at(-1).body;
  assert.equal(upstream.max_completion_tokens ?? upstream.max_tokens, 300, 'the edge passed max tokens on');
  const reasoning = page.locator(app.answer).last().locator('details.reasoning');
  assert.ok(!(await reasoning.evaluate((d) => d.classList.contains('hidden'))), 'a reasoning block');
  assert.match(await reasoning.locator('.reasoning-text').textContent(), /Thinking about "think first"/);
  assert.ok(!(await answerText(page)).includes('Thinking about'), 'reasoning is not in the answer');
  // The settings are the thread's: kept after a reload.
  await page.reload();
  await page.locator('.settings-toggle').click();
  assert.equal(await page.locator('.settings textarea').first().inputValue(), 'Answer like a pirate.');
  assert.equal(await page.locator('.settings input[type=number]').first().inputValue(), '0.7');
});

test('inspector: every event with its id and time, first token, tokens per second, request id, fallback', async () => {
  edge.up.reset();
  await freshApp(page, web.url);
  edge.queue({ text: 'One two three four five six seven eight nine ten eleven twelve.', chunk: 4, delayMs: 20 });
  await ask(page, 'Count for me');
  assert.equal(await settledAnswer(page), 'done');
  const answer = page.locator(app.answer).last();
  await answer.locator('.inspect').click();
  const panel = answer.locator('.inspector');
  await panel.waitFor();
  const ttft = await panel.locator('.ttft').innerText();
  assert.match(ttft, /^\d+ ms$/);
  const tps = Number(await panel.locator('.tps').innerText());
  assert.ok(tps > 0, `tokens per second ${tps}`);
  assert.match(await panel.locator('.request-id').innerText(), /\S{8,}/);
  assert.match(await panel.locator('.served').innerText(), /^fast \(openai-chat\)$/);
  const rows = await panel
    .locator('tbody tr.ev')
    .evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert.equal(rows[0][1], 'request');
  const events = rows.filter((r) => r[0] !== '');
  assert.deepEqual(
    events.map((r) => Number(r[0])),
    events.map((_, i) => i + 1),
    'ids 1, 2, 3, …',
  );
  assert.equal(events[0][1], 'start');
  assert.deepEqual(
    events.slice(-2).map((r) => r[1]),
    ['usage', 'done'],
  );
  const times = events.map((r) => Number(r[2]));
  assert.ok(
    times.every((t, i) => i === 0 || t >= times[i - 1]),
    'times grow',
  );
  assert.ok(times.at(-1) - Number(ttft.split(' ')[0]) >= 50, 'the stream took time after its first token');
  await shot(page, 'app-inspector');
  await axeCheck(page, 'inspector');

  // A fallback: the first provider fails before the first byte, the edge serves from `smart`.
  await page.locator('.model-select').selectOption('flaky');
  edge.queue({ status: 500, match: '/chat/completions' });
  await ask(page, 'Fall back please');
  assert.equal(await settledAnswer(page), 'done');
  const second = page.locator(app.answer).last();
  await second.locator('.inspect').click();
  assert.match(await second.locator('.inspector .served').innerText(), /^smart \(anthropic\) — fallback$/);
});

test('compare: one question on two models side by side', async () => {
  edge.up.reset();
  await freshApp(page, web.url);
  await page.locator('.screen-link', { hasText: 'Compare' }).click();
  await page.locator('#compare-title').waitFor();
  await page.locator('.model-a').selectOption('fast');
  await page.locator('.model-b').selectOption('smart');
  await page.locator('.compare-question').fill('Which is faster?');
  await page.locator('.compare-run').click();
  const sides = page.locator('.side');
  await eventually(async () => (await sides.count()) === 2, { what: 'two columns' });
  for (const [i, label] of [
    [0, 'Fast'],
    [1, 'Smart'],
  ]) {
    const side = sides.nth(i);
    assert.equal(await side.locator('h2').innerText(), label);
    assert.equal(await settledAnswer(side), 'done');
    assert.match(await side.locator('.md').innerText(), /Mock answer to: Which is faster\?/);
    assert.match(await side.locator('.ttft').innerText(), /^\d+ ms$/);
    assert.match(await side.locator('.usage').innerText(), /\d+ in · \d+ out/);
  }
  const posts = apiCalls
    .filter((c) => c.method === 'POST')
    .slice(-2)
    .map((c) => JSON.parse(c.body).model)
    .sort();
  assert.deepEqual(posts, ['fast', 'smart']);
  await shot(page, 'app-compare');
  await axeCheck(page, 'compare');
});

test('usage: tokens and cost per answer, per thread and in total', async () => {
  edge.up.reset();
  await freshApp(page, web.url);
  await ask(page, 'First question');
  assert.equal(await settledAnswer(page), 'done');
  await ask(page, 'Second question');
  assert.equal(await settledAnswer(page), 'done');
  await page.locator('.new-thread').click();
  await ask(page, 'Another thread');
  assert.equal(await settledAnswer(page), 'done');
  assert.match(await page.locator('.thread-usage').innerText(), /^1 answer · \d+ tokens in · \d+ out · \$\d+(\.\d+)?$/);
  await page.locator('.screen-link', { hasText: 'Usage' }).click();
  await page.locator('#usage-title').waitFor();
  const rows = await page
    .locator('.usage-table tbody tr')
    .evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert.equal(rows.length, 2);
  assert.deepEqual(
    rows.map((r) => r[1]),
    ['1', '2'],
  );
  const total = await page.locator('.usage-table tfoot tr').evaluate((tr) => [...tr.cells].map((c) => c.textContent));
  assert.equal(total[1], '3');
  const n = (s) => Number(s.replaceAll(',', ''));
  assert.equal(n(total[2]), n(rows[0][2]) + n(rows[1][2]), 'input tokens add up');
  assert.equal(n(total[3]), n(rows[0][3]) + n(rows[1][3]), 'output tokens add up');
  assert.match(total[4], /^\$\d+(\.\d+)?$/);
  await shot(page, 'app-usage');
  await axeCheck(page, 'usage');
});

test('keyboard: Ctrl+K new thread, / search, Enter and Shift+Enter, Esc stops; every control is labelled', async () => {
  edge.up.reset();
  await freshApp(page, web.url);
  const first = page.url();
  await page.keyboard.press('Control+k');
  await eventually(async () => page.url() !== first, { what: 'a new thread' });
  await eventually(async () => (await threadTitles(page)).length === 2, { what: 'two threads' });
  await page.locator(app.input).focus();
  await page.keyboard.type('line one');
  await page.keyboard.press('Shift+Enter');
  await page.keyboard.type('line two');
  assert.equal(await page.locator(app.input).inputValue(), 'line one\nline two');
  await page.keyboard.press('Enter');
  assert.equal(await settledAnswer(page), 'done');
  // Edit appears once nothing is busy, which may be a render after the answer's status.
  await eventually(async () => (await page.locator(app.question).last().innerText()) === 'line one\nline two\nEdit', {
    what: 'the question with Edit',
  });
  await page
    .locator('body')
    .click({ position: { x: 5, y: 5 } })
    .catch(() => {});
  await page.locator(app.title).click();
  await page.keyboard.press('/');
  await eventually(async () => (await page.evaluate(() => document.activeElement.id)) === 'thread-search', {
    what: 'the search box focused',
  });
  // Tab reaches the composer, the attach button and Send, from the search box.
  await page.locator(app.input).focus();
  await page.keyboard.type('x');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Attach files');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Send');
  // Esc stops a streaming answer wherever the focus is.
  edge.queue(slow(LONG));
  await ask(page, 'long one');
  await eventually(async () => (await answerText(page)).length > 50, { timeout: 10000, what: 'some text' });
  await page.locator(app.title).click();
  await page.keyboard.press('Escape');
  assert.equal(await settledAnswer(page), 'stopped');
  // Every button, input and select has an accessible name (axe checks names too; this reads them all).
  const unnamed = await page.evaluate(() =>
    [...document.querySelectorAll('button, input:not([type=file]), select, textarea, a[href]')]
      .filter((e) => e.offsetParent !== null)
      .filter((e) => !(e.getAttribute('aria-label') || e.labels?.length || e.textContent.trim() || e.title))
      .map((e) => e.outerHTML.slice(0, 80)),
  );
  assert.deepEqual(unnamed, []);
  await page.locator('.settings-toggle').click();
  await shot(page, 'app-settings');
  await axeCheck(page, 'chat with settings open');
});

test('360 px and dark: no horizontal scroll, the sidebar is a drawer; axe clean', async () => {
  edge.up.reset();
  await page.setViewportSize({ width: 360, height: 740 });
  try {
    await freshApp(page, web.url);
    await ask(page, 'mock:markdown on a small screen');
    assert.equal(await settledAnswer(page), 'done');
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    assert.equal(overflow, 0, 'no horizontal scroll');
    assert.ok(!(await page.locator('.sidebar').isVisible()), 'the sidebar is hidden');
    await shot(page, 'app-360');
    await axeCheck(page, 'chat at 360 px');
    await page.locator('.chat-head .drawer-toggle').click();
    await page.locator('.sidebar.open').waitFor();
    await eventually(async () => (await page.locator('.sidebar').boundingBox())?.x === 0, {
      what: 'the drawer slid in',
    });
    assert.equal(
      await page.evaluate(() => document.activeElement.id),
      'thread-search',
      'the focus moves into the drawer',
    );
    await shot(page, 'app-360-drawer');
    await page.keyboard.press('Escape');
    await eventually(async () => !(await page.locator('.sidebar').isVisible()), { what: 'the drawer closes on Esc' });

    await page.emulateMedia({ colorScheme: 'dark' });
    await page.setViewportSize({ width: 1100, height: 800 });
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(bg, 'rgb(21, 24, 28)', 'dark colours');
    await shot(page, 'app-dark');
    await axeCheck(page, 'chat in dark');
    await page.locator('.theme-select').selectOption('light');
    assert.equal(
      await page.evaluate(() => getComputedStyle(document.body).backgroundColor),
      'rgb(255, 255, 255)',
      'the light choice wins',
    );
    await page.locator('.theme-select').selectOption('auto');
  } finally {
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 900, height: 800 });
  }
});

test('storage: a full quota is reported; Try again saves what the tab kept once there is room', async () => {
  edge.up.reset();
  await freshApp(page, web.url);
  await ask(page, 'Before the disk fills');
  assert.equal(await settledAnswer(page), 'done');
  // Chromium reads the quota when it opens a database and keeps the database open ~2 s after its last
  // connection closes: leave the app for 3 s, then open it again under the tiny quota.
  const cdp = await browser.context.newCDPSession(page);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: web.url, quotaSize: 1 });
  const url = page.url();
  try {
    await page.goto(`${web.url}/blank.html`);
    await new Promise((r) => setTimeout(r, 3000));
    await page.goto(url);
    await page.locator(app.input).waitFor();
    await eventually(async () => (await page.locator(app.question).count()) === 1, { what: 'the saved thread' });
    await ask(page, 'After the disk filled');
    assert.equal(await settledAnswer(page), 'done');
    const note = page.locator('.notice.storage-error');
    await note.waitFor({ timeout: 5000 });
    assert.match(await note.innerText(), /storage for this site is full/);
    await shot(page, 'app-quota');
    await axeCheck(page, 'storage notice');
  } finally {
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: web.url });
  }
  // Room again: Try again writes what the tab kept (on a new connection).
  await page.locator('.notice .retry-save').click();
  await eventually(async () => (await page.locator('.notice.storage-error').count()) === 0, {
    timeout: 8000,
    what: 'the notice clears',
  });
  await page.reload();
  await page.locator(app.input).waitFor();
  await eventually(async () => (await page.locator(app.question).count()) === 2, { what: 'both questions were saved' });
});
