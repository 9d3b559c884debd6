/**
 * Namespace bookkeeping: OCI namespace types, their clone flags, and their /proc/<pid>/ns names.
 */
import type { LinuxNamespace, NamespaceType } from '../oci/spec.js';

export const CLONE_NEWTIME = 0x00000080;
export const CLONE_NEWNS = 0x00020000;
export const CLONE_NEWCGROUP = 0x02000000;
export const CLONE_NEWUTS = 0x04000000;
export const CLONE_NEWIPC = 0x08000000;
export const CLONE_NEWUSER = 0x10000000;
export const CLONE_NEWPID = 0x20000000;
export const CLONE_NEWNET = 0x40000000;

/** For each OCI namespace type: its clone flag, the helper's `setns` type, and /proc/<pid>/ns/<file>. */
export const NAMESPACES: Record<NamespaceType, { flag: number; setns: string; procFile: string }> = {
  user: { flag: CLONE_NEWUSER, setns: 'user', procFile: 'user' },
  mount: { flag: CLONE_NEWNS, setns: 'mnt', procFile: 'mnt' },
  pid: { flag: CLONE_NEWPID, setns: 'pid', procFile: 'pid' },
  network: { flag: CLONE_NEWNET, setns: 'net', procFile: 'net' },
  uts: { flag: CLONE_NEWUTS, setns: 'uts', procFile: 'uts' },
  ipc: { flag: CLONE_NEWIPC, setns: 'ipc', procFile: 'ipc' },
  cgroup: { flag: CLONE_NEWCGROUP, setns: 'cgroup', procFile: 'cgroup' },
  time: { flag: CLONE_NEWTIME, setns: 'time', procFile: 'time' },
};

/**
 * The order in which namespaces are joined. The user namespace comes first so the other joins
 * happen with the capabilities it grants; mount comes last because after joining it, paths
 * resolve in the container (runc's nsexec orders them the same way).
 */
export const JOIN_ORDER: NamespaceType[] = ['user', 'ipc', 'uts', 'network', 'pid', 'cgroup', 'time', 'mount'];

/** True when the spec asks for a private namespace of this type (new, not joined by path). */
export function isNewNamespace(nss: LinuxNamespace[] | undefined, type: NamespaceType): boolean {
  return (nss ?? []).some((ns) => ns.type === type && !ns.path);
}
