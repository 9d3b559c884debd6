/**
 * IPv4 addresses and networks for Berth's bridge networks: parsing `--subnet`, `--ip-range`,
 * `--gateway` and `--mac-address`, choosing a free subnet from Docker's default address pools (as
 * `docker network create` does when no `--subnet` is given) and a free address for a container.
 * Pure: the host's routes come in as the text of /proc/net/route.
 *
 * Addresses are unsigned 32-bit numbers (10.1.0.1 is 0x0a010001), so a network test is a mask and
 * a compare. IPv6 networks are out of scope for now: IPv6 input is an error that says so.
 */
import { isIPv6 } from 'node:net';
import { BerthError } from '../util/errors.js';

/** An IPv4 network: its address as an unsigned 32-bit number and the prefix length. */
export interface Cidr { addr: number; prefix: number }

/** The netmask of a prefix length as a uint32 (/0 is 0: JavaScript shifts count mod 32). */
const mask = (prefix: number) => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);

/** The last address of a network (its broadcast address). */
const lastIp = (c: Cidr) => (c.addr | ~mask(c.prefix)) >>> 0;

/** A dotted quad as a uint32 (`10.1.0.1` → 0x0a010001), or undefined: no leading zeros, spaces or other forms. */
export function parseIp(s: string): number | undefined {
  const m = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/.exec(s);
  if (!m) return undefined;
  const bytes = m.slice(1).map(Number);
  if (bytes.some((b) => b > 255)) return undefined;
  return bytes.reduce((n, b) => n * 256 + b, 0);
}

/** A uint32 as a dotted quad (0x0a010001 → `10.1.0.1`). */
export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
}

/**
 * `10.1.0.0/16` → { addr: 0x0a010000, prefix: 16 }. `what` names the flag in errors (`--subnet`).
 * As in Docker, host bits set are an error that names the network meant; the prefix must be 1…30,
 * leaving room for a gateway and a container.
 */
export function parseCidr(s: string, what: string): Cidr {
  const bad = (why: string) => new BerthError('EINVALID_ARG', `invalid ${what} ${JSON.stringify(s)}: ${why}`);
  const slash = s.indexOf('/');
  const ipText = slash < 0 ? s : s.slice(0, slash);
  if (isIPv6(ipText)) throw bad('IPv6 networks are not supported yet: use an IPv4 network such as 10.1.0.0/16');
  const addr = parseIp(ipText);
  const prefixText = s.slice(slash + 1);
  if (slash < 0 || addr === undefined || !/^(0|[1-9]\d?)$/.test(prefixText)) throw bad('use an IPv4 network in CIDR form such as 10.1.0.0/16');
  const prefix = Number(prefixText);
  if (prefix < 1 || prefix > 30) throw bad(`prefix length ${prefix} is out of range: use 1 to 30`);
  const net = (addr & mask(prefix)) >>> 0;
  if (net !== addr) throw bad(`host bits are set: use ${formatCidr({ addr: net, prefix })}`);
  return { addr, prefix };
}

/** `10.1.0.0/16`. */
export function formatCidr(c: Cidr): string {
  return `${formatIp(c.addr)}/${c.prefix}`;
}

/** Whether `ip` is in network `c`. */
export function cidrContains(c: Cidr, ip: number): boolean {
  const m = mask(c.prefix);
  return ((ip & m) >>> 0) === ((c.addr & m) >>> 0);
}

/** Whether every address of `inner` is in `outer` (a network is inside itself). */
export function cidrInside(inner: Cidr, outer: Cidr): boolean {
  return inner.prefix >= outer.prefix && cidrContains(outer, inner.addr);
}

/** Whether two networks share an address. Networks nest or are disjoint, so one holds the other's start. */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return cidrContains(a, b.addr) || cidrContains(b, a.addr);
}

/** The default gateway of a subnet: its first usable address (10.1.0.1 for 10.1.0.0/16). */
export function firstHost(c: Cidr): number {
  return (((c.addr & mask(c.prefix)) >>> 0) + 1) >>> 0;
}

/**
 * The first free address for a container: inside `range` (an --ip-range, default the subnet), never the
 * network or broadcast address of `subnet`, never the gateway, never one in `used`. undefined when full
 * (or when `range` lies outside `subnet`).
 */
export function allocateIp(subnet: Cidr, range: Cidr | undefined, gateway: number, used: ReadonlySet<number>): number | undefined {
  // Two networks nest or are disjoint: the addresses to try are the smaller one when they nest.
  const r = range === undefined || cidrInside(subnet, range) ? subnet : cidrInside(range, subnet) ? range : undefined;
  if (r === undefined) return undefined;
  const network = (subnet.addr & mask(subnet.prefix)) >>> 0, broadcast = lastIp(subnet);
  for (let ip = (r.addr & mask(r.prefix)) >>> 0, end = lastIp(r); ip <= end; ip++) {
    if (ip !== network && ip !== broadcast && ip !== gateway && !used.has(ip)) return ip;
  }
  return undefined;
}

/** Docker's default address pools: 172.17.0.0/16 … 172.31.0.0/16 (each a /16), then 192.168.0.0/16 cut into /20s. */
export const DEFAULT_POOLS: readonly Cidr[] = Object.freeze([
  ...Array.from({ length: 15 }, (_, i) => ({ addr: (((172 << 24) | ((17 + i) << 16)) >>> 0), prefix: 16 })),
  ...Array.from({ length: 16 }, (_, i) => ({ addr: (((192 << 24) | (168 << 16) | (i << 12)) >>> 0), prefix: 20 })),
].map((c) => Object.freeze(c)));

/** The first pool that overlaps none of `taken` (existing networks' subnets and the host's routes), as a new object. */
export function pickSubnet(taken: readonly Cidr[], pools: readonly Cidr[] = DEFAULT_POOLS): Cidr | undefined {
  const pool = pools.find((p) => !taken.some((t) => cidrsOverlap(p, t)));
  return pool && { addr: pool.addr, prefix: pool.prefix };
}

/**
 * The networks of the routes in the text of /proc/net/route (the main table: a header line, then
 * one tab-separated row per route with Destination in column 2 and Mask in column 8, each 8 hex
 * digits of the address in host byte order, i.e. little-endian on the hosts Berth runs on:
 * `0000A8C0` is 192.168.0.0). The default route (0.0.0.0/0) and rows that do not parse are skipped.
 */
export function routesFromProcNetRoute(text: string): Cidr[] {
  const le = (hex: string) => (hex.match(/../g) ?? []).reverse().reduce((n, b) => n * 256 + parseInt(b, 16), 0);
  const routes: Cidr[] = [];
  for (const line of text.split('\n')) {
    const cols = line.trim().split(/\s+/);
    const dest = cols[1], m = cols[7];
    if (!dest || !m || !/^[0-9a-f]{8}$/i.test(dest) || !/^[0-9a-f]{8}$/i.test(m)) continue;
    const bits = le(m);
    const prefix = bits.toString(2).replace(/0+$/, '').length;
    if (bits !== mask(prefix) || prefix === 0) continue; // non-contiguous mask, or the default route
    routes.push({ addr: (le(dest) & bits) >>> 0, prefix });
  }
  return routes;
}

/**
 * A `--mac-address`: six colon-separated hex bytes, unicast (the lowest bit of the first byte,
 * the multicast bit, clear) and not all zero. Returns it lower-cased: `02:42:AC:11:00:02` → `02:42:ac:11:00:02`.
 */
export function parseMac(s: string): string {
  const bad = (why: string) => new BerthError('EINVALID_ARG', `invalid --mac-address ${JSON.stringify(s)}: ${why}`);
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(s)) throw bad('use six colon-separated hex bytes such as 02:42:ac:11:00:02');
  const mac = s.toLowerCase();
  if (parseInt(mac.slice(0, 2), 16) & 1) throw bad('it is a multicast address (the lowest bit of the first byte is set): use a unicast one such as 02:42:ac:11:00:02');
  if (mac === '00:00:00:00:00:00') throw bad('the all-zero address is not usable: use one such as 02:42:ac:11:00:02');
  return mac;
}
