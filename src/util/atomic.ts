/**
 * Crash-safe file writes: write a temporary file in the same directory, fsync it, rename it over
 * the destination, fsync the directory. After a crash the destination holds either the old or
 * the new content, never a mix; the rename is durable once the directory is synced. A reader
 * never sees a half-written file either. Every file Berth replaces whole is written here
 * (writeFileAtomic, or writeFileAtomicSync where the caller is synchronous).
 *
 * `durable: false` skips the two fsyncs and keeps the rest: for state that a reboot makes
 * meaningless (the runtime's state.json and pid files under /run, a terminal's size), which must
 * survive a crash of the writer whole but not a power loss — runc writes its state that way too,
 * and two fsyncs per save cost a runtime `run` a sixth of its time where /run is on disk. The
 * engine's container.json is written the same way (as before there was one implementation): it
 * is rewritten at every step of a container's life, and fsyncing it made `berth run` 1.09x slower.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A temporary name next to `path`, tagged with our pid so a cleanup can tell live from stale. */
export function tempNameFor(path: string): string {
  return join(dirname(path), `.tmp-${process.pid}-${randomBytes(6).toString('hex')}-${basename(path)}`);
}

/** fsyncs a directory, making renames and unlinks in it durable. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try { await fh.sync(); } finally { await fh.close(); }
}

/** fsyncSync of a directory (see syncDir). */
export function syncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try { fsyncSync(fd); } finally { closeSync(fd); }
}

/** How a write is made (see the top of this file). */
export interface AtomicWriteOptions {
  /** fsync the file and the directory (default true). */
  durable?: boolean;
}

/** Atomically replaces `path` with `data` (mode 0644 unless given; the umask applies). */
export async function writeFileAtomic(path: string, data: Buffer | string, mode = 0o644, opts: AtomicWriteOptions = {}): Promise<void> {
  const durable = opts.durable !== false;
  const tmp = tempNameFor(path);
  try {
    const fh = await open(tmp, 'wx', mode);
    try {
      await fh.writeFile(data);
      if (durable) await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  if (durable) await syncDir(dirname(path));
}

/** writeFileAtomic for synchronous callers. */
export function writeFileAtomicSync(path: string, data: Buffer | string, mode = 0o644, opts: AtomicWriteOptions = {}): void {
  const durable = opts.durable !== false;
  const tmp = tempNameFor(path);
  try {
    const fd = openSync(tmp, 'wx', mode);
    try {
      writeFileSync(fd, data);
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  if (durable) syncDirSync(dirname(path));
}

/** True when a `.tmp-<pid>-…` name belongs to a process that is no longer running. */
export function isStaleTemp(name: string): boolean {
  const m = /^\.tmp-(\d+)-/.exec(name);
  if (!m) return false;
  const pid = Number(m[1]);
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as { code?: string }).code === 'ESRCH';
  }
}
