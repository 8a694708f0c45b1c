#!/bin/sh
# Builds the embeddable widget (`<edge-chat>`: crate edgechat-www with its `embed` feature, the custom element's
# JS exports) into DIR next to the app that Trunk builds: the loader, the JS glue and wasm, the stylesheet, the
# demo page (embed.html), the plain-page example (examples/) and the code highlighter (ec-highlight.js, loaded on
# first use). Called by post-build.sh for every Trunk build.
#   sh www/scripts/build-embed.sh DIR [release|debug]
# release: wasm-release profile, wasm-opt -Oz with the app's feature list (www/app/index.html), name section
# stripped; the hook then minifies the JS and CSS. debug (`trunk serve`): the dev profile, no wasm-opt.
set -eu
out="$1"
profile="${2:-release}"
www="$(cd "$(dirname "$0")/.." && pwd)"
root="$(cd "$www/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
if [ "$profile" = release ]; then cargo_profile=wasm-release; dir=wasm-release; else cargo_profile=dev; dir=debug; fi
cargo build --manifest-path "$root/Cargo.toml" -p edgechat-www --features embed --target wasm32-unknown-unknown \
  --profile "$cargo_profile" --locked --quiet
mkdir -p "$out"
if [ "$profile" = release ]; then strip=--remove-name-section; else strip=; fi
wasm-bindgen --target web --no-typescript $strip --out-dir "$out" --out-name edgechat-www \
  "$target/wasm32-unknown-unknown/$dir/edgechat_www.wasm"
if [ "$profile" = release ]; then
  # Never --all-features: it makes wasm-opt emit stringref, which browsers without it reject.
  # --flatten --rereloop (the control flow rebuilt by binaryen's Relooper: -0.5 KB brotli), -Oz, then --gufa
  # (whole-program type flow) and -Oz to a fixed point (-0.3 KB against one -Oz pass).
  "$root/node_modules/.bin/wasm-opt" --flatten --rereloop -Oz --gufa -Oz --converge --low-memory-unused --strip-debug --strip-producers --enable-mutable-globals \
    --enable-sign-ext --enable-nontrapping-float-to-int --enable-bulk-memory --enable-multivalue \
    --enable-reference-types "$out/edgechat-www_bg.wasm" -o "$out/edgechat-www_bg.wasm"
fi
# ec-highlight.js: the code highlighter, which the glue's snippet (snippets/edgechat-www-*/inline0.js) imports from
# two folders up on the first code block with a language; edgechat-attach.js: the attach feature's file reader
# (www/src/state/attach.rs), loaded on first use.
cp "$www/loader/edge-chat.js" "$www/style/edgechat.css" "$www/embed.html" "$www/highlight/ec-highlight.js" \
  "$www/attach/edgechat-attach.js" "$out/"
mkdir -p "$out/examples"
cp "$www"/examples/*.html "$out/examples/"
