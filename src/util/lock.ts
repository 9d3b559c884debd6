/**
 * A per-container lock that works across processes.
 *
 * Node has no flock(2), so the lock is a file, created atomically with its content (link(2)),
 * that holds the owner's pid.
 * A lock whose owner is dead (killed mid-command, for example) is taken over, so a crashed
 * command never wedges a container. Waiters poll every 2 ms: commands hold the lock for
 * milliseconds, so contention is short.
 */
import { linkSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError, errnoCode } from './errors.js';
import { pidAlive } from './proc.js';

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Sleep synchronously for `ms` milliseconds (used only while waiting for a lock). */
export function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

let tmpSeq = 0;

/**
 * One attempt at the lock: the release function, or the pid of the owner holding it (0 when it
 * was released meanwhile, or a dead owner's lock was just removed: try again at once; -1 when
 * the owner is unknown: wait).
 *
 * The lock is written whole under a private name and linked into place: link(2) fails with EEXIST
 * as O_EXCL does, and the lock never exists without its pid. (With an O_EXCL open and a write, a
 * holder killed between the two left an empty lock that every waiter retried at once, for ever:
 * a runtime server spun on one until it was killed. Found by the issue 10 sweep.)
 */
function tryLock(path: string, dir: string): (() => void) | number {
  const tmp = `${path}.${process.pid}.${++tmpSeq}`;
  const vanished = () => new BerthError('ENOT_FOUND', `container state directory ${dir} vanished`);
  try {
    writeFileSync(tmp, String(process.pid), { mode: 0o600 });
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw vanished();
    throw err;
  }
  try {
    linkSync(tmp, path);
    return () => {
      try { unlinkSync(path); } catch { /* the directory may already be gone (delete) */ }
    };
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT') throw vanished();
    if (code !== 'EEXIST') throw err;
  } finally {
    try { unlinkSync(tmp); } catch { /* the directory may already be gone */ }
  }
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch { return 0; /* released meanwhile */ }
  const owner = Number(text) || 0;
  if (owner === 0) {
    // An empty lock, left by an older version killed between its open and its write: stale
    // once it has been empty for a while (no holder takes long to write five digits).
    let age = 0;
    try { age = Date.now() - statSync(path).mtimeMs; } catch { return 0; }
    if (age < EMPTY_LOCK_STALE_MS) return -1;
    try { unlinkSync(path); } catch { /* another waiter took it over first */ }
    return 0;
  }
  // A lock held by this very process (another request of the runtime server) is never stale.
  if (owner !== process.pid && !pidAlive(owner)) {
    try { unlinkSync(path); } catch { /* another waiter took it over first */ }
    return 0;
  }
  return owner;
}

/** See tryLock. */
const EMPTY_LOCK_STALE_MS = 2000;

function timeout(path: string, owner: number, ms: number): BerthError {
  const who = owner > 0 ? `pid ${owner}` : 'an unknown process (the lock file is empty)';
  return new BerthError('ELOCKED', `timed out after ${ms / 1000} s waiting for the lock ${path} held by ${who}`);
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
