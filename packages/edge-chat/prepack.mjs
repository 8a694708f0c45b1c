// `npm pack` / `npm publish` run this first: copies the widget from the repo's release build (dist/, made by
// `trunk build --release`, which also builds the bring-your-own-key variant into dist/byok/) and the licence files
// into this package. Only the files the element loads are copied: not the demo page or the examples.
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

const here = import.meta.dirname;
const root = join(here, '..', '..');
const from = process.env.EDGECHAT_DIST ?? join(root, 'dist');
const FILES = [
  'edge-chat.js',
  'edgechat-www.js',
  'edgechat-www_bg.wasm',
  'edgechat.css',
  'ec-highlight.js',
  'edgechat-attach.js',
  'byok/edgechat-www.js',
  'byok/edgechat-www_bg.wasm',
  'byok/ec-highlight.js',
  'byok/edgechat-attach.js',
];

if (!existsSync(join(from, '.release'))) {
  console.error(
    `prepack: ${from} is not a release build (no .release stamp). Run \`trunk build --release\` at the repo root first.`,
  );
  process.exit(1);
}
// The wasm-bindgen snippets each glue file imports (the loaders of the code highlighter and of the attach feature's
// file reader), by the paths it names (their folders are named by a hash).
for (const glue of ['edgechat-www.js', 'byok/edgechat-www.js']) {
  const text = existsSync(join(from, glue)) ? readFileSync(join(from, glue), 'utf8') : '';
  for (const m of text.matchAll(/["']\.\/(snippets\/[^"']+\.js)["']/g)) {
    const f = join(dirname(glue), m[1]);
    if (!FILES.includes(f)) FILES.push(f);
  }
}
const to = join(here, 'dist');
rmSync(to, { recursive: true, force: true });
for (const f of FILES) {
  if (!existsSync(join(from, f))) {
    console.error(`prepack: ${join(from, f)} is missing from the release build`);
    process.exit(1);
  }
  mkdirSync(dirname(join(to, f)), { recursive: true });
  copyFileSync(join(from, f), join(to, f));
}
for (const f of ['LICENSE-MIT', 'LICENSE-APACHE']) copyFileSync(join(root, f), join(here, f));
console.error(`prepack: copied ${FILES.length} files from ${from}`);
