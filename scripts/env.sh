# Sourced by the scripts: where edgechat's cached tools live, and PATH so the pinned versions win.
# (npm's binaryen wasm-opt must come before any system wasm-opt: Debian's binaryen 108 emits broken wasm.)
EDGECHAT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export EDGECHAT_ROOT
export EDGECHAT_CACHE=${EDGECHAT_CACHE:-$HOME/.cache/edgechat}
export PATH="$EDGECHAT_CACHE/tools/bin:$EDGECHAT_ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export WRANGLER_SEND_METRICS=false
export CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}
