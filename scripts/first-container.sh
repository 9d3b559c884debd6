#!/usr/bin/env bash
# Your first Berth containers, from nothing: installs what is missing (busybox-static from Debian,
# the npm packages and the build), makes an OCI bundle with a busybox root filesystem, and runs
# it with berth-runtime under a 64 MiB memory limit and a 64-process limit, then runs a command
# with the berth engine on the host's own system directories. Run it as root.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then echo "first-container.sh: run me as root (containers need namespaces and cgroups)" >&2; exit 1; fi
if [ ! -x /bin/busybox ] || ! file -L /bin/busybox 2>/dev/null | grep -q static; then
  apt-get install -y --no-install-recommends busybox-static >/dev/null
fi
[ -f dist/src/cli/runtime/main.js ] && [ -x native/build/berth-helper ] || npm ci --no-audit --no-fund

bundle=$(mktemp -d /tmp/berth-first-XXXXXX)
trap 'rm -rf "$bundle"' EXIT
mkdir -p "$bundle/rootfs/bin"
cp /bin/busybox "$bundle/rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do [ "$applet" = busybox ] || ln -sf busybox "$bundle/rootfs/bin/$applet"; done
(cd "$bundle" && node "$OLDPWD/bin/berth-runtime.js" spec)
node -e '
  const fs = require("fs"); const f = process.argv[1]; const s = JSON.parse(fs.readFileSync(f));
  s.process.terminal = false;
  s.process.args = ["sh", "-c", "echo hello from a berth container: $(hostname), pid $$, $(id); cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max"];
  s.linux.resources = { ...s.linux.resources, memory: { limit: 64 * 1024 * 1024 }, pids: { limit: 64 } };
  fs.writeFileSync(f, JSON.stringify(s, null, 2));
' "$bundle/config.json"
node bin/berth-runtime.js run --bundle "$bundle" "berth-first-$$"
# The engine needs no image at all: the host's own system directories, read-only. --network none:
# this script makes no bridge on your machine (without it the container is on Docker's default
# bridge network, which needs netavark and aardvark-dns: docs/networking.md).
node bin/berth.js run --rm --network none --memory 64m -- sh -c 'echo hi'
