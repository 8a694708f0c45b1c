#!/usr/bin/env bash
# Installs what the chosen test suites need, then runs them. `.ci/run` calls this with no arguments: every suite.
#
#   scripts/test.sh            all suites
#   scripts/test.sh core edge  only the named suites (see `suites` below; tests/README.md describes each)
#
# Each suite names what it needs (scripts/setup.sh's needs); only those are installed, so `scripts/test.sh core`
# needs nothing but cargo. Every suite runs even when an earlier one failed; the exit code is non-zero if any
# failed. The time of the setup and of each suite is printed at the end; `node tests/record-timings.mjs` writes
# them into tests/README.md.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# name | needs (space-separated, from scripts/setup.sh; empty: cargo and node only) | command
# (A two-field line "name|command" still works: it gets every need, as all suites did before.)
suites=(
  "lint|npm wasm|cargo fmt --all --check && cargo clippy --workspace --all-targets --locked -- -D warnings && cargo clippy -p edgechat -p edgechat-worker -p edgechat-www -p edgechat-app -p edgechat-dashboard -p edgechat-playground --target wasm32-unknown-unknown --locked -- -D warnings && cargo clippy -p edgechat-www --features byok,leptos --target wasm32-unknown-unknown --all-targets --locked -- -D warnings && biome ci"
  "core||cargo test --locked -p edgechat"
  "core-wasm|bindgen|CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner cargo test --locked -p edgechat --target wasm32-unknown-unknown"
  "harness||node --test tests/harness/"
  "worker-unit||cargo test --locked -p edgechat-worker"
  "app-unit||cargo test --locked -p edgechat-app -p edgechat-dashboard -p edgechat-playground"
  "markdown|npm|cargo test --locked -p edgechat-www --lib markdown && node --test tests/markdown/"
  "build-edge|edge|bash worker/build.sh"
  "widget-wasm|bindgen browser|CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner cargo test --locked -p edgechat-www --features leptos --target wasm32-unknown-unknown"
  "upstream|npm|node --test --test-concurrency=1 tests/upstream/ && EDGECHAT_OPENAI_SDK=openai-7 EDGECHAT_ANTHROPIC_SDK=anthropic-sdk-latest node --test tests/upstream/sdk.test.mjs"
  "edge|edge|node --test --test-concurrency=1 tests/edge/"
  "resume|edge|node --test --test-concurrency=1 tests/resume/"
  "usage|edge sdk|node --test --test-concurrency=1 tests/usage/"
  "sdk|edge sdk|bash tests/sdk/run.sh"
  "local-model|npm model|node --test --test-concurrency=1 tests/local-model/"
  "browser|trunk edge browser|bash tests/browser/run.sh"
  "stack|trunk edge browser model|bash tests/browser/run.sh tests/stack/*.test.mjs"
  "guides|trunk edge browser model|node --test --test-concurrency=1 tests/guides/"
  "repo|npm|node --test tests/packaging/repo.test.mjs"
  "crates||bash tests/packaging/crates.sh"
  "npm-package|trunk edge browser|bash tests/browser/run.sh tests/packaging/npm-package.test.mjs"
)

known_needs=" rust npm wasm bindgen edge trunk browser sdk model dev test all "
parse() { # entry -> sets name, needs, cmd
  name=${1%%|*}
  local rest=${1#*|} w
  needs=${rest%%|*} cmd=${rest#*|}
  for w in $needs; do
    if [[ "$known_needs" != *" $w "* ]]; then needs=test cmd=$rest; return; fi # a two-field line
  done
  [ "$rest" = "$needs" ] && needs=test cmd=$rest # no second separator at all
  return 0
}

want=("$@")
for w in "${want[@]}"; do
  found=0
  for entry in "${suites[@]}"; do [ "${entry%%|*}" = "$w" ] && found=1; done
  [ $found = 1 ] || { echo "test.sh: no suite named '$w'" >&2; exit 2; }
done
chosen=() all_needs=(rust)
for entry in "${suites[@]}"; do
  parse "$entry"
  if [ ${#want[@]} -gt 0 ] && [[ ! " ${want[*]} " == *" $name "* ]]; then continue; fi
  chosen+=("$entry")
  for w in $needs; do [[ " ${all_needs[*]} " == *" $w "* ]] || all_needs+=("$w"); done
done

t0=$(date +%s)
printf '======== setup: %s ========\n' "${all_needs[*]}"
bash scripts/setup.sh "${all_needs[@]}" || exit 1
setup_s=$(( $(date +%s) - t0 ))
# shellcheck source=scripts/env.sh
source scripts/env.sh

# Each suite's time also goes to tests/artifacts/timings.tsv; `node tests/record-timings.mjs` copies it into the
# table in tests/README.md.
mkdir -p tests/artifacts
timings=tests/artifacts/timings.tsv
printf 'setup\t%s\tok\n' "$setup_s" >"$timings"
# A test run builds each crate once per change: cargo's incremental caches (~1.5 GiB) would only take disk.
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
# A full run writes ~3.5 GiB under target/ (a fresh clone's; node_modules and the tool cache come on top). A disk
# that fills makes cargo or a bundler fail half-way with errors that do not say why, so the free space is said before
# the suites and after a failure.
free_mib() { df -Pm "${CARGO_TARGET_DIR:-$root}" 2>/dev/null | awk 'NR == 2 { print $4 }'; }
low_disk() { # $1: when; prints a warning when under 6 GiB are free
  local free
  free=$(free_mib) && [ -n "$free" ] && [ "$free" -lt 6144 ] &&
    echo "test.sh: only $free MiB free on the disk of target/ ($1); a full run needs ~6 GiB" >&2
  return 0
}
low_disk "before the suites"
passed=() failed=()
for entry in "${chosen[@]}"; do
  parse "$entry"
  printf '\n======== suite %s ========\n$ %s\n' "$name" "$cmd"
  start=$(date +%s)
  if bash -c "$cmd"; then
    s=$(( $(date +%s) - start )) && passed+=("$name (${s}s)") && printf '%s\t%s\tok\n' "$name" "$s" >>"$timings"
  else
    s=$(( $(date +%s) - start )) && failed+=("$name (${s}s)") && printf '%s\t%s\tFAIL\n' "$name" "$s" >>"$timings"
    low_disk "after $name failed"
  fi
done

printf '\n======== summary ========\n'
echo "setup ${setup_s}s"
for s in "${passed[@]}"; do echo "ok    $s"; done
for s in "${failed[@]}"; do echo "FAIL  $s"; done
echo "total $(( $(date +%s) - t0 ))s"
echo "suites: ${#passed[@]} passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
