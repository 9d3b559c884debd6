#!/usr/bin/env bash
# Builds the root filesystem tarball that runtime-tools' validation programs unpack into every
# bundle they create: util.PrepareBundle runs `tar -xf rootfs-$GOARCH.tar.gz -C <bundle>` in the
# current directory, then copies ./runtimetest into the bundle and runs it as the container process.
#
# Upstream ships a tarball made from Gentoo's stage3 busybox (contrib/rootfs-builder); we make the
# same shape from Debian's busybox-static: a static busybox in /bin with one symlink per applet,
# the empty mount points the tests mount over, and minimal /etc/passwd and /etc/group (some tests
# set process.user and the runtimes resolve nothing from them, but `id` and `ls -l` read them).
#
# usage: rootfs.sh OUT.tar.gz
set -euo pipefail

out=${1:?usage: rootfs.sh OUT.tar.gz}
busybox=/bin/busybox
if ! dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed'; then
  # the dynamic busybox (package busybox) would fail inside the container, whose rootfs has no libc
  echo "rootfs: busybox-static is not installed; the rootfs needs a static $busybox" >&2
  exit 1
fi
stage=$(mktemp -d "${TMPDIR:-/tmp}/berth-rootfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT

chmod 0755 "$stage"
mkdir -p "$stage"/{bin,sbin,dev,etc,home,lib,proc,root,run,sys,tmp,usr/bin,usr/sbin,var/tmp}
chmod 1777 "$stage/tmp" "$stage/var/tmp"
chmod 0700 "$stage/root"
install -m 0755 "$busybox" "$stage/bin/busybox"
# relative symlinks so they resolve inside the container's root
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] && continue
  ln -sf busybox "$stage/bin/$applet"
done
cat > "$stage/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat > "$stage/etc/group" <<'GROUP'
root:x:0:
daemon:x:1:
nogroup:x:65534:
GROUP
: > "$stage/etc/hostname"
: > "$stage/etc/hosts"
: > "$stage/etc/resolv.conf"

tmp_out="$out.tmp.$$"
# numeric owner root:root so the tarball is the same whoever builds it
tar --numeric-owner --owner=0 --group=0 -czf "$tmp_out" -C "$stage" .
mv -f "$tmp_out" "$out"
