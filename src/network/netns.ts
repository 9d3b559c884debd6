/**
 * Network namespaces that outlive their processes, made before the container (the backend wires
 * them up first, then the runtime joins them by path) and removed after it: `berth-helper netns`
 * (native/netns.c), as `ip netns add|del` does, under the engine's network run directory.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { helperPath } from '../native/helper-path.js';
import { BerthError } from '../util/errors.js';

const run = promisify(execFile);

async function helper(verb: 'add' | 'pin' | 'del', path: string): Promise<void> {
  try {
    await run(helperPath(), ['netns', verb, path], { timeout: 30_000 });
  } catch (err) {
    const msg = ((err as { stderr?: string }).stderr ?? '').trim().replace(/^berth-helper: /, '') || (err as Error).message;
    throw new BerthError('EHELPER', msg);
  }
}

/** A new, empty network namespace bound at `path` (which must not exist). */
export async function addNetns(path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  await helper('add', path);
}

/** Unbind and remove the namespace at `path` (a missing one is fine). */
export async function removeNetns(path: string): Promise<void> {
  await helper('del', path);
}

/**
 * Pin this process's own network namespace at `path` (once; a pin of another namespace is left
 * alone). A detached container's monitor has joined the container's namespace, so its cleanup
 * command enters this one again (engine/monitor-files.ts) to find the bridge and rules it undoes.
 */
export async function pinOwnNetns(path: string): Promise<void> {
  if (existsSync(path)) return;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  await helper('pin', path).catch((err: BerthError) => { if (!existsSync(path)) throw err; });
}

/** Whether the namespace pinned at `path` is this process's own. */
export function isOwnNetns(path: string): boolean {
  try {
    const a = statSync(path);
    const b = statSync('/proc/self/ns/net');
    return a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}
