#!/usr/bin/env node
// Widget and app benchmark (not a timed test). Prints:
//  1. total compressed transfer size of everything the widget loads (loader JS, wasm-bindgen JS glue, wasm, CSS),
//     gzip -9 and brotli q11, next to the deep-chat 2.4.2 npm bundle measured the same way in the same run;
//     and of everything the app (dist/index.html) loads before its first message, as Chromium requested it
//     (budget 200 KB brotli);
//  2. main-thread time to stream a 20,000-token markdown answer through the renderer in headless Chromium, and the
//     ratio of the last 1,000 tokens' time to the first 1,000's;
//  3. the same answer through the whole widget over SSE (whole.mjs), per 1,000 tokens; and through the app.
// Usage: node bench/widget/run.mjs   (needs dist/ from `trunk build --release`; tests/browser/run.sh builds it)
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { startStatic, launch, DIST, ROOT } from '../../tests/browser/support/stack.mjs';
import { tokens as makeTokens } from './tokens.mjs';
import { wholeWidget, wholeApp } from './whole.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const KB = (n) => `${(n / 1024).toFixed(1)} KB`;
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
/** Last/first 1,000 tokens, and the same with the median of the first and last three blocks (steadier on a busy
 * machine, where one block can take twice another for reasons outside the page). */
const ratios = (b) =>
  `ratio last/first ${(b.at(-1) / b[0]).toFixed(2)} (target <= 1.2); median of the last 3 / first 3 blocks ${(median(b.slice(-3)) / median(b.slice(0, 3))).toFixed(2)}`;

function sizes(files) {
  let raw = 0,
    gz = 0,
    br = 0;
  const rows = files.map((f) => {
    const data = fs.readFileSync(f);
    const g = zlib.gzipSync(data, { level: 9 }).length;
    const b = zlib.brotliCompressSync(data, {
      params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length },
    }).length;
    raw += data.length;
    gz += g;
    br += b;
    return { file: path.relative(ROOT, f), raw: data.length, gzip: g, brotli: b };
  });
  return { rows, raw, gz, br };
}

function printSizes(title, s) {
  console.log(`\n${title}`);
  for (const r of s.rows)
    console.log(
      `  ${r.file.padEnd(48)} raw ${KB(r.raw).padStart(9)}  gzip ${KB(r.gzip).padStart(8)}  brotli ${KB(r.brotli).padStart(8)}`,
    );
  console.log(
    `  ${'total'.padEnd(48)} raw ${KB(s.raw).padStart(9)}  gzip ${KB(s.gz).padStart(8)}  brotli ${KB(s.br).padStart(8)}`,
  );
}

const widgetFiles = ['edge-chat.js', 'edgechat-www.js', 'edgechat-www_bg.wasm', 'edgechat.css'].map((f) =>
  path.join(DIST, f),
);
// The wasm-bindgen snippets the glue imports statically (the code highlighter's and the attach module's one-line
// loaders), each counted once.
const glue = fs.existsSync(widgetFiles[1]) ? fs.readFileSync(widgetFiles[1], 'utf8') : '';
for (const f of new Set([...glue.matchAll(/["']\.\/(snippets\/[^"']+\.js)["']/g)].map((m) => m[1])))
  widgetFiles.push(path.join(DIST, f));
for (const f of widgetFiles)
  if (!fs.existsSync(f)) throw new Error(`missing ${f}: build dist/ first (tests/browser/run.sh)`);
const deepChat = path.join(ROOT, 'node_modules/deep-chat/dist/deepChat.bundle.js');
const deepChatVersion = JSON.parse(
  fs.readFileSync(path.join(ROOT, 'node_modules/deep-chat/package.json'), 'utf8'),
).version;
const ours = sizes(widgetFiles);
const theirs = sizes([deepChat]);
printSizes('edgechat widget (everything it loads)', ours);
// Loaded only when a file is first attached (www/attach/edgechat-attach.js: read, downscale).
printSizes('edgechat widget: the attach module (loaded on first use)', sizes([path.join(DIST, 'edgechat-attach.js')]));
printSizes(`deep-chat ${deepChatVersion} (dist bundle)`, theirs);
if (fs.existsSync(path.join(DIST, 'ec-highlight.js')))
  printSizes(
    'loaded on the first code block with a language (not counted above)',
    sizes([path.join(DIST, 'ec-highlight.js')]),
  );
console.log(
  `\n  brotli: edgechat ${KB(ours.br)} vs deep-chat ${KB(theirs.br)} (edgechat/deep-chat = ${(ours.br / theirs.br).toFixed(2)}); target <= 80 KB: ${ours.br <= 80 * 1024 ? 'met' : 'NOT met'}`,
);

/** The files the app's page loads until it can take a first message (the composer is there and the config came). */
async function appFiles(browser, web) {
  const page = await browser.context.newPage();
  const files = new Set();
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.origin === web.url && !u.pathname.startsWith('/api/'))
      files.add(u.pathname === '/' || !path.extname(u.pathname) ? '/index.html' : u.pathname);
  });
  try {
    await page.goto(web.url);
    await page.locator('#composer-input').waitFor({ timeout: 30000 });
    await page.waitForLoadState('networkidle');
  } finally {
    await page.close();
  }
  return [...files].map((f) => path.join(DIST, f));
}

// Rendering time.
const N = Number(process.env.BENCH_TOKENS ?? 20000);
const toks = makeTokens(N);
const web = await startStatic({ edgeUrl: () => 'http://127.0.0.1:9' });
const browser = await launch();
try {
  const app = sizes(await appFiles(browser, web));
  printSizes('edgechat app (everything dist/index.html loads before the first message)', app);
  console.log(`\n  brotli: app ${KB(app.br)}; budget <= 200 KB: ${app.br <= 200 * 1024 ? 'met' : 'NOT met'}`);

  const page = browser.page;
  await page.route('**/bench/page.html', (route) =>
    route.fulfill({ path: path.join(here, 'page.html'), contentType: 'text/html' }),
  );
  await page.goto(`${web.url}/bench/page.html`);
  await page.waitForFunction(() => window.benchReady === true);
  const r = await page.evaluate((t) => window.runBench(t), toks);
  const sum = (a) => a.reduce((x, y) => x + y, 0);
  const first = sum(r.perToken.slice(0, 1000));
  const last = sum(r.perToken.slice(-1000));
  const total = sum(r.perToken) + r.finish;
  const sorted = [...r.perToken].sort((a, b) => a - b);
  const p = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  console.log(`\nrenderer: ${N} tokens, ${r.chars} chars, ${r.nodes} elements in headless Chromium`);
  console.log(
    `  total main-thread time ${total.toFixed(1)} ms (finish ${r.finish.toFixed(2)} ms); per token p50 ${(p(0.5) * 1000).toFixed(0)} µs, p99 ${(p(0.99) * 1000).toFixed(0)} µs`,
  );
  console.log(
    `  first 1,000 tokens ${first.toFixed(1)} ms, last 1,000 tokens ${last.toFixed(1)} ms, ratio last/first ${(last / first).toFixed(2)} (target <= 1.2)`,
  );
  // The first 1,000 include warm-up (JIT, first style resolution); the second 1,000 are a steadier baseline.
  const second = sum(r.perToken.slice(1000, 2000));
  console.log(`  tokens 1,001-2,000 ${second.toFixed(1)} ms, ratio last/second ${(last / second).toFixed(2)}`);

  // The same answer through the whole widget (network, SSE parser, state, view, renderer, style, layout, paint).
  const parts = await wholeWidget(browser, toks);
  const blocks = parts.map((p) => p[0]);
  const [b1, b2, bl] = [blocks[0], blocks[1], blocks.at(-1)];
  console.log(
    `\nwhole widget: ${N} tokens streamed over SSE from a local edge stand-in, main-thread time per 1,000 tokens`,
  );
  console.log(`  ${blocks.map((b) => b.toFixed(0)).join(' ')} ms (total ${sum(blocks).toFixed(0)} ms)`);
  console.log(`  of which script ${parts.map((p) => p[1].toFixed(0)).join(' ')}`);
  console.log(`           layout ${parts.map((p) => p[2].toFixed(0)).join(' ')}`);
  console.log(`           style ${parts.map((p) => p[3].toFixed(0)).join(' ')}`);
  console.log(
    `  first 1,000 tokens ${b1.toFixed(1)} ms, last 1,000 tokens ${bl.toFixed(1)} ms, ${ratios(blocks)}; last/second ${(bl / b2).toFixed(2)}`,
  );

  // The same answer through the app (its chat view on the same shared model and renderer).
  const appParts = await wholeApp(browser, toks);
  const ab = appParts.map((p) => p[0]);
  console.log(`\napp: ${N} tokens streamed over SSE from a local edge stand-in, main-thread time per 1,000 tokens`);
  console.log(`  ${ab.map((b) => b.toFixed(0)).join(' ')} ms (total ${sum(ab).toFixed(0)} ms)`);
  console.log(`  of which script ${appParts.map((p) => p[1].toFixed(0)).join(' ')}`);
  console.log(`           layout ${appParts.map((p) => p[2].toFixed(0)).join(' ')}`);
  console.log(`           style ${appParts.map((p) => p[3].toFixed(0)).join(' ')}`);
  console.log(
    `  first 1,000 tokens ${ab[0].toFixed(1)} ms, last 1,000 tokens ${ab.at(-1).toFixed(1)} ms, ${ratios(ab)}; last/second ${(ab.at(-1) / ab[1]).toFixed(2)}`,
  );
  const as = appParts.map((p) => p[1]);
  console.log(`  script alone: ${ratios(as)}`);
} finally {
  await browser.close();
  await web.stop();
}
