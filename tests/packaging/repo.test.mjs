// The repository's packaging and habits, checked from the files themselves (node and cargo only, no install):
// licences, crate metadata, the Workers build settings, the npm package's manifest and types against the element
// they describe, the formatter and linter settings the lint suite runs, and the reasons next to old pins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { workerBuild, workerCompat } from '../support/wrangler.mjs';

const root = join(import.meta.dirname, '..', '..');
const read = (p) => readFileSync(join(root, p), 'utf8');
const json = (p) => JSON.parse(read(p));
const metadata = JSON.parse(
  execFileSync('cargo', ['metadata', '--format-version', '1', '--no-deps', '--locked'], {
    cwd: root,
    encoding: 'utf8',
  }),
);
const crate = (name) => metadata.packages.find((p) => p.name === name);

test('licence files: LICENSE-MIT and LICENSE-APACHE at the root and in each published crate', () => {
  assert.match(read('LICENSE-MIT'), /^MIT License/);
  assert.match(read('LICENSE-APACHE'), /Apache License\s+Version 2\.0, January 2004/);
  for (const dir of ['www']) {
    assert.equal(read(`${dir}/LICENSE-MIT`), read('LICENSE-MIT'), `${dir}/LICENSE-MIT`);
    assert.equal(read(`${dir}/LICENSE-APACHE`), read('LICENSE-APACHE'), `${dir}/LICENSE-APACHE`);
  }
});

test('crates: metadata for crates.io, versions on path dependencies, workspace lints, publish = false for the edge', () => {
  for (const name of ['edgechat', 'edgechat-www']) {
    const p = crate(name);
    assert.equal(p.license, 'MIT OR Apache-2.0', name);
    assert.ok(p.repository?.startsWith('https://'), `${name} repository`);
    assert.ok(p.rust_version, `${name} rust-version`);
    assert.ok(p.description, `${name} description`);
    assert.ok(p.keywords.length > 0 && p.keywords.length <= 5, `${name} keywords (1-5)`);
    assert.ok(p.categories.length > 0, `${name} categories`);
    assert.equal(p.readme, 'README.md', `${name} readme`);
    assert.equal(p.publish, null, `${name} is publishable`);
  }
  assert.deepEqual(crate('edgechat-worker').publish, [], 'edgechat-worker: publish = false');
  for (const p of metadata.packages) {
    for (const d of p.dependencies) {
      if (d.path && d.kind !== 'dev')
        assert.notEqual(d.req, '*', `${p.name} -> ${d.name}: a path dependency needs a version`);
    }
    const manifest = readFileSync(p.manifest_path, 'utf8');
    assert.match(manifest, /^\[lints\]\nworkspace = true$/m, `${p.name} opts into [workspace.lints]`);
  }
  assert.match(read('Cargo.toml'), /^\[workspace\.lints\.(rust|clippy)\]$/m);
});

test('rust-toolchain.toml pins an exact compiler with clippy, rustfmt and the wasm target', () => {
  const t = read('rust-toolchain.toml');
  assert.match(t, /^channel = "\d+\.\d+\.\d+"$/m, 'an exact release, not "stable"');
  assert.match(t, /components = \[.*"clippy".*"rustfmt".*\]/);
  assert.match(t, /targets = \[.*"wasm32-unknown-unknown".*\]/);
});

test('formatting and linting: rustfmt at 120 columns, biome for the JS, both checked in the lint suite', () => {
  assert.match(read('rustfmt.toml'), /^max_width = 120$/m);
  const biome = read('biome.jsonc');
  assert.match(biome, /"lineWidth": 120/);
  const pkg = json('package.json');
  assert.ok(pkg.devDependencies['@biomejs/biome'], 'biome is a dev dependency');
  const lint = read('scripts/test.sh')
    .split('\n')
    .find((l) => l.trim().startsWith('"lint|'));
  assert.ok(lint, 'a lint suite');
  assert.match(lint, /cargo fmt --all --check/);
  assert.match(lint, /biome ci/);
  assert.match(lint, /cargo clippy .*-D warnings/);
});

test('test.sh: every suite names needs that setup.sh knows, and core needs nothing', () => {
  const script = read('scripts/test.sh');
  const known = /known_needs=" ([^"]+) "/.exec(script)[1].split(' ');
  const setup = read('scripts/setup.sh');
  const cases = setup.slice(setup.indexOf('add() {'), setup.indexOf('add "$@"'));
  for (const n of known) assert.match(cases, new RegExp(`\\b${n}\\b`), `setup.sh knows the need ${n}`);
  const block = script.slice(script.indexOf('suites=('), script.indexOf('\n)\n'));
  const suites = [...block.matchAll(/^\s+"([^|"]+)\|([^|"]*)\|/gm)].map((m) => [m[1], m[2].split(' ').filter(Boolean)]);
  assert.ok(suites.length >= 10, `parsed ${suites.length} suites`);
  for (const [name, needs] of suites) for (const n of needs) assert.ok(known.includes(n), `${name}: unknown need ${n}`);
  assert.deepEqual(Object.fromEntries(suites).core, [], 'core needs only cargo');
  // tests/README.md lists every suite.
  const readme = read('tests/README.md');
  for (const [name] of suites) assert.match(readme, new RegExp(`\\| \`${name}\` \\|`), `tests/README.md lists ${name}`);
});

test("workers: wrangler.toml builds before dev/deploy, and its date is the pinned workerd's", () => {
  const build = workerBuild();
  assert.ok(build, 'a [build] table');
  assert.match(build.command, /build\.sh/);
  assert.ok(existsSync(join(root, 'worker', 'build.sh')));
  assert.deepEqual(build.watch_dir, ['src', '../src']);
  const lock = json('package-lock.json');
  const workerd = lock.packages['node_modules/workerd'].version; // 1.YYYYMMDD.N
  const d = /^1\.(\d{4})(\d{2})(\d{2})\./.exec(workerd);
  assert.equal(workerCompat().compatibilityDate, `${d[1]}-${d[2]}-${d[3]}`, `workerd ${workerd}`);
  // esbuild is declared where it is used (www/scripts/post-build.sh), at the version wrangler pins (one copy).
  assert.match(read('www/scripts/post-build.sh'), /esbuild/);
  const esbuild = json('package.json').devDependencies.esbuild;
  assert.equal(esbuild, lock.packages['node_modules/wrangler'].dependencies.esbuild);
  assert.equal(lock.packages['node_modules/esbuild'].version, esbuild);
});

// --- the npm package ------------------------------------------------------------------------------------------------
const pkgDir = 'packages/edge-chat';
const loader = read('www/loader/edge-chat.js');
const manifest = json(`${pkgDir}/custom-elements.json`);
const element = manifest.modules[0].declarations.find((d) => d.tagName === 'edge-chat');
const types = read(`${pkgDir}/edge-chat.d.ts`);

test('npm package: package.json exports, files and metadata', () => {
  const pkg = json(`${pkgDir}/package.json`);
  assert.equal(pkg.private, undefined, 'publishable');
  assert.equal(pkg.license, 'MIT OR Apache-2.0');
  assert.equal(pkg.type, 'module');
  assert.equal(pkg.exports['.'].default, './dist/edge-chat.js');
  assert.equal(pkg.exports['.'].types, './edge-chat.d.ts');
  assert.equal(pkg.customElements, 'custom-elements.json');
  for (const f of ['dist/', 'edge-chat.d.ts', 'custom-elements.json', 'README.md', 'LICENSE-MIT', 'LICENSE-APACHE']) {
    assert.ok(pkg.files.includes(f), `files has ${f}`);
  }
  assert.equal(pkg.version, crate('edgechat-www').version, 'the same version as the widget crate');
});

test('npm package: custom-elements.json and the .d.ts describe the element the loader defines', () => {
  const list = /observedAttributes = (\[[^\]]*\])/
    .exec(loader)[1]
    .replaceAll("'", '"')
    .replace(/,\s*\]$/, ']');
  const observed = JSON.parse(list);
  // Attributes the stylesheet reads (`:host([position=…])`) take effect without the loader observing them.
  const css = read('www/style/edgechat.css');
  const styled = [...css.matchAll(/:host\(\[([\w-]+)[=\]]/g)].map((m) => m[1]).filter((n) => !observed.includes(n));
  assert.deepEqual(element.attributes.map((a) => a.name).sort(), [...new Set([...observed, ...styled])].sort());
  for (const a of element.attributes.filter((x) => styled.includes(x.name))) {
    assert.match(types, new RegExp(`Attribute \`${a.name}\``), `.d.ts documents attribute ${a.name}`);
  }
  for (const a of element.attributes.filter((x) => observed.includes(x.name))) {
    assert.match(types, new RegExp(`Attribute \`${a.name}\``), `.d.ts documents attribute ${a.name}`);
    if (a.fieldName)
      assert.match(types, new RegExp(`^\\s+${a.fieldName}: `, 'm'), `.d.ts declares property ${a.fieldName}`);
  }
  const fields = element.members.filter((m) => m.kind === 'field').map((m) => m.name);
  const getters = [...loader.matchAll(/^\s+get (\w+)\(\)/gm)].map((m) => m[1]);
  assert.deepEqual(fields.sort(), getters.sort(), "the manifest lists the loader's properties");
  for (const m of element.members.filter((x) => x.kind === 'method')) {
    assert.match(loader, new RegExp(`^\\s+${m.name}\\(`, 'm'), `loader has ${m.name}`);
    assert.match(types, new RegExp(`^\\s+${m.name}\\(`, 'm'), `.d.ts declares ${m.name}`);
  }
  // Events: the widget dispatches them (www/src/widget/host.rs) as `edgechat:<name>`; the manifest and the .d.ts list
  // exactly those.
  const host = read('www/src/widget/host.rs');
  const dispatched = [...host.matchAll(/(?:=> \(|^\s+\(?)"([\w-]+)",/gm)].map((m) => `edgechat:${m[1]}`);
  assert.ok(
    host.includes('.set("composed", true)') && host.includes('.set("bubbles", true)'),
    'composed, bubbling events',
  );
  assert.deepEqual(element.events.map((e) => e.name).sort(), [...dispatched].sort());
  assert.deepEqual(dispatched.sort(), ['edgechat:error', 'edgechat:message', 'edgechat:tool-call', 'edgechat:usage']);
  for (const e of dispatched) assert.match(types, new RegExp(`'${e}': CustomEvent<`), `.d.ts declares ${e}`);
  assert.doesNotMatch(loader, /dispatchEvent/, 'the loader dispatches none of its own (else list them)');
  assert.match(types, /'edge-chat': EdgeChatElement/, 'HTMLElementTagNameMap');
});

test("npm package: the .d.ts and the READMEs list exactly the widget's strings keys", () => {
  const rust = read('www/src/widget/strings.rs');
  const keys = [...rust.matchAll(/^\s+[A-Z]\w* "(\w+)" "/gm)].map((m) => m[1]);
  assert.ok(keys.length > 40, `${keys.length} keys`);
  const block = /export interface EdgeChatStrings \{([\s\S]*?)\n\}/.exec(types)[1];
  assert.deepEqual(
    [...block.matchAll(/^\s+(\w+)\?: string;/gm)].map((m) => m[1]),
    keys,
  );
  const docs = read('www/README.md');
  for (const k of keys) assert.ok(docs.includes(`| \`${k}\` |`), `www/README.md lists strings key ${k}`);
});

test('npm package: the manifest lists exactly the custom properties the stylesheet reads from the page', () => {
  const css = read('www/style/edgechat.css').replace(/\/\*[\s\S]*?\*\//g, ''); // without comments
  const defined = new Set([...css.matchAll(/(--ec-[\w-]+)\s*:/g)].map((m) => m[1])); // set inside: not for the page
  const read_ = new Set([...css.matchAll(/var\((--ec-[\w-]+)/g)].map((m) => m[1]).filter((n) => !defined.has(n)));
  assert.deepEqual(element.cssProperties.map((p) => p.name).sort(), [...read_].sort());
  const readme = read(`${pkgDir}/README.md`);
  for (const p of read_) assert.ok(readme.includes(`\`${p}\``), `README lists ${p}`);
});

test("old pins say why: the JS pins behind the registry's newest, the crates kept back", () => {
  const notes = json('package.json')['//'];
  for (const name of ['openai', '@anthropic-ai/sdk', 'wrangler', 'esbuild', 'eventsource-parser']) {
    assert.ok(notes?.[name], `package.json "//" says why ${name} is pinned where it is`);
  }
  const worker = read('worker/Cargo.toml');
  const hmac = worker.split('\n').findIndex((l) => l.startsWith('hmac = '));
  if (!/^hmac = "0\.1[3-9]/.test(worker.split('\n')[hmac])) {
    assert.match(worker.split('\n')[hmac - 1] ?? '', /^#/, 'a comment above an old hmac pin');
  }
  assert.match(read('Cargo.toml'), /criterion = \{ version = "0\.8"/);
});

test('no copy of an SSE reader in the suites this change owns: they read through tests/support/sse.mjs', () => {
  for (const dir of ['tests/upstream', 'tests/local-model', 'tests/packaging']) {
    for (const f of readdirSync(join(root, dir)).filter((x) => x.endsWith('.mjs') && x !== 'repo.test.mjs')) {
      const src = read(`${dir}/${f}`);
      assert.doesNotMatch(src, /function parseSse|split\(['"]data: ['"]\)/, `${dir}/${f}`);
    }
  }
});
