#!/usr/bin/env bash
# Sets up everything the tests need, then runs every test suite of edgechat. `.ci/run` calls exactly this.
#
#   scripts/test.sh            all suites
#   scripts/test.sh core edge  only the named suites (see `suites` below)
#
# Every suite runs even when an earlier one failed; the exit code is non-zero if any failed.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh test || exit 1
# shellcheck source=scripts/env.sh
source scripts/env.sh

# name | command
suites=(
  "lint|cargo clippy --workspace --all-targets --locked -- -D warnings && cargo clippy -p edgechat -p edgechat-worker -p edgechat-www -p edgechat-app --target wasm32-unknown-unknown --locked -- -D warnings && cargo clippy -p edgechat-www --features byok,leptos --target wasm32-unknown-unknown --all-targets --locked -- -D warnings"
  "core|cargo test --locked -p edgechat"
  "core-wasm|CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner cargo test --locked -p edgechat --target wasm32-unknown-unknown"
  "harness|node --test tests/harness/"
  "worker-unit|cargo test --locked -p edgechat-worker"
  "app-unit|cargo test --locked -p edgechat-app"
  "build-edge|bash worker/build.sh"
  "widget-wasm|CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner cargo test --locked -p edgechat-www --features leptos --target wasm32-unknown-unknown"
  "upstream|node --test --test-concurrency=1 tests/upstream/"
  "edge|node --test --test-concurrency=1 tests/edge/"
  "resume|node --test --test-concurrency=1 tests/resume/"
  "sdk|bash tests/sdk/run.sh"
  "local-model|node --test --test-concurrency=1 tests/local-model/"
  "browser|bash tests/browser/run.sh"
  "stack|bash tests/browser/run.sh tests/stack/*.test.mjs"
  "guides|node --test --test-concurrency=1 tests/guides/"
)

want=("$@")
passed=() failed=()
for entry in "${suites[@]}"; do
  name=${entry%%|*} cmd=${entry#*|}
  if [ ${#want[@]} -gt 0 ] && [[ ! " ${want[*]} " == *" $name "* ]]; then continue; fi
  printf '\n======== suite %s ========\n$ %s\n' "$name" "$cmd"
  start=$(date +%s)
  if bash -c "$cmd"; then
    passed+=("$name ($(( $(date +%s) - start ))s)")
  else
    failed+=("$name ($(( $(date +%s) - start ))s)")
  fi
done

printf '\n======== summary ========\n'
for s in "${passed[@]}"; do echo "ok    $s"; done
for s in "${failed[@]}"; do echo "FAIL  $s"; done
echo "suites: ${#passed[@]} passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
