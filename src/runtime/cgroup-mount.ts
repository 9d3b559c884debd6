/**
 * The `cgroup` / `cgroup2` mount of a container (usually at /sys/fs/cgroup).
 *
 * What the container should see is its own cgroup as the root of each hierarchy:
 * - with a private cgroup namespace the kernel does this for us: mounting the cgroup filesystem
 *   inside the namespace shows the namespace's root (the container's cgroup);
 * - without one, the container's cgroup directory of each hierarchy is bind-mounted instead
 *   (so it still cannot see or touch its siblings).
 * On v1 and hybrid hosts a tmpfs holds one directory per hierarchy, named like the host's mount
 * points (cpu, cpuacct, memory … or cpu,cpuacct with cpu and cpuacct symlinks when co-mounted),
 * plus `unified` on hybrid hosts. On v2 the cgroup2 filesystem is mounted directly.
 */
import type { Mount } from '../oci/spec.js';
import { parseMountOptions } from '../oci/mountopts.js';
import type { Op } from '../native/ops.js';

const MS_RDONLY = 0x1;
const MS_NOSUID = 0x2;
const MS_NODEV = 0x4;
const MS_NOEXEC = 0x8;
const MS_BIND = 0x1000;
const MS_REC = 0x4000;

/** One cgroup hierarchy as the container should see it. */
export interface CgroupHierarchyMount {
  /** Directory name under the mount point: `memory`, `cpu,cpuacct`, `unified`, or '' for v2. */
  name: string;
  /** The fs type: cgroup (v1) or cgroup2. */
  fstype: 'cgroup' | 'cgroup2';
  /** Mount data for the v1 hierarchy (its controllers, e.g. `cpu,cpuacct` or `name=systemd`). */
  options: string;
  /** The container's cgroup directory in this hierarchy on the host. */
  hostDir: string;
  /** Symlinks to create next to it (`cpu` and `cpuacct` for a `cpu,cpuacct` hierarchy). */
  links?: string[];
}

export interface CgroupMountContext {
  mode: 'v1' | 'v2' | 'hybrid';
  hierarchies: CgroupHierarchyMount[];
  /** True when the container has a private cgroup namespace. */
  cgroupns: boolean;
}

/** The operations for one cgroup mount entry of config.json. */
export function cgroupMountOps(m: Mount, ctx: CgroupMountContext | undefined): Op[] {
  if (!ctx) return [];
  const parsed = parseMountOptions(m.options ?? []);
  const ro = (parsed.flags & MS_RDONLY) !== 0;
  const base = MS_NOSUID | MS_NODEV | MS_NOEXEC | (parsed.flags & MS_RDONLY);
  const dest = m.destination;
  const ops: Op[] = [];
  if (ctx.mode === 'v2') {
    const h = ctx.hierarchies[0];
    if (!h) return [];
    ops.push(ctx.cgroupns
      ? mount('cgroup2', dest, 'cgroup2', base)
      : mount(h.hostDir, dest, '', MS_BIND | MS_REC | base));
    return ops;
  }
  ops.push(mount('tmpfs', dest, 'tmpfs', MS_NOSUID | MS_NODEV | MS_NOEXEC, 'mode=755'));
  for (const h of ctx.hierarchies) {
    const target = `${dest}/${h.name}`;
    if (ctx.cgroupns) {
      ops.push(mount(h.fstype, target, h.fstype, base, h.fstype === 'cgroup' ? h.options : ''));
    } else {
      ops.push(mount(h.hostDir, target, '', MS_BIND | MS_REC | base));
    }
    for (const link of h.links ?? []) ops.push({ op: 'symlink', target: h.name, linkpath: `${dest}/${link}` });
  }
  if (ro) ops.push({ op: 'remount', path: dest, flags: MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC });
  return ops;
}

/** A plain mount with its target made as a directory. */
function mount(source: string, target: string, fstype: string, flags: number, data = ''): Op {
  return { op: 'mount', source, target, fstype, flags, data, mkdir: 'dir', srcflags: '0' };
}
