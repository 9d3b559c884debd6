/**
 * Which host ports are taken, read from /proc/net (the caller's network namespace: where the
 * forwards are made). A published port is a firewall rule, not a socket, so nothing would stop
 * a second container or a host service from claiming the same port: Berth checks here, and
 * against the ports its own containers hold (attach.ts), before the backend is called.
 */
import { readFileSync } from 'node:fs';
import type { PortProto } from './ports.js';

/** Local ports bound for `proto` on `hostIp` ('' = any address), listening (tcp) or bound (udp). */
export function boundPorts(proto: PortProto, hostIp: string): Set<number> {
  const out = new Set<number>();
  if (proto === 'sctp') return out;
  for (const file of [`/proc/net/${proto}`, `/proc/net/${proto}6`]) {
    let text = '';
    try { text = readFileSync(file, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 4) continue;
      const [addrHex, portHex] = f[1]!.split(':');
      if (proto === 'tcp' && f[3] !== '0A') continue; // LISTEN
      const anyAddr = /^0+$/.test(addrHex!);
      if (hostIp && !anyAddr && !sameAddress(addrHex!, hostIp)) continue;
      out.add(parseInt(portHex!, 16));
    }
  }
  return out;
}

/** /proc/net's little-endian hex IPv4 ("0100007F") against a dotted quad; IPv6 is compared as taken. */
function sameAddress(hex: string, ip: string): boolean {
  if (hex.length !== 8) return true;
  const bytes = [hex.slice(6, 8), hex.slice(4, 6), hex.slice(2, 4), hex.slice(0, 2)].map((b) => parseInt(b, 16));
  return bytes.join('.') === ip;
}

/** The kernel's ephemeral port range (Docker picks random host ports from it too). */
export function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (lo && hi && lo <= hi) return [lo, hi];
  } catch { /* default below */ }
  return [32768, 60999];
}
