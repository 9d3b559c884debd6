#!/usr/bin/env bash
# cgroup-lifecycle on a cgroup v2 kernel: runs `node dist/bench/run.js cgroup-lifecycle` in the
# throwaway cgroup v2 VM (../shared/tools/v2vm, or $V2VM). Build first (npm run build).
#   bash bench/v2.sh [-n N] [--warmup W] [--gaps 0,200] [--json]
# The VM emulates its CPU (TCG, ~10x slower than the host), so compare steps with each other,
# not with the host's absolute figures. Run one VM at a time on a 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
V2VM=${V2VM:-$(pwd -P)/../shared/tools/v2vm}
if [ ! -x "$V2VM" ]; then
  echo "bench/v2.sh: $V2VM not found: set V2VM to the v2vm script" >&2
  exit 2
fi
if [ ! -f dist/bench/run.js ]; then
  echo "bench/v2.sh: dist/bench/run.js missing: run npm run build first" >&2
  exit 2
fi
exec "$V2VM" --timeout 1200 -- node dist/bench/run.js cgroup-lifecycle "$@"
