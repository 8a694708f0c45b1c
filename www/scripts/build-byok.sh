#!/bin/sh
# Builds the bring-your-own-key variant of the widget (cargo feature `byok`: the core's provider request builders
# and stream decoders run in the browser; ~2.3x the default wasm) into DIR, as Trunk builds the default one:
# wasm-release profile, wasm-bindgen --target web, wasm-opt -Oz with the feature list of build-embed.sh, terser.
# `<edge-chat byok>` loads it from `byok/` next to the loader; pages without the attribute never download it.
# Called by post-build.sh on release builds; its own target dir, so the default build's artifacts stay cached.
#   sh www/scripts/build-byok.sh DIR
set -eu
out="$1"
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="$root/node_modules/.bin"
target="${CARGO_TARGET_DIR:-$root/target}/byok-variant"
cargo build --manifest-path "$root/Cargo.toml" -p edgechat-www --features embed,byok --target wasm32-unknown-unknown \
  --profile wasm-release --locked --target-dir "$target" --quiet
mkdir -p "$out"
wasm-bindgen --target web --no-typescript --out-dir "$out" --out-name edgechat-www \
  "$target/wasm32-unknown-unknown/wasm-release/edgechat_www.wasm"
# The same passes and features as the default build (build-embed.sh); never --all-features.
"$bin/wasm-opt" -Oz --low-memory-unused --strip-debug --strip-producers --enable-mutable-globals --enable-sign-ext \
  --enable-nontrapping-float-to-int --enable-bulk-memory --enable-multivalue --enable-reference-types \
  "$out/edgechat-www_bg.wasm" -o "$out/edgechat-www_bg.wasm"
"$bin/terser" "$out/edgechat-www.js" --module --compress --mangle --output "$out/edgechat-www.js.min"
mv "$out/edgechat-www.js.min" "$out/edgechat-www.js"
# The code highlighter next to this variant's glue (its snippet imports it from two folders up).
"$bin/terser" "$root/www/highlight/ec-highlight.js" --module --compress --mangle --output "$out/ec-highlight.js"
# The attach feature's file reader, found next to the glue (www/src/state/attach.rs).
"$bin/terser" "$root/www/attach/edgechat-attach.js" --module --compress --mangle --output "$out/edgechat-attach.js"
