#!/usr/bin/env bash
# Builds what the decode benchmark needs (the native `decode` example, the wasm decoder package) and runs
# bench/decode/run.mjs, which prints MB/s for the JS baseline, wasm-from-Node and native, and their ratios.
#   bash bench/decode/run.sh [run.mjs args, e.g. --mb 5 --iters 15]
# WASM_PROFILE=wasm-release (default, the size-optimised profile the product ships) or wasm-speed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
# shellcheck source=../../scripts/env.sh
source scripts/env.sh
profile=${WASM_PROFILE:-wasm-release}
out="$root/target/bench-decode"

cargo build --release --example decode
# Its own workspace and target dir, so it never races the root workspace's wasm builds.
CARGO_TARGET_DIR="$out/cargo" cargo build --manifest-path bench/decode/wasm/Cargo.toml \
  --profile "$profile" --target wasm32-unknown-unknown
wasm-bindgen --target nodejs --out-dir "$out/pkg" \
  "$out/cargo/wasm32-unknown-unknown/$profile/edgechat_decode_bench.wasm"
# The repo's package.json says "type": "module"; wasm-bindgen's nodejs output is CommonJS.
echo '{"type":"commonjs"}' > "$out/pkg/package.json"
echo "wasm profile: $profile"
node bench/decode/run.mjs --wasm "$out/pkg" --native "$root/target/release/examples/decode" "$@"
