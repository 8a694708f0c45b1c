#!/bin/sh
# Trunk post_build hook, on the staging dir, after Trunk built the app (www/app/index.html):
#  1. builds the embeddable widget next to it (build-embed.sh: edge-chat.js, edgechat-www.js/_bg.wasm,
#     edgechat.css, embed.html, examples/, and ec-highlight.js, which the app loads from there too), in the
#     build's profile, and the app's modules loaded on first use (build-module.sh): the edge dashboard, which the
#     Usage screen imports (dashboard/), and the playground's structured-output checks (playground/);
# release builds only:
#  2. optimizes the app's wasm (drop-exports.mjs: unused exports out, then wasm-opt -Oz); minifies the JS glue
#     (the app's and the widget's) and the loader with terser (Trunk's --minify breaks on wasm-bindgen 0.2.130's
#     JS), and the stylesheets (the app's and the widget's) with esbuild (wrangler's
#     exact-pinned dependency);
#  3. builds the bring-your-own-key variant into byok/ (build-byok.sh; loaded only by `<edge-chat byok>`).
set -eu
here="$(dirname "$0")"
bin="$here/../../node_modules/.bin"
profile="${TRUNK_PROFILE:-debug}"
sh "$here/build-embed.sh" "$TRUNK_STAGING_DIR" "$profile"
sh "$here/build-module.sh" dashboard "$TRUNK_STAGING_DIR/dashboard" "$profile"
sh "$here/build-module.sh" playground "$TRUNK_STAGING_DIR/playground" "$profile"
[ "$profile" = "release" ] || exit 0
# The app's wasm: unused exports out, then wasm-opt -Oz (drop-exports.mjs), before terser reads the glue. (Trunk's
# wasm-opt is off: www/app/index.html has data-wasm-opt="0"; its stylesheet has data-integrity="none", as the CSS
# is minified below, after Trunk hashed it.)
for wasm in "$TRUNK_STAGING_DIR"/edgechat-app-*_bg.wasm; do
  node "$here/drop-exports.mjs" "$wasm" "${wasm%_bg.wasm}.js"
done
for f in "$TRUNK_STAGING_DIR"/edgechat-app*.js "$TRUNK_STAGING_DIR/edgechat-www.js" "$TRUNK_STAGING_DIR/edge-chat.js" \
  "$TRUNK_STAGING_DIR/ec-highlight.js" "$TRUNK_STAGING_DIR/edgechat-attach.js"; do
  "$bin/terser" "$f" --module --compress --mangle --output "$f.min"
  mv "$f.min" "$f"
done
for css in "$TRUNK_STAGING_DIR/edgechat.css" "$TRUNK_STAGING_DIR"/app-*.css; do
  "$bin/esbuild" "$css" --minify --log-level=warning --outfile="$css.min"
  mv "$css.min" "$css"
done
sh "$here/build-byok.sh" "$TRUNK_STAGING_DIR/byok"
# Marks dist/ as a release build (a `trunk serve` debug build replaces dist/ without it).
date -u +%Y-%m-%dT%H:%M:%SZ > "$TRUNK_STAGING_DIR/.release"
