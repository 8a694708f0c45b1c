#!/usr/bin/env bash
# Builds what the decode benchmark needs (the native `decode` example, the wasm decoder package) and runs
# bench/decode/run.mjs, which prints MB/s for the JS baseline (npm eventsource-parser + JSON.parse), wasm called
# from Node and native, and the ratios native/js and wasm/js.
#   bash bench/decode/run.sh [run.mjs args, e.g. --mb 5 --iters 10 --rounds 3]
# WASM_PROFILES: the wasm builds to measure, each against its own JS baseline in the same process (default both):
#   wasm-release            the size-optimised profile the product ships (opt-level "z" everywhere)
#   wasm-release-fast-core  the same with the core crate (and memchr) at opt-level 3
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
# shellcheck source=../../scripts/env.sh
source scripts/env.sh
profiles=${WASM_PROFILES:-wasm-release wasm-release-fast-core}
out="$root/target/bench-decode"

cargo build --release --example decode
for profile in $profiles; do
  # Its own workspace and target dir, so it never races the root workspace's wasm builds.
  CARGO_TARGET_DIR="$out/cargo" cargo build --manifest-path bench/decode/wasm/Cargo.toml \
    --profile "$profile" --target wasm32-unknown-unknown
  wasm-bindgen --target nodejs --out-dir "$out/pkg-$profile" \
    "$out/cargo/wasm32-unknown-unknown/$profile/edgechat_decode_bench.wasm"
  # The repo's package.json says "type": "module"; wasm-bindgen's nodejs output is CommonJS.
  echo '{"type":"commonjs"}' >"$out/pkg-$profile/package.json"
done
for profile in $profiles; do
  echo
  echo "== wasm profile: $profile ($(wc -c <"$out/pkg-$profile/edgechat_decode_bench_bg.wasm") bytes of wasm)"
  node bench/decode/run.mjs --wasm "$out/pkg-$profile" --native "$root/target/release/examples/decode" "$@"
done
