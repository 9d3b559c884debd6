/**
 * What a container's cgroup mount needs to know (see cgroup-mount.ts), worked out from the
 * detected host and the container's cgroup manager.
 */
import { basename } from 'node:path';
import type { CgroupHost, CgroupManager } from '../cgroups/index.js';
import type { Spec } from '../oci/spec.js';
import type { CgroupHierarchyMount, CgroupMountContext } from './cgroup-mount.js';
import { isNewNamespace } from './namespaces.js';

/** One entry per hierarchy the container has a directory in, named as on the host. */
export function cgroupMountContext(host: CgroupHost, cgroup: CgroupManager, spec: Spec): CgroupMountContext {
  const hierarchies: CgroupHierarchyMount[] = [];
  const unified = cgroup.paths.unified;
  if (host.mode === 'v2') {
    if (unified) hierarchies.push({ name: '', fstype: 'cgroup2', options: '', hostDir: unified });
  } else {
    const seen = new Set<string>();
    for (const [ctrl, mount] of Object.entries(host.v1)) {
      const dir = cgroup.paths[ctrl];
      if (!dir || seen.has(mount.mountPoint)) continue;
      seen.add(mount.mountPoint);
      const name = basename(mount.mountPoint);
      const links = name.includes(',') ? mount.controllers.filter((c) => c !== name) : undefined;
      hierarchies.push({ name, fstype: 'cgroup', options: mount.controllers.join(','), hostDir: dir, links });
    }
    hierarchies.sort((a, b) => a.name.localeCompare(b.name));
    if (host.mode === 'hybrid' && unified) hierarchies.push({ name: 'unified', fstype: 'cgroup2', options: '', hostDir: unified });
  }
  return { mode: host.mode, hierarchies, cgroupns: isNewNamespace(spec.linux?.namespaces, 'cgroup') };
}
