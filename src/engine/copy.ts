/**
 * Copying files into and out of a container: what `berth cp` and the Engine API's archive
 * endpoints (HEAD/GET/PUT /containers/{id}/archive, behind `docker cp`) do, over
 * archive/scoped-fs.ts and archive/tree-tar.ts.
 *
 * Where the container's files are: a running (or paused) container's through `/proc/<pid>/root`,
 * its root as its own processes see it, with its volumes, binds and tmpfs mounted; a stopped
 * one's in its root file system (overlay mounted until rm), with the directory binds of its
 * bundle (volumes, binds, the host's system directories of a `host` container) stepped into as
 * the kernel would. Paths are resolved inside the container (its symlinks lead nowhere else).
 *
 * Ids: with --userns MAPPING, the archive shows the container's ids (host ids mapped back) and
 * what is written gets the host ids of the container's (Docker's rules: files copied in belong to
 * the container's root unless copyUIDGID / `cp -a`).
 */
import { readFileSync, readlinkSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { at, ScopedFs } from '../archive/scoped-fs.js';
import { packTree, unpackTree, type IdMap } from '../archive/tree-tar.js';
import type { Spec } from '../oci/spec.js';
import { BerthError, errnoCode } from '../util/errors.js';
import { pidStartTime } from '../util/proc.js';
import { mapToHost, parseUsernsMapping } from './namespaces.js';
import { EngineStore, type EnginePaths, type EngineRecord } from './store.js';

/** Docker's ContainerPathStat: the X-Docker-Container-Path-Stat header, base64 JSON. */
export interface PathStat {
  name: string;
  size: number;
  /** Go's os.FileMode: permission bits plus Go's type bits. */
  mode: number;
  mtime: string;
  /** For a symlink: the path it leads to, resolved in the container. */
  linkTarget: string;
}

// Go's os.FileMode type bits
const GO_DIR = 2 ** 31;
const GO_SYMLINK = 2 ** 27;
const GO_DEVICE = 2 ** 26;
const GO_PIPE = 2 ** 25;
const GO_SOCKET = 2 ** 24;
const GO_SETUID = 2 ** 23;
const GO_SETGID = 2 ** 22;
const GO_CHARDEV = 2 ** 21;
const GO_STICKY = 2 ** 20;

/** A container's files, open for a copy; `close()` when done. */
export interface ContainerFiles {
  fs: ScopedFs;
  ids: IdMap;
  /** The container's root user on the host (who owns what is copied in, by default). */
  root: { uid: number; gid: number };
  close(): void;
}

/** The container's user namespace mapping as archive ids ↔ host ids (identity without one). */
function idMapOf(rec: EngineRecord): IdMap {
  const maps = parseUsernsMapping(rec.HostConfig.UsernsMode);
  if (!maps) return { toArchive: (u, g) => [u, g], fromArchive: (u, g) => [u, g] };
  const fromHost = (id: number): number => {
    for (const m of maps) if (id >= m.hostID && id < m.hostID + m.size) return m.containerID + (id - m.hostID);
    return 65534; // unmapped: the kernel's overflow id, as the container sees it
  };
  const toHost = (id: number): number => {
    const h = mapToHost(maps, id);
    if (h === undefined) throw new BerthError('EINVALID_ARG', `id ${id} is not mapped in the container's user namespace (--userns ${rec.HostConfig.UsernsMode})`);
    return h;
  };
  return { toArchive: (u, g) => [fromHost(u), fromHost(g)], fromArchive: (u, g) => [toHost(u), toHost(g)] };
}

/** Open container `rec`'s files (see the header for which ones). */
export function openContainerFiles(paths: EnginePaths, rec: EngineRecord): ContainerFiles {
  const ids = idMapOf(rec);
  const [ruid, rgid] = ids.fromArchive(0, 0);
  const root = { uid: ruid, gid: rgid };
  const pid = rec.State.Running ? rec.State.Pid : 0;
  if (pid > 0) {
    const start = pidStartTime(pid);
    const fs = ScopedFs.open(`/proc/${pid}/root`, new Map(), true);
    // The pid must still be the container's init once the root is open (pids are reused).
    if (start === undefined || pidStartTime(pid) !== start) {
      fs.close();
      throw new BerthError('EBAD_STATE', `container ${rec.Name} stopped during the copy: try again`);
    }
    return { fs, ids, root, close: () => fs.close() };
  }
  const mounts = new Map<string, string>();
  try {
    const spec = JSON.parse(readFileSync(posix.join(new EngineStore(paths).dir(rec.Id), 'bundle', 'config.json'), 'utf8')) as Spec;
    for (const m of spec.mounts ?? []) {
      if (m.type === 'bind' && m.source && posix.isAbsolute(m.source) && isDir(m.source)) mounts.set(posix.normalize(m.destination), m.source);
    }
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
  const fs = ScopedFs.open(rec.RootPath, mounts);
  return { fs, ids, root, close: () => fs.close() };
}

function isDir(p: string): boolean {
  try { return statSync(p).isDirectory(); } catch { return false; }
}

/**
 * Docker's stat of `path` in the container: the entry itself (a symlink is not followed; its
 * target, resolved in the container, is `linkTarget`). ENOT_FOUND when missing.
 */
export function statInContainer(files: ContainerFiles, path: string): PathStat {
  const notFound = (): BerthError => new BerthError('ENOT_FOUND', `Could not find the file ${path} in container`);
  let r;
  try {
    r = files.fs.resolve(path, { followLast: false });
  } catch (err) {
    if ((err as BerthError).code === 'ENOT_FOUND') throw notFound();
    throw err;
  }
  try {
    let st;
    try {
      st = files.fs.lstat(r.dir, r.name);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw notFound();
      throw err;
    }
    let linkTarget = '';
    if (st.isSymbolicLink()) {
      try {
        const t = files.fs.resolve(path, { followLast: true });
        linkTarget = t.path;
        t.close();
      } catch {
        // dangling through a missing directory: where it points, lexically
        const target = readlinkSync(at(r.dir.fd, r.name));
        linkTarget = posix.resolve(posix.dirname(r.path), target);
      }
    }
    let mode = st.mode & 0o777;
    if (st.mode & 0o4000) mode += GO_SETUID;
    if (st.mode & 0o2000) mode += GO_SETGID;
    if (st.mode & 0o1000) mode += GO_STICKY;
    if (st.isDirectory()) mode += GO_DIR;
    else if (st.isSymbolicLink()) mode += GO_SYMLINK;
    else if (st.isFIFO()) mode += GO_PIPE;
    else if (st.isSocket()) mode += GO_SOCKET;
    else if (st.isCharacterDevice()) mode += GO_DEVICE + GO_CHARDEV;
    else if (st.isBlockDevice()) mode += GO_DEVICE;
    return { name: r.name || '/', size: st.size, mode, mtime: st.mtime.toISOString(), linkTarget };
  } finally {
    r.close();
  }
}

/** Is Go FileMode `mode` a directory? */
export const isGoDir = (mode: number): boolean => mode >= GO_DIR;

/**
 * The tar stream of `path` in the container (Docker's GET archive): its top entry named after the
 * path's last component ('.' for "dir/." : the directory's contents), the path's last symlink
 * not followed (as Docker; the CLI's -L asks for the link's target instead).
 */
export function archiveFromContainer(files: ContainerFiles, path: string): AsyncGenerator<Buffer> {
  const clean = posix.normalize(path);
  const rebase = /\/\.$/.test(path) || path === '.' ? '.' : posix.basename(clean) || '.';
  return packTree(files.fs, clean, { rebase, ids: files.ids });
}

/**
 * Writes tar stream `source` into directory `dest` of the container (Docker's PUT archive).
 * `copyUIDGID`: keep the archive's owners (mapped into the container's user namespace); else
 * everything belongs to the container's root. A read-only root file system takes nothing, unless
 * the destination is on one of the container's writable mounts.
 */
export async function extractToContainer(files: ContainerFiles, rec: EngineRecord, dest: string, source: AsyncIterable<Buffer | string>,
  o: { copyUIDGID?: boolean; noOverwriteDirNonDir?: boolean } = {}): Promise<number> {
  if (rec.HostConfig.ReadonlyRootfs) {
    const r = files.fs.resolve(dest, { followLast: true });
    const where = r.path;
    r.close();
    const writable = (rec.MountPoints ?? []).some((m) => m.RW && (where === m.Destination || where.startsWith(`${m.Destination}/`)));
    if (!writable) throw new BerthError('EBAD_STATE', `container rootfs is marked read-only: ${dest} is not on a writable volume or bind of container ${rec.Name}`);
  }
  return unpackTree(files.fs, dest, source, {
    owner: o.copyUIDGID ? 'archive' : files.root, ids: files.ids, noOverwriteDirNonDir: o.noOverwriteDirNonDir ?? false, parentOwner: files.root,
  });
}
