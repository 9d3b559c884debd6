/**
 * A tree in a scope (scoped-fs.ts) as a tar stream, and a tar stream written into a scope: what
 * `cp` and the Engine API's archive endpoints (GET/PUT /containers/{id}/archive) move. Archives
 * are Go's archive/tar format (writer.ts), as dockerd sends them.
 *
 * Reading never follows a symlink in the tree (it is archived as a symlink), files are read
 * through an fd opened with O_NOFOLLOW|O_NONBLOCK (a fifo does not block the reader), and a file
 * that grows or shrinks while it is read is cut or padded to the size in its header. Writing
 * resolves every entry inside the scope; an entry name that is absolute or has a `..` is refused
 * (no tool writes those: they only serve to escape), a hard link must point inside the
 * destination, and device nodes and fifos are refused.
 */
import { closeSync, constants, fchmodSync, fchownSync, fstatSync, futimesSync, lchownSync, linkSync, lutimesSync, openSync, readdirSync, readlinkSync, read as readCb, symlinkSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { promisify } from 'node:util';
import { BerthError, errnoCode } from '../util/errors.js';
import { readTar } from './tar/reader.js';
import type { TarHeader } from './tar/header.js';
import { endOfArchive, headerBlocks, pad, type TarEntryInput } from './tar/writer.js';
import { at, mkdirAt, type ScopedDir, type ScopedFs } from './scoped-fs.js';

const read = promisify(readCb);
const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK, O_WRONLY, O_CREAT, O_EXCL, O_DIRECTORY } = constants;
const CHUNK = 1 << 16;

/** Ids as the archive shows them ↔ as the scope's file system stores them (a user namespace's mapping). */
export interface IdMap {
  /** Stored (host) id → archive id. */
  toArchive(uid: number, gid: number): [number, number];
  /** Archive id → stored (host) id. */
  fromArchive(uid: number, gid: number): [number, number];
}

const sameIds: IdMap = { toArchive: (u, g) => [u, g], fromArchive: (u, g) => [u, g] };

function typeOf(st: Stats): TarHeader['type'] | undefined {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'chardev';
  if (st.isBlockDevice()) return 'blockdev';
  if (st.isFIFO()) return 'fifo';
  return undefined; // a socket: not archived (Docker skips them too)
}

const major = (rdev: number): number => Number((BigInt(rdev) >> 8n) & 0xfffn) | Number((BigInt(rdev) >> 32n) & ~0xfffn);
const minor = (rdev: number): number => Number(BigInt(rdev) & 0xffn) | Number((BigInt(rdev) >> 12n) & ~0xffn);

/**
 * The tar stream of `path` in `fs` (followed when it is a symlink only with `followLast`), its
 * top entry named `rebase` (a directory's entries below it). Rebase '' leaves a directory's own
 * entry out and names its entries from its root ("bin/", "etc/passwd": `docker export`). Ids are
 * shown through `ids`.
 */
export async function* packTree(fs: ScopedFs, path: string, o: { rebase: string; followLast?: boolean; ids?: IdMap }): AsyncGenerator<Buffer> {
  const ids = o.ids ?? sameIds;
  const r = fs.resolve(path, { followLast: o.followLast ?? false });
  const links = new Map<string, string>();
  try {
    const st = fs.lstat(r.dir, r.name);
    yield* packEntry(fs, r.dir, r.name, o.rebase === '' ? '' : o.rebase.replace(/\/+$/, '') || '.', st, ids, links);
  } finally {
    r.close();
  }
  yield endOfArchive();
}

async function* packEntry(fs: ScopedFs, dir: ScopedDir, name: string, archiveName: string, st: Stats, ids: IdMap, links: Map<string, string>): AsyncGenerator<Buffer> {
  const type = typeOf(st);
  if (!type) return;
  const [uid, gid] = ids.toArchive(st.uid, st.gid);
  const base: TarEntryInput = { name: archiveName, type, mode: st.mode & 0o7777, uid, gid, mtime: Math.floor(st.mtimeMs / 1000) };
  if (type === 'dir') {
    if (archiveName) yield headerBlocks({ ...base, name: `${archiveName}/` });
    const sub = name === '' ? dir : fs.openDir(dir, name);
    try {
      for (const child of readdirSync(at(sub.fd, '')).sort()) {
        let cst: Stats;
        try { cst = fs.lstat(sub, child); } catch (err) { if (errnoCode(err) === 'ENOENT') continue; throw err; }
        yield* packEntry(fs, sub, child, archiveName ? `${archiveName}/${child}` : child, cst, ids, links);
      }
    } finally {
      if (sub !== dir) closeSync(sub.fd);
    }
    return;
  }
  if (st.nlink > 1 && type !== 'symlink') {
    const key = `${st.dev}:${st.ino}`;
    const first = links.get(key);
    if (first !== undefined) { yield headerBlocks({ ...base, type: 'hardlink', linkname: first }); return; }
    links.set(key, archiveName);
  }
  if (type === 'symlink') { yield headerBlocks({ ...base, linkname: readlinkAt(dir, name) }); return; }
  if (type === 'chardev' || type === 'blockdev') { yield headerBlocks({ ...base, devmajor: major(st.rdev), devminor: minor(st.rdev) }); return; }
  if (type === 'fifo') { yield headerBlocks(base); return; }
  let fd: number;
  try {
    fd = openSync(at(dir.fd, name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return; // removed meanwhile
    throw err;
  }
  try {
    const fst = fstatSync(fd);
    if (!fst.isFile()) return; // swapped for something else since the lstat
    const size = fst.size;
    yield headerBlocks({ ...base, size, mode: fst.mode & 0o7777 });
    let done = 0;
    while (done < size) {
      const buf = Buffer.alloc(Math.min(CHUNK, size - done));
      const { bytesRead } = await read(fd, buf, 0, buf.length, done);
      if (bytesRead === 0) { yield Buffer.alloc(size - done); done = size; break; } // shrank: zeros, as the header promised
      done += bytesRead;
      yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
    }
    yield pad(size);
  } finally {
    closeSync(fd);
  }
}

/**
 * A layer's tar stream from a list of paths in `fs` (each archived alone, a directory without its
 * entries) and of deletions, written as OCI whiteouts (`dir/.wh.name`). Paths are absolute in the
 * scope; the archive names them relative ("etc/passwd"). What `commit` stores.
 */
export async function* packLayer(fs: ScopedFs, entries: readonly { path: string; deleted?: boolean }[]): AsyncGenerator<Buffer> {
  const links = new Map<string, string>();
  for (const e of entries) {
    const rel = e.path.replace(/^\/+/, '');
    if (!rel) continue;
    if (e.deleted) {
      const slash = rel.lastIndexOf('/');
      yield headerBlocks({ name: `${rel.slice(0, slash + 1)}.wh.${rel.slice(slash + 1)}`, type: 'file', mode: 0o644 });
      continue;
    }
    const r = fs.resolve(e.path, { followLast: false });
    try {
      let st: Stats;
      try { st = fs.lstat(r.dir, r.name); } catch (err) { if (errnoCode(err) === 'ENOENT') continue; throw err; }
      if (st.isDirectory()) {
        const [uid, gid] = [st.uid, st.gid];
        yield headerBlocks({ name: `${rel}/`, type: 'dir', mode: st.mode & 0o7777, uid, gid, mtime: Math.floor(st.mtimeMs / 1000) });
      } else {
        yield* packEntry(fs, r.dir, r.name, rel, st, sameIds, links);
      }
    } finally {
      r.close();
    }
  }
  yield endOfArchive();
}

function readlinkAt(dir: ScopedDir, name: string): string {
  return readlinkSync(at(dir.fd, name));
}

/** What `unpackTree` does with owners and existing files. */
export interface UnpackOptions {
  /**
   * Who owns what is written: `archive` keeps the archive's ids (through `ids`; Docker's
   * copyUIDGID, `cp -a`), or fixed ids (the container's root; the caller for a host copy).
   */
  owner: 'archive' | { uid: number; gid: number };
  ids?: IdMap;
  /** Refuse to replace a directory by a non-directory or the reverse (Docker's noOverwriteDirNonDir). */
  noOverwriteDirNonDir?: boolean;
  /** Who owns the parent directories the archive does not list (the scope's root user). */
  parentOwner: { uid: number; gid: number };
}

function badEntry(name: string, why: string): BerthError {
  return new BerthError('EINVALID_ARG', `archive entry ${JSON.stringify(name)}: ${why}`);
}

/** The entry's path below the destination: "./a//b/" → "a/b", "./" → "" (the destination itself). */
function entryPath(name: string): string {
  if (name.includes('\0')) throw badEntry(name, 'the name has a NUL byte');
  if (name.startsWith('/')) throw badEntry(name, 'an absolute name');
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw badEntry(name, "a '..' in the name");
  return parts.join('/');
}

/**
 * Writes the tar stream `source` into directory `destPath` of `fs` (which must exist, a symlink
 * to a directory in the scope is followed). Returns the number of entries written.
 */
export async function unpackTree(fs: ScopedFs, destPath: string, source: AsyncIterable<Buffer | string>, o: UnpackOptions): Promise<number> {
  const ids = o.ids ?? sameIds;
  const dest = fs.resolve(destPath, { followLast: true });
  let destIsDir = false;
  try { destIsDir = fs.lstat(dest.dir, dest.name).isDirectory(); } catch { /* reported below */ }
  dest.close();
  if (!destIsDir) throw new BerthError('ENOT_FOUND', `${destPath}: the destination must be an existing directory`);
  const base = dest.path;
  const owner = (h: TarHeader): [number, number] => (o.owner === 'archive' ? ids.fromArchive(h.uid, h.gid) : [o.owner.uid, o.owner.gid]);
  const dirTimes: { path: string; mtime: number }[] = [];
  let count = 0;
  for await (const entry of readTar(source)) {
    const h = entry.header;
    const rel = entryPath(h.name);
    const full = rel ? posix.join(base, rel) : base;
    const r = fs.resolve(full, { followLast: rel === '', mkdirs: o.parentOwner });
    try {
      let existing: Stats | undefined;
      try { existing = fs.lstat(r.dir, r.name); } catch (err) { if (errnoCode(err) !== 'ENOENT') throw err; }
      // A directory is never replaced by a non-directory: removing a tree in a running container
      // by path would follow a directory it swaps for a symlink meanwhile (and Docker's CLI
      // refuses it too). A non-directory is replaced (one unlink) unless noOverwriteDirNonDir.
      const replace = (): void => {
        if (!existing) return;
        if (existing.isDirectory()) {
          if (h.type === 'dir') return;
          throw badEntry(h.name, `cannot overwrite the directory ${full} with a non-directory`);
        }
        if (h.type === 'dir' && o.noOverwriteDirNonDir) throw badEntry(h.name, `cannot overwrite the non-directory ${full} with a directory`);
        unlinkSync(at(r.dir.fd, r.name));
        existing = undefined;
      };
      const [uid, gid] = owner(h);
      switch (h.type) {
        case 'dir': {
          replace();
          if (!existing && r.name) mkdirAt(r.dir, r.name, { uid, gid }, 0o700);
          // the scope's root itself ('' name): its own fd
          const fd = r.name ? openSync(at(r.dir.fd, r.name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW) : r.dir.fd;
          try { fchownSync(fd, uid, gid); fchmodSync(fd, h.mode & 0o7777); } finally { if (fd !== r.dir.fd) closeSync(fd); }
          dirTimes.push({ path: full, mtime: h.mtime });
          for await (const _ of entry.chunks()) { /* none */ }
          break;
        }
        case 'file': {
          replace();
          const fd = openSync(at(r.dir.fd, r.name), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
          try {
            for await (const chunk of entry.chunks()) for (let off = 0; off < chunk.length;) off += writeSync(fd, chunk, off);
            fchownSync(fd, uid, gid);
            fchmodSync(fd, h.mode & 0o7777); // after the chown, which clears setuid bits
            futimesSync(fd, h.mtime, h.mtime);
          } finally {
            closeSync(fd);
          }
          break;
        }
        case 'symlink':
          replace();
          symlinkSync(h.linkname, at(r.dir.fd, r.name));
          lchownSync(at(r.dir.fd, r.name), uid, gid);
          lutimesSync(at(r.dir.fd, r.name), h.mtime, h.mtime);
          break;
        case 'hardlink': {
          const targetRel = entryPath(h.linkname);
          if (!targetRel) throw badEntry(h.name, 'a hard link to the destination directory');
          const t = fs.resolve(posix.join(base, targetRel), { followLast: false });
          try {
            if (!t.path.startsWith(`${base === '/' ? '' : base}/`)) throw badEntry(h.name, `the hard link's target ${h.linkname} is outside the destination`);
            const tst = fs.lstat(t.dir, t.name);
            if (tst.isDirectory()) throw badEntry(h.name, 'a hard link to a directory');
            replace();
            linkSync(at(t.dir.fd, t.name), at(r.dir.fd, r.name));
          } finally {
            t.close();
          }
          break;
        }
        default:
          throw new BerthError('EUNSUPPORTED', `archive entry ${JSON.stringify(h.name)}: a ${h.type} cannot be copied (device nodes and fifos are not supported by cp)`);
      }
      count++;
    } finally {
      r.close();
    }
  }
  // Directory times last (writing into a directory changes its mtime), deepest first.
  for (const d of dirTimes.reverse()) {
    const r = fs.resolve(d.path, { followLast: d.path === base });
    try {
      if (r.name) lutimesSync(at(r.dir.fd, r.name), d.mtime, d.mtime);
      else futimesSync(r.dir.fd, d.mtime, d.mtime);
    } catch { /* gone meanwhile */ } finally { r.close(); }
  }
  return count;
}
