/**
 * `network create|ls|inspect|rm|prune|connect|disconnect` over the network store
 * (network/store.ts), with Docker's checks and errors, and the default `bridge` always present.
 * Docker's `host` and `none` are listed as it lists them, but they are namespace modes, not
 * stored networks.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { attachments, connectRunning, disconnectRunning, hostRoutes, reconcile, resolveNetwork } from '../network/attach.js';
import { NetworkStore, PREDEFINED, bridgeName, checkStaticIp, dnsEnabled, type NetworkCreateOptions, type NetworkRecord } from '../network/store.js';
import { BerthError } from '../util/errors.js';
import { labelsMatch } from '../util/labels.js';
import { findContainer } from './containers.js';
import { etcPaths, liveness, networkPaths, plannedEndpoint } from './networking.js';
import { isNetworkName } from './namespaces.js';
import { EngineStore, type EnginePaths, type EngineRecord } from './store.js';

/** A row of `network ls`. */
export interface NetworkSummary {
  ID: string;
  Name: string;
  Driver: string;
  Scope: 'local';
  Internal: boolean;
  Labels: Record<string, string>;
  CreatedAt: string;
}

/** `network inspect`'s document: the record plus the containers on it. */
export interface NetworkInspect extends NetworkRecord {
  Containers: Record<string, { Name: string; EndpointID: string; MacAddress: string; IPv4Address: string; IPv6Address: string }>;
  /** Berth's own: the bridge interface and whether names resolve. */
  Berth: { Interface: string; DNS: boolean };
}

/** The filters `network ls` takes, Docker's: values of one key are alternatives (labels: all must match), keys all apply. */
export const NETWORK_FILTERS = ['driver', 'id', 'label', 'name', 'scope', 'type'] as const;

/**
 * Whether network `n` passes `filters` (key → values, e.g. { label: ['team=web'] }): name is a
 * substring, id a prefix, label KEY or KEY=VALUE, type custom or builtin, driver and scope exact.
 */
export function matchesNetworkFilters(n: NetworkSummary, filters: Readonly<Record<string, readonly string[]>>): boolean {
  const builtin = PREDEFINED.includes(n.Name as never);
  return Object.entries(filters).every(([key, values]) => key === 'label' ? labelsMatch(n.Labels, values) : values.some((v) => {
    switch (key) {
      case 'name': return n.Name.includes(v);
      case 'id': return n.ID.startsWith(v);
      case 'driver': return n.Driver === v;
      case 'scope': return n.Scope === v;
      case 'type':
        if (v !== 'custom' && v !== 'builtin') throw new BerthError('EINVALID_ARG', `invalid filter 'type=${v}': use type=custom or type=builtin`);
        return (v === 'builtin') === builtin;
      default: throw new BerthError('EINVALID_ARG', `invalid filter '${key}': use one of ${NETWORK_FILTERS.join(', ')}`);
    }
  }));
}

/** Docker's pseudo-networks, as `network ls` shows them (fixed ids, Berth's). */
const PSEUDO: NetworkSummary[] = [
  { ID: '0'.repeat(63) + '1', Name: 'host', Driver: 'host', Scope: 'local', Internal: false, Labels: {}, CreatedAt: '' },
  { ID: '0'.repeat(63) + '2', Name: 'none', Driver: 'null', Scope: 'local', Internal: false, Labels: {}, CreatedAt: '' },
];

/** Create a network; returns it. */
export async function createNetwork(paths: EnginePaths, o: NetworkCreateOptions): Promise<NetworkRecord> {
  const store = new NetworkStore(paths.dataRoot);
  // The default bridge first, so it takes the first pool (172.17.0.0/16), as Docker's docker0 does.
  return store.locked(() => { store.defaultBridge(hostRoutes()); return store.create({ ...o, hostRoutes: hostRoutes() }); });
}

/** Every network (the default bridge made if missing), with host and none. */
export async function listNetworks(paths: EnginePaths): Promise<NetworkSummary[]> {
  const store = new NetworkStore(paths.dataRoot);
  const all = await store.locked(() => { store.defaultBridge(hostRoutes()); return store.all(); });
  return [...all.map((n) => ({ ID: n.Id, Name: n.Name, Driver: n.Driver, Scope: n.Scope, Internal: n.Internal, Labels: n.Labels, CreatedAt: n.Created })), ...PSEUDO]
    .sort((a, b) => a.Name.localeCompare(b.Name));
}

/** `network inspect REF`. */
export async function inspectNetwork(paths: EnginePaths, ref: string): Promise<NetworkInspect> {
  return (await inspectNetworks(paths, [ref]))[0]!;
}

/** Several networks' inspect documents, with one reconcile and one look at the attachments. */
export async function inspectNetworks(paths: EnginePaths, refs: readonly string[]): Promise<NetworkInspect[]> {
  const store = new NetworkStore(paths.dataRoot);
  await reconcile(networkPaths(paths), liveness(paths), () => {});
  return store.locked(() => {
    const att = new Map(attachments(networkPaths(paths)).map((a) => [a.containerId, a]));
    return refs.map((ref) => {
      const n = ref === 'bridge' ? resolveNetwork(store, ref) : store.find(ref);
      const containers: NetworkInspect['Containers'] = {};
      for (const [id, l] of Object.entries(store.leases(n))) {
        const ep = att.get(id)?.networks[n.Name];
        containers[id] = { Name: l.Name, EndpointID: ep?.EndpointID ?? '', MacAddress: ep?.MacAddress ?? l.MacAddress, IPv4Address: `${l.IPv4Address}/${n.IPAM.Config[0]!.Subnet.split('/')[1]}`, IPv6Address: '' };
      }
      return { ...n, Containers: containers, Berth: { Interface: bridgeName(n), DNS: dnsEnabled(n) } };
    });
  });
}

/** `network rm REF`: Docker refuses the predefined ones and a network with running containers. */
export async function removeNetwork(paths: EnginePaths, ref: string): Promise<NetworkRecord> {
  if ((PREDEFINED as readonly string[]).includes(ref)) throw new BerthError('EINVALID_ARG', `${ref} is a pre-defined network and cannot be removed`);
  const store = new NetworkStore(paths.dataRoot);
  await reconcile(networkPaths(paths), liveness(paths), () => {});
  return store.locked(() => {
    const n = store.find(ref);
    if (n.Name === 'bridge') throw new BerthError('EINVALID_ARG', 'bridge is a pre-defined network and cannot be removed');
    const users = Object.values(store.leases(n)).map((l) => l.Name);
    if (users.length) throw new BerthError('EBAD_STATE', `error while removing network: network ${n.Name} id ${n.Id} has active endpoints (${users.join(', ')})`);
    store.remove(n);
    return n;
  });
}

/** `network prune [--filter label=...]`: every user network no running container uses (with those labels); returns their names. */
export async function pruneNetworks(paths: EnginePaths, labelFilters: readonly string[] = []): Promise<string[]> {
  const store = new NetworkStore(paths.dataRoot);
  await reconcile(networkPaths(paths), liveness(paths), () => {});
  return store.locked(() => {
    const out: string[] = [];
    for (const n of store.all()) {
      if (n.Name === 'bridge' || !labelsMatch(n.Labels, labelFilters) || Object.keys(store.leases(n)).length) continue;
      store.remove(n);
      out.push(n.Name);
    }
    return out;
  });
}

type Endpoints = NonNullable<EngineRecord['NetworkSettings']>['Networks'];

/**
 * Change a container's endpoints under its lock (network connect and disconnect): `check` first,
 * then, not running, `edit` changes the record only (applied at its next start; Docker does the
 * same for a created container); running, `live` connects or disconnects it now
 * (network/attach.ts), then the record follows.
 */
async function editEndpoints(paths: EnginePaths, netRef: string, ctrRef: string, how: {
  check: (r: EngineRecord, n: NetworkRecord, networks: Endpoints) => void;
  edit: (r: EngineRecord, n: NetworkRecord, networks: Endpoints) => void;
  live: (r: EngineRecord, n: NetworkRecord, networks: Endpoints) => Promise<void>;
}): Promise<void> {
  const rec = await findContainer(paths, ctrRef);
  const nstore = new NetworkStore(paths.dataRoot);
  const n = await nstore.locked(() => resolveNetwork(nstore, netRef));
  const store = new EngineStore(paths);
  await store.locked(rec.Id, async () => {
    const r = store.load(rec.Id);
    if (!r) throw new BerthError('ENOT_FOUND', `no such container: ${ctrRef}`);
    if (!r.NetworkSettings || !isNetworkName(r.HostConfig.NetworkMode)) {
      throw new BerthError('EINVALID_ARG', `container ${r.Name} runs with --network ${r.HostConfig.NetworkMode || 'none'}, which has no networks to change (Docker's rule for none and host)`);
    }
    if (r.State.Paused) throw new BerthError('EBAD_STATE', `container ${r.Name} is paused: unpause it first`);
    how.check(r, n, r.NetworkSettings.Networks);
    if (r.State.Running) await how.live(r, n, r.NetworkSettings.Networks);
    else how.edit(r, n, r.NetworkSettings.Networks);
    store.save(r);
  });
}

/** `network connect NET CONTAINER [--alias A] [--ip IP]`: at once when it runs, else at its next start. */
export async function connectContainer(paths: EnginePaths, netRef: string, ctrRef: string, o: { aliases?: string[]; ip?: string } = {}): Promise<void> {
  await editEndpoints(paths, netRef, ctrRef, {
    check: (r, n, networks) => {
      if (networks[n.Name]) throw new BerthError('EEXISTS', `endpoint with name ${r.Name} already exists in network ${n.Name}`);
      if (o.ip) checkStaticIp(n, o.ip);
    },
    edit: (_r, n, networks) => { networks[n.Name] = plannedEndpoint(n.Id, o.aliases, o.ip, undefined); },
    live: async (r, n, networks) => {
      const got = await connectRunning(networkPaths(paths), { id: r.Id, name: r.Name }, { network: n.Name, aliases: o.aliases ?? [], ip: o.ip });
      networks[n.Name] = got.settings;
      if (got.dnsServer) updateResolvConf(paths, r.Id, (servers) => [...servers, got.dnsServer!]);
    },
  });
}

/** `network disconnect NET CONTAINER`: as in Docker, the last one too (the container then has lo only). */
export async function disconnectContainer(paths: EnginePaths, netRef: string, ctrRef: string): Promise<void> {
  const forget = (r: EngineRecord, n: NetworkRecord, networks: Endpoints) => {
    delete networks[n.Name];
    // Docker keeps NetworkMode when the last network goes (a later connect brings one back).
    const next = Object.keys(networks)[0];
    if (r.HostConfig.NetworkMode === n.Name && next) r.HostConfig.NetworkMode = next;
  };
  await editEndpoints(paths, netRef, ctrRef, {
    check: (r, n, networks) => {
      if (!networks[n.Name]) throw new BerthError('EINVALID_ARG', `container ${r.Name} is not connected to network ${n.Name}`);
    },
    edit: forget,
    live: async (r, n, networks) => {
      const gone = networks[n.Name]!.Gateway;
      await disconnectRunning(networkPaths(paths), { id: r.Id, name: r.Name }, n.Name, () => {});
      forget(r, n, networks);
      updateResolvConf(paths, r.Id, (servers) => servers.filter((s) => s !== gone));
    },
  });
}

/**
 * Rewrite the nameserver lines of a running container's resolv.conf in place (the file is
 * bind-mounted: the same inode, so the container sees the change), keeping the rest.
 */
function updateResolvConf(paths: EnginePaths, id: string, change: (servers: string[]) => string[]): void {
  const file = etcPaths(paths, id).resolv;
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch { return; }
  const lines = text.split('\n');
  const servers = lines.filter((l) => /^nameserver\s/.test(l)).map((l) => l.split(/\s+/)[1]!);
  const next = [...new Set(change(servers))];
  const first = lines.findIndex((l) => /^nameserver\s/.test(l));
  const rest = lines.filter((l) => !/^nameserver\s/.test(l));
  const at = first < 0 ? rest.length : first;
  writeFileSync(file, [...rest.slice(0, at), ...next.map((s) => `nameserver ${s}`), ...rest.slice(at)].join('\n'));
}
