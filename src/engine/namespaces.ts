/**
 * The namespace modes of `run`/`create`: `--pid`, `--ipc`, `--uts` (host, container:NAME),
 * `--network` (none, host, container:NAME) and `--userns` (host, or Berth's uid/gid mapping).
 *
 * Joining another container's namespace is done the runtime's way: the OCI spec names the
 * namespace by path, /proc/<the other container's init pid>/ns/<x>, and the runtime setns(2)s
 * into it before it forks the container's init. The path is only good while that init lives, so
 * it is resolved at create time and checked again (by the kernel) at start.
 *
 * `--userns CONTAINER:HOST:SIZE[,CONTAINER:HOST:SIZE...]` is Berth's syntax (Docker only takes
 * `host`, and remaps through a daemon-wide setting): ids CONTAINER..CONTAINER+SIZE-1 inside are
 * HOST..HOST+SIZE-1 outside, the same mapping for uids and gids, e.g. `0:100000:65536`. With an
 * image, the root filesystem's lower layers are id-mapped with this mapping (no chowned copy;
 * storage/idmap-layers.ts, image-rootfs.ts); with the host root filesystem the container's own
 * directories are chowned (create.ts).
 */
import type { IDMapping } from '../oci/spec.js';
import { BerthError } from '../util/errors.js';

/** The namespaces that may be joined from another container, with the flag that names them. */
export const JOINABLE = { pid: '--pid', ipc: '--ipc', uts: '--uts', network: '--network' } as const;

/** A joinable namespace type (OCI names). */
export type JoinableNs = keyof typeof JOINABLE;

/** `container:NAME` → NAME; undefined for any other mode. */
export function joinedContainer(mode: string): string | undefined {
  return mode.startsWith('container:') ? mode.slice('container:'.length) : undefined;
}

const NOT_NETWORKS = ['', 'none', 'host', 'default', 'private'];

/** Whether a --network value names a network (bridge, a user-defined one) rather than a namespace mode. */
export function isNetworkName(mode: string): boolean {
  return !NOT_NETWORKS.includes(mode) && !mode.startsWith('container:');
}

/** The mode of each joinable namespace in a HostConfig's fields. */
export function namespaceModes(hc: { PidMode: string; IpcMode: string; UTSMode: string; NetworkMode: string }): Record<JoinableNs, string> {
  return { pid: hc.PidMode, ipc: hc.IpcMode, uts: hc.UTSMode, network: hc.NetworkMode };
}

/**
 * Parse `--userns`: '' and `host` → undefined (the host's user namespace); a mapping list →
 * the OCI id mappings (used for both uids and gids).
 */
export function parseUsernsMapping(mode: string): IDMapping[] | undefined {
  if (mode === '' || mode === 'host') return undefined;
  const out: IDMapping[] = [];
  for (const part of mode.split(',')) {
    const m = /^(\d+):(\d+):(\d+)$/.exec(part);
    const [c, h, n] = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [NaN, NaN, NaN];
    if (!m || n < 1 || c + n > 2 ** 32 - 1 || h + n > 2 ** 32 - 1) {
      throw new BerthError('EINVALID_ARG', `invalid --userns ${JSON.stringify(mode)}: use host or CONTAINER-ID:HOST-ID:SIZE[,...], e.g. 0:100000:65536`);
    }
    out.push({ containerID: c, hostID: h, size: n });
  }
  for (const [i, a] of out.entries()) {
    for (const b of out.slice(i + 1)) {
      const overlap = (x: number, y: number) => x < y + b.size && y < x + a.size;
      if (overlap(a.containerID, b.containerID) || overlap(a.hostID, b.hostID)) {
        throw new BerthError('EINVALID_ARG', `invalid --userns ${mode}: the ranges ${a.containerID}:${a.hostID}:${a.size} and ${b.containerID}:${b.hostID}:${b.size} overlap`);
      }
    }
  }
  if (!out.some((m) => m.containerID === 0)) {
    throw new BerthError('EINVALID_ARG', `invalid --userns ${mode}: container id 0 (root) must be mapped, e.g. 0:100000:65536`);
  }
  return out;
}

/** The host id that container id `id` maps to (undefined when unmapped). */
export function mapToHost(maps: readonly IDMapping[], id: number): number | undefined {
  const m = maps.find((x) => id >= x.containerID && id < x.containerID + x.size);
  return m ? m.hostID + (id - m.containerID) : undefined;
}

/**
 * Docker's conflicts between the namespace modes and other flags (moby runconfig/hostconfig_unix.go):
 * a container sharing another's network cannot set its own hostname, and so on.
 */
export function checkNamespaceConflicts(hc: { NetworkMode: string; UTSMode: string; UsernsMode: string; Privileged: boolean }, hostname: string): void {
  if (hostname && (joinedContainer(hc.NetworkMode) !== undefined || joinedContainer(hc.UTSMode) !== undefined)) {
    throw new BerthError('EINVALID_ARG', 'conflicting options: --hostname and --network/--uts container:NAME (the hostname is the other container\'s)');
  }
  if (hostname && hc.UTSMode === 'host') {
    throw new BerthError('EINVALID_ARG', 'conflicting options: --hostname and --uts host (the hostname is the host\'s)');
  }
  if (parseUsernsMapping(hc.UsernsMode) && hc.NetworkMode === 'host') {
    // sysfs can only be mounted by the owner of the network namespace (a new user namespace does
    // not own the host's), and Berth mounts a fresh /sys.
    throw new BerthError('EINVALID_ARG', 'conflicting options: --userns with a mapping and --network host (a user namespace cannot mount the host network\'s /sys)');
  }
  if (parseUsernsMapping(hc.UsernsMode) && hc.Privileged) {
    throw new BerthError('EINVALID_ARG', 'conflicting options: --privileged and --userns with a mapping (use --userns host)');
  }
}
