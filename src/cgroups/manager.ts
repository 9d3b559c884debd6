/**
 * Builds the CgroupManager for a host and a resolved cgroup path, or from the record saved in
 * the container state. The record is complete on its own (no host detection needed), so
 * `delete --force` after a crash removes exactly what `create` may have made.
 */
import type { CgroupHost, CgroupManager, SavedCgroup } from './types.js';
import { V1_HIERARCHIES, V2_CONTROLLERS } from './controllers/index.js';
import { dirInMount } from './host.js';
import { absoluteIn } from './path.js';
import { V1Manager } from './manager-v1.js';
import { V2Manager } from './manager-v2.js';
import { BerthError } from '../util/errors.js';

/** Controllers the v2 side may enable: those with a module (V2_CONTROLLERS). */
const V2_NAMES = V2_CONTROLLERS.map((c) => c.name).filter((n): n is string => n !== null);

/**
 * The manager of cgroup `path` (from resolveCgroupPath) on `host`. Nothing is touched on disk
 * until create(). A relative path is placed below this process's own cgroup in each hierarchy.
 * @example const m = cgroupManager(host, resolveCgroupPath(host, spec.linux?.cgroupsPath, id));
 *          writeState({ cgroup: m.save() }); m.create(); m.apply(spec.linux?.resources ?? {});
 */
export function cgroupManager(host: CgroupHost, path: string): CgroupManager {
  const saved: SavedCgroup = { mode: host.mode, path, v1: {}, unifiedControllers: [] };
  if (host.mode !== 'v2') {
    for (const ctrl of V1_HIERARCHIES) {
      const mount = host.v1[ctrl];
      if (mount) saved.v1[ctrl] = dirInMount(mount, absoluteIn(host.self[ctrl], path));
    }
  }
  if (host.unified) {
    saved.unified = dirInMount(host.unified, absoluteIn(host.selfUnified, path));
    saved.unifiedRoot = host.unified.mountPoint;
    // v2: every controller Berth has a module for; hybrid: only those v1 lacks (hugetlb here).
    saved.unifiedControllers = V2_NAMES.filter((c) => host.unifiedControllers.includes(c) && (host.mode === 'v2' || !host.v1[c]));
  }
  if (host.mode === 'v2' && !saved.unified) throw new BerthError('ECGROUP', 'cgroup v2 host without a cgroup2 mount');
  return cgroupManagerFromState(saved);
}

/** Rebuilds a manager from the record `save()` produced (for delete, kill, pause, stats ...). */
export function cgroupManagerFromState(saved: SavedCgroup): CgroupManager {
  if (saved.mode === 'v2') {
    if (!saved.unified) throw new BerthError('ECGROUP', 'saved cgroup record of mode v2 has no unified directory');
    return new V2Manager(saved);
  }
  return new V1Manager(saved);
}
