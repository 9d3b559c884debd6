/**
 * POST /containers/create's body (Docker's Config with HostConfig and NetworkingConfig inside)
 * → the engine's CreateRequest. Berth's records already use Docker's field names
 * (engine/config.ts), so this is a merge over Docker's defaults, with two rules:
 *
 * - null means "the default" (Docker's clients send null for an empty list or map);
 * - a field Berth does not know is accepted only while it asks for nothing (zero, empty, or the
 *   one value Berth does anyway, e.g. LogConfig json-file). Any other value is a 400 that names
 *   the field: ignoring it would run a container that is not the one asked for.
 */
import { defaultContainerConfig, defaultHostConfig, type ContainerConfig, type CreateRequest, type HostConfig } from '../engine/config.js';
import { ApiError } from './http.js';
import { DOCKER_MASKED_PATHS, DOCKER_READONLY_PATHS } from '../engine/security.js';

/** Optional fields of Config and HostConfig (engine/config.ts) that have no default value. */
const OPTIONAL_CONFIG = ['StopSignal', 'StopTimeout', 'ExposedPorts', 'MacAddress', 'Volumes'];
const OPTIONAL_HOST = ['PortBindings', 'PublishAllPorts', 'Dns', 'DnsSearch', 'DnsOptions', 'ExtraHosts', 'VolumesFrom'];

/** Docker's own fields the engine leaves alone when they ask for what Berth does anyway. */
const SAME_AS_BERTH: Record<string, (v: unknown) => boolean> = {
  LogConfig: (v) => { const t = (v as { Type?: string } | null)?.Type; return !t || t === 'json-file'; },
  Isolation: (v) => v === '' || v === 'default',
  // What Berth's inspect shows (engine/inspect.ts), sent back by a client that recreates a container from it
  Runtime: (v) => v === 'runc',
  MaskedPaths: (v) => JSON.stringify(v) === JSON.stringify(DOCKER_MASKED_PATHS),
  ReadonlyPaths: (v) => JSON.stringify(v) === JSON.stringify(DOCKER_READONLY_PATHS),
};

/** Zero in Go's sense, recursively: what a client sends for a field nobody set. */
export function isZero(v: unknown): boolean {
  if (v === null || v === undefined || v === '' || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.every(isZero);
  if (typeof v === 'object') return Object.values(v as object).every(isZero);
  return false;
}

function merge<T extends object>(what: string, defaults: T, body: Record<string, unknown> | undefined, optional: readonly string[], skip: readonly string[] = []): T {
  const out = { ...defaults } as Record<string, unknown>;
  for (const [k, v] of Object.entries(body ?? {})) {
    if (skip.includes(k)) continue;
    const known = k in defaults || optional.includes(k);
    if (!known) {
      if (isZero(v) || SAME_AS_BERTH[k]?.(v)) continue;
      throw new ApiError(400, `${what}.${k} is not supported by Berth (${JSON.stringify(v)}): leave it unset`);
    }
    // null is the default; a list or map field gets its empty default rather than null.
    if (v === null && k in defaults) continue;
    out[k] = v;
  }
  return out as T;
}

/** The engine's CreateRequest for a create call (`name` from the query string). */
export function createRequestFromBody(body: Record<string, unknown>, name: string | undefined): CreateRequest {
  // `name` in the body: dockerode sends its options there as well as in the query (dockerd ignores it).
  const config = merge<ContainerConfig>('Config', defaultContainerConfig(), body, OPTIONAL_CONFIG, ['HostConfig', 'NetworkingConfig', 'name']);
  // Required, as in dockerd (the engine's own default, `host`, is only ever asked for by name).
  if (typeof body.Image !== 'string' || !body.Image) throw new ApiError(400, 'Config.Image is required (an image reference, or host for the host\'s system directories)');
  const hostConfig = merge<HostConfig>('HostConfig', defaultHostConfig(), body.HostConfig as Record<string, unknown> | undefined, OPTIONAL_HOST);
  // The docker CLI's "unset" for swappiness is -1 (Berth's is null, engine/config.ts).
  if (hostConfig.MemorySwappiness === -1) hostConfig.MemorySwappiness = null;
  // Docker's "default" network mode is the default network (engine/create.ts resolves it).
  if (hostConfig.NetworkMode === 'default') hostConfig.NetworkMode = '';
  const net = body.NetworkingConfig as CreateRequest['networkingConfig'] | null | undefined;
  const bodyName = typeof body.name === 'string' && body.name ? body.name.replace(/^\//, '') : undefined;
  return {
    ...(name ?? bodyName ? { name: name ?? bodyName } : {}),
    config,
    hostConfig,
    ...(net?.EndpointsConfig && Object.keys(net.EndpointsConfig).length ? { networkingConfig: { EndpointsConfig: net.EndpointsConfig } } : {}),
  };
}
