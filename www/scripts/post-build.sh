#!/bin/sh
# Trunk post_build hook: minify the widget's JS in the staging dir on release builds.
set -eu
[ "${TRUNK_PROFILE:-debug}" = "release" ] || exit 0
terser="$(dirname "$0")/../../node_modules/.bin/terser"
for f in "$TRUNK_STAGING_DIR/edgechat-www.js" "$TRUNK_STAGING_DIR/edge-chat.js"; do
  "$terser" "$f" --module --compress --mangle --output "$f.min"
  mv "$f.min" "$f"
done
# Marks dist/ as a release build (a `trunk serve` debug build replaces dist/ without it).
date -u +%Y-%m-%dT%H:%M:%SZ > "$TRUNK_STAGING_DIR/.release"
