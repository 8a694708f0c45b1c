#!/usr/bin/env bash
# Builds the wasm floor (see Cargo.toml) into bench/edge/wasm-floor/pkg/: cargo (release: the edge's size profile),
# wasm-bindgen (--target web) and wasm-opt -Oz with the edge's flags (worker/build.sh). Offline, with the tools and
# crates the project's setup installed (scripts/setup.sh). Prints the wasm's gzip size.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
# shellcheck source=/dev/null
source "$root/scripts/env.sh"
cd "$here"
CARGO_TARGET_DIR="$root/target/wasm-floor" cargo build --offline --release --target wasm32-unknown-unknown -q
wasm="$root/target/wasm-floor/wasm32-unknown-unknown/release/edgechat_wasm_floor.wasm"
mkdir -p pkg
wasm-bindgen --target web --remove-name-section --no-typescript --out-dir pkg --out-name edgechat_wasm_floor "$wasm"
"$root/node_modules/.bin/wasm-opt" -Oz --low-memory-unused --strip-debug --strip-producers --enable-mutable-globals \
  --enable-sign-ext --enable-nontrapping-float-to-int --enable-bulk-memory --enable-multivalue \
  --enable-reference-types pkg/edgechat_wasm_floor_bg.wasm -o pkg/edgechat_wasm_floor_bg.wasm
echo "wasm floor: $(gzip -9 -c pkg/edgechat_wasm_floor_bg.wasm | wc -c) bytes gzip (bench/edge/wasm-floor/pkg)"
