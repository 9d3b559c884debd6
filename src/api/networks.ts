/**
 * Docker's /networks endpoints over engine/networks.ts: list (with filters), inspect, create,
 * remove, connect, disconnect, prune (moby api/server/router/network).
 */
import { connectContainer, createNetwork, disconnectContainer, inspectNetwork, inspectNetworks, listNetworks, matchesNetworkFilters, pruneNetworks, removeNetwork, type NetworkSummary } from '../engine/networks.js';
import type { ApiContext } from './containers.js';
import { ApiError, filtersParam, readJson, sendEmpty, sendJson } from './http.js';

/** GET /networks?filters= : Docker's list shape is the inspect document of each. */
export async function listNetworksApi(c: ApiContext): Promise<void> {
  const filters = filtersParam(c.query);
  const rows = (await listNetworks(c.paths)).filter((n) => matchesNetworkFilters(n, filters));
  const pseudo = (n: NetworkSummary) => n.Name === 'host' || n.Name === 'none';
  const stored = new Map((await inspectNetworks(c.paths, rows.filter((n) => !pseudo(n)).map((n) => n.ID))).map((d) => [d.Id, d]));
  sendJson(c.res, 200, rows.map((n) => stored.get(n.ID) ?? {
    Name: n.Name, Id: n.ID, Created: '0001-01-01T00:00:00Z', Scope: 'local', Driver: n.Driver, EnableIPv6: false, IPAM: { Driver: 'default', Options: null, Config: [] },
    Internal: false, Attachable: false, Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false, Containers: {}, Options: {}, Labels: {},
  }));
}

/** GET /networks/{id} */
export async function inspectNetworkApi(c: ApiContext): Promise<void> {
  sendJson(c.res, 200, await inspectNetwork(c.paths, c.params[0]!));
}

/** POST /networks/create: Docker's NetworkCreateRequest (one IPv4 IPAM config). */
export async function createNetworkApi(c: ApiContext): Promise<void> {
  const b = await readJson(c.req) as {
    Name?: string; Driver?: string; Internal?: boolean; EnableIPv6?: boolean; CheckDuplicate?: boolean; Attachable?: boolean;
    IPAM?: { Driver?: string; Config?: { Subnet?: string; Gateway?: string; IPRange?: string }[] | null } | null;
    Options?: Record<string, string> | null; Labels?: Record<string, string> | null;
  };
  if (!b.Name) throw new ApiError(400, 'Name is required');
  if (b.EnableIPv6) throw new ApiError(400, 'EnableIPv6: IPv6 networks are not supported by Berth yet');
  const configs = b.IPAM?.Config ?? [];
  if (configs.length > 1) throw new ApiError(400, `IPAM.Config has ${configs.length} entries: Berth's networks have one IPv4 subnet`);
  const ipam = configs[0] ?? {};
  const n = await createNetwork(c.paths, {
    name: b.Name, driver: b.Driver || undefined, subnet: ipam.Subnet || undefined, gateway: ipam.Gateway || undefined, ipRange: ipam.IPRange || undefined,
    internal: b.Internal === true, labels: b.Labels ?? {}, options: b.Options ?? {},
  });
  sendJson(c.res, 201, { Id: n.Id, Warning: '' });
}

/** DELETE /networks/{id} */
export async function removeNetworkApi(c: ApiContext): Promise<void> {
  await removeNetwork(c.paths, c.params[0]!);
  sendEmpty(c.res, 204);
}

/** POST /networks/{id}/connect {Container, EndpointConfig} */
export async function connectNetworkApi(c: ApiContext): Promise<void> {
  const b = await readJson(c.req) as { Container?: string; EndpointConfig?: { Aliases?: string[] | null; IPAMConfig?: { IPv4Address?: string } | null } | null };
  if (!b.Container) throw new ApiError(400, 'Container is required');
  await connectContainer(c.paths, c.params[0]!, b.Container, { aliases: b.EndpointConfig?.Aliases ?? undefined, ip: b.EndpointConfig?.IPAMConfig?.IPv4Address || undefined });
  sendEmpty(c.res, 200);
}

/** POST /networks/{id}/disconnect {Container, Force} */
export async function disconnectNetworkApi(c: ApiContext): Promise<void> {
  const b = await readJson(c.req) as { Container?: string };
  if (!b.Container) throw new ApiError(400, 'Container is required');
  await disconnectContainer(c.paths, c.params[0]!, b.Container);
  sendEmpty(c.res, 200);
}

/** POST /networks/prune?filters={"label":[...]} */
export async function pruneNetworksApi(c: ApiContext): Promise<void> {
  const filters = filtersParam(c.query);
  const unknown = Object.keys(filters).filter((k) => k !== 'label');
  if (unknown.length) throw new ApiError(400, `invalid filter '${unknown[0]}': network prune takes label filters`);
  const names = await pruneNetworks(c.paths, filters.label ?? []);
  sendJson(c.res, 200, { NetworksDeleted: names.length ? names : null });
}
