/**
 * A per-container lock that works across processes.
 *
 * Node has no flock(2), so the lock is a file created with O_EXCL that holds the owner's pid.
 * A lock whose owner is dead (killed mid-command, for example) is taken over, so a crashed
 * command never wedges a container. Waiters poll every 2 ms: commands hold the lock for
 * milliseconds, so contention is short.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError, errnoCode } from '../util/errors.js';
import { pidAlive } from './proc.js';

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Sleep synchronously for `ms` milliseconds (used only while waiting for a lock). */
export function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/**
 * One attempt at the lock: the release function, or the pid of the owner holding it (0 when it
 * was released meanwhile, or a dead owner's lock was just removed: try again at once).
 */
function tryLock(path: string, dir: string): (() => void) | number {
  try {
    const fd = openSync(path, 'wx', 0o600);
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return () => {
      try { unlinkSync(path); } catch { /* the directory may already be gone (delete) */ }
    };
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT') throw new BerthError('ENOT_FOUND', `container state directory ${dir} vanished`);
    if (code !== 'EEXIST') throw err;
  }
  let owner = 0;
  try { owner = Number(readFileSync(path, 'utf8')); } catch { /* released meanwhile */ }
  // A lock held by this very process (another request of the runtime server) is never stale.
  if (owner > 0 && owner !== process.pid && !pidAlive(owner)) {
    try { unlinkSync(path); } catch { /* another waiter took it over first */ }
    return 0;
  }
  return owner;
}

function timeout(path: string, owner: number, ms: number): BerthError {
  return new BerthError('ELOCKED', `timed out after ${ms / 1000} s waiting for the lock ${path} held by pid ${owner}`);
}

/** The pid in a lock file of `dir` (0: none, or unreadable). */
export function lockOwner(dir: string): number {
  try { return Number(readFileSync(join(dir, 'lock'), 'utf8')) || 0; } catch { return 0; }
}

/**
 * Try until the lock is taken (its release function) or its owner is alive and it is not ours
 * yet (undefined: wait a moment and call again); past `deadline`, fail naming the owner.
 */
function attempt(path: string, dir: string, deadline: number, ms: number): (() => void) | undefined {
  for (;;) {
    const r = tryLock(path, dir);
    if (typeof r === 'function') return r;
    if (r === 0) continue;
    if (Date.now() > deadline) throw timeout(path, r, ms);
    return undefined;
  }
}

/** Take the lock in directory `dir`, waiting up to `timeoutMs`. Returns the release function. */
export function lockDir(dir: string, timeoutMs = 30_000): () => void {
  const path = join(dir, 'lock');
  const deadline = Date.now() + timeoutMs;
  for (let r = attempt(path, dir, deadline, timeoutMs); ; r = attempt(path, dir, deadline, timeoutMs)) {
    if (r) return r;
    sleepSync(2);
  }
}

/**
 * `lockDir` for a process that serves several commands at once (the runtime server): it waits
 * on a timer, so the request that holds the lock across an `await` can go on and release it.
 * A synchronous wait there would freeze the whole process, the holder included, until timeout.
 */
export async function lockDirAsync(dir: string, timeoutMs = 30_000): Promise<() => void> {
  const path = join(dir, 'lock');
  const deadline = Date.now() + timeoutMs;
  for (let r = attempt(path, dir, deadline, timeoutMs); ; r = attempt(path, dir, deadline, timeoutMs)) {
    if (r) return r;
    await new Promise((res) => setTimeout(res, 2));
  }
}

/**
 * What a command of this process that holds a container's lock across a helper wait (create,
 * exec) does when `delete --force` of the same container in the same process (another request of
 * the runtime server) finds it stalled: a lock held by this very process is never stale, and
 * killing processes does not end a wait on a client that is stopped. Keyed by the lock's dir.
 */
const holders = new Map<string, () => void>();

/** Register the abort of the command holding the lock of `dir`; returns the unregister function. */
export function onLockAbort(dir: string, abort: () => void): () => void {
  holders.set(dir, abort);
  return () => { if (holders.get(dir) === abort) holders.delete(dir); };
}

/** Abort the command of this process that holds the lock of `dir`, if one registered. */
export function abortLockHolder(dir: string): void {
  holders.get(dir)?.();
}
