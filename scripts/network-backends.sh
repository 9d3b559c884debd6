#!/bin/bash
# Issue 12 groundwork: per-container setup and teardown time of a bridge network with netavark
# (+aardvark-dns) and with the CNI plugins (bridge/host-local + portmap + firewall), N each.
# Everything happens inside a private "host" network namespace (berthnb-host), so no bridge,
# address or firewall rule touches the machine's own interfaces; all of it goes on exit.
# Needs: apt-get install netavark aardvark-dns containernetworking-plugins iptables.
# Usage: scripts/network-backends.sh [N]
set -e
here=$(cd "$(dirname "$0")" && pwd)
cleanup() {
  for n in $(ip netns list | grep -o '^nb\(nv\|cni\)[0-9]*'); do ip netns del "$n"; done
  ip netns del berthnb-host 2>/dev/null || true
  rm -rf /run/berthnb
}
trap cleanup EXIT
ip netns add berthnb-host
ip netns exec berthnb-host bash -c "ip link set lo up; node '$here/network-backends.mjs' ${1:-20}; echo 'left behind in the test namespace:'; ip -br link; echo \"\$(iptables-save | grep -c -- '-A') iptables rules\""
