#!/usr/bin/env bash
# Runs the OCI runtime conformance suite (opencontainers/runtime-tools, validation/) against an
# OCI runtime CLI and prints per-test and total assertion counts. See docs/conformance.md.
#
# usage: scripts/conformance.sh [--smoke] [RUNTIME] [TEST...]
#   RUNTIME  a name on PATH (runc, crun) or a path to an executable, e.g. bin/berth-runtime.js;
#            default runc
#   TEST     validation program names to run (hooks, linux_cgroups_pids, ...); default all
#   --smoke  run only Berth's own lifecycle smoke test (scripts/conformance/smoke), which needs
#            no runtime-tools sources
# environment:
#   RUNTIME_TOOLS_SRC    a runtime-tools checkout (with validation/, cmd/runtimetest, vendor/)
#   CONFORMANCE_CACHE    cache directory (default $XDG_CACHE_HOME/berth-conformance, else
#                        /tmp/berth-conformance): built binaries, rootfs tarball, run reports
#   CONFORMANCE_TIMEOUT  seconds one validation program may run (default 120)
#   CONFORMANCE_NO_APT=1 do not apt-get install missing packages
# Must run as root (the suite creates containers with every namespace and cgroup controller).
# Exit status: 0 when the suite ran (whatever it counted), 2 when it could not run.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
if [ -n "${XDG_CACHE_HOME:-}" ]; then default_cache="$XDG_CACHE_HOME/berth-conformance"
else default_cache=/tmp/berth-conformance; fi
CACHE=${CONFORMANCE_CACHE:-$default_cache}
timeout_s=${CONFORMANCE_TIMEOUT:-120}
packages=(golang-go busybox-static golang-github-opencontainers-runtime-tools-dev tar gzip coreutils)

die() { echo "conformance: $*" >&2; exit 2; }

smoke=0
if [ "${1:-}" = --smoke ]; then smoke=1; shift; fi
runtime_arg=${1:-runc}
[ $# -gt 0 ] && shift
selected=("$@")

[ "$(id -u)" = 0 ] || die "must run as root: the validation programs create real containers"
mkdir -p "$CACHE"
# shellcheck source=conformance/build.sh
. "$here/conformance/build.sh"

# apt-get install only what is missing, so a re-run touches neither the network nor dpkg
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "${CONFORMANCE_NO_APT:-}" = 1 ] && die "missing packages: ${missing[*]} (CONFORMANCE_NO_APT=1)"
  echo "conformance: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends "${missing[@]}" >&2 ||
    { apt-get update >&2 && apt-get install -y --no-install-recommends "${missing[@]}" >&2; } ||
    die "apt-get install ${missing[*]} failed"
fi

# runtime-tools resolves RUNTIME with exec.LookPath: a bare name is searched on PATH, anything
# with a slash is taken as a path. Hand it an absolute path, since the tests change directory.
if [[ $runtime_arg == */* ]]; then
  runtime=$(realpath -e "$runtime_arg" 2>/dev/null) || die "runtime $runtime_arg does not exist"
else
  runtime=$(command -v "$runtime_arg") || die "runtime $runtime_arg is not on PATH"
fi
[ -x "$runtime" ] || die "runtime $runtime is not executable (a script needs chmod +x and a shebang)"

# the bundle rootfs every validation program unpacks; rebuilt when its recipe or busybox changes
rootfs="$CACHE/rootfs-amd64.tar.gz"
if [ ! -s "$rootfs" ] || [ "$here/conformance/rootfs.sh" -nt "$rootfs" ] || [ /bin/busybox -nt "$rootfs" ]; then
  "$here/conformance/rootfs.sh" "$rootfs" || die "cannot build $rootfs"
fi

# tests: "<name> <binary>" lines
tests=()
if [ $smoke = 1 ]; then
  smoke_bin=$(conformance_build_smoke "$here/conformance/smoke") || die "the smoke test does not build"
  tests+=("berth_smoke $smoke_bin")
  bindir=$(dirname "$smoke_bin")
else
  src=$(conformance_find_source) || die "runtime-tools validation sources not found.
  Debian's golang-github-opencontainers-runtime-tools-dev has no validation/ or cmd/runtimetest.
  Put a runtime-tools git checkout (with vendor/) at $CACHE/src/runtime-tools or point
  RUNTIME_TOOLS_SRC at one; or run with --smoke for Berth's own lifecycle check only."
  bindir=$(conformance_build "$src") || die "build failed"
  while read -r name _; do
    if [ -x "$bindir/validation/$name.t" ]; then tests+=("$name $bindir/validation/$name.t")
    else tests+=("$name -"); fi
  done < <(conformance_list_tests "$src")
fi
if [ ${#selected[@]} -gt 0 ]; then
  kept=()
  for t in "${tests[@]}"; do
    for s in "${selected[@]}"; do [ "${t%% *}" = "$s" ] && kept+=("$t"); done
  done
  [ ${#kept[@]} -gt 0 ] || die "no test named ${selected[*]}"
  tests=("${kept[@]}")
fi

run="$CACHE/runs/$(basename "$runtime")-$(date -u +%Y%m%dT%H%M%SZ)-$$"
mkdir -p "$run/tap" "$run/work"
# the validation programs read ./runtimetest and ./rootfs-amd64.tar.gz from their working directory
[ $smoke = 1 ] || cp "$bindir/runtimetest" "$run/work/runtimetest"
cp "$rootfs" "$run/work/rootfs-amd64.tar.gz"

# Containers a test leaves behind (a timeout, a crash before its cleanup) are removed after it;
# only ids that were not there before the suite started are touched. Needs `RUNTIME list -q`.
list_ids() { "$runtime" list -q 2>/dev/null | sort || true; }
before=$(list_ids)

echo "conformance: runtime $runtime, ${#tests[@]} tests, timeout ${timeout_s}s each, results in $run" >&2
total_pass=0 total_fail=0 total_skip=0
: > "$run/failures.txt"
start_all=$(date +%s)
for t in "${tests[@]}"; do
  name=${t%% *} bin=${t#* }
  tap="$run/tap/$name.tap" err="$run/tap/$name.stderr"
  t0=$(date +%s) rc=0
  if [ "$bin" = - ]; then
    echo "not ok 1 - $name does not build (see $bindir/build.log)" > "$tap"; : > "$err"; rc=1
  else
    (cd "$run/work" && RUNTIME="$runtime" timeout --kill-after=10 "$timeout_s" "$bin") \
      > "$tap" 2> "$err" < /dev/null || rc=$?
  fi
  secs=$(( $(date +%s) - t0 ))
  read -r pass fail skip todo planned seen bailed < <(awk -f "$here/conformance/tap-count.awk" "$tap")
  awk -v test="$name" -f "$here/conformance/tap-failures.awk" "$tap" >> "$run/failures.txt"
  # a program that dies, times out or stops short fails once more for what it did not report
  extra=""
  if [ $rc = 124 ] || [ $rc = 137 ]; then extra="timed out after ${timeout_s}s"
  elif [ "$bailed" = 1 ]; then extra="bailed out"
  elif [ "$planned" -gt "$seen" ]; then extra="planned $planned assertions, printed $seen"
  elif [ "$seen" = 0 ] && [ "$planned" != 0 ]; then extra="printed no TAP"
  elif [ $rc != 0 ] && [ "$bin" != - ]; then extra="exited with status $rc"
  fi
  if [ -n "$extra" ]; then
    fail=$((fail + 1))
    echo "$name: not ok - $extra (stderr: $err)" >> "$run/failures.txt"
  fi
  total_pass=$((total_pass + pass)) total_fail=$((total_fail + fail)) total_skip=$((total_skip + skip))
  printf '%-44s %5d pass %4d fail %4d skip %4ds%s\n' "$name" "$pass" "$fail" "$skip" "$secs" \
    "${extra:+  ($extra)}" | tee -a "$run/summary.txt"
  # remove what the test left behind
  for id in $(comm -13 <(echo "$before") <(list_ids)); do
    "$runtime" kill "$id" KILL >/dev/null 2>&1 || true
    "$runtime" delete --force "$id" >/dev/null 2>&1 || "$runtime" delete "$id" >/dev/null 2>&1 || true
  done
done
elapsed=$(( $(date +%s) - start_all ))

{
  echo "runtime: $runtime ($("$runtime" --version 2>/dev/null | head -1 || true))"
  echo "suite: ${src:-berth smoke test}; binaries: $bindir"
  echo "host: $(uname -r); cgroup mounts: $(awk '$3 ~ /^cgroup/ {print $2 "(" $3 ")"}' /proc/self/mounts | tr '\n' ' ')"
  echo "elapsed: ${elapsed}s"
  echo
  cat "$run/summary.txt"
  echo
  echo "failing assertions (with their diagnostics):"
  for t in "${tests[@]}"; do
    awk -v test="${t%% *}" -v full=1 -f "$here/conformance/tap-failures.awk" "$run/tap/${t%% *}.tap"
  done
  grep -v ': not ok [0-9]' "$run/failures.txt" || true
  echo
  echo "$total_pass passed, $total_fail failed, $total_skip skipped"
} > "$run/report.txt"
ln -sfn "$run" "$CACHE/runs/latest-$(basename "$runtime")"

echo
echo "failing assertions ($(wc -l < "$run/failures.txt")):"
cat "$run/failures.txt"
echo
echo "report: $run/report.txt (took ${elapsed}s)"
if [ "$total_skip" -gt 0 ]; then echo "$total_pass passed, $total_fail failed, $total_skip skipped"
else echo "$total_pass passed, $total_fail failed"; fi
