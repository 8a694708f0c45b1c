#!/bin/sh
# Builds the app's edge dashboard (crate edgechat-dashboard, www/app/dashboard/) into DIR: a wasm module of its
# own that the app imports from /dashboard/ when the Usage screen opens, with its stylesheet
# (www/app/dashboard/dashboard.css -> edgechat-dashboard.css), so the app's first load carries neither. Called by
# post-build.sh for every Trunk build, next to the app.
#   sh www/scripts/build-dashboard.sh DIR [release|debug]
# release: wasm-release profile, wasm-opt -Oz with the app's feature list (www/app/index.html), names stripped,
# terser on the JS glue, esbuild on the CSS. debug (`trunk serve`): the dev profile, no wasm-opt.
set -eu
out="$1"
profile="${2:-release}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="$root/node_modules/.bin"
target="${CARGO_TARGET_DIR:-$root/target}"
if [ "$profile" = release ]; then cargo_profile=wasm-release; dir=wasm-release; else cargo_profile=dev; dir=debug; fi
cargo build --manifest-path "$root/Cargo.toml" -p edgechat-dashboard --target wasm32-unknown-unknown \
  --profile "$cargo_profile" --locked --quiet
mkdir -p "$out"
if [ "$profile" = release ]; then strip=--remove-name-section; else strip=; fi
wasm-bindgen --target web --no-typescript $strip --out-dir "$out" --out-name edgechat-dashboard \
  "$target/wasm32-unknown-unknown/$dir/edgechat_dashboard.wasm"
if [ "$profile" = release ]; then
  "$bin/wasm-opt" -Oz --low-memory-unused --strip-debug --strip-producers --enable-mutable-globals --enable-sign-ext \
    --enable-nontrapping-float-to-int --enable-bulk-memory --enable-multivalue --enable-reference-types \
    "$out/edgechat-dashboard_bg.wasm" -o "$out/edgechat-dashboard_bg.wasm"
  "$bin/terser" "$out/edgechat-dashboard.js" --module --compress --mangle --output "$out/edgechat-dashboard.js.min"
  mv "$out/edgechat-dashboard.js.min" "$out/edgechat-dashboard.js"
  "$bin/esbuild" "$root/www/app/dashboard/dashboard.css" --minify --log-level=warning --outfile="$out/edgechat-dashboard.css"
else
  cp "$root/www/app/dashboard/dashboard.css" "$out/edgechat-dashboard.css"
fi
