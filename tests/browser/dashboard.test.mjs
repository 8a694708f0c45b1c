// End-to-end: the Usage screen's edge dashboard (www/app/src/usage/) in headless Chromium.
//
// 1. Against the real edge in workerd (the USAGE Durable Object store, ADMIN_TOKEN set) and the mock upstream:
//    ~300 requests with a mix of models, site keys, signed-in subjects and outcomes (complete, error, truncated,
//    cache hits) go through the edge first. The figures the page shows (headline totals, the chart legends and
//    accessible summaries, top site key and subject, the budget, the recent requests table with its filters and
//    "Load more") are checked against the admin API's own answers to the same requests; "Refresh now" picks up
//    new requests; a wrong token is refused and an edge without ADMIN_TOKEN says the admin API is off; the token
//    stays in sessionStorage only; the recent requests table fits the panel at 1200 px and scrolls inside it (in
//    view) at 360 px; axe-core; screenshots app-dashboard-{light,dark,360}.png.
// 2. Against a FAKE admin API (support/fake-admin.mjs: the documented contract over made-up records) holding a
//    week of history, which a test edge cannot have: the same checks on the 7-day and 24-hour views with several
//    buckets, gaps and models; screenshots app-dashboard-week-{light,dark,360}.png.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startStatic, launch, shot, startRealBackend } from './support/stack.mjs';
import { axeCheck, eventually } from './support/app.mjs';
import { startFakeAdmin, makeRecords } from './support/fake-admin.mjs';
import { setup, config, SESSION_SECRET } from '../edge/common.mjs';
import { waitForRecords } from '../usage/helpers.mjs';

const TOKEN = 'admin-test-token-0000';
let browser, page;
/** The admin calls the page made (path and query), and every path it fetched. */
let adminCalls = [];
const fetched = [];

before(async () => {
  browser = await launch();
  page = browser.page;
  page.on('request', (r) => {
    const u = new URL(r.url());
    fetched.push(u.pathname);
    if (u.pathname.startsWith('/api/admin/')) adminCalls.push(u.pathname + u.search);
  });
});
after(async () => {
  await browser?.close();
});

// The app's number formats (www/app/src/format.rs, usage/chart.rs).
const count = (n) => n.toLocaleString('en-US');
const cost = (c) => {
  if (c <= 0) return '$0';
  const places = c < 0.0001 ? 6 : 4;
  return `$${(Math.floor(c * 10 ** places + 0.5) / 10 ** places).toFixed(places)}`;
};
const pct = (share) => {
  const tenths = Math.round(Math.min(Math.max(share, 0), 1) * 1000);
  return tenths < 100 && tenths % 10
    ? `${Math.floor(tenths / 10)}.${tenths % 10}%`
    : `${Math.floor((tenths + 5) / 10)}%`;
};
const reEscape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const kpi = (id) => page.locator(`.kpi-${id} dd`).innerText();
const tableIds = () => page.locator('.requests-table tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.id));
const sameIds = async (list) => JSON.stringify(await tableIds()) === JSON.stringify(list.map((r) => r.id));
/** The last usage request the page made with this `group_by`. */
const lastUsageCall = (groupBy) =>
  adminCalls.filter((c) => c.startsWith('/api/admin/usage') && c.endsWith(`group_by=${groupBy}`)).at(-1);
const tokenKept = () => page.evaluate(() => sessionStorage.getItem('edgechat-app:admin-token'));

/** The recent requests table is not cut off at the current width: every column ends inside the region the table
 * is shown in, or that region scrolls (it is a labelled, focusable scroll container, no taller than the window,
 * so its horizontal scrollbar is in view with its header row). Returns how it fits: 'fits' or 'scrolls'. */
async function tableNotCutOff(what) {
  const r = await page.evaluate(() => {
    const wrap = document.querySelector('.recent .table-wrap');
    const box = wrap.getBoundingClientRect();
    const style = getComputedStyle(wrap);
    const ths = [...wrap.querySelectorAll('thead th')].map((th) => th.getBoundingClientRect());
    return {
      // The region's inner right edge (inside its border), or the screen's where that is nearer.
      right: Math.min(
        box.left + wrap.clientLeft + wrap.clientWidth,
        document.querySelector('.usage-screen').getBoundingClientRect().right,
      ),
      edges: ths.map((b) => b.right),
      scrollsX: wrap.scrollWidth > wrap.clientWidth && /auto|scroll/.test(style.overflowX),
      height: box.height,
      window: innerHeight,
      focusable: wrap.tabIndex === 0,
      label: wrap.getAttribute('aria-label'),
      role: wrap.getAttribute('role'),
    };
  });
  assert.equal(r.edges.length, 12, `${what}: twelve columns`);
  if (r.edges.every((e) => e <= r.right + 0.5)) return 'fits';
  assert.ok(
    r.scrollsX,
    `${what}: columns end at ${r.edges.map(Math.round)} beyond ${Math.round(r.right)} and it does not scroll`,
  );
  assert.ok(
    r.height <= r.window,
    `${what}: the table scrolls sideways but its region is ${Math.round(r.height)} px tall in a ${r.window} px window (its scrollbar is out of view)`,
  );
  assert.ok(r.focusable && r.role === 'region' && r.label, `${what}: the scrolling region is focusable and labelled`);
  return 'scrolls';
}

/** A screenshot of the whole Usage screen at `width` (the screen scrolls inside the page: the viewport is made as
 * tall as its content for the shot, then put back). */
async function screenShot(name, width) {
  const viewport = page.viewportSize();
  await page.setViewportSize({ width, height: 800 });
  const height = await page.evaluate(() => {
    const screen = document.querySelector('.usage-screen');
    screen.scrollTop = 0;
    return screen.scrollHeight;
  });
  await page.setViewportSize({ width, height: Math.min(height + 4, 6000) });
  await shot(page, name);
  await page.setViewportSize(viewport);
}

async function signIn(token) {
  await page.locator('#admin-token').fill(token);
  await page.locator('.token-form button[type=submit]').click();
}

/** Waits until the dashboard shows its answers (the status line says when it was updated). */
async function loaded() {
  await page.locator('.kpi-requests').waitFor({ timeout: 20000 });
  await eventually(async () => /^Updated /.test(await page.locator('.dash-status').innerText()), {
    what: 'dashboard loaded',
    timeout: 20000,
  });
}

/** Compares what the dashboard shows with the API's answers (`api`) to the calls the page made. */
async function checkFigures(api, step) {
  const byModel = await api(lastUsageCall(`${step},model`));
  const byTime = await api(lastUsageCall(step));
  const sites = await api(lastUsageCall('site_key'));
  const subjects = await api(lastUsageCall('subject'));
  const t = byModel.totals;
  assert.ok(t.requests > 0, 'the range has requests');
  assert.equal(byTime.totals.requests, t.requests);
  assert.equal(await kpi('requests'), count(t.requests));
  assert.equal(await kpi('tokens'), `${count(t.input_tokens)} / ${count(t.output_tokens)}`);
  assert.equal(await kpi('cost'), cost(t.cost_usd));
  assert.equal(await kpi('errors'), `${count(t.errors)} (${pct(t.errors / t.requests)})`);
  assert.equal(await kpi('cache'), pct(t.cached / t.requests));

  // The requests chart: its legend lists each model with its requests (most first), its summary the total.
  const perModel = {};
  for (const g of byModel.groups) perModel[g.model] = (perModel[g.model] ?? 0) + g.requests;
  const models = Object.entries(perModel).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const chart = page.locator('.chart').first();
  assert.deepEqual(
    await chart.locator('.legend li').allInnerTexts(),
    models.map(([m, n]) => `${m} ${count(n)} req`),
  );
  const per = step === 'hour' ? 'hour' : 'day';
  assert.match(
    await chart.locator('.chart-body').getAttribute('aria-label'),
    new RegExp(`^Requests per ${per}: ${count(t.requests)} req in all \\(`),
  );
  assert.equal(await chart.locator('svg rect.hit').count(), step === 'hour' ? 24 : 7, 'a column per bucket');
  assert.ok((await chart.locator('svg rect[class^="s"]').count()) >= models.length, 'a bar per model and bucket');
  const costChart = page.locator('.chart', { hasText: 'cost, US$' }).first();
  assert.match(await costChart.locator('.chart-body').getAttribute('aria-label'), new RegExp(`^Cost per ${per}: \\$`));
  const costKeys = await costChart.locator('.legend li').allInnerTexts();
  const costOf = {};
  for (const g of byModel.groups) costOf[g.model] = (costOf[g.model] ?? 0) + g.cost_usd;
  assert.deepEqual(
    costKeys,
    models.map(([m]) => `${m} ${cost(costOf[m])}`),
  );
  const ttfb = page.locator('.chart', { hasText: 'Time to first byte' }).first();
  if (t.ttfb_p50_ms != null) assert.match(await ttfb.locator('.legend').innerText(), /p50 \(median\) \d/);

  // Top site keys and subjects by cost.
  const top = (r, dim, none) =>
    [...r.groups].sort((a, b) => b.cost_usd - a.cost_usd || b.requests - a.requests)[0][dim] ?? none;
  const first = (title) =>
    page.locator('.chart', { hasText: title }).locator('.bar-list li').first().locator('.name').innerText();
  assert.equal(await first('Top site keys by cost'), top(sites, 'site_key', '(no site key)'));
  assert.equal(await first('Top subjects by cost'), top(subjects, 'subject', '(not signed in)'));
  // Outcomes: each with its count.
  const outcomes = await page.locator('.chart', { hasText: 'Outcomes' }).locator('.bar-list li').allInnerTexts();
  for (const [name, n] of Object.entries(t.outcomes).filter(([, n]) => n > 0))
    assert.ok(
      outcomes.some((o) => o.startsWith(name) && o.includes(`${count(n)} req`)),
      `${name} ${n} in ${outcomes}`,
    );
  const b = byModel.budget;
  assert.match(await page.locator('.gauge').first().innerText(), new RegExp(reEscape(cost(b.spent_today_usd))));
  return byModel;
}

/** The dashboard flow on `web` (a static server in front of an admin API answering `api`). */
async function dashboardFlow({ web, api, name, filterModel, step = 'hour', addRequests }) {
  adminCalls = [];
  await page.setViewportSize({ width: 1200, height: 900 });
  // The dashboard is a module of its own: the chat does not load it, the Usage screen does.
  fetched.length = 0;
  await page.goto(`${web.url}/`);
  await page.locator('#composer-input').waitFor({ timeout: 20000 });
  assert.ok(!fetched.some((p) => p.startsWith('/dashboard/')), 'the chat does not load the dashboard');
  await page.locator('.screen-link', { hasText: 'Usage' }).click();
  await page.locator('#admin-token').waitFor({ timeout: 20000 });
  assert.ok(fetched.includes('/dashboard/edgechat-dashboard_bg.wasm'), 'the Usage screen loads it');
  await page.goto(`${web.url}/usage`);
  await page.locator('#usage-title').waitFor({ timeout: 20000 });
  await page.locator('#admin-token').waitFor();
  assert.equal(await page.locator('.kpis').count(), 0, 'nothing before a token');

  // A wrong token: refused, nothing kept.
  await signIn('wrong-token');
  await page.locator('.admin-error').waitFor({ timeout: 20000 });
  assert.match(await page.locator('.admin-error').innerText(), /refused this admin token \(401\)/);
  await page.locator('#admin-token').waitFor();
  assert.equal(await tokenKept(), null);

  await signIn(TOKEN);
  await loaded();
  assert.equal(await page.locator('.admin-error').isVisible(), false, 'the error is gone');
  assert.equal(await tokenKept(), TOKEN);
  assert.ok(
    await page.evaluate((t) => !Object.values(localStorage).some((v) => v.includes(t)), TOKEN),
    'never in localStorage',
  );
  if (step === 'day') {
    await page.locator('.range button', { hasText: '7 d' }).click();
    await eventually(async () => lastUsageCall('day,model') !== undefined, { what: 'a 7-day call' });
    await loaded();
    await eventually(async () => (await page.locator('.chart').first().locator('svg rect.hit').count()) === 7, {
      what: '7 day columns',
    });
  }
  const shown = await checkFigures(api, step);

  // The table: the API's newest 50, then the next page.
  const first = await api('/api/admin/requests?limit=50');
  await eventually(() => sameIds(first.requests), { what: 'the first page' });
  const cells = await page.locator('.requests-table tbody tr').first().locator('td').allInnerTexts();
  const r0 = first.requests[0];
  assert.match(cells[1], new RegExp(reEscape(r0.model)));
  assert.equal(cells[2], r0.site_key ?? '–');
  assert.match(cells[4], new RegExp(`^${r0.outcome}`));
  assert.equal(cells[5], String(r0.status));
  assert.equal(cells[9], count(r0.input_tokens));
  assert.equal(cells[11], cost(r0.cost_usd));
  assert.ok(first.next, 'more than one page');
  await page.locator('.load-more').click();
  const second = await api(`/api/admin/requests?limit=50&before=${encodeURIComponent(first.next)}`);
  await eventually(async () => (await tableIds()).length === 50 + second.requests.length, { what: 'page two' });
  assert.deepEqual(
    (await tableIds()).slice(50),
    second.requests.map((r) => r.id),
  );

  // Filters: model, then the errors of that model; site keys offered are those of the range.
  await page.locator('#filter-model').selectOption(filterModel);
  const byModel = await api(`/api/admin/requests?limit=50&model=${encodeURIComponent(filterModel)}`);
  assert.ok(byModel.requests.length > 0);
  await eventually(() => sameIds(byModel.requests), { what: 'model filter' });
  await page.locator('#filter-outcome').selectOption('error');
  const errors = await api(`/api/admin/requests?limit=50&model=${encodeURIComponent(filterModel)}&outcome=error`);
  assert.ok(errors.requests.length > 0, 'the model has errors');
  await eventually(() => sameIds(errors.requests), { what: 'model and outcome filter' });
  const siteKeys = (await api(lastUsageCall('site_key'))).groups.map((g) => g.site_key).filter(Boolean);
  assert.deepEqual((await page.locator('#filter-site option').allInnerTexts()).slice(1).sort(), [...siteKeys].sort());
  await page.locator('#filter-site').selectOption(siteKeys[0]);
  const bySite = await api(
    `/api/admin/requests?limit=50&model=${encodeURIComponent(filterModel)}&outcome=error&site_key=${siteKeys[0]}`,
  );
  await eventually(() => sameIds(bySite.requests), { what: 'three filters' });
  for (const f of ['#filter-model', '#filter-outcome', '#filter-site']) await page.locator(f).selectOption('');
  await eventually(() => sameIds(first.requests), { what: 'filters cleared' });

  // At 1200 px the twelve columns fit the panel (light and dark: the same layout).
  assert.equal(await tableNotCutOff('1200 px'), 'fits');
  await screenShot(`app-dashboard${name}-light`, 1200);
  await axeCheck(page, `dashboard${name}`);

  // Refresh now: new requests show.
  const before = shown.totals.requests;
  const added = await addRequests();
  await page.locator('.refresh').click();
  await eventually(async () => (await kpi('requests')) === count(before + added), {
    what: 'refreshed total',
    timeout: 10000,
  });
  const newest = await api('/api/admin/requests?limit=50');
  await eventually(() => sameIds(newest.requests), { what: 'refreshed table' });
  await checkFigures(api, step);

  // Dark, and a phone.
  await page.evaluate(() => document.documentElement.setAttribute('data-theme', 'dark'));
  await screenShot(`app-dashboard${name}-dark`, 1200);
  assert.equal(await tableNotCutOff('1200 px, dark'), 'fits');
  await axeCheck(page, `dashboard${name}, dark`);
  await page.evaluate(() => document.documentElement.removeAttribute('data-theme'));
  await page.setViewportSize({ width: 360, height: 780 });
  const overflow = await page.evaluate(() => {
    const c = document.querySelector('.charts');
    return c.scrollWidth - c.clientWidth;
  });
  assert.ok(overflow <= 0, `the charts fit 360 px (overflow ${overflow})`);
  const label = await page.locator('.chart .y-axis span').first().boundingBox();
  assert.ok(label.x >= 0, 'axis labels stay on screen');
  await tableNotCutOff('360 px');
  await screenShot(`app-dashboard${name}-360`, 360);
  await page.setViewportSize({ width: 1200, height: 900 });

  // Sign out: the token is forgotten.
  await page.locator('.sign-out').click();
  await page.locator('#admin-token').waitFor();
  assert.equal(await tokenKept(), null);
  assert.equal(await page.locator('.kpis').count(), 0);
}

describe('against the real edge', () => {
  const SITES = ['pk_docs', 'pk_shop', 'pk_blog'];
  const MODELS = ['fast', 'fast', 'fast', 'smart', 'smart', 'local'];
  let t,
    web,
    sent = 0;

  function session(sub, site) {
    const claims = { sub, exp: Math.floor(Date.now() / 1000) + 600, ...(site ? { site } : {}) };
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `${payload}.${createHmac('sha256', SESSION_SECRET).update(payload).digest('base64url')}`;
  }

  /** Request `i` of the mix: a model, a site key (or none: a session alone), a subject for some, an outcome. */
  async function request(i) {
    const site = [SITES[0], SITES[0], SITES[1], SITES[2], null][i % 5];
    const sub = i % 3 === 0 || !site ? `user-${i % 4}` : null;
    const headers = {};
    if (site) headers['x-edgechat-site-key'] = site;
    if (sub) headers.authorization = `Bearer ${session(sub, site)}`;
    let content = `Question ${i} mock:words=${10 + (i % 40)}`;
    if (i % 17 === 5) content = `Refuse ${i} mock:400`;
    else if (i % 23 === 7) content = `Cut ${i} mock:disconnect=3`;
    else if (i % 9 === 4) content = 'The same question again';
    const body = { model: MODELS[i % MODELS.length], messages: [{ role: 'user', content }] };
    if (i % 9 === 4) body.temperature = 0;
    const res = await t.chat(body, headers);
    await res.text();
    sent++;
  }

  async function send(from, n) {
    for (let i = from; i < from + n; i += 10)
      await Promise.all(Array.from({ length: Math.min(10, from + n - i) }, (_, k) => request(i + k)));
  }

  before(async () => {
    t = await setup({
      edgeConfig: config({
        site_keys: Object.fromEntries(SITES.map((s) => [s, { origins: ['*'], allow_no_origin: true }])),
        limits: { daily_spend_usd: 5, max_tokens: 200 },
      }),
      vars: { ADMIN_TOKEN: TOKEN },
    });
    await send(0, 300);
    await waitForRecords(t.edge, sent, 20000);
    web = await startStatic({ edgeUrl: () => t.edge.url });
  });
  after(async () => {
    await web?.stop();
    await t?.stop();
  });

  async function api(path) {
    const res = await fetch(`${t.edge.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.status, 200, `${path}: ${res.status} ${await res.clone().text()}`);
    return res.json();
  }

  test("a few hundred requests: the figures shown are the API's; filters, load more, refresh, sign out", async () => {
    const totals = (await api('/api/admin/usage?group_by=outcome')).totals;
    assert.equal(totals.requests, 300);
    for (const o of ['complete', 'error', 'truncated']) assert.ok(totals.outcomes[o] > 0, `some ${o}`);
    assert.ok(totals.cached > 0, 'some cache hits');
    await dashboardFlow({
      web,
      api,
      name: '',
      filterModel: 'claude-sonnet-4-5',
      addRequests: async () => {
        const before = sent;
        await send(1000, 3);
        await waitForRecords(t.edge, sent, 10000);
        return sent - before;
      },
    });
  });

  test('an edge without ADMIN_TOKEN: the admin API is not enabled', async () => {
    const plain = await startRealBackend();
    const other = await startStatic({ edgeUrl: () => plain.url });
    try {
      await page.goto(`${other.url}/usage`);
      await signIn('any-token');
      await page.locator('.admin-error').waitFor({ timeout: 20000 });
      assert.match(await page.locator('.admin-error').innerText(), /admin API is not enabled on this edge \(404\)/);
      assert.equal(await tokenKept(), null);
      await page.locator('#admin-token').waitFor();
    } finally {
      await other.stop();
      await plain.stop();
    }
  });
});

describe('against a FAKE admin API with a week of history', () => {
  let fake, web;
  before(async () => {
    fake = await startFakeAdmin({ token: TOKEN, records: makeRecords({ n: 320, days: 7 }) });
    web = await startStatic({ edgeUrl: () => fake.url });
  });
  after(async () => {
    await web?.stop();
    await fake?.stop();
  });

  async function api(path) {
    const res = await fetch(`${fake.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.status, 200, `${path}: ${res.status}`);
    return res.json();
  }

  test('seven days by day: the same figures, several buckets and models', async () => {
    await dashboardFlow({
      web,
      api,
      name: '-week',
      filterModel: 'smart',
      step: 'day',
      addRequests: async () => {
        const [r] = makeRecords({ n: 1 });
        fake.state.records.unshift({ ...r, id: 'req-new', time: Date.now() - 1000 });
        return 1;
      },
    });
  });
});
