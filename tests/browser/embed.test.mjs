// Embedding: one script tag + <edge-chat> on plain pages, including one whose CSS attacks everything.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBackend, startStatic, launch, shot } from './support/stack.mjs';
import { eventually } from './support/widget.mjs';

let edge, web, browser, page;

before(async () => {
  edge = await startBackend();
  web = await startStatic({ edgeUrl: () => edge.url });
  browser = await launch();
  page = browser.page;
  console.log(`# embed tests against the ${edge.kind} edge`);
});

after(async () => {
  await browser?.close();
  await web?.stop();
  await edge?.stop();
});

test('the plain-HTML embed example works in inline and bubble mode', async () => {
  await page.goto(`${web.url}/examples/embed.html`);
  const inline = page.locator('edge-chat[mode=inline]');
  await inline.locator('.ec-input').waitFor();
  // Host theming through custom properties reaches into the shadow root.
  const accent = await inline.locator('.ec-send').evaluate((b) => getComputedStyle(b).backgroundColor);
  assert.equal(accent, 'rgb(11, 122, 91)');
  await inline.locator('.ec-input').fill('Hello from the embed page');
  await inline.locator('.ec-input').press('Enter');
  await inline.locator('.ec-assistant .ec-md p').first().waitFor();
  await eventually(async () => (await inline.locator('.ec-assistant').getAttribute('data-status')) !== 'streaming', {
    what: 'answer end',
  });
  assert.equal(await inline.locator('.ec-assistant').getAttribute('data-status'), 'done');
  assert.match(await inline.locator('.ec-assistant .ec-md').innerText(), /\S/);
  // Bubble: a launcher that opens a panel.
  const bubble = page.locator('edge-chat[mode=bubble]');
  const launcher = bubble.locator('.ec-launcher');
  assert.equal(await launcher.getAttribute('aria-expanded'), 'false');
  assert.equal(await bubble.locator('.ec-panel').count(), 0);
  await launcher.click();
  assert.equal(await launcher.getAttribute('aria-expanded'), 'true');
  await bubble.locator('.ec-input').waitFor();
  await eventually(() => bubble.locator('.ec-input').evaluate((el) => el.getRootNode().activeElement === el), {
    what: 'focus moves into the opened bubble',
  });
  await shot(page, 'embed-example');
  await page.keyboard.press('Escape');
  await eventually(async () => (await bubble.locator('.ec-panel').count()) === 0, { what: 'Escape closes the bubble' });
  assert.ok(await launcher.evaluate((el) => el.getRootNode().activeElement === el), 'focus returns to the launcher');
});

test('hostile host CSS cannot hide or restyle the widget, and the widget does not restyle the host', async () => {
  await page.goto(`${web.url}/test/hostile.html`);
  const inline = page.locator('#inline');
  await inline.locator('.ec-input').waitFor({ state: 'visible' });
  const box = await inline.boundingBox();
  assert.ok(box && box.x >= 0 && box.width > 200 && box.height > 200, `widget on screen: ${JSON.stringify(box)}`);
  const styles = await inline.locator('.ec-input').evaluate((el) => {
    const s = getComputedStyle(el);
    return { fontSize: s.fontSize, color: s.color, display: s.display, visibility: s.visibility };
  });
  assert.notEqual(styles.fontSize, '40px');
  assert.notEqual(styles.color, 'rgb(255, 0, 255)');
  assert.equal(styles.visibility, 'visible');
  const hostStyle = await inline.evaluate((el) => {
    const s = getComputedStyle(el);
    return { opacity: s.opacity, transform: s.transform, position: s.position, display: s.display };
  });
  assert.deepEqual(hostStyle, { opacity: '1', transform: 'none', position: 'relative', display: 'block' });
  await inline.locator('.ec-input').fill('hello hostile');
  await inline.locator('.ec-input').press('Enter');
  await inline.locator('.ec-assistant .ec-md p').first().waitFor();
  const launcher = page.locator('#bubble .ec-launcher');
  await launcher.click();
  await page.locator('#bubble .ec-input').waitFor({ state: 'visible' });
  // The host keeps its own look: the widget's stylesheet never leaves the shadow root.
  const host = await page.evaluate(() => ({
    h1: getComputedStyle(document.querySelector('h1')).color,
    sheets: document.styleSheets.length,
    leaked: [...document.querySelectorAll('body > *')].some((e) => e.className?.toString().startsWith('ec-')),
  }));
  assert.equal(host.h1, 'rgb(200, 0, 0)');
  assert.equal(host.sheets, 1, 'no stylesheet added to the host document');
  assert.equal(host.leaked, false);
  await shot(page, 'embed-hostile-css');
});
