#!/usr/bin/env node
// The app's release wasm-opt step (called by post-build.sh; Trunk's own is off, index.html's data-wasm-opt="0"):
// removes wasm exports nothing on the page can use, then the code only they reach, optimizes the rest
// (wasm-opt -Oz), then removes the JS glue for them.
//
// Why: leptos always enables server_fn's `browser` feature, which links wasm-streams, whose `#[wasm_bindgen]`
// classes (IntoUnderlyingSource, IntoUnderlyingByteSource, IntoUnderlyingSink) are exported from every Leptos
// wasm. The app (www/app) has no server functions, so nothing constructs them; being exports, neither rustc nor
// wasm-opt may drop them (-0.5 KB brotli of wasm, -0.35 KB of JS; bench/widget/README.md). Removed before wasm-opt
// runs: removing them from the optimized wasm (and optimizing again) makes it compress worse.
//
// How: wasm-metadce (binaryen) with every export as a root except the dropped ones, then wasm-opt; then the
// glue loses the dropped classes and every import function the wasm no longer imports. The result is checked: the
// glue must not mention a dropped export and must still define every import the new wasm has.
//
// Usage: node drop-exports.mjs APP_bg.wasm APP.js   (wasm-bindgen's output, before wasm-opt and terser)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = path.join(here, '../../node_modules/.bin');
// The wasm features the release builds enable (never --all-features: stringref).
const FEATURES = [
  '--enable-mutable-globals',
  '--enable-sign-ext',
  '--enable-nontrapping-float-to-int',
  '--enable-bulk-memory',
  '--enable-multivalue',
  '--enable-reference-types',
];
const DROP = /^(__wbg_)?intounderlying/;

const [wasmPath, jsPath] = process.argv.slice(2);
if (!wasmPath || !jsPath) throw new Error('usage: drop-exports.mjs APP_bg.wasm APP.js');

const before = fs.readFileSync(wasmPath);
const exportsBefore = WebAssembly.Module.exports(new WebAssembly.Module(before)).map((e) => e.name);
const drop = exportsBefore.filter((n) => DROP.test(n));
if (drop.length === 0) console.error('drop-exports: nothing to drop');
const keep = exportsBefore.filter((n) => !DROP.test(n));

// wasm-metadce graph: one root reaching every kept export; dropped exports are nodes nothing reaches.
const graph = [
  { name: 'root', root: true, reaches: keep.map((n) => `keep:${n}`) },
  ...keep.map((n) => ({ name: `keep:${n}`, export: n })),
  ...drop.map((n) => ({ name: `drop:${n}`, export: n })),
];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'edgechat-dce-'));
try {
  const graphPath = path.join(tmp, 'graph.json');
  const dcePath = path.join(tmp, 'dce.wasm');
  const optPath = path.join(tmp, 'opt.wasm');
  fs.writeFileSync(graphPath, JSON.stringify(graph));
  // wasm-metadce lists what it removed on stdout; keep the build log short.
  execFileSync(path.join(bin, 'wasm-metadce'), [...FEATURES, '-f', graphPath, wasmPath, '-o', dcePath], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  // --flatten --rereloop first (binaryen rebuilds the control flow with its Relooper; -0.5 KB brotli, as in the
  // widget's build-embed.sh).
  execFileSync(
    path.join(bin, 'wasm-opt'),
    [
      '--flatten',
      '--rereloop',
      '-Oz',
      '--low-memory-unused',
      '--strip-debug',
      '--strip-producers',
      ...FEATURES,
      dcePath,
      '-o',
      optPath,
    ],
    { stdio: 'inherit' },
  );
  const after = fs.readFileSync(optPath);
  const mod = new WebAssembly.Module(after);
  const exportsAfter = WebAssembly.Module.exports(mod).map((e) => e.name);
  const lost = keep.filter((n) => !exportsAfter.includes(n));
  if (lost.length) throw new Error(`drop-exports: kept exports disappeared: ${lost.join(', ')}`);
  // The glue's own imports (the snippets' functions come from their own modules).
  const imports = new Set(
    WebAssembly.Module.imports(mod)
      .filter((i) => i.module.endsWith('_bg.js'))
      .map((i) => i.name),
  );

  let js = fs.readFileSync(jsPath, 'utf8');
  const classes = new Set();
  // `export class X {` ... `}` at column 0, then wasm-bindgen's optional Symbol.dispose line.
  js = js.replace(
    /^export class (\w+) \{\n[\s\S]*?^\}\n(?:if \(Symbol\.dispose\) \1\.prototype.*\n)?/gm,
    (whole, name) => {
      if (!/^IntoUnderlying/.test(name)) return whole;
      classes.add(name);
      return '';
    },
  );
  js = js.replace(/^const (IntoUnderlying\w+)Finalization = [\s\S]*?\);\n/gm, '');
  // Import functions: `        name: function(args) {` ... `        },` inside __wbg_get_imports' object.
  let pruned = 0;
  js = js.replace(/^ {8}(\w+): function\([^)]*\) \{\n[\s\S]*?^ {8}\},\n/gm, (whole, name) => {
    if (imports.has(name)) return whole;
    pruned += 1;
    return '';
  });
  const leftover = js.match(/intounderlying\w*/i);
  if (leftover)
    throw new Error(`drop-exports: the glue still mentions ${leftover[0]} (wasm-bindgen's output format changed?)`);
  const missing = [...imports].filter((n) => !js.includes(`${n}:`));
  if (missing.length) throw new Error(`drop-exports: the glue lacks imports ${missing.join(', ')}`);

  fs.writeFileSync(wasmPath, after);
  fs.writeFileSync(jsPath, js);
  console.error(
    `drop-exports: dropped ${drop.length} exports (${[...classes].join(', ')}), ${pruned} unused imports; ` +
      `wasm ${before.length} -> ${after.length} bytes`,
  );
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
