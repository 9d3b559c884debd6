/**
 * Where the native helper puts itself so that the container's init is born in its v1 cgroups.
 *
 * Moving a process with a cgroup.procs write takes cgroup_threadgroup_rwsem for writing: a
 * per-cpu rwsem shared by every hierarchy, v1 and v2 alike, whose writer goes through
 * rcu_sync_enter(). After an idle period that waits one RCU grace period (6–20 ms on this host,
 * more when it is busy); writes shortly after find the readers still on the slow path and take
 * ~0.02 ms. So the first cgroup.procs write of a `create` paid the grace period, whichever
 * hierarchy it went to (measured: v1 first or unified first, the first one waits; writing the
 * helper's own pid to cgroup.procs waits the same).
 *
 * v2 avoids it with CLONE_INTO_CGROUP (the child is born in its cgroup: no migration). v1 has no
 * such flag, but since linux 6.2 moving only the calling thread — "0" written to a v1 `tasks`
 * file — skips the rwsem. The helper is single-threaded, so it moves itself into the container's
 * v1 directories (`cgroup-enter`), clones, and moves back (`cgroup-leave`) before reporting the
 * pid: the init is born in every hierarchy and nothing waits (0.1–0.4 ms for eight hierarchies).
 * On older kernels the same writes take the rwsem, and cost what the runtime's writes did.
 */
import type { CgroupHost, CgroupManager } from './types.js';
import { dirInMount } from './host.js';

/** The helper's moves around the clone: into the container's v1 dirs, then back to its own. */
export interface HelperCgroupMoves {
  /** The container's v1 directories, one per hierarchy (co-mounted controllers share one). */
  enter: string[];
  /** The helper's own directories in the same hierarchies. */
  leave: string[];
  /**
   * The container's v1 memory directory, which the helper does not enter: with a tiny limit the
   * helper itself would be OOM-killed there (in the runtime server the helper is the caller's
   * berth-runtime process). The child moves itself into it first thing instead (`cgroup-self`).
   */
  memory?: string;
}

/**
 * The moves for a helper whose cgroups are `host.self` (the runtime's own, or the calling
 * client's in the runtime server: see runtime/create.ts cgroupHostOf). undefined on v2, where
 * CLONE_INTO_CGROUP places the child, and when the manager has no v1 directory.
 * @example helperCgroupMoves(host, m) // { enter: ['/sys/fs/cgroup/cpu/berth/c1', ...], leave: ['/sys/fs/cgroup/cpu', ...] }
 */
export function helperCgroupMoves(host: CgroupHost, manager: CgroupManager): HelperCgroupMoves | undefined {
  if (manager.mode === 'v2') return undefined;
  const enter: string[] = [];
  const leave: string[] = [];
  let memory: string | undefined;
  for (const [ctrl, dir] of Object.entries(manager.paths)) {
    if (ctrl === 'unified' || enter.includes(dir)) continue;
    if (ctrl === 'memory' && host.v1.memory?.controllers.length === 1) {
      memory = dir;
      continue;
    }
    const mount = host.v1[ctrl];
    const own = host.self[ctrl];
    // Without both ends the helper could not come back: let the runtime place the child instead.
    if (!mount || own === undefined) return undefined;
    enter.push(dir);
    leave.push(dirInMount(mount, own).replace(/(.)\/+$/, '$1'));
  }
  return enter.length || memory ? { enter, leave, memory } : undefined;
}
