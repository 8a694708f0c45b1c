// Page helpers for driving the Leptos app (dist/index.html, served at / by startStatic) and scanning it with
// axe-core.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { eventually } from './widget.mjs';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');

export const app = {
  input: '#composer-input',
  send: '.composer .send',
  stop: '.composer .stop',
  answer: '.log .turn.answer',
  question: '.log .turn.question',
  title: '#thread-title',
  threads: '.threads .thread-link',
  search: '#thread-search',
};

/** Opens the app at `path` with nothing stored: IndexedDB and localStorage of the origin are cleared first (from a
 * blank page of the same origin, so no open connection blocks the deletion). */
export async function freshApp(page, base, path = '/') {
  await page.route(`${base}/blank.html`, (r) =>
    r.fulfill({ contentType: 'text/html', body: '<!doctype html><title>blank</title>' }),
  );
  await page.goto(`${base}/blank.html`);
  await page.evaluate(
    () =>
      new Promise((resolve) => {
        localStorage.clear();
        const r = indexedDB.deleteDatabase('edgechat-app');
        r.onsuccess = r.onerror = r.onblocked = () => resolve();
      }),
  );
  await page.goto(`${base}${path}`);
  if (path === '/' || path.startsWith('/t/')) await page.locator(app.input).waitFor({ timeout: 20000 });
}

/** Types `text` into the composer and presses Enter. */
export async function ask(page, text) {
  const input = page.locator(app.input);
  await input.fill(text);
  await input.press('Enter');
}

/** Waits until the last answer of `scope` (a page or a locator) is no longer streaming; returns its status. */
export async function settledAnswer(scope, timeout = 20000) {
  const answer = scope.locator('.turn.answer').last();
  await answer.waitFor({ timeout });
  const end = Date.now() + timeout;
  for (;;) {
    const status = await answer.getAttribute('data-status');
    if (status && status !== 'streaming') return status;
    if (Date.now() > end) assert.fail(`the answer is still ${status} after ${timeout} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The text of the last answer as rendered. */
export const answerText = (page) => page.locator(app.answer).last().locator('.md').innerText();

/** The ids of the threads in the sidebar, in order. */
export async function threadTitles(page) {
  return page.locator(app.threads).allInnerTexts();
}

/** Runs axe-core on the page; fails on any serious or critical violation (listing them). Returns all violations. */
export async function axeCheck(page, what) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const list = bad.map(
    (v) =>
      `${v.impact} ${v.id}: ${v.help} — ${v.nodes
        .slice(0, 3)
        .map((n) => n.target.join(' '))
        .join(' | ')}`,
  );
  assert.deepEqual(list, [], `axe on ${what}`);
  return result.violations;
}

export { eventually };
