// Where the bubble is: geometry of the launcher and the open panel against the window, in headless Chromium, for
// phone, tablet and desktop windows, with the element at the start or the end of a long page, scrolled or not,
// inside a transformed ancestor or a scrolled container, in a right-to-left page, in the bottom-left corner and under
// a page element with the highest z-index (tests/browser/pages/bubble.html). Also: the inline widget at 320 px, the
// project's examples/embed.html at each size, the on-screen keyboard (through the visual viewport) and the unread dot.
// Screenshots of every case: tests/artifacts/bubble/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startBackend, startStatic, CHROMIUM_ARGS, ARTIFACTS } from './support/stack.mjs';
import { eventually } from './support/widget.mjs';

const SIZES = [
  [360, 640],
  [390, 844],
  [768, 1024],
  [1280, 800],
];
/** Below this width the open panel takes the whole window. */
const FULL_WINDOW = 480;
/** How far from the chosen corner the launcher may be. */
const CORNER = 24;

const CASES = [
  { name: 'start', q: 'at=start' },
  { name: 'end', q: 'at=end' },
  { name: 'start-scrolled', q: 'at=start', scroll: true },
  { name: 'end-scrolled', q: 'at=end', scroll: true },
  { name: 'transformed-ancestor', q: 'at=end&wrap=transform', scroll: true },
  { name: 'scrolled-container', q: 'at=end&wrap=scroller', scroll: true },
  { name: 'rtl', q: 'at=end&dir=rtl', scroll: true },
  { name: 'bottom-left', q: 'at=start&position=bottom-left', corner: 'left' },
  { name: 'rtl-bottom-left', q: 'at=end&dir=rtl&position=bottom-left', corner: 'left', scroll: true },
  { name: 'over-zmax-footer', q: 'at=end&zmax=1', scroll: true },
];

let edge, web, browser;
const pages = new Map();

before(async () => {
  edge = await startBackend();
  web = await startStatic({ edgeUrl: () => edge.url });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
  await fsp.mkdir(path.join(ARTIFACTS, 'bubble'), { recursive: true });
});

after(async () => {
  await browser?.close();
  await web?.stop();
  await edge?.stop();
});

/** One page per window size; narrow windows as a phone (touch, mobile viewport). */
async function pageFor(w, h) {
  const key = `${w}x${h}`;
  if (!pages.has(key)) {
    const phone = w < FULL_WINDOW;
    const context = await browser.newContext({ viewport: { width: w, height: h }, isMobile: phone, hasTouch: phone });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    pages.set(key, { page, errors });
  }
  return pages.get(key);
}

const shot = (page, name) => page.screenshot({ path: path.join(ARTIFACTS, 'bubble', `${name}.png`) });
const frames = (page) => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

/** Boxes (viewport coordinates) of the widget's parts in `selector`'s shadow root, whether the element found at each
 * one's centre is that part (or inside it), and the window: the layout viewport without its scrollbars. */
function measure(page, selector) {
  return page.evaluate((selector) => {
    const host = document.querySelector(selector);
    const root = host.shadowRoot;
    const part = (s) => {
      const e = root.querySelector(s);
      if (!e) return null;
      const r = e.getBoundingClientRect();
      const at = root.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
      const name = at ? `${at.tagName.toLowerCase()}.${at.getAttribute('class') ?? ''}` : 'nothing';
      return {
        x: r.x,
        y: r.y,
        right: r.right,
        bottom: r.bottom,
        width: r.width,
        height: r.height,
        found: !!at && (at === e || e.contains(at)),
        at: name,
        visible: e.checkVisibility({ visibilityProperty: true, opacityProperty: true }),
      };
    };
    const html = document.documentElement;
    return {
      W: html.clientWidth,
      H: html.clientHeight,
      launcher: part('.ec-launcher'),
      panel: part('.ec-panel'),
      header: part('.ec-header'),
      close: part('.ec-close'),
      input: part('.ec-input'),
      send: part('.ec-send'),
    };
  }, selector);
}

const fmt = (b) => JSON.stringify(b, (_k, v) => (typeof v === 'number' ? Math.round(v * 10) / 10 : v));

function assertInside(box, win, what) {
  assert.ok(box, `${what} exists`);
  const ok = box.x >= -0.5 && box.y >= -0.5 && box.right <= win.W + 0.5 && box.bottom <= win.H + 0.5;
  assert.ok(ok, `${what} lies inside the ${win.W}x${win.H} window: ${fmt(box)}`);
}

function assertReachable(box, win, what) {
  assertInside(box, win, what);
  assert.ok(box.width > 0 && box.height > 0 && box.visible, `${what} is visible: ${fmt(box)}`);
  assert.ok(box.found, `${what} is not covered (elementFromPoint at its centre: ${box.at})`);
}

function assertInCorner(box, win, corner, what = 'launcher') {
  assertReachable(box, win, what);
  const below = win.H - box.bottom;
  const side = corner === 'left' ? box.x : win.W - box.right;
  assert.ok(
    below <= CORNER && side <= CORNER,
    `${what} within ${CORNER}px of the bottom-${corner} corner (${fmt({ below, side })}): ${fmt(box)}`,
  );
}

/** The open panel: inside the window with its header, input and Send reachable; the whole window on phones. */
function assertPanel(g, { full, what = 'panel' }) {
  assertInside(g.panel, g, what);
  for (const part of ['header', 'input', 'send']) assertReachable(g[part], g, `${what} ${part}`);
  if (full) {
    assert.ok(
      Math.abs(g.panel.width - g.W) <= 1 && Math.abs(g.panel.height - g.H) <= 1 && g.panel.x <= 0.5 && g.panel.y <= 0.5,
      `${what} takes the whole ${g.W}x${g.H} window: ${fmt(g.panel)}`,
    );
  }
}

const scrollState = (page) =>
  page.evaluate(() => ({
    y: Math.round(window.scrollY),
    box: Math.round(document.querySelector('.wrap-scroller')?.scrollTop ?? 0),
  }));

/** Opens the bubble in `selector` and checks it; closes it again (close button or Escape) and checks the focus went
 * back to the launcher and the page did not move. */
async function openAndCheck(page, { selector, name, corner, full, closeBy }) {
  const bubble = page.locator(selector);
  const launcher = bubble.locator('.ec-launcher');
  const before = await scrollState(page);
  await launcher.click();
  await bubble.locator('.ec-input').waitFor({ state: 'visible' });
  await bubble.locator('.ec-model select').waitFor(); // the header is complete (the config has loaded)
  await frames(page);
  const g = await measure(page, selector);
  assertPanel(g, { full });
  assertReachable(g.close, g, 'close button');
  if (full) {
    assert.equal(g.launcher.visible, false, 'the launcher hides under the full-window panel');
    // The page behind does not scroll: wheel over the panel's header and over its log.
    for (const part of [g.header, g.panel]) {
      await page.mouse.move(part.x + part.width / 2, part.y + part.height / 2);
      await page.mouse.wheel(0, 700);
    }
    await page.waitForTimeout(150);
    assert.deepEqual(await scrollState(page), before, 'the page behind the full-window panel did not scroll');
  } else {
    assertInCorner(g.launcher, g, corner, 'launcher with the panel open');
  }
  await shot(page, `${name}-open`);
  if (closeBy === 'button') await bubble.locator('.ec-close').click();
  else await page.keyboard.press('Escape');
  await eventually(async () => (await bubble.locator('.ec-panel').count()) === 0, {
    what: `${closeBy} closes the panel`,
  });
  assert.ok(await launcher.evaluate((el) => el.getRootNode().activeElement === el), 'focus is back on the launcher');
  assert.equal(await launcher.getAttribute('aria-expanded'), 'false');
  assert.deepEqual(await scrollState(page), before, 'opening and closing did not move the page');
  assert.equal(
    await page.evaluate(() => document.documentElement.style.overflow),
    '',
    "the page's own overflow is restored",
  );
}

for (const [w, h] of SIZES) {
  for (const c of CASES) {
    test(`${w}x${h} ${c.name}: launcher in the corner, open panel inside the window`, async () => {
      const { page, errors } = await pageFor(w, h);
      const name = `${w}x${h}-${c.name}`;
      const corner = c.corner ?? 'right';
      await page.goto(`${web.url}/test/bubble.html?${c.q}`);
      const launcher = page.locator('edge-chat .ec-launcher');
      await launcher.waitFor();
      if (c.scroll) {
        await page.evaluate(() => {
          document.querySelector('.wrap-scroller')?.scrollTo(0, 1e6);
          window.scrollTo(0, document.documentElement.scrollHeight / 2);
        });
        const s = await scrollState(page);
        assert.ok(s.y > 100, `the page scrolled: ${fmt(s)}`);
      }
      await frames(page);
      const g = await measure(page, 'edge-chat');
      assertInCorner(g.launcher, g, corner);
      assert.equal(
        await page.locator('edge-chat').evaluate((el) => el.getBoundingClientRect().height),
        0,
        'the bubble takes no room in the page',
      );
      await shot(page, `${name}-closed`);
      const full = w < FULL_WINDOW;
      await openAndCheck(page, {
        selector: 'edge-chat',
        name,
        corner,
        full,
        closeBy: full || c.corner ? 'button' : 'escape',
      });
      assert.deepEqual(errors, []);
    });
  }
}

for (const [w, h] of SIZES) {
  test(`${w}x${h} examples/embed.html: the bubble is placed against the window`, async () => {
    const { page } = await pageFor(w, h);
    await page.goto(`${web.url}/examples/embed.html`);
    const selector = 'edge-chat[mode=bubble]';
    await page.locator(`${selector} .ec-launcher`).waitFor();
    await page.locator('edge-chat[mode=inline] .ec-input').waitFor();
    await frames(page);
    const g = await measure(page, selector);
    assertInCorner(g.launcher, g, 'right');
    await shot(page, `${w}x${h}-embed-closed`);
    const full = w < FULL_WINDOW;
    await openAndCheck(page, {
      selector,
      name: `${w}x${h}-embed`,
      corner: 'right',
      full,
      closeBy: full ? 'button' : 'escape',
    });
  });
}

for (const q of ['at=start', 'at=start&dir=rtl', 'at=start&wrap=transform']) {
  test(`320x640 inline (${q}): the panel inside the window, header, input and Send reachable`, async () => {
    const { page } = await pageFor(320, 640);
    await page.goto(`${web.url}/test/bubble.html?mode=inline&${q}`);
    await page.locator('edge-chat .ec-model select').waitFor();
    await frames(page);
    const g = await measure(page, 'edge-chat');
    assert.equal(g.launcher, null);
    assertPanel(g, { full: false, what: 'inline panel' });
    assert.ok(g.panel.width >= g.W - 56, `the inline panel uses the width (less the page's padding): ${fmt(g.panel)}`);
    await shot(page, `320x640-inline-${q.replaceAll(/[=&]/g, '-')}`);
  });
}

test('320x640 examples/embed.html inline, scrolled to its end: clear of the launcher, header, input and Send reachable', async () => {
  const { page } = await pageFor(320, 640);
  await page.goto(`${web.url}/examples/embed.html`);
  const inline = 'edge-chat[mode=inline]';
  await page.locator(`${inline} .ec-model select`).waitFor();
  await page.locator('edge-chat[mode=bubble] .ec-launcher').waitFor();
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  await frames(page);
  const g = await measure(page, inline);
  assertPanel(g, { full: false, what: 'inline panel' });
  const launcher = (await measure(page, 'edge-chat[mode=bubble]')).launcher;
  assertInCorner(launcher, g, 'right');
  assert.ok(
    launcher.y >= g.panel.bottom,
    `the launcher is below the inline panel: ${fmt({ launcher, panel: g.panel })}`,
  );
  await shot(page, '320x640-embed-inline-end');
});

for (const [w, h] of [
  [390, 844],
  [768, 1024],
]) {
  test(`${w}x${h}: the open panel stays above the on-screen keyboard (a smaller visual viewport)`, async () => {
    const { page } = await pageFor(w, h);
    await page.goto(`${web.url}/test/bubble.html?at=end`);
    const bubble = page.locator('edge-chat');
    await bubble.locator('.ec-launcher').click();
    await bubble.locator('.ec-model select').waitFor();
    const keyboard = 320;
    // Chromium has no on-screen keyboard headless: the visual viewport is made to report what one does (Android
    // Chrome: the visual viewport loses the keyboard's height, the layout viewport stays) and fires `resize`.
    await page.evaluate((k) => {
      const vv = window.visualViewport;
      const height = document.documentElement.clientHeight - k;
      Object.defineProperty(vv, 'height', { configurable: true, get: () => height });
      vv.dispatchEvent(new Event('resize'));
    }, keyboard);
    await frames(page);
    const g = await measure(page, 'edge-chat');
    const visible = { ...g, H: g.H - keyboard };
    assertPanel(visible, { full: w < FULL_WINDOW, what: 'panel above the keyboard' });
    await shot(page, `${w}x${h}-keyboard`);
    await page.evaluate(() => {
      delete window.visualViewport.height;
      window.visualViewport.dispatchEvent(new Event('resize'));
    });
    await frames(page);
    const after = await measure(page, 'edge-chat');
    assert.ok(after.panel.bottom > visible.H + 100, `the panel grows back when the keyboard goes: ${fmt(after.panel)}`);
    await page.keyboard.press('Escape');
  });
}

test('1280x800: an answer that ends while the panel is closed puts a dot on the launcher until it is opened', async () => {
  const { page } = await pageFor(1280, 800);
  await page.goto(`${web.url}/test/bubble.html?at=end`);
  const bubble = page.locator('edge-chat');
  const launcher = bubble.locator('.ec-launcher');
  await launcher.click();
  edge.queue({ text: 'A slow answer. '.repeat(40), chunk: 4, delayMs: 15 });
  await bubble.locator('.ec-input').fill('Tell me slowly');
  await bubble.locator('.ec-input').press('Enter');
  await bubble.locator('.ec-assistant .ec-md p').first().waitFor();
  await launcher.click(); // closed while it streams
  assert.equal(await bubble.locator('.ec-unread').count(), 0, 'no dot while the answer is still arriving');
  await bubble.locator('.ec-unread').waitFor({ timeout: 15000 });
  assert.match(await launcher.getAttribute('aria-label'), /new answer/);
  const g = await measure(page, 'edge-chat');
  assertInCorner(g.launcher, g, 'right');
  await shot(page, '1280x800-unread');
  await launcher.click();
  await bubble.locator('.ec-input').waitFor();
  assert.equal(await bubble.locator('.ec-unread').count(), 0, 'opening clears the dot');
  assert.doesNotMatch(await launcher.getAttribute('aria-label'), /new answer/);
  assert.equal(await bubble.locator('.ec-assistant').last().getAttribute('data-status'), 'done');
});
