#!/usr/bin/env bash
# Official-SDK compatibility tests. Exits non-zero if anything fails.
#   1. Python openai + anthropic straight against the mock upstream (is the mock's wire format exact?).
#   2. A mock upstream + the edge in real workerd (tests/sdk/launch.mjs), then Python openai + anthropic (pytest) and
#      the npm SDKs (node:test) against the edge's /v1/chat/completions, /v1/responses, /v1/messages.
# Each runs twice: with the pinned SDK versions (requirements.txt, npm openai 6 / @anthropic-ai/sdk 1.14) and with
# the newest (requirements-latest.txt in a second venv, npm openai 7 / the latest @anthropic-ai/sdk).
# The npm SDKs straight against the mock run in the `upstream` suite (tests/upstream/sdk.test.mjs).
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
# shellcheck source=scripts/env.sh
source scripts/env.sh

# Two venvs (a venv holds one version of each SDK): the pinned versions and the newest releases.
venvs=("$EDGECHAT_CACHE/venv|tests/sdk/requirements.txt" "$EDGECHAT_CACHE/venv-latest|tests/sdk/requirements-latest.txt")
for pair in "${venvs[@]}"; do
  venv=${pair%%|*} req=${pair#*|}
  if ! "$venv/bin/python" - "$root/$req" <<'EOF' 2>/dev/null; then
import sys, importlib.metadata as md
for line in open(sys.argv[1]):
    line = line.split('#')[0].strip()
    if line:
        name, version = line.split('==')
        if md.version(name) != version:
            sys.exit(1)
EOF
    echo "==> installing $req into $venv"
    python3 -m venv "$venv" && "$venv/bin/pip" install -q -r "$req" || {
      echo "run.sh: could not install $req" >&2
      exit 1
    }
  fi
done

failed=()
pytest() { # venv args...
  local py="$1/bin/python"
  shift
  echo "    $("$py" -c 'import openai, anthropic; print(f"openai {openai.__version__}, anthropic {anthropic.__version__}")')"
  "$py" -m pytest -q -p no:cacheprovider "$@"
}

for pair in "${venvs[@]}"; do
  venv=${pair%%|*}
  echo "==> Python SDKs against the mock upstream ($(basename "$venv"))"
  (cd tests/sdk && pytest "$venv" test_upstream_direct.py) || failed+=("python-direct:$(basename "$venv")")
done

echo "==> starting the mock upstream and the edge"
tmp=$(mktemp -d)
mkfifo "$tmp/keepalive"
node tests/sdk/launch.mjs <"$tmp/keepalive" >"$tmp/launch.out" 2>"$tmp/launch.err" &
launcher=$!
exec 9>"$tmp/keepalive" # the launcher stops when this shell (and so fd 9) goes away
cleanup() {
  exec 9>&-
  kill -TERM "$launcher" 2>/dev/null
  wait "$launcher" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

line=""
for _ in $(seq 1 3000); do # up to 300 s: the launcher first builds the edge when its sources changed
  line=$(sed -n 's/^EDGECHAT_SDK_READY //p' "$tmp/launch.out" 2>/dev/null | head -n 1)
  [ -n "$line" ] && break
  kill -0 "$launcher" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$line" ]; then
  echo "run.sh: the edge launcher did not come up:" >&2
  cat "$tmp/launch.out" "$tmp/launch.err" >&2
  exit 1
fi
json() { node -e 'const o=JSON.parse(process.argv[1]); process.stdout.write(String(o[process.argv[2]]))' "$line" "$1"; }
EDGECHAT_UPSTREAM_URL=$(json upstream)
EDGECHAT_EDGE_URL=$(json edge)
EDGECHAT_EDGE_KEY=$(json key)
EDGECHAT_EDGE_UPSTREAM_URL=$EDGECHAT_UPSTREAM_URL
export EDGECHAT_EDGE_URL EDGECHAT_EDGE_KEY EDGECHAT_EDGE_UPSTREAM_URL
echo "    edge $EDGECHAT_EDGE_URL, mock upstream $EDGECHAT_UPSTREAM_URL"

for pair in "${venvs[@]}"; do
  venv=${pair%%|*}
  echo "==> Python SDKs through the edge ($(basename "$venv"))"
  (cd tests/sdk && pytest "$venv" test_edge_sdk.py) || failed+=("python-edge:$(basename "$venv")")
done

echo "==> npm SDKs through the edge (pinned)"
node --test --test-concurrency=1 tests/sdk/ || failed+=("node-edge")
echo "==> npm SDKs through the edge (openai 7, latest @anthropic-ai/sdk)"
EDGECHAT_OPENAI_SDK=openai-7 EDGECHAT_ANTHROPIC_SDK=anthropic-sdk-latest node --test --test-concurrency=1 tests/sdk/ ||
  failed+=("node-edge:latest")

if [ ${#failed[@]} -gt 0 ]; then
  echo "sdk: FAILED: ${failed[*]}"
  echo "--- edge launcher stderr (last 40 lines) ---"
  tail -n 40 "$tmp/launch.err"
  exit 1
fi
echo "sdk: all passed"
