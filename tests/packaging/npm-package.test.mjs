// The npm package as a web developer uses it: `npm pack` packages/edge-chat (from the release dist/), install the
// tarball into a fresh project, type-check a page against its declarations, bundle the page with Vite (from the
// npm registry, a root dev dependency), serve the build and chat through the real edge in workerd in headless
// Chromium. Needs dist/: run through tests/browser/run.sh, which builds it when stale.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { browserEdgeVars, launch, shot, startEdge, startUpstream } from '../support/index.mjs';

const root = join(import.meta.dirname, '..', '..');
const pkgDir = join(root, 'packages', 'edge-chat');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const tmp = mkdtempSync(join(tmpdir(), 'edgechat-npm-'));
const project = join(tmp, 'site');
let packed;
let up;
let edge;
let server;
let browser;

before(async () => {
  // npm pack runs the package's prepack (copies the widget from dist/) and reports what went in.
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: pkgDir, encoding: 'utf8' });
  packed = JSON.parse(out.slice(out.indexOf('[')))[0];
});

after(async () => {
  await browser?.close();
  await server?.close();
  await edge?.stop();
  await up?.close();
  rmSync(tmp, { recursive: true, force: true });
});

test('npm pack: the tarball holds the release widget, the byok variant, types, manifest, README and licences', () => {
  const files = packed.files.map((f) => f.path).sort();
  for (const f of [
    'package.json',
    'README.md',
    'LICENSE-MIT',
    'LICENSE-APACHE',
    'custom-elements.json',
    'edge-chat.d.ts',
    'dist/edge-chat.js',
    'dist/edgechat-www.js',
    'dist/edgechat-www_bg.wasm',
    'dist/edgechat.css',
    'dist/byok/edgechat-www.js',
    'dist/byok/edgechat-www_bg.wasm',
    'dist/ec-highlight.js',
    'dist/byok/ec-highlight.js',
  ]) {
    assert.ok(files.includes(f), `tarball has ${f}: ${files.join(', ')}`);
  }
  // The glue's snippet, which loads the code highlighter on first use.
  for (const dir of ['dist', 'dist/byok'])
    assert.ok(
      files.some((f) => new RegExp(`^${dir}/snippets/edgechat-www-[^/]+/inline0\\.js$`).test(f)),
      `${dir} has the glue's snippet: ${files.join(', ')}`,
    );
  assert.ok(
    !files.some((f) => f.includes('index.html') || f.startsWith('dist/examples') || f === 'prepack.mjs'),
    files.join(', '),
  );
  console.log(
    `# ${packed.filename}: ${packed.files.length} files, ${packed.size} bytes packed, ${packed.unpackedSize} unpacked`,
  );
});

test("a fresh project installs the tarball and its TypeScript sees the element's types", () => {
  execFileSync('mkdir', ['-p', join(project, 'src')]);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'site', private: true, type: 'module' }, null, 2),
  );
  // The package has no dependencies: installing the tarball needs no registry.
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', join(tmp, packed.filename)], {
    cwd: project,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  writeFileSync(
    join(project, 'index.html'),
    `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>A site built with Vite</title></head>
<body>
  <h1>Support</h1>
  <script type="module" src="/src/main.ts"></script>
</body>
</html>
`,
  );
  // The page sets the element up through its typed properties; the edge URL comes in the query string.
  writeFileSync(
    join(project, 'src', 'main.ts'),
    `import 'edge-chat';
import type { EdgeChatAttributes, EdgeChatElement, EdgeChatTool, EdgeChatUsageDetail } from 'edge-chat';

const chat: EdgeChatElement = document.createElement('edge-chat');
chat.endpoint = new URLSearchParams(location.search).get('edge') ?? '';
chat.siteKey = '';
chat.mode = 'inline';
chat.title = 'Vite page';
chat.sessionToken = null;
// @ts-expect-error: mode is 'inline' | 'bubble'
chat.mode = 'sideways';
chat.mode = 'inline';
const found: EdgeChatElement | null = document.querySelector('edge-chat');
const props: EdgeChatAttributes = { 'site-key': 'pk_x', byok: true, greeting: 'Hi', suggestions: 'a|b', dir: 'rtl' };
console.log(found, props);
// The rest of the element's API: texts, client tools, methods, events (typed on the element and on the document).
chat.greeting = 'Hello! Ask about your order.';
chat.suggestions = ['Where is my order?'];
chat.strings = { send: 'Envoyer', tooLong: 'Trop long ({n})' };
// @ts-expect-error: only known strings keys
chat.strings = { sned: 'x' };
chat.strings = {};
const lookup: EdgeChatTool = {
  name: 'lookup_order',
  parameters: { type: 'object', properties: { number: { type: 'string' } } },
  run: async (args) => ({ number: args.number, status: 'shipped' }),
  confirm: false,
  timeout_ms: 5000,
};
// @ts-expect-error: parameters is an object schema
const bad: EdgeChatTool = { name: 'x', parameters: { type: 'string' }, run: () => 1 };
console.log(bad);
// Typed, not run here (this edge allows no client tools; tests/browser/tools.test.mjs runs them).
function withTools(c: EdgeChatElement): boolean {
  c.tools = [lookup];
  c.toolTimeout = 10000;
  const sent: boolean = c.send('Hi');
  c.clear();
  c.open();
  c.close();
  return sent;
}
console.log(withTools);
chat.addEventListener('edgechat:usage', (e) => {
  const u: EdgeChatUsageDetail = e.detail;
  console.log(u.total.output_tokens, u.steps);
});
document.addEventListener('edgechat:tool-call', (e) => console.log(e.detail.name, e.detail.is_error));
document.addEventListener('edgechat:message', (e) => {
  (window as unknown as { heard: string[] }).heard.push(\`\${e.detail.role}:\${e.detail.status}\`);
});
(window as unknown as { heard: string[] }).heard = [];
document.body.append(chat);
`,
  );
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'ESNext',
        moduleResolution: 'bundler',
        lib: ['ES2022', 'DOM'],
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        types: [],
      },
      include: ['src'],
    }),
  );
  execFileSync(bin('tsc'), ['-p', project], { cwd: project, stdio: 'inherit' });
});

test('Vite bundles the page: the wasm, glue and stylesheet are copied into the build', async () => {
  const { build } = await import('vite');
  await build({ root: project, configFile: false, logLevel: 'warn', build: { outDir: join(project, 'dist') } });
  const assets = readdirSync(join(project, 'dist', 'assets'));
  const wasm = assets.filter((f) => f.endsWith('.wasm'));
  assert.equal(wasm.length, 2, `the default and the byok wasm: ${assets.join(', ')}`);
  assert.ok(
    assets.some((f) => f.endsWith('.css')),
    `the stylesheet: ${assets.join(', ')}`,
  );
  const html = readFileSync(join(project, 'dist', 'index.html'), 'utf8');
  assert.match(html, /assets\/[\w.-]+\.js/);
});

test('the bundled page chats through the real edge in Chromium: the widget streams an answer', async () => {
  const { preview } = await import('vite');
  up = await startUpstream({ port: 0, delayMs: 3 });
  edge = await startEdge({ vars: browserEdgeVars(up.url) });
  server = await preview({
    root: project,
    configFile: false,
    logLevel: 'warn',
    build: { outDir: join(project, 'dist') },
    preview: { host: '127.0.0.1', port: 0, strictPort: false },
  });
  const site = server.resolvedUrls.local[0].replace(/\/$/, '');
  browser = await launch();
  const { page } = browser;
  const loaded = [];
  page.on('requestfinished', (r) => loaded.push(new URL(r.url()).pathname));
  await page.goto(`${site}/?edge=${encodeURIComponent(edge.url)}`);
  const chat = page.locator('edge-chat');
  await chat.locator('.ec-input').waitFor({ timeout: 15000 });
  assert.ok(
    loaded.some((p) => /^\/assets\/.*\.wasm$/.test(p)),
    `the wasm came from the build: ${loaded.join(' ')}`,
  );
  assert.ok(!loaded.some((p) => p.includes('byok')), 'no byok download without the attribute');
  await chat.locator('.ec-input').fill('Hello from a Vite bundle');
  await chat.locator('.ec-input').press('Enter');
  const answer = chat.locator('.ec-assistant').last();
  await page.waitForFunction(
    () => document.querySelector('edge-chat')?.shadowRoot?.querySelector('.ec-assistant')?.dataset.status === 'done',
    null,
    { timeout: 15000 },
  );
  assert.match(await answer.locator('.ec-md').innerText(), /Mock answer to: Hello from a Vite bundle/);
  // The page's listener on `document` heard the composed events; the replaced text shows.
  assert.deepEqual(await page.evaluate(() => window.heard), ['user:done', 'assistant:done']);
  assert.equal(await chat.locator('.ec-send').innerText(), 'Send', 'strings were reset to {}');
  assert.deepEqual(browser.consoleErrors, []);
  await shot(page, 'npm-package-vite');
  const sent = up.requests().filter((r) => /chat\/completions$/.test(r.path));
  assert.equal(sent.length, 1, 'one provider request, through the edge');
});
