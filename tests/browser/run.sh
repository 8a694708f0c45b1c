#!/bin/sh
# Builds dist/ with `trunk build --release` when it is missing or older than its sources, then runs the widget's
# end-to-end tests (node:test + playwright-core + Debian's /usr/bin/chromium). Screenshots go to tests/artifacts/.
#   tests/browser/run.sh                      # all browser tests (inline protocol edge; see below)
#   EDGECHAT_E2E_EDGE=real tests/browser/run.sh   # embed tests through the real edge in workerd + mock upstream
#   REBUILD=1 tests/browser/run.sh            # force a rebuild
# The release build includes the bring-your-own-key variant (dist/byok/, www/scripts/build-byok.sh) byok.test.mjs uses.
set -eu
cd "$(dirname "$0")/../.."
TOOLS_BIN="${EDGECHAT_TOOLS_BIN:-$HOME/.cache/edgechat/tools/bin}"
export PATH="$TOOLS_BIN:$PWD/node_modules/.bin:$PATH"
# dist/.release is written by the release post-build hook; a `trunk serve` (debug) build leaves dist/ without it.
stamp=dist/.release
if [ "${REBUILD:-0}" = 1 ] || [ ! -f "$stamp" ] || [ -n "$(find www src Trunk.toml Cargo.toml -newer "$stamp" -type f 2>/dev/null | head -n 1)" ]; then
  echo "building dist/ (trunk build --release)" >&2
  trunk build --release
fi
if [ $# -eq 0 ]; then set -- tests/browser/*.test.mjs; fi
exec node --test --test-concurrency=1 "$@"
