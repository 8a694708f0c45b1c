#!/bin/sh
# Trunk post_build hook, release builds only, on the staging dir:
#  1. minify the JS glue and the loader with terser (Trunk's --minify breaks on wasm-bindgen 0.2.130's JS);
#  2. minify the stylesheet with esbuild (wrangler's exact-pinned dependency, already in node_modules);
#  3. build the bring-your-own-key variant into byok/ (build-byok.sh; loaded only by `<edge-chat byok>`).
set -eu
[ "${TRUNK_PROFILE:-debug}" = "release" ] || exit 0
here="$(dirname "$0")"
bin="$here/../../node_modules/.bin"
for f in "$TRUNK_STAGING_DIR/edgechat-www.js" "$TRUNK_STAGING_DIR/edge-chat.js"; do
  "$bin/terser" "$f" --module --compress --mangle --output "$f.min"
  mv "$f.min" "$f"
done
css="$TRUNK_STAGING_DIR/edgechat.css"
"$bin/esbuild" "$css" --minify --log-level=warning --outfile="$css.min"
mv "$css.min" "$css"
sh "$here/build-byok.sh" "$TRUNK_STAGING_DIR/byok"
# Marks dist/ as a release build (a `trunk serve` debug build replaces dist/ without it).
date -u +%Y-%m-%dT%H:%M:%SZ > "$TRUNK_STAGING_DIR/.release"
