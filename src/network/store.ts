/**
 * The engine's networks on disk, daemonless like the containers (engine/store.ts): every command
 * reads and writes them under the data root, holding one lock for all networks while it changes
 * them (creating, removing, and handing out addresses are rare and quick).
 *
 *   <data-root>/networks/lock                 the lock (util/lock.ts)
 *   <data-root>/networks/<id>/network.json    the network: Docker's `network inspect` fields
 *   <data-root>/networks/<id>/leases.json     its endpoints: container id → address, MAC, name, aliases
 *
 * Docker's built-in `host` and `none` are not stored (they are namespace modes, engine/namespaces.ts);
 * its default `bridge` is, made the first time it is needed (defaultBridge).
 *
 * Addresses are handed out here, not by the backend (netavark takes them as static addresses,
 * as Podman gives them): the first free address of the subnet (or --ip-range), or --ip.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../util/atomic.js';
import { BerthError, errnoCode } from '../util/errors.js';
import { lockDirAsync } from '../util/lock.js';
import { allocateIp, cidrContains, cidrInside, cidrsOverlap, firstHost, formatCidr, formatIp, parseCidr, parseIp, pickSubnet, type Cidr } from './ipv4.js';

/** A network as `docker network inspect` prints it (Containers is added from the leases). */
export interface NetworkRecord {
  Name: string;
  Id: string;
  Created: string;
  Scope: 'local';
  Driver: 'bridge';
  EnableIPv6: boolean;
  IPAM: { Driver: 'default'; Options: Record<string, string>; Config: { Subnet: string; Gateway: string; IPRange?: string }[] };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

/** One container's endpoint on a network. */
export interface Lease {
  Name: string;
  IPv4Address: string;
  MacAddress: string;
  Aliases: string[];
  Since: string;
}

/** Docker's names of the default network and of the two namespace modes that look like networks. */
export const DEFAULT_BRIDGE = 'bridge';
export const PREDEFINED = ['bridge', 'host', 'none'] as const;

/** Docker's bridge options (`-o`), the only ones Berth takes. */
export const OPT_BRIDGE_NAME = 'com.docker.network.bridge.name';
export const OPT_MTU = 'com.docker.network.driver.mtu';
const KNOWN_OPTIONS = [OPT_BRIDGE_NAME, OPT_MTU];

/** The interface name of the default bridge (Docker's is docker0). */
export const DEFAULT_BRIDGE_INTERFACE = 'berth0';

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
/** Linux interface names: at most 15 bytes, no '/', ':' or whitespace. */
const IFNAME_RE = /^[a-zA-Z0-9_.-]{1,15}$/;

/** What `network create` asks for (Docker's flags). */
export interface NetworkCreateOptions {
  name: string;
  driver?: string;
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  internal?: boolean;
  labels?: Record<string, string>;
  options?: Record<string, string>;
  /** The host's routes: an automatic subnet overlaps none of them (ipv4.ts routesFromProcNetRoute). */
  hostRoutes?: readonly Cidr[];
  /** Making the default `bridge` itself (its name is otherwise reserved, as Docker's). */
  builtin?: boolean;
}

/** The parsed addressing of a network. */
export interface NetworkAddressing {
  subnet: Cidr;
  gateway: number;
  range?: Cidr;
  prefix: number;
}

/** The address plan of a stored network. */
export function addressing(n: NetworkRecord): NetworkAddressing {
  const c = n.IPAM.Config[0]!;
  const subnet = parseCidr(c.Subnet, 'subnet');
  return { subnet, gateway: parseIp(c.Gateway)!, range: c.IPRange ? parseCidr(c.IPRange, 'ip-range') : undefined, prefix: subnet.prefix };
}

/** The bridge interface of a network. */
export function bridgeName(n: NetworkRecord): string {
  return n.Options[OPT_BRIDGE_NAME] || (n.Name === DEFAULT_BRIDGE ? DEFAULT_BRIDGE_INTERFACE : `br-${n.Id.slice(0, 12)}`);
}

/** Whether containers on `n` find each other by name (Docker: every network but the default bridge). */
export function dnsEnabled(n: NetworkRecord): boolean {
  return n.Name !== DEFAULT_BRIDGE;
}

/** The networks of one data root. */
export class NetworkStore {
  constructor(readonly dataRoot: string) {}

  get dir(): string { return join(this.dataRoot, 'networks'); }
  private netDir(id: string): string { return join(this.dir, id); }

  /** Run `fn` holding the networks' lock. */
  async locked<T>(fn: () => T | Promise<T>): Promise<T> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const release = await lockDirAsync(this.dir);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** Every stored network, oldest first. */
  all(): NetworkRecord[] {
    let ids: string[];
    try { ids = readdirSync(this.dir); } catch { return []; }
    const out: NetworkRecord[] = [];
    for (const id of ids) {
      if (!/^[0-9a-f]{64}$/.test(id)) continue;
      try { out.push(JSON.parse(readFileSync(join(this.netDir(id), 'network.json'), 'utf8')) as NetworkRecord); } catch (err) {
        if (errnoCode(err) !== 'ENOENT') throw err;
      }
    }
    return out.sort((a, b) => a.Created.localeCompare(b.Created));
  }

  /** Find a network as Docker does: full id, exact name, then a unique id prefix. */
  find(ref: string): NetworkRecord {
    const all = this.all();
    const hit = all.find((n) => n.Id === ref) ?? all.find((n) => n.Name === ref);
    if (hit) return hit;
    if (/^[0-9a-f]+$/.test(ref)) {
      const m = all.filter((n) => n.Id.startsWith(ref));
      if (m.length === 1) return m[0]!;
      if (m.length > 1) throw new BerthError('EINVALID_ARG', `network ${ref} is ambiguous (${m.length} matches found on id prefix): use more characters`);
    }
    throw new BerthError('ENOT_FOUND', `network ${ref} not found`);
  }

  /** find, or undefined. */
  get(ref: string): NetworkRecord | undefined {
    try { return this.find(ref); } catch (err) { if ((err as BerthError).code === 'ENOT_FOUND') return undefined; throw err; }
  }

  /** Create a network (the caller holds the lock). Docker's checks and errors. */
  create(o: NetworkCreateOptions): NetworkRecord {
    const driver = o.driver ?? 'bridge';
    if (driver !== 'bridge') throw new BerthError('EUNSUPPORTED', `invalid --driver ${JSON.stringify(driver)}: Berth has the bridge driver only`);
    if (!NAME_RE.test(o.name)) throw new BerthError('EINVALID_ARG', `invalid network name ${JSON.stringify(o.name)}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    const all = this.all();
    if (((PREDEFINED as readonly string[]).includes(o.name) && !o.builtin) || all.some((n) => n.Name === o.name)) {
      throw new BerthError('EEXISTS', `network with name ${o.name} already exists`);
    }
    for (const k of Object.keys(o.options ?? {})) {
      if (!KNOWN_OPTIONS.includes(k)) throw new BerthError('EINVALID_ARG', `invalid -o ${JSON.stringify(k)}: Berth's bridge takes ${KNOWN_OPTIONS.join(' and ')}`);
    }
    const opts = { ...o.options };
    if (opts[OPT_MTU] !== undefined && !(/^\d+$/.test(opts[OPT_MTU]) && Number(opts[OPT_MTU]) >= 68 && Number(opts[OPT_MTU]) <= 65535)) {
      throw new BerthError('EINVALID_ARG', `invalid -o ${OPT_MTU}=${JSON.stringify(opts[OPT_MTU])}: use a number from 68 to 65535`);
    }
    if (opts[OPT_BRIDGE_NAME] !== undefined) {
      if (!IFNAME_RE.test(opts[OPT_BRIDGE_NAME])) throw new BerthError('EINVALID_ARG', `invalid -o ${OPT_BRIDGE_NAME}=${JSON.stringify(opts[OPT_BRIDGE_NAME])}: an interface name is 1 to 15 of [a-zA-Z0-9_.-]`);
      const clash = all.find((n) => bridgeName(n) === opts[OPT_BRIDGE_NAME]);
      if (clash) throw new BerthError('EEXISTS', `bridge name ${opts[OPT_BRIDGE_NAME]} is already used by network ${clash.Name}`);
    }
    if (!o.subnet && (o.gateway || o.ipRange)) throw new BerthError('EINVALID_ARG', 'every ip-range or gateway must have a corresponding subnet: add --subnet');
    const taken = all.map((n) => addressing(n).subnet);
    let subnet: Cidr;
    if (o.subnet) {
      subnet = parseCidr(o.subnet, '--subnet');
      const clash = all.find((n) => cidrsOverlap(addressing(n).subnet, subnet));
      if (clash) throw new BerthError('EEXISTS', `invalid --subnet ${o.subnet}: it overlaps ${clash.IPAM.Config[0]!.Subnet} of network ${clash.Name} (pool overlaps with other one on this address space)`);
    } else {
      const free = pickSubnet([...taken, ...(o.hostRoutes ?? [])]);
      if (!free) throw new BerthError('EUNSUPPORTED', 'could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network: give one with --subnet');
      subnet = free;
    }
    let gateway = firstHost(subnet);
    if (o.gateway) {
      const g = parseIp(o.gateway);
      if (g === undefined) throw new BerthError('EINVALID_ARG', `invalid --gateway ${JSON.stringify(o.gateway)}: use an IPv4 address inside the subnet`);
      if (!cidrContains(subnet, g) || g === subnet.addr || g === lastAddress(subnet)) throw new BerthError('EINVALID_ARG', `no matching subnet for gateway ${o.gateway}: it must be a host address of ${formatCidr(subnet)}`);
      gateway = g;
    }
    let range: Cidr | undefined;
    if (o.ipRange) {
      range = parseCidr(o.ipRange, '--ip-range');
      if (!cidrInside(range, subnet)) throw new BerthError('EINVALID_ARG', `no matching subnet for range ${o.ipRange}: it must lie inside ${formatCidr(subnet)}`);
    }
    const id = randomBytes(32).toString('hex');
    const rec: NetworkRecord = {
      Name: o.name, Id: id, Created: new Date().toISOString(), Scope: 'local', Driver: 'bridge', EnableIPv6: false,
      IPAM: { Driver: 'default', Options: {}, Config: [{ Subnet: formatCidr(subnet), Gateway: formatIp(gateway), ...(range ? { IPRange: formatCidr(range) } : {}) }] },
      Internal: o.internal ?? false, Attachable: false, Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false,
      Options: opts, Labels: { ...o.labels },
    };
    mkdirSync(this.netDir(id), { recursive: true, mode: 0o700 });
    writeFileAtomicSync(join(this.netDir(id), 'network.json'), JSON.stringify(rec, null, 1));
    return rec;
  }

  /** The default `bridge` network, made on first use (the caller holds the lock). */
  defaultBridge(hostRoutes: readonly Cidr[]): NetworkRecord {
    return this.get(DEFAULT_BRIDGE) ?? this.create({ name: DEFAULT_BRIDGE, hostRoutes, builtin: true });
  }

  /** Remove a stored network and its leases (the caller holds the lock and checked it is unused). */
  remove(n: NetworkRecord): void {
    rmSync(this.netDir(n.Id), { recursive: true, force: true });
  }

  /** The network's endpoints, container id → lease. */
  leases(n: NetworkRecord): Record<string, Lease> {
    try {
      return JSON.parse(readFileSync(join(this.netDir(n.Id), 'leases.json'), 'utf8')) as Record<string, Lease>;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return {};
      throw err;
    }
  }

  /** Replace the network's leases (the caller holds the lock). */
  saveLeases(n: NetworkRecord, leases: Record<string, Lease>): void {
    writeFileAtomicSync(join(this.netDir(n.Id), 'leases.json'), JSON.stringify(leases, null, 1));
  }

  /**
   * Give container `id` an address on `n` (the caller holds the lock): `ip` if asked (--ip: inside
   * the subnet, not the gateway, not taken), else the first free one. A lease the container already
   * holds is replaced.
   */
  lease(n: NetworkRecord, id: string, want: Omit<Lease, 'IPv4Address' | 'Since'> & { ip?: string }): Lease {
    const leases = this.leases(n);
    delete leases[id];
    const a = addressing(n);
    const used = new Set(Object.values(leases).map((l) => parseIp(l.IPv4Address)!));
    let ip: number | undefined;
    if (want.ip) {
      ip = checkStaticIp(n, want.ip);
      if (used.has(ip)) {
        const holder = Object.entries(leases).find(([, l]) => l.IPv4Address === want.ip)!;
        throw new BerthError('EEXISTS', `address ${want.ip} on network ${n.Name} is already in use by container ${holder[1].Name}`);
      }
    } else {
      ip = allocateIp(a.subnet, a.range, a.gateway, used);
      if (ip === undefined) throw new BerthError('EUNSUPPORTED', `no available IPv4 addresses on network ${n.Name} (${formatCidr(a.range ?? a.subnet)})`);
    }
    const lease: Lease = { Name: want.Name, IPv4Address: formatIp(ip), MacAddress: want.MacAddress, Aliases: want.Aliases, Since: new Date().toISOString() };
    leases[id] = lease;
    this.saveLeases(n, leases);
    return lease;
  }

  /** Drop container `id`'s lease on `n` (the caller holds the lock); true if it had one. */
  release(n: NetworkRecord, id: string): boolean {
    const leases = this.leases(n);
    if (!(id in leases)) return false;
    delete leases[id];
    this.saveLeases(n, leases);
    return true;
  }
}

/** --ip on network `n`: a host address of its subnet, not its gateway (Docker checks it at create). */
export function checkStaticIp(n: NetworkRecord, text: string): number {
  const a = addressing(n);
  const ip = parseIp(text);
  if (ip === undefined || !cidrContains(a.subnet, ip) || ip === a.subnet.addr || ip === lastAddress(a.subnet) || ip === a.gateway) {
    throw new BerthError('EINVALID_ARG', `invalid --ip ${JSON.stringify(text)}: use a free host address of network ${n.Name}'s subnet ${formatCidr(a.subnet)} other than its gateway ${formatIp(a.gateway)}`);
  }
  return ip;
}

function lastAddress(c: Cidr): number {
  return (c.addr + 2 ** (32 - c.prefix) - 1) >>> 0;
}
