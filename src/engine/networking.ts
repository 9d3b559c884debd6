/**
 * A container's bridge networks, from the engine's side (the network layer, src/network/, does the
 * work): at create the networks must exist and the endpoints asked for are recorded (Docker's
 * NetworkSettings.Networks); at start, under the container's lock, the ports are resolved, the
 * container is attached (addresses, namespace, backend), and its /etc/hosts, /etc/resolv.conf and
 * /etc/hostname are written (bind-mounted by the spec, as Docker does); at its end everything is
 * detached again (launch.ts collectOutcome), and a container that died without that is cleaned up
 * by the next reconcile (network/attach.ts), which asks `liveness` here.
 *
 * Network modes: `none`, `host`, `container:NAME` (namespaces.ts), and anything else names a
 * network — `bridge` is Docker's default bridge (no DNS by name), a user-defined one has DNS by
 * name. Without --network, create.ts records the caller's default (BERTH_DEFAULT_NETWORK, else
 * `bridge`); '' remains in records made before that (a namespace with only lo, as `none`).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Mount } from '../oci/spec.js';
import { isSameProcess, pidAlive } from '../util/proc.js';
import { lockOwner } from '../util/lock.js';
import { BerthError } from '../util/errors.js';
import { pinOwnNetns } from '../network/netns.js';
import { attach, detach, engineNetnsPin, netnsPathOf, reconcile, resolveNetwork, type Attachment, type EndpointSettings, type NetworkPaths } from '../network/attach.js';
import { containerResolvConf, hostnameFile, hostResolvConfPath, hostsFile, parseExtraHost } from '../network/etc-files.js';
import { resolvePortMappings, type PortMap, type PortMapping, type PortSet } from '../network/ports.js';
import { checkStaticIp, NetworkStore } from '../network/store.js';
import type { ContainerConfig, CreateRequest, HostConfig, NetworkSettings } from './config.js';
import { isNetworkName } from './namespaces.js';
import { EngineStore, type EnginePaths, type EngineRecord } from './store.js';


/** Where the network layer keeps its state for an engine. */
export function networkPaths(paths: EnginePaths): NetworkPaths {
  return { dataRoot: paths.dataRoot, runDir: join(paths.runtimeRoot, '.network') };
}

/** The namespace file the spec joins (network/attach.ts makes it at start). */
export function netnsPath(paths: EnginePaths, id: string): string {
  return netnsPathOf(networkPaths(paths), id);
}

/** Empty settings, with the endpoints' requests kept (a stopped container, Docker's way). */
export function emptyNetworkSettings(networks: Record<string, EndpointSettings> = {}): NetworkSettings {
  return {
    Bridge: '', SandboxID: '', HairpinMode: false, LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0, Ports: {}, SandboxKey: '',
    SecondaryIPAddresses: null, SecondaryIPv6Addresses: null, EndpointID: '', Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0,
    IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', MacAddress: '', Networks: networks,
  };
}

/** An endpoint as recorded before it is connected: what was asked, no address. */
export function plannedEndpoint(networkId: string, aliases: string[] | undefined, ip: string | undefined, mac: string | undefined): EndpointSettings {
  return {
    IPAMConfig: ip ? { IPv4Address: ip } : null, Links: null, Aliases: aliases?.length ? [...aliases] : null, NetworkID: networkId,
    EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0,
    MacAddress: mac ?? '', DriverOpts: null,
  };
}

/**
 * At create: the network of --network must exist (`bridge` is made on first use), and only a
 * network takes --ip, --network-alias, -p; returns the NetworkSettings to record.
 */
export async function plannedNetworks(paths: EnginePaths, req: Pick<CreateRequest, 'networkingConfig'>, config: ContainerConfig, hc: HostConfig): Promise<NetworkSettings | undefined> {
  const mode = hc.NetworkMode;
  const endpoints = req.networkingConfig?.EndpointsConfig ?? {};
  if (!isNetworkName(mode)) {
    const what = Object.values(endpoints).some((e) => e.IPAMConfig?.IPv4Address) ? '--ip' : Object.values(endpoints).some((e) => e.Aliases?.length) ? '--network-alias'
      : Object.keys(hc.PortBindings ?? {}).length ? '--publish' : config.MacAddress ? '--mac-address' : '';
    if (what) throw new BerthError('EINVALID_ARG', `conflicting options: ${what} needs a bridge network (--network bridge or the name of one), not --network ${mode}`);
    return undefined;
  }
  const store = new NetworkStore(paths.dataRoot);
  // Before any start: the detached monitor's cleanup command names this pin (monitor-files.ts).
  await pinOwnNetns(engineNetnsPin(networkPaths(paths)));
  const networks: Record<string, EndpointSettings> = {};
  await store.locked(() => {
    for (const ref of new Set([mode, ...Object.keys(endpoints)])) {
      const n = resolveNetwork(store, ref);
      const e = endpoints[ref] ?? endpoints[n.Name] ?? {};
      if (e.IPAMConfig?.IPv4Address) checkStaticIp(n, e.IPAMConfig.IPv4Address);
      networks[n.Name] = plannedEndpoint(n.Id, e.Aliases, e.IPAMConfig?.IPv4Address, ref === mode ? config.MacAddress || e.MacAddress : e.MacAddress);
    }
  });
  // --network takes the name Docker records (a network given by id is recorded by its name).
  hc.NetworkMode = Object.keys(networks)[0]!;
  return emptyNetworkSettings(networks);
}

/** The three files Docker writes per container, under its directory. */
export function etcPaths(paths: EnginePaths, id: string): { hosts: string; resolv: string; hostname: string } {
  const dir = new EngineStore(paths).dir(id);
  return { hosts: join(dir, 'hosts'), resolv: join(dir, 'resolv.conf'), hostname: join(dir, 'hostname') };
}

/** The spec's binds of those files (a read-only root makes them read-only too, as Docker). */
export function etcMounts(paths: EnginePaths, id: string, readonly: boolean): Mount[] {
  const p = etcPaths(paths, id);
  const options = ['rbind', 'rprivate', ...(readonly ? ['ro'] : [])];
  return [
    { destination: '/etc/hostname', type: 'bind', source: p.hostname, options },
    { destination: '/etc/hosts', type: 'bind', source: p.hosts, options },
    { destination: '/etc/resolv.conf', type: 'bind', source: p.resolv, options },
  ];
}

/**
 * Whether container `id` still needs its endpoints: it runs (and its watcher lives), or another
 * process holds its lock (a start under way). The network layer releases the others.
 */
export function liveness(paths: EnginePaths): (id: string) => boolean {
  const store = new EngineStore(paths);
  return (id) => {
    const owner = lockOwner(store.dir(id));
    if (owner && owner !== process.pid && pidAlive(owner)) return true;
    const r = store.load(id);
    if (!r || !r.State.Running) return false;
    return !r.Monitor || isSameProcess(r.Monitor.pid, r.Monitor.startTime);
  };
}

/**
 * At start, under the container's lock: connect `r` to its networks and write its /etc files;
 * fills r.NetworkSettings (the caller saves). A failure leaves nothing connected.
 */
export async function connectAtStart(paths: EnginePaths, r: EngineRecord, hostname: string, warn: (msg: string) => void): Promise<Attachment | undefined> {
  const settings = r.NetworkSettings;
  if (!isNetworkName(r.HostConfig.NetworkMode) || !settings) return undefined;
  const np = networkPaths(paths);
  const names = Object.keys(settings.Networks);
  const att = await attach(np, {
    id: r.Id, name: r.Name,
    ports: (checks) => resolvePortMappings((r.HostConfig.PortBindings ?? {}) as PortMap, (r.Config.ExposedPorts ?? {}) as PortSet,
      r.HostConfig.PublishAllPorts ?? false, checks.pickFree, checks.isFree),
    endpoints: names.map((n) => {
      const e = settings.Networks[n]!;
      return { network: n, aliases: e.Aliases ?? [], ip: e.IPAMConfig?.IPv4Address || undefined, mac: e.MacAddress || undefined };
    }),
  }, liveness(paths), warn);
  try {
    writeEtcFiles(paths, r, hostname, att);
  } catch (err) {
    await detach(np, r.Id, warn);
    throw err;
  }
  const first = names[0] ? att.networks[names[0]] : undefined;
  const portMap: NetworkSettings['Ports'] = {};
  for (const key of Object.keys(r.Config.ExposedPorts ?? {})) portMap[key] = null;
  for (const p of att.ports) (portMap[`${p.containerPort}/${p.protocol}`] ??= [])!.push({ HostIp: p.hostIp || '0.0.0.0', HostPort: String(p.hostPort) });
  r.NetworkSettings = {
    ...emptyNetworkSettings(att.networks), SandboxID: r.Id, SandboxKey: att.netns, Ports: portMap,
    // Docker fills the top-level (deprecated) fields for the default bridge only.
    ...(names[0] === 'bridge' && first ? { EndpointID: first.EndpointID, Gateway: first.Gateway, IPAddress: first.IPAddress, IPPrefixLen: first.IPPrefixLen, MacAddress: first.MacAddress } : {}),
  };
  return att;
}

/** The published ports of a running container, from its record (berth port, ps). */
export function publishedPorts(r: EngineRecord): PortMapping[] {
  const out: PortMapping[] = [];
  for (const [key, binds] of Object.entries(r.NetworkSettings?.Ports ?? {})) {
    const [port, proto] = key.split('/');
    for (const b of binds ?? []) out.push({ hostIp: b.HostIp, hostPort: Number(b.HostPort), containerPort: Number(port), protocol: (proto ?? 'tcp') as PortMapping['protocol'] });
  }
  return out;
}

/** After the container stopped: the endpoints lose their addresses (Docker's stopped container). */
export function clearAddresses(r: EngineRecord): void {
  if (!r.NetworkSettings) return;
  const networks: Record<string, EndpointSettings> = {};
  for (const [name, e] of Object.entries(r.NetworkSettings.Networks)) {
    networks[name] = plannedEndpoint(e.NetworkID, e.Aliases ?? undefined, e.IPAMConfig?.IPv4Address, undefined);
  }
  r.NetworkSettings = emptyNetworkSettings(networks);
}

/**
 * Release the networks of containers that are no longer alive (a crash: network/attach.ts
 * reconcile); `container prune` calls it. Nothing to do, and nothing made, without networks.
 */
export async function reconcileNetworks(paths: EnginePaths, warn: (msg: string) => void): Promise<string[]> {
  if (!existsSync(join(paths.dataRoot, 'networks'))) return [];
  return reconcile(networkPaths(paths), liveness(paths), warn);
}

/** Disconnect container `id` (no-op without networks); for collectOutcome and removal. */
export async function disconnectAtStop(paths: EnginePaths, id: string, warn: (msg: string) => void): Promise<void> {
  await detach(networkPaths(paths), id, warn);
}

function writeEtcFiles(paths: EnginePaths, r: EngineRecord, hostname: string, att: Attachment): void {
  const p = etcPaths(paths, r.Id);
  const first = Object.values(att.networks)[0];
  const extra = (r.HostConfig.ExtraHosts ?? []).map((h) => parseExtraHost(h, first?.Gateway));
  writeFileSync(p.hostname, hostnameFile(hostname));
  writeFileSync(p.hosts, hostsFile({ hostname, domainname: r.Config.Domainname, addresses: first ? [first.IPAddress] : [], extraHosts: extra }));
  const read = (f: string) => { try { return readFileSync(f, 'utf8'); } catch { return undefined; } };
  const hostText = read(hostResolvConfPath(read)) ?? '';
  const networkDns = att.dnsServers[0];
  const dns = r.HostConfig.Dns ?? [];
  writeFileSync(p.resolv, containerResolvConf(hostText, {
    // With DNS by name, Berth's resolver comes first (it answers the names, and forwards the rest
    // to the host's servers); --dns servers follow it.
    dns: dns.length && networkDns ? [networkDns, ...dns] : dns, dnsSearch: r.HostConfig.DnsSearch, dnsOptions: r.HostConfig.DnsOptions, networkDns,
  }));
}
