/**
 * Removing what a container left: its processes, its cgroup, its state directory. Used by
 * `delete` and by every failure path of `create`, and safe to repeat: each step tolerates a
 * resource that is already gone (a crashed create may have made only some of them).
 */
import { rmdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { cgroupManagerFromState } from '../cgroups/index.js';
import { pidsRecursive } from '../cgroups/tree.js';
import { isSameProcess } from '../util/proc.js';
import { sleepSync } from '../util/lock.js';
import type { ContainerRecord, Store } from './store.js';

/** Kill the container's processes (SIGKILL), wait for the init to go, remove cgroup and state. */
export async function destroyContainer(store: Store, rec: ContainerRecord): Promise<void> {
  const cgroup = rec.cgroup ? cgroupManagerFromState(rec.cgroup as never) : undefined;
  if (rec.pid !== undefined && isSameProcess(rec.pid, rec.pidStartTime)) {
    try { process.kill(rec.pid, 'SIGKILL'); } catch { /* gone meanwhile */ }
  }
  if (cgroup?.exists()) {
    try { await cgroup.killAll('SIGKILL'); } catch { /* destroy below retries while they exit */ }
  }
  if (rec.pid !== undefined) await waitGoneAsync(rec.pid, rec.pidStartTime, 2000);
  if (cgroup) {
    await cgroup.destroy();
    // Berth's default parent (/berth, used when config.json has no cgroupsPath) is removed with
    // the last container in it, so an idle host has no trace of Berth in its cgroup tree.
    if (!rec.spec.linux?.cgroupsPath) {
      for (const dir of new Set(Object.values(cgroup.paths))) {
        try { rmdirSync(dirname(dir)); } catch { /* other containers still use it */ }
      }
    }
  }
  store.remove(rec.id);
}

/** Wait until the process has exited (or is a zombie nobody reaped yet), up to `ms`. */
export function waitGone(pid: number, startTime: number | undefined, ms: number): boolean {
  const deadline = Date.now() + ms;
  while (isSameProcess(pid, startTime)) {
    if (Date.now() > deadline) return false;
    sleepSync(1);
  }
  return true;
}

/** `waitGone` on a timer, so a process serving other commands (the runtime server) goes on. */
export async function waitGoneAsync(pid: number, startTime: number | undefined, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isSameProcess(pid, startTime)) {
    if (Date.now() > deadline) return false;
    await new Promise((res) => setTimeout(res, 1));
  }
  return true;
}

/**
 * `delete --force` while another command holds the lock (lifecycle.ts `forceDelete`): SIGKILL
 * the recorded init (if it is still that process) and every process in the recorded cgroup, in
 * every hierarchy (a helper that entered the v1 dirs before its clone sits in all but memory; the
 * init joins memory itself). Without the lock: killing is idempotent and removes nothing.
 */
export async function killUnlocked(rec: ContainerRecord): Promise<void> {
  if (rec.pid !== undefined && isSameProcess(rec.pid, rec.pidStartTime)) {
    try { process.kill(rec.pid, 'SIGKILL'); } catch { /* gone meanwhile */ }
  }
  const cgroup = rec.cgroup ? cgroupManagerFromState(rec.cgroup as never) : undefined;
  if (!cgroup?.exists()) return;
  try { await cgroup.killAll('SIGKILL'); } catch { /* the sweep below still signals them */ }
  for (const dir of new Set(Object.values(cgroup.paths))) {
    for (const pid of pidsRecursive(dir)) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone meanwhile */ }
    }
  }
}
