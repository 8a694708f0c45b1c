// `npm pack` / `npm publish` run this first: copies the widget from the repo's release build (dist/, made by
// `trunk build --release`, which also builds the bring-your-own-key variant into dist/byok/) and the licence files
// into this package. Only the files the element loads are copied: not the demo page or the examples.
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

const here = import.meta.dirname;
const root = join(here, '..', '..');
const from = process.env.EDGECHAT_DIST ?? join(root, 'dist');
// The glue's snippets (snippets/edgechat-www-*/inline0.js, which loads the code highlighter ec-highlight.js on first
// use) are named by a hash: every snippet folder of the widget's crate is copied.
const snippets = (dir) =>
  existsSync(join(from, dir, 'snippets'))
    ? readdirSync(join(from, dir, 'snippets'))
        .filter((d) => d.startsWith('edgechat-www-'))
        .flatMap((d) => readdirSync(join(from, dir, 'snippets', d)).map((f) => join(dir, 'snippets', d, f)))
    : [];
const FILES = [
  'edge-chat.js',
  'edgechat-www.js',
  'edgechat-www_bg.wasm',
  'edgechat.css',
  'ec-highlight.js',
  ...snippets('.'),
  'byok/edgechat-www.js',
  'byok/edgechat-www_bg.wasm',
  'byok/ec-highlight.js',
  ...snippets('byok'),
];

if (!existsSync(join(from, '.release'))) {
  console.error(
    `prepack: ${from} is not a release build (no .release stamp). Run \`trunk build --release\` at the repo root first.`,
  );
  process.exit(1);
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
