// Code highlighting in the widget and the app: ec-highlight.js is requested only once an answer has a code block
// with a language, its spans carry class names and text only, and the block's text is exactly the code.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBackend, startStatic, launch, shot } from './support/stack.mjs';
import { open, send, lastAnswer, settled, eventually } from './support/widget.mjs';
import { freshApp, ask, settledAnswer } from './support/app.mjs';

const JS = 'const a = "<b>x</b>"; // say <script>\nfunction f(n) { return n * 2; }\n';
const PY = 'def f(x):\n    return x + 1  # <img src=x onerror=alert(1)>\n';
const ANSWER = `Two blocks:\n\n\`\`\`js\n${JS}\`\`\`\n\n- item\n\n\`\`\`python\n${PY}\`\`\`\n\nDone.`;

let edge, web, browser, page;
const highlighter = [];

before(async () => {
  edge = await startBackend({ inline: true });
  web = await startStatic({ edgeUrl: () => edge.url });
  browser = await launch();
  page = browser.page;
  page.on('request', (r) => {
    if (r.url().includes('ec-highlight')) highlighter.push(r.url());
  });
});

after(async () => {
  await browser?.close();
  await web?.stop();
  await edge?.stop();
});

/** The code blocks under `root` (a CSS selector of the answer, inside the widget's shadow root or the page). */
const blocks = (shadow, answerSel) =>
  page.evaluate(
    ([shadow, answerSel]) => {
      const base = shadow ? document.querySelector('edge-chat').shadowRoot : document;
      const answers = base.querySelectorAll(answerSel);
      const answer = answers[answers.length - 1];
      return [...answer.querySelectorAll('pre > code')].map((c) => ({
        text: c.textContent,
        spans: c.querySelectorAll('span[class^="ec-hl-"]').length,
        keywords: [...c.querySelectorAll('.ec-hl-k')].map((s) => s.textContent),
        comments: [...c.querySelectorAll('.ec-hl-c')].map((s) => s.textContent),
        others: [...c.querySelectorAll('*')].filter((e) => e.tagName !== 'SPAN' || e.attributes.length !== 1).length,
        color: c.querySelector('.ec-hl-k') && getComputedStyle(c.querySelector('.ec-hl-k')).color,
        plain: getComputedStyle(c).color,
      }));
    },
    [shadow, answerSel],
  );

function check(got) {
  assert.equal(got.length, 2);
  assert.equal(got[0].text, JS, 'the js block holds exactly the code');
  assert.equal(got[1].text, PY, 'the python block holds exactly the code');
  assert.ok(got[0].spans > 3 && got[1].spans > 3, 'both blocks are highlighted');
  assert.deepEqual(got[0].keywords, ['const', 'function', 'return']);
  assert.deepEqual(got[1].keywords, ['def', 'return']);
  assert.deepEqual(got[0].comments, ['// say <script>']);
  assert.equal(got[0].others + got[1].others, 0, 'only spans with a class inside the code');
  assert.notEqual(got[0].color, got[0].plain, 'keywords have their own colour');
}

test('widget: the highlighter loads on the first code block, not before; blocks keep their text', async () => {
  await open(page, `${web.url}/embed.html`);
  edge.queue({ text: 'Plain **markdown**, `inline code`, no block.', chunk: 4, delayMs: 1 });
  await send(page, 'no code');
  assert.equal(await settled(page), 'done');
  await page.waitForTimeout(200);
  assert.deepEqual(highlighter, [], 'not requested before a code block appears');

  edge.queue({ text: ANSWER, chunk: 3, delayMs: 1 });
  await send(page, 'code please');
  assert.equal(await settled(page), 'done');
  await eventually(async () => (await blocks(true, '.ec-assistant')).every((b) => b.spans > 0), {
    what: 'highlighted blocks',
  });
  check(await blocks(true, '.ec-assistant'));
  assert.equal(highlighter.length, 1, 'requested once');
  assert.match(highlighter[0], /\/ec-highlight\.js$/);
  await lastAnswer(page).scrollIntoViewIfNeeded();
  await shot(page, 'highlight-widget');
  assert.deepEqual(browser.consoleErrors, []);
});

test('app: the same highlighting, loaded on the first code block', async () => {
  highlighter.length = 0;
  await freshApp(page, web.url);
  await page.waitForTimeout(200);
  assert.deepEqual(highlighter, [], 'not requested by the app before a code block appears');
  edge.queue({ text: ANSWER, chunk: 5, delayMs: 1 });
  await ask(page, 'code please');
  await settledAnswer(page);
  await eventually(async () => (await blocks(false, '.turn.answer')).every((b) => b.spans > 0), {
    what: 'highlighted blocks in the app',
  });
  check(await blocks(false, '.turn.answer'));
  assert.equal(highlighter.length, 1);
  await shot(page, 'highlight-app');
});
