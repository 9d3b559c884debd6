/**
 * Where a container's root filesystem lives, and its synchronous removal — kept apart from
 * rootfs.ts so that the engine's record store, which removes root filesystems with their
 * containers, does not load the image and unpacking code for every command.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../util/errors.js';

/** The directory of a container's root filesystem. */
export function rootfsDir(root: string, id: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(id)) throw new BerthError('EINVALID_ARG', `container id ${JSON.stringify(id)} is not valid for a root filesystem directory`);
  return join(root, 'rootfs', id);
}

/**
 * `removeRootfs` for synchronous callers (the engine's record removal is synchronous): the same
 * steps, the same idempotence. Returns without a process when there is no directory.
 */
export function removeRootfsSync(root: string, id: string): void {
  const dir = rootfsDir(root, id);
  if (!existsSync(dir)) return;
  const merged = join(dir, 'merged');
  const mounted = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4]?.replace(/\\040/g, ' ') === merged);
  if (mounted) {
    try { execFileSync('umount', [merged], { stdio: 'ignore' }); } catch { execFileSync('umount', ['-l', merged], { stdio: 'ignore' }); }
  }
  execFileSync('rm', ['-rf', '--one-file-system', dir], { stdio: 'ignore' });
}
