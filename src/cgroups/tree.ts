/**
 * Directory-tree operations on cgroups: mkdir -p reporting what it made, the pids of a subtree,
 * and depth-first removal that waits for exiting processes.
 */
import { mkdirSync, readdirSync, rmdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BerthError, errnoCode } from '../util/errors.js';
import { readOpt, parsePids } from './files.js';

/** mkdir -p; returns the directories it created, top down (empty if `dir` existed). */
export function mkdirP(dir: string): string[] {
  const missing: string[] = [];
  for (let d = dir; !existsSync(d); d = dirname(d)) {
    if (d === dirname(d)) break;
    missing.unshift(d);
  }
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw new BerthError('ECGROUP', `cannot create cgroup ${d}: ${errnoCode(err) ?? String(err)}`, { cause: err });
    }
  }
  return missing;
}

/** Sub-cgroup directories of dir (cgroupfs shows them as directories among the files). */
export function subCgroups(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(dir, e.name));
  } catch {
    return [];
  }
}

/** Every pid in dir and its sub-cgroups (cgroup.procs is per cgroup, not recursive). */
export function pidsRecursive(dir: string): number[] {
  const out = parsePids(readOpt(dir, 'cgroup.procs'));
  for (const sub of subCgroups(dir)) out.push(...pidsRecursive(sub));
  return out;
}

/**
 * Removes dir and every sub-cgroup the container made, deepest first. rmdir of a cgroup fails
 * with EBUSY while it still has tasks — including zombies not yet reaped and, on v2, tasks
 * still exiting after SIGKILL — so each rmdir is retried for up to `timeoutMs`.
 * A missing directory is fine (destroy is idempotent).
 */
export async function removeTree(dir: string, timeoutMs = 1000): Promise<void> {
  // rmdir first: a cgroup without children (the common case) needs no listing of its files.
  try {
    rmdirSync(dir);
    return;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
  }
  for (const sub of subCgroups(dir)) await removeTree(sub, timeoutMs);
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; ; i++) {
    try {
      rmdirSync(dir);
      return;
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || Date.now() > deadline) {
        const procs = parsePids(readOpt(dir, 'cgroup.procs'));
        const hint = procs.length ? ` (still holds pids ${procs.slice(0, 8).join(' ')})` : '';
        throw new BerthError('ECGROUP', `cannot remove cgroup ${dir}: ${code ?? String(err)}${hint}`, { cause: err });
      }
      // New sub-cgroups may have appeared meanwhile (a process still running made one).
      for (const sub of subCgroups(dir)) await removeTree(sub, Math.max(0, deadline - Date.now()));
      await sleep(i < 10 ? 2 : 20);
    }
  }
}
