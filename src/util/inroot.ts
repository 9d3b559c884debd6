/**
 * Reading a file of a container's root filesystem from the host, as the container would see it.
 *
 * The root is untrusted: an image (or a running container, for `exec -u`) may make /etc/passwd a
 * symlink to a host file, a fifo that blocks the reader for ever, or /dev/zero. So symlinks are
 * resolved inside the root (an absolute target restarts at the root, `..` stops there), the last
 * component is opened without following a link and without blocking, and what was opened is
 * checked: a regular file whose path, as the kernel names the open fd, is below the root. The
 * check is on the fd, so a running container that renames a directory into a symlink between
 * the resolution and the open gains nothing (the open then fails the check).
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readlinkSync, readSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError, errnoCode } from './errors.js';

/** The kernel follows at most 40 links in one lookup; so does this. */
const MAX_LINKS = 40;

/**
 * `path` (absolute, inside the container) as a host path under `root`, following symlinks as the
 * container would see them, so nothing outside `root` is named. A missing component ends the
 * walk (the rest is appended as is).
 */
export function resolveInRootSync(root: string, path: string): string {
  const todo = path.split('/').filter(Boolean);
  const done: string[] = [];
  let links = 0;
  while (todo.length) {
    const part = todo.shift() as string;
    if (part === '.') continue;
    if (part === '..') { done.pop(); continue; }
    const full = join(root, ...done, part);
    let isLink = false;
    try { isLink = lstatSync(full).isSymbolicLink(); } catch { /* missing: taken as is */ }
    if (isLink) {
      if (++links > MAX_LINKS) throw new BerthError('EINVALID_IMAGE', `too many symlinks resolving ${path} in ${root}`);
      const target = readlinkSync(full);
      if (target.startsWith('/')) done.length = 0;
      todo.unshift(...target.split('/').filter(Boolean));
      continue;
    }
    done.push(part);
  }
  return join(root, ...done);
}

/**
 * The contents of `path` in the container whose root is `root`, or undefined when it is missing
 * or not a regular file below the root. Reads at most `maxBytes` (the rest is ignored).
 * @example readFileInRoot(rec.RootPath, '/etc/passwd') ?? ''
 */
export function readFileInRoot(root: string, path: string, maxBytes = 4 << 20): string | undefined {
  const realRoot = realpathSync(root);
  let fd: number;
  try {
    fd = openSync(resolveInRootSync(realRoot, path), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    // ELOOP: the last component became a symlink meanwhile; ENXIO: a socket or an unread fifo
    if (['ENOENT', 'ENOTDIR', 'ELOOP', 'ENXIO', 'EACCES'].includes(errnoCode(err) ?? '')) return undefined;
    throw err;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return undefined;
    const opened = readlinkSync(`/proc/self/fd/${fd}`);
    if (realRoot !== '/' && !opened.startsWith(`${realRoot}/`)) return undefined;
    // The size is a hint (the file may grow meanwhile): read to EOF, never past maxBytes.
    const buf = Buffer.alloc(Math.min(maxBytes, st.size + 1));
    let n = 0;
    for (let r = 1; r > 0 && n < buf.length; n += r) r = readSync(fd, buf, n, buf.length - n, null);
    return buf.toString('utf8', 0, n);
  } finally {
    closeSync(fd);
  }
}
