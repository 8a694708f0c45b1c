#!/usr/bin/env bash
# The crates meant for crates.io package and build from their .crate files alone: `cargo package` for the core
# (edgechat) and the widget (edgechat-www, for Leptos apps) together, so the widget is verified against the packaged
# core (cargo's local registry overlay) rather than against crates.io. Then checks what each .crate holds.
# edgechat-worker is deployed, not published (publish = false).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

# Its own target dir: the verification build compiles the packaged core as a registry crate, which cargo fingerprints
# by name and version only, so its artifacts are dropped below before each run (and the workspace's are left alone).
target=$(cargo metadata --format-version 1 --no-deps | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0)).target_directory)')/crates-verify
export CARGO_TARGET_DIR="$target"
rm -rf "$target"/debug/.fingerprint/edgechat-* "$target"/debug/deps/*edgechat*
version=$(cargo metadata --format-version 1 --no-deps | node -e 'const m = JSON.parse(require("fs").readFileSync(0)); process.stdout.write(m.packages.find((p) => p.name === "edgechat").version)')

# Likewise cargo unpacks the packaged core from its temporary local registry into $CARGO_HOME/registry/src once per
# name and version and reuses that copy afterwards, so a second run would verify the widget against the core as it was
# the first time. Drop those copies (not crates.io's: no crate of these names is published there).
for dir in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/; do
  case $(basename "$dir") in index.crates.io-*) continue ;; esac
  rm -rf "${dir}edgechat-$version" "${dir}edgechat-www-$version"
done

# --allow-dirty: this checks packaging, not whether the work tree is committed.
cargo package -p edgechat -p edgechat-www --locked --allow-dirty
fail=0
check() { # crate file-pattern: the .crate must contain a path matching the pattern
  if ! tar -tzf "$target/package/$1-$version.crate" | grep -Ec "^$1-$version/$2\$" >/dev/null; then
    echo "FAIL: $1-$version.crate has no $2"
    fail=1
  fi
}
refuse() { # crate pattern: the .crate must not contain it
  if tar -tzf "$target/package/$1-$version.crate" | grep -Ec "^$1-$version/$2" >/dev/null; then
    echo "FAIL: $1-$version.crate contains $2"
    fail=1
  fi
}
for crate in edgechat edgechat-www; do
  check "$crate" 'LICENSE-MIT'
  check "$crate" 'LICENSE-APACHE'
  check "$crate" 'README.md'
  check "$crate" 'src/lib.rs'
  refuse "$crate" 'node_modules/'
  refuse "$crate" 'tests/.*\.mjs'
done
check edgechat 'tests/fixtures/openai-chat/text.sse'
check edgechat-www 'style/edgechat.css' # include_str! in src/lib.rs
refuse edgechat 'worker/'
refuse edgechat 'www/'
refuse edgechat 'local-model/'

publish=$(cargo metadata --format-version 1 --no-deps | node -e 'const m = JSON.parse(require("fs").readFileSync(0)); process.stdout.write(JSON.stringify(m.packages.find((p) => p.name === "edgechat-worker").publish))')
if [ "$publish" != "[]" ]; then
  echo "FAIL: edgechat-worker is publishable (publish: $publish); it should say publish = false"
  fail=1
fi
for crate in edgechat edgechat-www; do
  printf '%s: %s bytes\n' "$crate-$version.crate" "$(stat -c %s "$target/package/$crate-$version.crate")"
done
[ $fail = 0 ] && echo "crates: packaged and verified" || exit 1
