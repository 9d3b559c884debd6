/**
 * File operations confined to a directory tree that someone else controls: a running container's
 * root (`/proc/<pid>/root`), a stopped one's root file system, or a host directory that receives
 * files copied out of a container. What `cp` and the Engine API's archive endpoints use.
 *
 * The tree is hostile and may change while it is walked (a running container can rename a
 * directory into a symlink between two steps: CVE-2018-15664 against `docker cp`). So no path
 * through the tree is ever handed to the kernel whole. The walk holds a directory fd for each step
 * and names one component at a time relative to it, as `/proc/self/fd/<fd>/<name>`: the kernel
 * follows the magic link to exactly that directory, then looks up one name. The last component is
 * never followed (O_NOFOLLOW, lstat, lchown, lutimes, link(2) and symlink(2) do not follow it);
 * symlinks on the way are read and resolved by the walk itself, inside the scope: an absolute
 * target restarts at the scope's root and `..` stops there, as if the scope were chroot'ed.
 * A component that turns into a symlink between the check and the open fails the open (ELOOP)
 * and is looked at again.
 *
 * A stopped container's volumes and binds are not mounted anywhere: `mounts` maps their paths in
 * the scope to their host directories, and the walk steps into those as the kernel would step
 * into a mount.
 */
import { closeSync, constants, fstatSync, lchownSync, lstatSync, mkdirSync, openSync, readlinkSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { BerthError, errnoCode } from '../util/errors.js';

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW } = constants;
const DIR_FLAGS = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;
/** The kernel follows at most 40 links in one lookup; so does the walk. */
const MAX_LINKS = 40;

/** The path naming `name` in the directory open as `fd` (one component: no slash, not `..`). */
export function at(fd: number, name: string): string {
  return name === '' ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`;
}

/** A directory of the scope, open, with its path in the scope. */
export interface ScopedDir {
  fd: number;
  /** Absolute, in the scope ('/' is the scope's root). */
  path: string;
}

/** Where a path led: the directory holding its last component, and that component ('' = the directory itself). */
export interface Resolved {
  dir: ScopedDir;
  name: string;
  /** The resolved path in the scope. */
  path: string;
  /** Close the directory (not the scope's root). */
  close(): void;
}

function fail(code: string, path: string, why: string): BerthError {
  const err = new BerthError(code === 'ENOENT' ? 'ENOT_FOUND' : 'EINVALID_ARG', `${path}: ${why}`);
  (err as BerthError & { errno?: string }).errno = code;
  return err;
}

export class ScopedFs {
  private constructor(private readonly root: ScopedDir, private readonly mounts: ReadonlyMap<string, string>, private readonly ownsRoot: boolean) {}

  /**
   * The scope rooted at directory `rootPath` (opened once, without following a final symlink:
   * `/proc/<pid>/root` is a magic link and is opened as such). `mounts`: scope path → host directory.
   */
  static open(rootPath: string, mounts: ReadonlyMap<string, string> = new Map(), followRoot = false): ScopedFs {
    const fd = openSync(rootPath, followRoot ? O_RDONLY | O_DIRECTORY : DIR_FLAGS);
    return new ScopedFs({ fd, path: '/' }, mounts, true);
  }

  /** The scope's root directory. */
  get rootDir(): ScopedDir { return this.root; }

  close(): void {
    if (this.ownsRoot) closeSync(this.root.fd);
  }

  /**
   * Resolve `path` (absolute in the scope) to the directory holding its last component. Symlinks
   * on the way are followed inside the scope; the last one only with `followLast`. A missing
   * component on the way is ENOENT, or, with `mkdirs`, made (mode 0755, owned by `mkdirs`).
   */
  resolve(path: string, o: { followLast?: boolean; mkdirs?: { uid: number; gid: number } } = {}): Resolved {
    const stack: ScopedDir[] = [this.root];
    const closeAbove = (n: number): void => { while (stack.length > n) { const d = stack.pop()!; if (d !== this.root) closeSync(d.fd); } };
    const todo = path.split('/').filter((p) => p !== '' && p !== '.');
    let links = 0;
    try {
      for (;;) {
        const top = stack[stack.length - 1]!;
        const comp = todo.shift();
        if (comp === undefined) {
          // The path ends at a directory (the root, or after `..`): its parent holds it, unless it is the root.
          if (stack.length === 1) return this.result(top, '', stack);
          stack.pop();
          const parent = stack[stack.length - 1]!;
          closeSync(top.fd);
          return this.result(parent, posix.basename(top.path), stack);
        }
        if (comp === '..') { closeAbove(Math.max(1, stack.length - 1)); continue; }
        const logical = posix.join(top.path, comp);
        const last = todo.length === 0;
        const mounted = this.mounts.get(logical);
        if (mounted !== undefined && !last) {
          stack.push({ fd: openSync(mounted, O_RDONLY | O_DIRECTORY), path: logical });
          continue;
        }
        if (last && !o.followLast) return this.result(top, comp, stack);
        let st: Stats;
        try {
          st = lstatSync(at(top.fd, comp));
        } catch (err) {
          if (errnoCode(err) !== 'ENOENT') throw err;
          if (last) return this.result(top, comp, stack);
          if (!o.mkdirs) throw fail('ENOENT', path, `no such file or directory (${logical} is missing)`);
          mkdirAt(top, comp, o.mkdirs);
          todo.unshift(comp);
          continue;
        }
        if (st.isSymbolicLink()) {
          if (++links > MAX_LINKS) throw fail('ELOOP', path, 'too many levels of symbolic links');
          const target = readlinkSync(at(top.fd, comp));
          if (target.startsWith('/')) closeAbove(1);
          todo.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
          continue;
        }
        if (last) return this.result(top, comp, stack);
        if (!st.isDirectory()) throw fail('ENOTDIR', path, `not a directory (${logical})`);
        try {
          stack.push({ fd: openSync(at(top.fd, comp), DIR_FLAGS), path: logical });
        } catch (err) {
          // Turned into a symlink since the lstat (a racing container): look at it again.
          if (errnoCode(err) !== 'ELOOP' && errnoCode(err) !== 'ENOTDIR') throw err;
          todo.unshift(comp);
        }
      }
    } catch (err) {
      closeAbove(1);
      throw err;
    }
  }

  private result(dir: ScopedDir, name: string, stack: ScopedDir[]): Resolved {
    for (const d of stack) if (d !== dir && d !== this.root) closeSync(d.fd);
    const root = this.root;
    return { dir, name, path: posix.join(dir.path, name), close: () => { if (dir !== root) closeSync(dir.fd); } };
  }

  /**
   * Open the directory `name` of `dir` (not following a symlink there), stepping into a mount
   * of the scope as the kernel would.
   */
  openDir(dir: ScopedDir, name: string): ScopedDir {
    const path = posix.join(dir.path, name);
    const mounted = this.mounts.get(path);
    if (mounted !== undefined) return { fd: openSync(mounted, O_RDONLY | O_DIRECTORY), path };
    return { fd: openSync(at(dir.fd, name), DIR_FLAGS), path };
  }

  /** lstat of `name` in `dir`, or of what is mounted there. */
  lstat(dir: ScopedDir, name: string): Stats {
    if (name === '') return fstatSync(dir.fd); // the directory itself (lstat of /proc/self/fd/N is the magic link's)
    const mounted = this.mounts.get(posix.join(dir.path, name));
    return mounted !== undefined ? lstatSync(mounted) : lstatSync(at(dir.fd, name));
  }

  /** The host directory mounted at the scope's `path`, if any (stopped containers). */
  mountAt(path: string): string | undefined {
    return this.mounts.get(path);
  }
}

/** mkdir `name` in `dir` with mode 0755, owned by `owner` (never following anything: mkdir does not). */
export function mkdirAt(dir: ScopedDir, name: string, owner: { uid: number; gid: number }, mode = 0o755): void {
  mkdirSync(at(dir.fd, name), { mode });
  lchownSync(at(dir.fd, name), owner.uid, owner.gid);
}
