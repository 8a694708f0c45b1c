#!/bin/sh
# Builds one of the app's modules loaded on first use into DIR: a wasm module of its own that the app imports
# from /NAME/edgechat-NAME.js, so the app's first load does not carry it. Called by post-build.sh for every Trunk
# build, next to the app:
#   dashboard   the Usage screen's edge dashboard (crate edgechat-dashboard, www/app/dashboard/), with its
#               stylesheet (www/app/dashboard/dashboard.css -> edgechat-dashboard.css);
#   playground  structured output's schema checks, the answers' validation and tree (crate edgechat-playground,
#               www/app/playground/).
#   sh www/scripts/build-module.sh NAME DIR [release|debug]
# release: wasm-release profile, wasm-opt -Oz with the app's feature list (www/app/index.html), names stripped,
# terser on the JS glue, esbuild on the CSS. debug (`trunk serve`): the dev profile, no wasm-opt.
set -eu
name="$1"
out="$2"
profile="${3:-release}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="$root/node_modules/.bin"
target="${CARGO_TARGET_DIR:-$root/target}"
css="$root/www/app/$name/$name.css"
if [ "$profile" = release ]; then cargo_profile=wasm-release; dir=wasm-release; else cargo_profile=dev; dir=debug; fi
cargo build --manifest-path "$root/Cargo.toml" -p "edgechat-$name" --target wasm32-unknown-unknown \
  --profile "$cargo_profile" --locked --quiet
mkdir -p "$out"
if [ "$profile" = release ]; then strip=--remove-name-section; else strip=; fi
wasm-bindgen --target web --no-typescript $strip --out-dir "$out" --out-name "edgechat-$name" \
  "$target/wasm32-unknown-unknown/$dir/edgechat_$name.wasm"
if [ "$profile" = release ]; then
  "$bin/wasm-opt" -Oz --low-memory-unused --strip-debug --strip-producers --enable-mutable-globals --enable-sign-ext \
    --enable-nontrapping-float-to-int --enable-bulk-memory --enable-multivalue --enable-reference-types \
    "$out/edgechat-${name}_bg.wasm" -o "$out/edgechat-${name}_bg.wasm"
  "$bin/terser" "$out/edgechat-$name.js" --module --compress --mangle --output "$out/edgechat-$name.js.min"
  mv "$out/edgechat-$name.js.min" "$out/edgechat-$name.js"
  if [ -f "$css" ]; then "$bin/esbuild" "$css" --minify --log-level=warning --outfile="$out/edgechat-$name.css"; fi
elif [ -f "$css" ]; then
  cp "$css" "$out/edgechat-$name.css"
fi
