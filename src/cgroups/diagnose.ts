/**
 * Diagnosis at the point of failure (crun does the same): when a container's init dies while it
 * is being created, the helper protocol only sees an early "exit". If the cgroup counted an OOM
 * kill meanwhile, the memory limit is the cause, and the user should read that instead. The
 * kernel accepts any memory limit on write (v1 rounds 1 byte down to 0 pages), so a limit too
 * small to exec anything surfaces only here.
 */
import type { SavedCgroup } from './types.js';
import { cgroupManagerFromState } from './manager.js';
import { invalidConfig } from '../util/errors.js';
import type { BerthError } from '../util/errors.js';

/**
 * An EINVALID_CONFIG error naming linux.resources.memory.limit when the cgroup recorded an OOM
 * kill, else undefined. Call it BEFORE the cgroup is destroyed (the counter goes with it).
 * @example catch (err) { throw oomDuringCreate(record.cgroup, limit) ?? err; }
 */
export function oomDuringCreate(saved: SavedCgroup | undefined, memoryLimit: number | undefined): BerthError | undefined {
  if (!saved) return undefined;
  let kills = 0;
  try {
    kills = cgroupManagerFromState(saved).oomKillCount();
  } catch {
    return undefined; // the cgroup never got made: nothing to diagnose
  }
  if (kills === 0) return undefined;
  const limit = memoryLimit === undefined ? '' : ` ${memoryLimit}`;
  return invalidConfig(`linux.resources.memory.limit${limit}`, 'is too low: the container\'s process was killed by the OOM killer while starting');
}
