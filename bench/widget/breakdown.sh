#!/usr/bin/env bash
# Where the widget's wasm bytes go: builds the release wasm (wasm-release profile, the embed build's features), runs
# wasm-bindgen and wasm-opt -Oz as the release build does but keeps the name section, then prints twiggy's
# largest items and the bytes grouped by origin (breakdown.mjs). Not a test: it prints figures.
#   bash bench/widget/breakdown.sh [N]    # N: also list the N largest items per group (default 15)
# Needs twiggy: cargo install twiggy --root ~/.cache/edgechat/tools   (0.8.0 used for the README figures)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/env.sh
command -v twiggy >/dev/null || { echo "twiggy not found: cargo install twiggy --root $EDGECHAT_CACHE/tools" >&2; exit 1; }
out=target/widget-breakdown
mkdir -p "$out"
cargo build -p edgechat-www --features embed --target wasm32-unknown-unknown --profile wasm-release --locked
target_dir=$(cargo metadata --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')
wasm-bindgen --target web --out-dir "$out" --out-name edgechat-www "$target_dir/wasm32-unknown-unknown/wasm-release/edgechat_www.wasm"
# Same passes and features as www/scripts/build-embed.sh, plus -g to keep the names.
wasm-opt -Oz -g --low-memory-unused --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int \
  --enable-bulk-memory --enable-multivalue --enable-reference-types "$out/edgechat-www_bg.wasm" -o "$out/named.wasm"
twiggy top -n 25 "$out/named.wasm"
twiggy top -n 1000000 -f csv "$out/named.wasm" > "$out/top.csv"
echo
node bench/widget/breakdown.mjs "$out/top.csv" "${1:-15}"
