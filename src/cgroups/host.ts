/**
 * Detects how cgroups are mounted on the host (v1, v2 or hybrid) from /proc/self/mountinfo, and
 * where this process sits in each hierarchy from /proc/self/cgroup.
 *
 * Hybrid ("systemd hybrid", this development machine): v1 hierarchies under /sys/fs/cgroup/<ctrl>
 * plus a cgroup2 mount at /sys/fs/cgroup/unified that usually holds no controllers (here only
 * hugetlb). Like runc, Berth then uses v1 for limits and mirrors the path in the unified hierarchy
 * for process tracking and for the controllers that exist only there.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CgroupHost, CgroupMount } from './types.js';
import { readOpt } from './files.js';

/** v1 controllers Berth knows; named hierarchies (name=systemd) and others are ignored. */
export const V1_CONTROLLER_NAMES = [
  'cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'hugetlb',
  'net_cls', 'net_prio', 'rdma', 'perf_event', 'misc',
] as const;

/** Unescapes mountinfo's octal escapes (\040 is a space). */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/**
 * Parses the cgroup and cgroup2 lines of /proc/self/mountinfo. When one hierarchy is mounted at
 * several places (bind mounts), the first mount wins, as in runc.
 */
export function parseMountinfo(text: string): { v1: Record<string, CgroupMount>; unified?: CgroupMount } {
  const v1: Record<string, CgroupMount> = {};
  let unified: CgroupMount | undefined;
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(' ');
    const post = line.slice(sep + 3).split(' ');
    const fstype = post[0];
    const root = unescape(pre[3] ?? '/');
    const mountPoint = unescape(pre[4] ?? '');
    if (fstype === 'cgroup2') {
      unified ??= { mountPoint, root, controllers: [] };
    } else if (fstype === 'cgroup') {
      const opts = (post[2] ?? '').split(',');
      const controllers = opts.filter((o) => (V1_CONTROLLER_NAMES as readonly string[]).includes(o));
      const mount: CgroupMount = { mountPoint, root, controllers };
      for (const c of controllers) v1[c] ??= mount;
    }
  }
  return unified ? { v1, unified } : { v1 };
}

/**
 * Parses /proc/self/cgroup ("hierarchy-id:controllers:path"). The `0::path` line is the unified
 * hierarchy; other lines map each of their (comma-separated) controllers to the path.
 */
export function parseProcCgroup(text: string): { self: Record<string, string>; selfUnified?: string } {
  const self: Record<string, string> = {};
  let selfUnified: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === '0' && m[2] === '') selfUnified = m[3]!;
    else for (const c of m[2]!.split(',')) if (c) self[c] = m[3]!;
  }
  return selfUnified !== undefined ? { self, selfUnified } : { self };
}

/**
 * Builds a CgroupHost from the two files' contents and the unified root's cgroup.controllers.
 * Pure, so tests feed it captured fixtures.
 */
export function parseCgroupHost(mountinfo: string, procSelfCgroup: string, unifiedControllers: string | undefined): CgroupHost {
  const { v1, unified } = parseMountinfo(mountinfo);
  const { self, selfUnified } = parseProcCgroup(procSelfCgroup);
  const hasV1 = Object.keys(v1).length > 0;
  const mode = !hasV1 && unified ? 'v2' : hasV1 && unified ? 'hybrid' : 'v1';
  const host: CgroupHost = {
    mode,
    v1: mode === 'v2' ? {} : v1,
    unifiedControllers: (unifiedControllers ?? '').trim().split(/\s+/).filter((c) => c !== ''),
    self,
  };
  if (unified) host.unified = unified;
  if (selfUnified !== undefined) host.selfUnified = selfUnified;
  return host;
}

let cached: Promise<CgroupHost> | undefined;

/**
 * /proc/<pid>/cgroup of a process that is alive. An exiting task is moved to the root cgroup of
 * every v1 hierarchy (cgroup_exit, before it becomes a zombie), so the file of a caller killed a
 * moment ago says "/" everywhere: a relative cgroupsPath would land at the hierarchy's root
 * (found by killing warm clients, issue 10). PF_EXITING (0x4 in field 9 of /proc/<pid>/stat) is
 * set before cgroup_exit, so a file read while the flag was clear is the live one.
 */
export function readLiveProcCgroup(pid: number | string): string {
  const text = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  if (pid === 'self') return text;
  let stat = '';
  try { stat = readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { /* gone: below */ }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); field 9 (flags) is fields[6]
  if (!stat || fields[0] === 'Z' || fields[0] === 'X' || (Number(fields[6]) & 0x4) !== 0) {
    throw Object.assign(new Error(`process ${pid} has exited`), { code: 'ESRCH' });
  }
  return text;
}

/**
 * Detects the host's cgroup layout once per process (the result is cached), with this process's
 * own cgroups as `self`. A command run for another process (a client of the warm server) places
 * relative paths below that process's cgroups instead: see cgroupHostOf (runtime/create.ts).
 * @example const host = await detectCgroupHost(); host.mode // 'hybrid' on this machine
 */
export async function detectCgroupHost(): Promise<CgroupHost> {
  cached ??= Promise.resolve().then(() => {
    const mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
    const procCgroup = readFileSync('/proc/self/cgroup', 'utf8');
    const { unified } = parseMountinfo(mountinfo);
    const ctrls = unified ? readOpt(unified.mountPoint, 'cgroup.controllers') : undefined;
    return parseCgroupHost(mountinfo, procCgroup, ctrls);
  });
  return cached;
}

/**
 * The directory of cgroup `path` (absolute within the hierarchy) under `mount`. When the mount's
 * root is not '/' (inside a cgroup namespace or a bind mount of a sub-cgroup), paths are relative
 * to that root, as the kernel shows them in /proc/self/cgroup.
 */
export function dirInMount(mount: CgroupMount, path: string): string {
  let rel = path;
  if (mount.root !== '/' && (rel === mount.root || rel.startsWith(mount.root + '/'))) rel = rel.slice(mount.root.length);
  return join(mount.mountPoint, rel);
}
