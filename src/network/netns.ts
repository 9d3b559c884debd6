/**
 * Network namespaces that outlive their processes, made before the container (the backend wires
 * them up first, then the runtime joins them by path) and removed after it: `berth-helper netns`
 * (native/netns.c), as `ip netns add|del` does, under the engine's network run directory.
 */
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { helperPath } from '../native/helper-path.js';
import { BerthError } from '../util/errors.js';

const run = promisify(execFile);

async function helper(verb: 'add' | 'del', path: string): Promise<void> {
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
