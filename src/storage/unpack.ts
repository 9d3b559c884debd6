/**
 * Safe layer unpacking.
 *
 * Two modes. `layer` unpacks one layer into its own empty directory for overlayfs: a whiteout
 * `.wh.NAME` becomes a 0:0 character device NAME and `.wh..wh..opq` the xattr
 * trusted.overlay.opaque=y on its directory — the representation overlayfs reads in a lower dir.
 * `apply` unpacks a layer on top of a tree holding the layers below it (the copy fallback):
 * a whiteout deletes, an opaque marker empties its directory of everything this layer did not
 * write.
 *
 * Nothing is written outside `dir`. Every name is checked (archive/entry-path.ts) before its entry is
 * written; a name below an entry of this layer that is not a directory is refused; on disk,
 * every parent is lstat'ed and must be a real directory (a symlink from a lower layer in `apply`
 * mode is replaced by a directory, which is what overlayfs shows when an upper layer has a
 * directory there); the entry itself is created with O_EXCL|O_NOFOLLOW, symlink(2), link(2) or
 * mknod(2), none of which follow a symlink in the last component. `unpackLayer` in layers.ts
 * stages into a fresh directory and renames, so a rejected layer leaves nothing at all.
 */
import * as fss from 'node:fs';
import { constants } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { readTar } from '../archive/tar/reader.js';
import type { TarHeader } from '../archive/tar/header.js';
import type { Digest } from '../archive/digest.js';
import { BerthError, errnoCode } from '../util/errors.js';
import { ancestors, classifyWhiteout, normalizeEntryPath, rejectEntry } from '../archive/entry-path.js';
import { SysOps } from '../native/fileops.js';

/** Options for `unpackTar`. */
export interface UnpackOptions {
  /** `layer`: overlayfs lower-dir form in an empty dir; `apply`: on top of lower layers. */
  mode: 'layer' | 'apply';
  /** Set owners from the tar headers (default: when running as root). */
  ownership?: boolean;
  /** The layer's DiffID (sha256 of the uncompressed tar) from the image config, verified. */
  diffId?: Digest;
  /** Names the layer in errors (e.g. its blob digest). */
  what?: string;
}

/** What `unpackTar` found. */
export interface UnpackResult {
  /** sha256 of the whole uncompressed stream. */
  diffId: Digest;
  entries: number;
  /** Total bytes of regular-file data. */
  size: number;
}

/*
 * The file operations, synchronous behind promise-shaped names. A layer is thousands of small
 * entries of five to seven system calls each; through fs/promises every call is a round trip to
 * libuv's thread pool and back (tens of microseconds, far more on a loaded machine), which made
 * unpacking wait more than it worked. A direct call takes a few microseconds; the tar stream's
 * own reads still yield to the event loop between entries.
 */
const lstat = async (p: string): Promise<fss.Stats> => fss.lstatSync(p);
const mkdir = async (p: string, o: { mode: number }): Promise<void> => { fss.mkdirSync(p, o); };
const rm = async (p: string, o: fss.RmOptions): Promise<void> => { fss.rmSync(p, o); };
const readdir = async (p: string): Promise<string[]> => fss.readdirSync(p);
const symlink = async (target: string, p: string): Promise<void> => { fss.symlinkSync(target, p); };
const link = async (target: string, p: string): Promise<void> => { fss.linkSync(target, p); };
const lchown = async (p: string, u: number, g: number): Promise<void> => { fss.lchownSync(p, u, g); };
const chmod = async (p: string, m: number): Promise<void> => { fss.chmodSync(p, m); };
const utimes = async (p: string, a: number, m: number): Promise<void> => { fss.utimesSync(p, a, m); };
const lutimes = async (p: string, a: number, m: number): Promise<void> => { fss.lutimesSync(p, a, m); };
const kindName = (t: TarHeader['type']): string => (t === 'symlink' ? 'a symlink' : t === 'hardlink' || t === 'file' ? 'a file' : `a ${t}`);

/**
 * Unpacks the uncompressed tar `source` into `dir` (which must exist). Throws EUNSAFE_LAYER
 * naming the first offending entry, ETAR for a corrupt archive, EDIGEST_MISMATCH when `diffId`
 * is given and the stream's digest differs (the caller discards `dir` then).
 */
export async function unpackTar(source: AsyncIterable<Buffer>, dir: string, opts: UnpackOptions): Promise<UnpackResult> {
  const ownership = opts.ownership ?? process.getuid?.() === 0;
  const hash = createHash('sha256');
  const it = source[Symbol.asyncIterator]();
  // The tar reader stops at the end-of-archive blocks, but the DiffID covers every byte (writers
  // pad to a 10 KiB record), so it reads through a view that does not close the source.
  const view: AsyncIterable<Buffer> = {
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        const r = await it.next();
        if (!r.done) hash.update(r.value);
        return r;
      },
      return: async () => ({ done: true, value: undefined }),
    }),
  };
  const kinds = new Map<string, TarHeader['type']>(); // what this layer wrote at each path
  const realDirs = new Set<string>(['']);
  const dirTimes = new Map<string, number>();
  // Directories whose new entries take the directory's group (S_ISGID): only below them does a
  // file created by root need a chown to become 0:0. Extra members only cost a chown.
  const setgidDirs = new Set<string>();
  const umask = process.umask();
  const parentOf = (p: string): string => p.slice(0, Math.max(0, p.lastIndexOf('/')));
  /** Whether an entry created by this process must be chowned to reach the header's owner. */
  const asRoot = process.getuid?.() === 0;
  const needsChown = (p: string, h: TarHeader): boolean => ownership && !(h.uid === 0 && h.gid === 0 && asRoot && !setgidDirs.has(parentOf(p)));
  let entries = 0;
  let size = 0;
  const sys = new SysOps(); // mknod and setxattr: a helper process, started at the first one
  const mknod = sys.mknod.bind(sys);
  const setXattr = sys.setXattr.bind(sys);

  /** Drops what is known about `p` and, when it was a directory, everything below it. */
  const forget = (p: string): void => {
    const wasDir = realDirs.has(p) || kinds.get(p) === 'dir';
    realDirs.delete(p);
    kinds.delete(p);
    if (wasDir) {
      for (const set of [realDirs, kinds] as const) for (const k of set.keys()) if (p === '' || k.startsWith(`${p}/`)) set.delete(k);
    }
    realDirs.add('');
  };

  /** Makes every ancestor of `p` a real directory, refusing names below this layer's non-dirs. */
  const ensureParents = async (p: string, name: string): Promise<void> => {
    for (const a of ancestors(p)) {
      const k = kinds.get(a);
      if (k !== undefined && k !== 'dir') throw rejectEntry(name, `parent ${JSON.stringify(a)} is ${kindName(k)} in this layer`);
      if (realDirs.has(a)) continue;
      const full = join(dir, a);
      const st = await lstat(full).catch((err) => { if (errnoCode(err) === 'ENOENT') return undefined; throw err; });
      if (st && !st.isDirectory()) {
        if (opts.mode === 'layer') throw rejectEntry(name, `parent ${JSON.stringify(a)} is not a directory`);
        await rm(full, { recursive: true, force: true });
      }
      if (!st || !st.isDirectory()) {
        await mkdir(full, { mode: 0o755 });
        if (setgidDirs.has(parentOf(a))) setgidDirs.add(a); // mkdir inherits S_ISGID
      }
      realDirs.add(a);
    }
  };

  /** Removes whatever is at `p` unless it is a directory and a directory is wanted. */
  const clear = async (p: string, keepDir: boolean): Promise<boolean> => {
    // a layer unpacks into an empty staging directory: what this layer did not write is not there
    if (opts.mode === 'layer' && !kinds.has(p) && !realDirs.has(p)) return false;
    const full = join(dir, p);
    const st = await lstat(full).catch(() => undefined);
    if (!st) return false;
    if (keepDir && st.isDirectory()) return true;
    await rm(full, { recursive: true, force: true });
    forget(p);
    return false;
  };

  const attrs = async (full: string, h: TarHeader, isLink: boolean): Promise<void> => {
    if (ownership) await lchown(full, h.uid, h.gid);
    if (!isLink) await chmod(full, h.mode); // after chown, which clears setuid/setgid
    for (const [name, value] of h.xattrs) if (xattrAllowed(name)) await setXattr(full, name, value);
  };

  try {
    for await (const entry of readTar(view)) {
      const h = entry.header;
      const name = h.name;
      const p = normalizeEntryPath(name);
      entries += 1;
      const wh = p === '' ? { kind: 'none' as const } : classifyWhiteout(p, name);
      if (wh.kind === 'meta') continue;
      if (wh.kind === 'whiteout') {
        await ensureParents(wh.target, name);
        if (opts.mode === 'layer') {
          await clear(wh.target, false);
          await mknod(join(dir, wh.target), 'chardev', 0, 0, 0);
          kinds.set(wh.target, 'chardev');
        } else {
          await clear(wh.target, false);
        }
        continue;
      }
      if (wh.kind === 'opaque') {
        await ensureParents(wh.dir === '' ? '' : `${wh.dir}/x`, name);
        if (wh.dir !== '' && !(await clear(wh.dir, true))) await mkdir(join(dir, wh.dir), { mode: 0o755 });
        realDirs.add(wh.dir);
        if (opts.mode === 'layer') {
          await setXattr(join(dir, wh.dir), 'trusted.overlay.opaque', Buffer.from('y'));
        } else {
          const prefix = wh.dir === '' ? '' : `${wh.dir}/`;
          for (const child of await readdir(join(dir, wh.dir))) {
            if (!kinds.has(prefix + child)) { await rm(join(dir, wh.dir, child), { recursive: true, force: true }); forget(prefix + child); }
          }
        }
        continue;
      }
      if (p === '') {
        // the layer's root directory: only its attributes, and only if it is one
        if (h.type !== 'dir') throw rejectEntry(name, 'the root is not a directory');
        dirTimes.set('', h.mtime);
        continue;
      }
      await ensureParents(p, name);
      const full = join(dir, p);
      switch (h.type) {
        case 'dir': {
          if (!(await clear(p, true))) await mkdir(full, { mode: 0o700 });
          await attrs(full, h, false);
          if (h.mode & 0o2000) setgidDirs.add(p); else setgidDirs.delete(p);
          realDirs.add(p);
          dirTimes.set(p, h.mtime);
          break;
        }
        case 'file': {
          await clear(p, false);
          // A plain mode (no setuid/setgid/sticky, nothing the umask strips) is given at creation
          // and needs no chmod; a root-owned file needs no chown (see needsChown). Fewer calls
          // per file is most of a layer's unpacking time.
          const mode = h.mode & 0o7777;
          const plain = (mode & 0o7000) === 0 && (mode & ~umask) === mode;
          // Direct calls on the fd, each chunk written straight from the tar stream's buffer.
          const fd = fss.openSync(full, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, plain ? mode : 0o600);
          try {
            for await (const chunk of entry.chunks()) {
              let off = 0;
              while (off < chunk.length) off += fss.writeSync(fd, chunk, off, chunk.length - off);
            }
            size += h.size;
            if (needsChown(p, h)) fss.fchownSync(fd, h.uid, h.gid);
            if (!plain) fss.fchmodSync(fd, h.mode); // after chown, which clears setuid/setgid
            if (!h.xattrs.size) fss.futimesSync(fd, h.mtime, h.mtime);
          } finally {
            fss.closeSync(fd);
          }
          if (h.xattrs.size) {
            for (const [xn, xv] of h.xattrs) if (xattrAllowed(xn)) await setXattr(full, xn, xv);
            await utimes(full, h.mtime, h.mtime);
          }
          break;
        }
        case 'symlink': {
          await clear(p, false);
          await symlink(h.linkname, full);
          if (needsChown(p, h)) await lchown(full, h.uid, h.gid);
          await lutimes(full, h.mtime, h.mtime);
          break;
        }
        case 'hardlink': {
          const target = normalizeEntryPath(h.linkname, name);
          if (target === '' || target === p) throw rejectEntry(name, `hardlink to ${JSON.stringify(h.linkname)}`);
          for (const a of ancestors(target)) {
            const k = kinds.get(a);
            if (k !== undefined && k !== 'dir') throw rejectEntry(name, `hardlink target ${JSON.stringify(h.linkname)} is below ${kindName(k)}`);
          }
          const tk = kinds.get(target);
          if (tk === 'dir') throw rejectEntry(name, `hardlink target ${JSON.stringify(h.linkname)} is a directory`);
          if (tk === undefined) {
            if (opts.mode === 'layer') throw rejectEntry(name, `hardlink target ${JSON.stringify(h.linkname)} is not in this layer`);
            // apply mode: the target may come from a lower layer; its parents must be real dirs
            let ok = true;
            for (const a of [...ancestors(target)]) {
              const st = await lstat(join(dir, a)).catch(() => undefined);
              if (!st?.isDirectory()) { ok = false; break; }
            }
            const st = ok ? await lstat(join(dir, target)).catch(() => undefined) : undefined;
            if (!st || st.isDirectory()) throw rejectEntry(name, `hardlink target ${JSON.stringify(h.linkname)} does not exist`);
          }
          await clear(p, false);
          await link(join(dir, target), full);
          break;
        }
        case 'chardev':
        case 'blockdev':
        case 'fifo': {
          await clear(p, false);
          await mknod(full, h.type, h.mode, h.devmajor, h.devminor);
          await attrs(full, h, false);
          await utimes(full, h.mtime, h.mtime);
          break;
        }
      }
      if (h.type !== 'dir') forget(p);
      kinds.set(p, h.type);
    }
    for (;;) { // the rest of the stream (record padding), for the DiffID
      const r = await it.next();
      if (r.done) break;
      hash.update(r.value);
    }
  } catch (err) {
    await it.return?.();
    throw err;
  } finally {
    sys.close();
  }
  // directory times last: creating entries inside a directory changes its mtime
  for (const [p, t] of [...dirTimes].sort((a, b) => b[0].length - a[0].length)) await utimes(join(dir, p), t, t);
  const diffId: Digest = `sha256:${hash.digest('hex')}`;
  if (opts.diffId && opts.diffId !== diffId) {
    throw new BerthError('EDIGEST_MISMATCH', `layer ${opts.what ?? ''}: uncompressed content has digest ${diffId}, the image config says ${opts.diffId}`.replace('layer  ', 'layer '));
  }
  return { diffId, entries, size };
}

/**
 * Whether a layer's xattr may be applied: user.*, security.capability (file capabilities, e.g.
 * ping's cap_net_raw) and trusted.* — except trusted.overlay.*, which would let a layer forge
 * overlayfs metadata (redirects, opaque markers) and reach outside its own directory.
 */
export function xattrAllowed(name: string): boolean {
  if (name.startsWith('trusted.overlay.')) return false;
  return name.startsWith('user.') || name === 'security.capability' || name.startsWith('trusted.');
}
