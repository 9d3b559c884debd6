#!/usr/bin/env bash
# Finds and builds the runtime-tools validation suite, offline. Sourced by scripts/conformance.sh;
# expects $CACHE (the cache directory) to be set.
#
# What the suite needs, from a runtime-tools source tree (github.com/opencontainers/runtime-tools):
#   validation/<name>/<name>.go  one TAP-emitting Go program per test (`go build -o <name>.t`)
#   validation/util/             shared code: bundle setup, the runtime CLI driver, cgroup readers
#   cmd/runtimetest/             the program copied into every bundle and run as the container
#                                process; it checks the spec from inside and prints most of the TAP
#   vendor/                      upstream's vendored dependencies, among them mndrix/tap-go and
#                                google/uuid, which Debian does not package
# Debian's golang-github-opencontainers-runtime-tools-dev ships only the library packages
# (generate, validate, specerror, ...) without validation/, cmd/ or vendor/, and the Debian mirror
# as reached from here serves no source tarballs, so the tree has to be supplied: a git checkout
# (with its vendor/) at $RUNTIME_TOOLS_SRC or $CACHE/src/runtime-tools. With vendor/ the build is
# in module mode with -mod=vendor; without it, in GOPATH mode over Debian's /usr/share/gocode.

# Prints the first runtime-tools tree that has the validation sources, or nothing.
conformance_find_source() {
  local candidate
  for candidate in "${RUNTIME_TOOLS_SRC:-}" "$CACHE/src/runtime-tools" \
    /usr/share/gocode/src/github.com/opencontainers/runtime-tools; do
    [ -n "$candidate" ] || continue
    if [ -d "$candidate/validation/util" ] && [ -d "$candidate/cmd/runtimetest" ]; then
      printf '%s\n' "$(cd "$candidate" && pwd -P)"
      return 0
    fi
  done
  return 1
}

# Prints a key for the source tree and toolchain: a rebuild happens only when either changed.
conformance_source_key() {
  local src=$1
  {
    go version
    (cd "$src" && find . -type f \( -name '*.go' -o -name go.mod -o -name go.sum -o -name modules.txt \) \
      -not -path './.git/*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -c1-16
}

# Lists the validation programs of a tree as "<name> <relative .go path>", one a line. Upstream's
# Makefile builds every validation/**/*.go outside util/ into a sibling .t; the name is the
# program's directory (validation/hooks/hooks.go -> hooks), or the file stem for the old flat
# layout (validation/hooks.go -> hooks).
conformance_list_tests() {
  local src=$1 rel dir base
  (cd "$src" && find validation -name '*.go' -not -name '*_test.go' -not -path 'validation/util/*' | LC_ALL=C sort) |
    while read -r rel; do
      dir=$(dirname "$rel")
      base=$(basename "$rel" .go)
      if [ "$dir" = validation ] || [ "$(basename "$dir")" = "$base" ]; then
        printf '%s %s\n' "$base" "$rel"
      else
        printf '%s %s\n' "$(basename "$dir")_$base" "$rel"
      fi
    done
}

# Builds runtimetest and every validation program into $CACHE/build/<key>, unless that build is
# already complete. Prints the build directory. A program that does not compile is recorded in
# build-failures.txt there (and reported as a failed test) instead of stopping the others.
conformance_build() {
  local src=$1 key bindir work mode name rel log
  key=$(conformance_source_key "$src")
  bindir="$CACHE/build/$key"
  if [ -f "$bindir/.complete" ]; then
    printf '%s\n' "$bindir"
    return 0
  fi
  rm -rf "$bindir"
  mkdir -p "$bindir/validation"
  # A private, writable copy at its import path: GOPATH mode needs the path, and the build must
  # not write into a tree that may be read-only (/usr/share/gocode) or someone else's checkout.
  work="$CACHE/gopath/src/github.com/opencontainers/runtime-tools"
  rm -rf "$work"
  mkdir -p "$(dirname "$work")"
  cp -a "$src" "$work"
  rm -rf "$work/.git"

  export GOCACHE="$CACHE/go-build" GOPROXY=off GOSUMDB=off GOTOOLCHAIN=local GOFLAGS=
  if [ -f "$work/go.mod" ] && [ -f "$work/vendor/modules.txt" ]; then
    mode=vendor
    export GO111MODULE=on GOFLAGS=-mod=vendor
  else
    mode=gopath
    export GO111MODULE=off GOPATH="$CACHE/gopath:/usr/share/gocode"
  fi
  echo "conformance: building runtime-tools validation from $src ($mode mode) into $bindir" >&2
  log="$bindir/build.log"
  : > "$bindir/build-failures.txt"
  # runtimetest runs inside the busybox rootfs, which has no libc: it must be static
  if ! (cd "$work" && CGO_ENABLED=0 go build -tags 'netgo osusergo' -o "$bindir/runtimetest" \
    ./cmd/runtimetest) >>"$log" 2>&1; then
    echo "conformance: runtimetest does not build; see $log" >&2
    tail -20 "$log" >&2
    return 1
  fi
  while read -r name rel; do
    if ! (cd "$work" && go build -o "$bindir/validation/$name.t" "./$rel") >>"$log" 2>&1; then
      echo "$name" >> "$bindir/build-failures.txt"
      echo "conformance: $rel does not build; see $log" >&2
    fi
  done < <(conformance_list_tests "$work")
  touch "$bindir/.complete"
  printf '%s\n' "$bindir"
}

# Builds Berth's own lifecycle smoke test (scripts/conformance/smoke) against Debian's packaged
# runtime-tools libraries. Prints the binary's path.
conformance_build_smoke() {
  local dir=$1 key out
  key=$( { go version; cat "$dir/main.go"; } | sha256sum | cut -c1-16)
  out="$CACHE/build/smoke-$key/berth-smoke"
  if [ ! -x "$out" ]; then
    mkdir -p "$(dirname "$out")"
    (cd "$dir" && GOCACHE="$CACHE/go-build" GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off \
      GOFLAGS= go build -o "$out" ./main.go) >&2 || return 1
  fi
  printf '%s\n' "$out"
}
