/**
 * A container's networks, from its start to its end: addresses leased (store.ts), a network
 * namespace made (netns.ts), the backend called (netavark.ts); and all of it undone when the
 * container stops, is removed, or was lost in a crash.
 *
 * What was set up is written down before the backend is called, in
 *   <data-root>/networks/attached/<container id>.json
 * (the netavark options, the namespace path, the ports), so that whatever kills Berth midway — a
 * killed `berth`, a killed monitor, a reboot that emptied /run — the next command that reconciles
 * (any start on a network, `network prune`, `network rm`, `container prune`) can undo it: a
 * container that is no longer alive (the engine's `isLive`) loses its endpoints.
 *
 *   <run dir>/netns/<container id>    its network namespace (run dir: <runtime root>/.network)
 *   <run dir>/netavark/               netavark's and aardvark-dns's own state (DNS entries, locks)
 *
 * Each file remembers the network namespace of the Berth that made it: the bridge, firewall rules
 * and forwards live there, so only a Berth in that same namespace undoes them (another one, e.g. a
 * test's engine in its own namespace sharing nothing but the machine, leaves them alone).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../util/atomic.js';
import { BerthError, errnoCode } from '../util/errors.js';
import { boundPorts, ephemeralRange } from './host-ports.js';
import { formatIp, routesFromProcNetRoute } from './ipv4.js';
import { netavarkSetup, netavarkTeardown, type NetavarkOptions } from './netavark.js';
import { addNetns, pinOwnNetns, removeNetns } from './netns.js';
import type { PortMapping, PortProto } from './ports.js';
import { addressing, bridgeName, DEFAULT_BRIDGE, dnsEnabled, NetworkStore, OPT_MTU, type NetworkRecord } from './store.js';

/** Where a data root's network state lives. */
export interface NetworkPaths {
  dataRoot: string;
  /** Runtime state (namespaces, netavark's): <runtime root>/.network. */
  runDir: string;
}

/** One network to join. */
export interface EndpointRequest {
  /** Name or id; `bridge` is the default network. */
  network: string;
  aliases: string[];
  /** --ip */
  ip?: string;
  /** --mac-address */
  mac?: string;
}

/** Docker's EndpointSettings, as `inspect` prints them under NetworkSettings.Networks. */
export interface EndpointSettings {
  IPAMConfig: { IPv4Address: string } | null;
  Links: null;
  Aliases: string[] | null;
  NetworkID: string;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  MacAddress: string;
  DriverOpts: null;
}

/** What a container's networks are while it runs (and the file that lets them be undone). */
export interface Attachment {
  containerId: string;
  netns: string;
  /** dev:ino of the network namespace of the Berth that made it (see the header). */
  engineNetns: string;
  networks: Record<string, EndpointSettings>;
  /** Nameservers for resolv.conf: the gateways of the networks with DNS by name. */
  dnsServers: string[];
  ports: PortMapping[];
  opts: NetavarkOptions;
  /** Networks connected while it ran (`network connect`): no port forwards there. */
  portless?: string[];
}

/** Where the engine's own network namespace is pinned (netns.ts pinOwnNetns). */
export function engineNetnsPin(paths: Pick<NetworkPaths, 'runDir'>): string {
  return join(paths.runDir, 'engine-netns');
}

/** Run dir → a container's namespace path. */
export function netnsPathOf(paths: NetworkPaths, id: string): string {
  return join(paths.runDir, 'netns', id);
}

const attachedDir = (paths: NetworkPaths) => join(paths.dataRoot, 'networks', 'attached');
const attachedFile = (paths: NetworkPaths, id: string) => join(attachedDir(paths), `${id}.json`);
const configDir = (paths: NetworkPaths) => join(paths.runDir, 'netavark');

/** This process's network namespace, as dev:ino (readlink of /proc/self/ns/net). */
export function ownNetns(): string {
  try { return readlinkSync('/proc/self/ns/net'); } catch { return ''; }
}

/** The host's routes in this namespace: an automatic subnet must not shadow any of them. */
export function hostRoutes(): ReturnType<typeof routesFromProcNetRoute> {
  try { return routesFromProcNetRoute(readFileSync('/proc/net/route', 'utf8')); } catch { return []; }
}

function readAttachment(paths: NetworkPaths, id: string): Attachment | undefined {
  try {
    return JSON.parse(readFileSync(attachedFile(paths, id), 'utf8')) as Attachment;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/** Write container `a`'s attachment file (before the backend acts: what a crash leaves is undone by reconcile). */
function saveAttachment(paths: NetworkPaths, a: Attachment): void {
  mkdirSync(attachedDir(paths), { recursive: true, mode: 0o700 });
  writeFileAtomicSync(attachedFile(paths, a.containerId), JSON.stringify(a, null, 1), 0o600, { durable: false });
}

/**
 * An attachment made by a Berth in another network namespace is that Berth's to change: the
 * bridge, rules and forwards are there (see the header).
 */
function madeHere(a: Attachment): boolean {
  return !a.engineNetns || a.engineNetns === ownNetns();
}

/** Every recorded attachment. */
export function attachments(paths: NetworkPaths): Attachment[] {
  let names: string[] = [];
  try { names = readdirSync(attachedDir(paths)); } catch { return []; }
  return names.filter((n) => /^[0-9a-f]{64}\.json$/.test(n)).map((n) => readAttachment(paths, n.slice(0, -5))).filter((a): a is Attachment => !!a);
}

/** The network a request names (`bridge` made on first use). The caller holds the lock. */
export function resolveNetwork(store: NetworkStore, ref: string): NetworkRecord {
  if (ref === DEFAULT_BRIDGE) return store.get(DEFAULT_BRIDGE) ?? store.defaultBridge(hostRoutes());
  return store.find(ref);
}

/**
 * Connect container `id` to its networks: lease addresses, make its namespace, call the backend.
 * `ports` resolves the forwards (ports.ts resolvePortMappings) with the host-port checks it is
 * given, under the networks' lock. On any failure everything made is undone before the error is thrown.
 */
export async function attach(paths: NetworkPaths, req: { id: string; name: string; endpoints: EndpointRequest[]; ports: (checks: PortChecks) => PortMapping[] },
  isLive: (id: string) => boolean, warn: (msg: string) => void): Promise<Attachment> {
  const store = new NetworkStore(paths.dataRoot);
  const netns = netnsPathOf(paths, req.id);
  const att = await store.locked(async () => {
    await reconcileLocked(paths, store, isLive, warn, req.id);
    // Under the lock: no other start picks or checks ports between this one's check and its rules.
    const checks = portChecks(paths, req.id);
    const ports = req.ports(checks);
    checkPortsFree(ports, checks);
    const nets = req.endpoints.map((e) => resolveNetwork(store, e.network));
    const opts: NetavarkOptions = { container_id: req.id, container_name: req.name, networks: {}, network_info: {} };
    const networks: Record<string, EndpointSettings> = {};
    try {
      for (const [i, e] of req.endpoints.entries()) {
        const n = nets[i]!;
        if (opts.networks[n.Name]) throw new BerthError('EINVALID_ARG', `container ${req.name} is already connected to network ${n.Name}`);
        const ep = leaseEndpoint(store, n, req, e, `eth${i}`);
        opts.network_info[n.Name] = ep.info;
        opts.networks[n.Name] = ep.netavark;
        networks[n.Name] = ep.settings;
      }
    } catch (err) {
      for (const n of nets) store.release(n, req.id);
      throw err;
    }
    if (ports.length) {
      opts.port_mappings = ports.map((p) => ({ host_ip: p.hostIp === '0.0.0.0' ? '' : p.hostIp, container_port: p.containerPort, host_port: p.hostPort, range: 1, protocol: p.protocol }));
    }
    const a: Attachment = { containerId: req.id, netns, engineNetns: ownNetns(), networks, dnsServers: [], ports, opts };
    saveAttachment(paths, a);
    return a;
  });
  try {
    if (existsSync(netns)) await removeNetns(netns); // left by a crash: this start makes it anew
    await pinOwnNetns(engineNetnsPin(paths));
    await addNetns(netns);
    mkdirSync(configDir(paths), { recursive: true, mode: 0o700 });
    // No network at all (all disconnected, Docker allows it): the namespace with lo only.
    const status = Object.keys(att.opts.networks).length ? await netavarkSetup(configDir(paths), netns, att.opts) : {};
    for (const [name, st] of Object.entries(status)) {
      const ep = att.networks[name];
      const itf = Object.values(st.interfaces ?? {})[0];
      if (ep && itf) ep.MacAddress = itf.mac_address;
      for (const s of st.dns_server_ips ?? []) if (!att.dnsServers.includes(s)) att.dnsServers.push(s);
    }
    saveAttachment(paths, att);
    return att;
  } catch (err) {
    await detach(paths, req.id, () => {});
    throw err;
  }
}

/** One endpoint: its address leased, and what netavark and `inspect` are told about it. The caller holds the lock. */
function leaseEndpoint(store: NetworkStore, n: NetworkRecord, ctr: { id: string; name: string }, e: EndpointRequest, itf: string): {
  info: NetavarkOptions['network_info'][string]; netavark: NetavarkOptions['networks'][string]; settings: EndpointSettings;
} {
  const dns = dnsEnabled(n);
  const aliases = dns ? [...new Set([ctr.name, ctr.id.slice(0, 12), ...e.aliases])] : [];
  const lease = store.lease(n, ctr.id, { Name: ctr.name, MacAddress: e.mac ?? '', Aliases: e.aliases, ip: e.ip });
  const a = addressing(n);
  return {
    info: {
      name: n.Name, id: n.Id, driver: 'bridge', network_interface: bridgeName(n),
      subnets: [{ subnet: n.IPAM.Config[0]!.Subnet, gateway: n.IPAM.Config[0]!.Gateway }],
      ipv6_enabled: false, internal: n.Internal, dns_enabled: dns,
      // isolate: no traffic between two bridge networks (Docker's DOCKER-ISOLATION rules).
      options: { isolate: 'true', ...(n.Options[OPT_MTU] ? { mtu: n.Options[OPT_MTU] } : {}) },
      ipam_options: { driver: 'host-local' },
    },
    netavark: { interface_name: itf, static_ips: [lease.IPv4Address], aliases, ...(e.mac ? { static_mac: e.mac } : {}) },
    settings: {
      IPAMConfig: e.ip ? { IPv4Address: e.ip } : null, Links: null, Aliases: e.aliases.length ? [...e.aliases] : null,
      NetworkID: n.Id, EndpointID: randomBytes(32).toString('hex'), Gateway: formatIp(a.gateway), IPAddress: lease.IPv4Address,
      IPPrefixLen: a.prefix, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, MacAddress: e.mac ?? '', DriverOpts: null,
    },
  };
}

/** The options of the networks in `names` only; the port forwards go with the networks set up at start. */
function subset(a: Attachment, names: readonly string[], withPorts: boolean): NetavarkOptions {
  const pick = <T>(r: Record<string, T>) => Object.fromEntries(Object.entries(r).filter(([k]) => names.includes(k)));
  return {
    container_id: a.opts.container_id, container_name: a.opts.container_name, networks: pick(a.opts.networks), network_info: pick(a.opts.network_info),
    ...(withPorts && a.opts.port_mappings ? { port_mappings: a.opts.port_mappings } : {}),
  };
}

/**
 * `network connect` of a running container: one more network in its namespace (lease, netavark
 * setup of that network alone, the file updated first for crash safety). Published ports stay on
 * the networks of the start, as in Docker. Returns the endpoint and the network's DNS server.
 */
export async function connectRunning(paths: NetworkPaths, ctr: { id: string; name: string }, e: EndpointRequest): Promise<{ settings: EndpointSettings; dnsServer?: string }> {
  const store = new NetworkStore(paths.dataRoot);
  return store.locked(async () => {
    const a = readAttachment(paths, ctr.id);
    if (!a) throw new BerthError('EBAD_STATE', `container ${ctr.name} has no networks set up (it is not running on a bridge network)`);
    if (!madeHere(a)) throw new BerthError('EBAD_STATE', `container ${ctr.name}'s networks were set up in another network namespace (${a.engineNetns})`);
    const n = resolveNetwork(store, e.network);
    if (a.networks[n.Name]) throw new BerthError('EEXISTS', `endpoint with name ${ctr.name} already exists in network ${n.Name}`);
    const used = new Set(Object.values(a.opts.networks).map((x) => x.interface_name));
    let i = 0;
    while (used.has(`eth${i}`)) i++;
    const ep = leaseEndpoint(store, n, ctr, e, `eth${i}`);
    const before = structuredClone(a);
    a.networks[n.Name] = ep.settings;
    a.opts.networks[n.Name] = ep.netavark;
    a.opts.network_info[n.Name] = ep.info;
    a.portless = [...(a.portless ?? []), n.Name];
    saveAttachment(paths, a);
    const one = subset(a, [n.Name], false);
    try {
      const status = await netavarkSetup(configDir(paths), a.netns, one);
      const st = status[n.Name];
      const itf = Object.values(st?.interfaces ?? {})[0];
      if (itf) ep.settings.MacAddress = itf.mac_address;
      saveAttachment(paths, a);
      return { settings: ep.settings, dnsServer: st?.dns_server_ips?.[0] };
    } catch (err) {
      await netavarkTeardown(configDir(paths), a.netns, one).catch(() => undefined);
      store.release(n, ctr.id);
      saveAttachment(paths, before);
      throw err;
    }
  });
}

/** `network disconnect` of a running container: that network's teardown alone, its lease released. */
export async function disconnectRunning(paths: NetworkPaths, ctr: { id: string; name: string }, network: string, warn: (msg: string) => void): Promise<void> {
  const store = new NetworkStore(paths.dataRoot);
  await store.locked(async () => {
    const a = readAttachment(paths, ctr.id);
    if (!a?.networks[network]) throw new BerthError('EINVALID_ARG', `container ${ctr.name} is not connected to network ${network}`);
    if (!madeHere(a)) throw new BerthError('EBAD_STATE', `container ${ctr.name}'s networks were set up in another network namespace (${a.engineNetns})`);
    const fromStart = !(a.portless ?? []).includes(network);
    await netavarkTeardown(configDir(paths), a.netns, subset(a, [network], fromStart)).catch((err: Error) => warn(`container ${ctr.name}: ${err.message}`));
    delete a.networks[network];
    delete a.opts.networks[network];
    delete a.opts.network_info[network];
    a.portless = (a.portless ?? []).filter((x) => x !== network);
    const n = store.get(network);
    if (n) store.release(n, ctr.id);
    saveAttachment(paths, a);
  });
}

/**
 * Undo container `id`'s networks (a no-op when it has none): the backend's teardown, the
 * namespace, the leases, the file. Safe to repeat, and to run after a crash: a namespace that is
 * gone is made again, empty, for the backend to find (it then removes the firewall rules, port
 * forwards and DNS entries, and reports the missing veth, which went with the old namespace).
 */
export async function detach(paths: NetworkPaths, id: string, warn: (msg: string) => void): Promise<void> {
  const a = readAttachment(paths, id);
  if (!a) return;
  if (!madeHere(a)) {
    warn(`container ${id.slice(0, 12)}: its networks were set up in another network namespace (${a.engineNetns}): left for a berth there to undo`);
    return;
  }
  const store = new NetworkStore(paths.dataRoot);
  await store.locked(async () => {
    // Read again under the lock: another process may have undone it meanwhile.
    const now = readAttachment(paths, id);
    if (now) await detachLocked(paths, store, now, warn);
  });
}

async function detachLocked(paths: NetworkPaths, store: NetworkStore, a: Attachment, warn: (msg: string) => void): Promise<void> {
  const recreated = !existsSync(a.netns);
  const failed = (err: Error) => { if (!recreated) warn(`container ${a.containerId.slice(0, 12)}: ${err.message}`); };
  if (recreated) await addNetns(a.netns).catch(failed);
  // The networks of the start with their port forwards; those connected later without.
  const later = a.portless ?? [];
  const atStart = Object.keys(a.opts.networks).filter((x) => !later.includes(x));
  if (atStart.length) await netavarkTeardown(configDir(paths), a.netns, subset(a, atStart, true)).catch(failed);
  if (later.length) await netavarkTeardown(configDir(paths), a.netns, subset(a, later, false)).catch(failed);
  await removeNetns(a.netns).catch((err: Error) => warn(err.message));
  for (const n of store.all()) store.release(n, a.containerId);
  rmSync(attachedFile(paths, a.containerId), { force: true });
}

/**
 * Release what containers that are no longer alive still hold: their attachments (torn down) and
 * leases without one. Returns the ids released. Takes the lock.
 */
export async function reconcile(paths: NetworkPaths, isLive: (id: string) => boolean, warn: (msg: string) => void): Promise<string[]> {
  const store = new NetworkStore(paths.dataRoot);
  return store.locked(() => reconcileLocked(paths, store, isLive, warn));
}

async function reconcileLocked(paths: NetworkPaths, store: NetworkStore, isLive: (id: string) => boolean, warn: (msg: string) => void, except?: string): Promise<string[]> {
  const released: string[] = [];
  for (const a of attachments(paths)) {
    if (!madeHere(a)) continue;
    if (a.containerId !== except && isLive(a.containerId)) continue;
    await detachLocked(paths, store, a, warn);
    released.push(a.containerId);
  }
  for (const n of store.all()) {
    const leases = store.leases(n);
    const stale = Object.keys(leases).filter((id) => id !== except && !isLive(id) && !existsSync(attachedFile(paths, id)));
    if (!stale.length) continue;
    for (const id of stale) { delete leases[id]; released.push(id); }
    store.saveLeases(n, leases);
  }
  return [...new Set(released)];
}

/** Host-port checks for ports.ts resolvePortMappings. */
export interface PortChecks {
  isFree: (proto: PortProto, hostIp: string, port: number) => boolean;
  pickFree: (proto: PortProto, hostIp: string) => number;
}

/**
 * A port is taken when a socket holds it in this namespace or another live Berth container
 * publishes it. pickFree never hands out the same port twice in one set of checks.
 */
function portChecks(paths: NetworkPaths, self: string): PortChecks {
  const published = new Set(attachments(paths).filter((a) => a.containerId !== self).flatMap((a) => a.ports.map((p) => `${p.protocol}/${p.hostPort}`)));
  const picked = new Set<string>();
  return {
    isFree: (proto, hostIp, port) => !published.has(`${proto}/${port}`) && !boundPorts(proto, hostIp).has(port),
    pickFree: (proto, hostIp) => {
      const [lo, hi] = ephemeralRange();
      const bound = boundPorts(proto, hostIp);
      const span = hi - lo + 1;
      const start = Math.floor(Math.random() * span);
      for (let i = 0; i < span; i++) {
        const p = lo + ((start + i) % span);
        const key = `${proto}/${p}`;
        if (!bound.has(p) && !published.has(key) && !picked.has(key)) {
          picked.add(key);
          return p;
        }
      }
      throw new BerthError('EUNSUPPORTED', `no free host port left for ${proto} in ${lo}-${hi}`);
    },
  };
}

/** Docker's error for a host port that is taken or asked for twice. */
function checkPortsFree(ports: readonly PortMapping[], checks: PortChecks): void {
  const seen = new Set<string>();
  for (const p of ports) {
    const key = `${p.protocol}/${p.hostPort}`;
    if (seen.has(key) || !checks.isFree(p.protocol, p.hostIp, p.hostPort)) {
      throw new BerthError('EEXISTS', `driver failed programming external connectivity: bind for ${p.hostIp || '0.0.0.0'}:${p.hostPort} failed: port is already allocated`);
    }
    seen.add(key);
  }
}
