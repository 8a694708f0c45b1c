// Page helpers for driving the widget (Playwright locators pierce open shadow roots).
import assert from 'node:assert/strict';

export const sel = {
  input: 'edge-chat .ec-input',
  send: 'edge-chat .ec-send',
  stop: 'edge-chat .ec-stop',
  answer: 'edge-chat .ec-assistant',
  user: 'edge-chat .ec-user',
  log: 'edge-chat .ec-log',
};

export async function open(page, url) {
  await page.goto(url);
  await page.locator(sel.input).first().waitFor({ state: 'visible', timeout: 15000 });
}

export async function send(page, text) {
  const input = page.locator(sel.input).first();
  await input.fill(text);
  await input.press('Enter');
}

export const lastAnswer = (page) => page.locator(sel.answer).last();

/** Waits until the last answer is no longer streaming; returns its status. */
export async function settled(page, timeout = 15000) {
  const answer = lastAnswer(page);
  await answer.waitFor({ timeout });
  await page.waitForFunction(
    () => {
      const host = document.querySelector('edge-chat');
      const all = host?.shadowRoot?.querySelectorAll('.ec-assistant');
      const last = all && all[all.length - 1];
      return last && last.dataset.status !== 'streaming';
    },
    null,
    { timeout },
  );
  return answer.getAttribute('data-status');
}

/** Polls `fn` until it returns a truthy value. */
export async function eventually(fn, { timeout = 5000, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
