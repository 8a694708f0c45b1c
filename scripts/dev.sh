#!/usr/bin/env bash
# The main command: set up, then run the app, the widget and the edge locally.
#
#   scripts/dev.sh
#
# 1. installs what is missing (scripts/setup.sh dev), with progress;
# 2. starts the local model server (skipped when worker/.dev.vars configures a real provider);
# 3. builds the edge and starts it in workerd (wrangler dev);
# 4. starts `trunk serve`: the Leptos app at /, the embeddable widget's demo at /embed.html, /api/ proxied to the
#    edge;
# 5. waits until each is healthy and prints the app's URL. Ctrl-C stops all of them and frees the ports.
#
# Ports: EDGECHAT_WEB_PORT (8080), EDGECHAT_MODEL_PORT (8790); the edge listens on 8787, where Trunk.toml's
# [[proxy]] sends /api/.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

web_port=${EDGECHAT_WEB_PORT:-8080}
edge_port=8787
model_port=${EDGECHAT_MODEL_PORT:-8790}

say() { printf '[edgechat] %s\n' "$*"; }
die() { printf '[edgechat] error: %s\n' "$*" >&2; exit 1; }

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$web_port:EDGECHAT_WEB_PORT" "$edge_port:edge" "$model_port:EDGECHAT_MODEL_PORT"; do
  port=${p%%:*} var=${p#*:}
  if port_busy "$port"; then
    case $var in
      EDGECHAT_*) hint="or choose another port: $var=NNNN scripts/dev.sh" ;;
      *) hint="the edge needs it: Trunk.toml proxies /api/ to 127.0.0.1:$port" ;;
    esac
    die "port $port is already in use (see: ss -ltnp 'sport = :$port'). Stop that program, $hint"
  fi
done

# Installs come after the port check, so a busy port fails at once.
bash scripts/setup.sh dev
# shellcheck source=scripts/env.sh
source scripts/env.sh
logs="$EDGECHAT_CACHE/logs"
mkdir -p "$logs"

# Every service runs in its own process group so that Ctrl-C can stop it and all its children (workerd, esbuild).
groups=()
cleanup() {
  trap - INT TERM EXIT
  [ ${#groups[@]} -eq 0 ] && exit 0
  say "stopping…"
  for g in "${groups[@]}"; do kill -TERM -- "-$g" 2>/dev/null || true; done
  for _ in $(seq 50); do
    alive=0
    for g in "${groups[@]}"; do kill -0 -- "-$g" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && break
    sleep 0.1
  done
  for g in "${groups[@]}"; do kill -KILL -- "-$g" 2>/dev/null || true; done
  say "stopped; ports $web_port, $edge_port, $model_port are free."
  exit 0
}
trap cleanup INT TERM EXIT

start() { # name logfile command...
  local name=$1 log=$2
  shift 2
  setsid "$@" >"$log" 2>&1 &
  groups+=("$!")
  say "started $name (log: $log)"
}

wait_for() { # name url seconds logfile
  local name=$1 url=$2 limit=$3 log=$4 t=0
  until curl -sf -o /dev/null "$url"; do
    if [ $((t % 10)) -eq 0 ]; then say "waiting for $name… ${t}s (log: $log)"; fi
    for g in "${groups[@]}"; do
      kill -0 -- "-$g" 2>/dev/null || { tail -n 30 "$log" >&2; die "$name exited; its log is above ($log)."; }
    done
    [ "$t" -ge "$limit" ] && { tail -n 30 "$log" >&2; die "$name not healthy after ${limit}s; its log is above."; }
    sleep 1
    t=$((t + 1))
  done
  say "$name is up: $url"
}

real_provider=""
if [ -f worker/.dev.vars ] && grep -Eq '^(OPENAI_API_KEY|ANTHROPIC_API_KEY|COMPAT_BASE_URL)=.+' worker/.dev.vars; then
  real_provider=$(grep -Eo '^(OPENAI_API_KEY|ANTHROPIC_API_KEY|COMPAT_BASE_URL)' worker/.dev.vars | tr '\n' ' ')
fi

edge_vars=()
if [ -z "$real_provider" ]; then
  start "local model (SmolLM2-135M, offline demo)" "$logs/model.log" \
    node local-model/server.mjs --host 127.0.0.1 --port "$model_port"
  wait_for "local model" "http://127.0.0.1:$model_port/health" 120 "$logs/model.log"
  edge_vars=(--var "COMPAT_BASE_URL:http://127.0.0.1:$model_port/v1")
else
  say "worker/.dev.vars sets ${real_provider}— using that provider, no local model."
fi

say "building the edge (worker/build.sh)…"
bash worker/build.sh >"$logs/edge-build.log" 2>&1 || { tail -n 40 "$logs/edge-build.log" >&2; die "edge build failed."; }
start "edge (workerd via wrangler dev)" "$logs/edge.log" \
  wrangler dev --config worker/wrangler.toml --ip 127.0.0.1 --port "$edge_port" "${edge_vars[@]}"
wait_for "edge" "http://127.0.0.1:$edge_port/api/config" 120 "$logs/edge.log"

start "app and widget (trunk serve)" "$logs/trunk.log" \
  trunk serve --address 127.0.0.1 --port "$web_port"
say "the first build compiles the app and the widget to wasm: a few minutes once, seconds afterwards."
wait_for "app" "http://127.0.0.1:$web_port/" 900 "$logs/trunk.log"
wait_for "widget" "http://127.0.0.1:$web_port/edge-chat.js" 300 "$logs/trunk.log"

say "ready: open the app at http://127.0.0.1:$web_port/ (the embeddable widget: http://127.0.0.1:$web_port/embed.html) — Ctrl-C stops everything."
# Returns when any service exits; then stop the others rather than leave a half-running stack.
wait -n || true
say "a service exited unexpectedly; logs are in $logs"
cleanup
