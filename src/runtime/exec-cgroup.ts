/**
 * Where an `exec`'d process goes in the cgroup tree: the container's own cgroup, or with runc's
 * `exec --cgroup` an existing sub-cgroup of it, per controller. Values are `PATH` (every
 * hierarchy) or `CONTROLLER[,CONTROLLER]:PATH` (those hierarchies only; later values win), PATH
 * relative to the container's cgroup. On cgroup v2 the unified directory is also the one the
 * helper clones the process into (CLONE_INTO_CGROUP).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import type { CgroupManager } from '../cgroups/index.js';
import { BerthError, errnoCode } from '../util/errors.js';

/**
 * The directory per hierarchy (keys of `CgroupManager.paths`) for an exec with these `--cgroup`
 * values. Fails naming the value when a controller is unknown, the path leaves the container's
 * cgroup, or the sub-cgroup does not exist (runc does not create it either).
 * @example execCgroupDirs(m, ['memory:sub', 'other'])  // memory → <mem>/sub, the rest → <…>/other
 */
export function execCgroupDirs(cgroup: CgroupManager, values: string[]): Record<string, string> {
  const dirs: Record<string, string> = { ...cgroup.paths };
  for (const value of values) {
    const colon = value.indexOf(':');
    const ctrls = colon >= 0 ? value.slice(0, colon).split(',').filter(Boolean) : Object.keys(cgroup.paths);
    const sub = colon >= 0 ? value.slice(colon + 1) : value;
    const norm = normalize(sub);
    if (!sub || sub.startsWith('/') || norm === '..' || norm.startsWith('../')) {
      throw new BerthError('EINVALID_ARG', `--cgroup ${JSON.stringify(value)}: the path must be relative and stay below the container's cgroup`);
    }
    if (colon >= 0 && cgroup.mode === 'v2') {
      throw new BerthError('EINVALID_ARG', `--cgroup ${JSON.stringify(value)}: on cgroup v2 give only a path (there is one hierarchy)`);
    }
    for (const ctrl of ctrls) {
      // On hybrid hosts "unified" names the cgroup2 twin; v1 names are the hierarchies' own.
      const base = cgroup.paths[ctrl];
      if (!base) {
        throw new BerthError('EINVALID_ARG', `--cgroup ${JSON.stringify(value)}: no controller ${JSON.stringify(ctrl)} in this container's cgroups (${Object.keys(cgroup.paths).sort().join(', ')})`);
      }
      const dir = join(base, norm);
      if (!existsSync(dir)) throw new BerthError('EINVALID_ARG', `--cgroup ${JSON.stringify(value)}: ${dir} does not exist`);
      dirs[ctrl] = dir;
    }
  }
  return dirs;
}

/** Move `pid` into each directory (one write to cgroup.procs per hierarchy). */
export function addToCgroupDirs(pid: number, dirs: Record<string, string>, skip?: string): void {
  for (const dir of new Set(Object.entries(dirs).filter(([k]) => k !== skip).map(([, d]) => d))) {
    try {
      writeFileSync(join(dir, 'cgroup.procs'), String(pid));
    } catch (err) {
      if (errnoCode(err) === 'ESRCH') return; // the process is already gone
      // A new v1 cpuset starts with empty cpuset.cpus/mems, and the kernel refuses tasks then.
      const hint = errnoCode(err) === 'ENOSPC' ? ' (a v1 cpuset needs cpuset.cpus and cpuset.mems set before it takes a process)' : '';
      if (hint) throw new BerthError('ECGROUP', `cannot add exec process ${pid} to ${dir}: ${(err as Error).message}${hint}`);
      throw new BerthError('ECGROUP', `cannot add exec process ${pid} to ${dir}: ${(err as Error).message}`);
    }
  }
}
