#!/usr/bin/env bash
# Installs everything edgechat needs, idempotently, into a cache outside the checkout.
#
#   scripts/setup.sh dev    what the main command needs (Rust wasm target, trunk, wasm-bindgen, npm tools, local model)
#   scripts/setup.sh test   dev + what the tests need (Chromium, Python SDKs)
#
# Everything downloaded lands under $EDGECHAT_CACHE (default ~/.cache/edgechat), so a second run takes seconds.
# Source scripts/env.sh afterwards (the other scripts do) to get the tools on PATH.
set -euo pipefail

mode=${1:-dev}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/env.sh
source "$root/scripts/env.sh"

TRUNK_VERSION=0.21.14
WASM_BINDGEN_VERSION=0.2.130

step() { printf '\n==> %s\n' "$*"; }
die() { printf '\nsetup failed: %s\n' "$*" >&2; exit 1; }

mkdir -p "$EDGECHAT_CACHE/tools/bin" "$EDGECHAT_CACHE/stamps"

# A stamp records the hash of the file that defines an install, so a changed lock file re-runs it.
stamp_ok() { [ -f "$EDGECHAT_CACHE/stamps/$1" ] && [ "$(cat "$EDGECHAT_CACHE/stamps/$1")" = "$2" ]; }
stamp_set() { printf '%s' "$2" >"$EDGECHAT_CACHE/stamps/$1"; }
hash_of() { cat "$@" | sha256sum | cut -c1-16; }

command -v cargo >/dev/null || die "cargo not found: install Rust with rustup (https://rustup.rs), then re-run."
command -v node >/dev/null || die "node not found: install Node.js 20 or newer, then re-run."
command -v npm >/dev/null || die "npm not found: install Node.js 20 or newer (it includes npm), then re-run."

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  step "Adding the Rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown || die "rustup target add wasm32-unknown-unknown failed (network?)."
fi

if [ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]; then
  step "Installing trunk $TRUNK_VERSION into $EDGECHAT_CACHE/tools (compiles from source: ~6-11 minutes, once)"
  cargo install trunk --version "$TRUNK_VERSION" --locked --root "$EDGECHAT_CACHE/tools" \
    || die "cargo install trunk failed; see the output above."
fi

if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  step "Installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (compiles from source: ~3-8 minutes, once)"
  # Not --locked: its lock file wants a crate version the registry mirror lacks.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --root "$EDGECHAT_CACHE/tools" \
    || die "cargo install wasm-bindgen-cli failed; see the output above."
fi

h=$(hash_of "$root/package-lock.json")
if ! stamp_ok npm-root "$h" || [ ! -d "$root/node_modules" ]; then
  step "Installing the JavaScript dev tools (npm ci: wrangler/workerd, binaryen, playwright-core, SDKs)"
  (cd "$root" && npm ci --no-audit --no-fund) || die "npm ci failed at the repo root."
  stamp_set npm-root "$h"
fi

if [ -f "$root/local-model/package-lock.json" ]; then
  h=$(hash_of "$root/local-model/package-lock.json")
  if ! stamp_ok npm-local-model "$h" || [ ! -d "$root/local-model/node_modules" ]; then
    step "Installing the local model runtime (node-llama-cpp, CPU build only)"
    (cd "$root/local-model" && npm ci --omit=optional --no-audit --no-fund) || die "npm ci failed in local-model/."
    stamp_set npm-local-model "$h"
  fi
  if [ -f "$root/local-model/fetch-model.mjs" ]; then
    node "$root/local-model/fetch-model.mjs" || die "could not fetch the local model (see above)."
  fi
fi

if [ "$mode" = test ]; then
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    step "Installing Debian Chromium and ChromeDriver for the browser tests"
    command -v apt-get >/dev/null || die "chromium missing and no apt-get: install chromium and chromium-driver."
    apt-get update -q && apt-get install -y -q chromium chromium-driver || die "apt-get install chromium failed."
  fi
  if [ -f "$root/tests/sdk/requirements.txt" ]; then
    h=$(hash_of "$root/tests/sdk/requirements.txt")
    if ! stamp_ok venv "$h" || [ ! -x "$EDGECHAT_CACHE/venv/bin/python" ]; then
      step "Installing the official Python SDKs into $EDGECHAT_CACHE/venv"
      python3 -m venv "$EDGECHAT_CACHE/venv" || die "python3 -m venv failed (install python3-venv)."
      "$EDGECHAT_CACHE/venv/bin/pip" install -q -r "$root/tests/sdk/requirements.txt" || die "pip install failed."
      stamp_set venv "$h"
    fi
  fi
fi

step "Setup complete ($mode)"
