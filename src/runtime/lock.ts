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

/** Take the lock in directory `dir`, waiting up to `timeoutMs`. Returns the release function. */
export function lockDir(dir: string, timeoutMs = 30_000): () => void {
  const path = join(dir, 'lock');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
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
    if (owner > 0 && owner !== process.pid && !pidAlive(owner)) {
      try { unlinkSync(path); } catch { /* another waiter took it over first */ }
      continue;
    }
    if (Date.now() > deadline) {
      throw new BerthError('EBAD_STATE', `timed out waiting for the lock ${path} held by pid ${owner}`);
    }
    sleepSync(2);
  }
}
