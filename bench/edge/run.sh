#!/usr/bin/env bash
# Edge benchmark: builds the edge if its sources changed (tests/support/edge.mjs does that), then prints latency,
# per-event hold-back, 1,000-stream and wasm size figures against a baseline measured in the same run.
#   bench/edge/run.sh [--quick] [--samples N] [--rounds N] [--streams N] [--cadence MS] [--json] [--clients one|distinct]
#   (all options: the header of bench/edge/run.mjs)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
# shellcheck source=scripts/env.sh
source scripts/env.sh
exec node bench/edge/run.mjs "$@"
