/**
 * Volumes, Docker's `local` driver: a volume is a directory `<data-root>/volumes/<name>/_data`
 * (Docker's layout) with its metadata beside it in `volume.json`, bind-mounted into the
 * containers that use it. Named volumes are made by `volume create` or on first use (`-v
 * NAME:/path`, `--mount type=volume,source=NAME`); anonymous ones (an image's VOLUME, `-v /path`,
 * `--mount type=volume` with no source) get a random 64-hex name and belong to their container:
 * `rm -v` and `--rm` remove them, nothing removes a named volume but `volume rm` or `prune`.
 * A new or empty volume is seeded with what the image has at its path (owner and mode too), as
 * Docker does, unless `nocopy`.
 *
 * Who uses a volume is on disk, not in a daemon's memory: every container lists its volumes in
 * `<container dir>/volumes.json`, written under the volumes' lock before any of them is made or
 * used. `volume rm` and `prune` take the same lock and read those lists, so a volume cannot be
 * removed between a create's check and its use. A create that fails removes the volumes it made.
 *
 *   <data-root>/volumes/<name>/_data         the volume's content
 *   <data-root>/volumes/<name>/volume.json   its metadata (absent for anonymous volumes made
 *                                            before named volumes existed: derived from the dir)
 *   <data-root>/volumes/.lock/               the volumes' lock (a volume name cannot start with .)
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lchownSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { chown, lstat, mkdir, readdir } from 'node:fs/promises';
import { dirname, isAbsolute, join, posix } from 'node:path';
import { promisify } from 'node:util';
import type { Mount } from '../oci/spec.js';
import { writeFileAtomicSync } from '../util/atomic.js';
import { BerthError, errnoCode } from '../util/errors.js';
import { resolveInRootSync } from '../util/inroot.js';
import { labelsMatch } from '../util/labels.js';
import { lockDirAsync } from '../util/lock.js';
import type { ContainerConfig, HostConfig, MountPoint } from './config.js';

export type { MountPoint } from './config.js';
import { anonymousVolumeTargets } from './image-config.js';
import { splitBind, userTargets, VOLUME_NAME_RE } from './mounts.js';
import type { EnginePaths, EngineRecord } from './store.js';

const run = promisify(execFile);

/** A volume as Docker's API and `volume inspect` show it. */
export interface Volume {
  CreatedAt: string;
  Driver: 'local';
  Labels: Record<string, string> | null;
  Mountpoint: string;
  Name: string;
  Options: Record<string, string> | null;
  Scope: 'local';
}

/** volume.json: Docker's fields and whether the volume is anonymous (Berth's). */
interface VolumeFile extends Volume {
  Anonymous?: boolean;
}

/**
 * One volume a container uses, as listed in its volumes.json. `Shared`: not the container's own
 * anonymous volume (a named one, or one it has through --volumes-from), so `rm -v` leaves it.
 * Lists written before named volumes have anonymous entries only, without the flag.
 */
export interface VolumeUse {
  Name: string;
  Source: string;
  Destination: string;
  Shared?: true;
}

const volumesDir = (paths: Pick<EnginePaths, 'dataRoot'>): string => join(paths.dataRoot, 'volumes');
const volumeDir = (paths: Pick<EnginePaths, 'dataRoot'>, name: string): string => join(volumesDir(paths), name);
/** Where volume `name`'s content lives (and what containers bind). */
export const volumeMountpoint = (paths: Pick<EnginePaths, 'dataRoot'>, name: string): string => join(volumeDir(paths, name), '_data');

/** Docker's time format for CreatedAt: RFC 3339, seconds. */
const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d+Z$/, 'Z');

function noSuchVolume(name: string): BerthError {
  return new BerthError('ENOT_FOUND', `no such volume: ${name}`);
}

/** A volume name the user gave, checked with Docker's rule. */
export function checkVolumeName(name: string): void {
  if (!VOLUME_NAME_RE.test(name)) {
    throw new BerthError('EINVALID_ARG', `invalid volume name ${JSON.stringify(name)}: only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed, at least two characters (a host directory must be an absolute path)`);
  }
}

/** Run `fn` holding the volumes' lock (asynchronous: the API server serves other requests meanwhile). */
async function locked<T>(paths: EnginePaths, fn: () => T | Promise<T>): Promise<T> {
  const dir = join(volumesDir(paths), '.lock');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const release = await lockDirAsync(dir);
  try {
    return await fn();
  } finally {
    release();
  }
}

/** Volume `name`'s metadata, or undefined when there is no such volume. */
function readVolume(paths: EnginePaths, name: string): VolumeFile | undefined {
  if (!VOLUME_NAME_RE.test(name)) return undefined;
  const dir = volumeDir(paths, name);
  try {
    return JSON.parse(readFileSync(join(dir, 'volume.json'), 'utf8')) as VolumeFile;
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
  // An anonymous volume made before volume.json existed: its directory is the volume.
  let st;
  try { st = statSync(join(dir, '_data')); } catch { return undefined; }
  return { CreatedAt: rfc3339(st.mtime), Driver: 'local', Labels: null, Mountpoint: join(dir, '_data'), Name: name, Options: null, Scope: 'local', Anonymous: true };
}

const publicView = ({ Anonymous: _a, ...v }: VolumeFile): Volume => v;

export interface VolumeCreateOptions {
  name?: string;
  driver?: string;
  labels?: Record<string, string>;
  options?: Record<string, string>;
}

/** Refuse what the local driver of Berth cannot do, naming it. */
function checkDriver(driver: string | undefined, options: Record<string, string> | undefined): void {
  if (driver && driver !== 'local') throw new BerthError('EUNSUPPORTED', `volume driver ${JSON.stringify(driver)} is not available: Berth has the local driver only`);
  const opts = Object.keys(options ?? {});
  if (opts.length) {
    throw new BerthError('EUNSUPPORTED', `volume option ${opts.map((o) => JSON.stringify(o)).join(', ')} is not supported: Berth's local driver makes plain directories (no type/device/o mounts yet)`);
  }
}

/**
 * Make volume `name` (the caller holds the lock); the existing one when it exists, as Docker does.
 * `options`: the driver options asked for, {} when a client sent an empty set (the docker CLI
 * does), null when it sent none (dockerd shows them so).
 */
function makeVolume(paths: EnginePaths, name: string, labels: Record<string, string> | null, anonymous: boolean, owner?: { uid: number; gid: number },
  options: Record<string, string> | null = null): { volume: VolumeFile; made: boolean } {
  const existing = readVolume(paths, name);
  if (existing) return { volume: existing, made: false };
  const dir = volumeDir(paths, name);
  mkdirSync(volumesDir(paths), { recursive: true, mode: 0o701 });
  mkdirSync(dir, { mode: 0o701 });
  const data = join(dir, '_data');
  mkdirSync(data, { mode: 0o755 });
  if (owner) lchownSync(data, owner.uid, owner.gid);
  const volume: VolumeFile = { CreatedAt: rfc3339(new Date()), Driver: 'local', Labels: labels, Mountpoint: data, Name: name, Options: options, Scope: 'local', ...(anonymous ? { Anonymous: true } : {}) };
  writeFileAtomicSync(join(dir, 'volume.json'), JSON.stringify(volume));
  return { volume, made: true };
}


/** `volume create [NAME]`: returns the volume (an existing one of that name is returned as is). */
export async function createVolume(paths: EnginePaths, o: VolumeCreateOptions = {}): Promise<Volume> {
  if (o.name) checkVolumeName(o.name);
  checkDriver(o.driver, o.options);
  const name = o.name || randomBytes(32).toString('hex');
  return locked(paths, () => publicView(makeVolume(paths, name, o.labels ?? {}, false, undefined, o.options ? {} : null).volume));
}

/** Every volume, by name. */
export async function listVolumes(paths: EnginePaths): Promise<Volume[]> {
  return listFiles(paths).map(publicView);
}

function listFiles(paths: EnginePaths): VolumeFile[] {
  let names: string[];
  try { names = readdirSync(volumesDir(paths)); } catch { return []; }
  return names.filter((n) => VOLUME_NAME_RE.test(n)).sort().map((n) => readVolume(paths, n)).filter((v): v is VolumeFile => !!v);
}

/** `volume inspect NAME`. */
export async function inspectVolume(paths: EnginePaths, name: string): Promise<Volume> {
  const v = readVolume(paths, name);
  if (!v) throw noSuchVolume(name);
  return publicView(v);
}

/** The filters of `volume ls --filter` and GET /volumes. */
export const VOLUME_FILTERS = ['dangling', 'driver', 'label', 'name'] as const;

/** Does volume `v` (used by `users` containers) pass `filters` (Docker's: values of one key OR, keys AND)? */
export function matchesVolumeFilters(v: Volume, users: number, filters: Readonly<Record<string, readonly string[]>>): boolean {
  for (const [key, values] of Object.entries(filters)) {
    if (!(VOLUME_FILTERS as readonly string[]).includes(key)) throw new BerthError('EINVALID_ARG', `invalid filter ${JSON.stringify(key)}: use one of ${VOLUME_FILTERS.join(', ')}`);
    if (!values.length) continue;
    if (key === 'label') {
      if (!labelsMatch(v.Labels ?? {}, values)) return false;
      continue;
    }
    const ok = values.some((want) => {
      if (key === 'dangling') {
        if (!['true', 'false', '1', '0'].includes(want)) throw new BerthError('EINVALID_ARG', `invalid filter dangling=${want}: use true or false`);
        return (want === 'true' || want === '1') === (users === 0);
      }
      if (key === 'driver') return v.Driver === want;
      return v.Name.includes(want); // name: a substring, as Docker matches it
    });
    if (!ok) return false;
  }
  return true;
}

/**
 * The containers using each volume (ids), from their volumes.json. A directory that is still
 * being created counts: its list was written before the volume was used.
 */
export function volumeUsers(paths: Pick<EnginePaths, 'dataRoot'>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const containers = join(paths.dataRoot, 'containers');
  let ids: string[];
  try { ids = readdirSync(containers); } catch { return out; }
  for (const id of ids) {
    for (const u of readUses(join(containers, id))) {
      const list = out.get(u.Name) ?? [];
      if (!list.includes(id)) list.push(id);
      out.set(u.Name, list);
    }
  }
  return out;
}

/** A container directory's volumes.json ([] when it has none). */
export function readUses(containerDir: string): VolumeUse[] {
  try {
    return JSON.parse(readFileSync(join(containerDir, 'volumes.json'), 'utf8')) as VolumeUse[];
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR' || err instanceof SyntaxError) return [];
    throw err;
  }
}

/** Remove volume `name`'s directory (the caller holds the lock and has checked it is unused). */
function destroy(paths: Pick<EnginePaths, 'dataRoot'>, name: string): void {
  // One rename out of volumes/ first: a crash half-way through a large volume's rm leaves no
  // half-emptied volume behind (image-rootfs.ts sweepOrphans clears removing/).
  const doomed = join(paths.dataRoot, 'removing', `volume-${name}-${randomBytes(4).toString('hex')}`);
  mkdirSync(dirname(doomed), { recursive: true, mode: 0o700 });
  try {
    renameSync(volumeDir(paths, name), doomed);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw err;
  }
  rmSync(doomed, { recursive: true, force: true });
}

/**
 * `volume rm NAME`: refused while a container (of any state) uses it, as Docker does; `force`
 * only quiets a missing volume. Returns false when there was none (with force).
 */
export async function removeVolume(paths: EnginePaths, name: string, force = false): Promise<boolean> {
  return locked(paths, () => {
    if (!readVolume(paths, name)) {
      if (force) return false;
      throw noSuchVolume(name);
    }
    const users = volumeUsers(paths).get(name);
    if (users?.length) throw new BerthError('EBAD_STATE', `remove ${name}: volume is in use - [${users.join(', ')}]`);
    destroy(paths, name);
    return true;
  });
}

/** Bytes in a directory tree (Docker's `directory.Size`: file sizes, hard links once). */
export function treeSize(dir: string): number {
  let total = 0;
  const seen = new Set<string>();
  const walk = (d: string): void => {
    let entries;
    try { entries = readdirSync(d, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) { walk(p); continue; }
      try {
        const st = lstatSync(p);
        const key = `${st.dev}:${st.ino}`;
        if (st.nlink > 1) { if (seen.has(key)) continue; seen.add(key); }
        total += st.size;
      } catch { /* gone meanwhile */ }
    }
  };
  walk(dir);
  return total;
}

/**
 * `volume prune`: every volume no container uses, that passes the label filters; with
 * `anonymousOnly` (today's docker CLI without --all) the anonymous ones only. Returns the names
 * and the bytes freed.
 */
export async function pruneVolumes(paths: EnginePaths, o: { labels?: readonly string[]; anonymousOnly?: boolean } = {}): Promise<{ names: string[]; bytes: number }> {
  return locked(paths, () => {
    const users = volumeUsers(paths);
    const names: string[] = [];
    let bytes = 0;
    for (const v of listFiles(paths)) {
      if (users.get(v.Name)?.length || (o.anonymousOnly && !v.Anonymous) || !labelsMatch(v.Labels ?? {}, o.labels ?? [])) continue;
      bytes += treeSize(v.Mountpoint);
      destroy(paths, v.Name);
      names.push(v.Name);
    }
    return { names, bytes };
  });
}

/** How many containers use each volume, and each volume's size (`system df -v`, GET /system/df). */
export async function volumeUsage(paths: EnginePaths): Promise<{ volume: Volume; refCount: number; size: number }[]> {
  const users = volumeUsers(paths);
  return listFiles(paths).map((v) => ({ volume: publicView(v), refCount: users.get(v.Name)?.length ?? 0, size: treeSize(v.Mountpoint) }));
}

// ---------------------------------------------------------------------------------------------
// A container's volumes

/** What `prepareVolumes` made and what the spec and the record get. */
export interface ContainerVolumes {
  /** Bind mounts of the volumes and of the --volumes-from binds, for the spec. */
  mounts: Mount[];
  /** Every user mount of the container, as inspect shows them (Docker's MountPoints). */
  mountPoints: MountPoint[];
  /** The anonymous volumes the container owns (the record's AnonVolumes). */
  anonymous: { Name: string; Source: string; Destination: string }[];
  /** Undo what this made: the volumes it created, host directories -v created. For a failed create. */
  undo: () => Promise<void>;
}

interface WantedVolume {
  /** undefined: a new anonymous volume. */
  name: string | undefined;
  destination: string;
  readOnly: boolean;
  noCopy: boolean;
  labels?: Record<string, string>;
  /** Through --volumes-from: must exist, never seeded. */
  borrowed?: boolean;
  /** inspect's Mode: the options of -v as given ("z" when none, as Docker shows), '' otherwise. */
  mode: string;
}

/**
 * The mount points of a container's record: recorded at create since volumes exist, derived from
 * its HostConfig and anonymous volumes for records made before.
 */
export function recordMountPoints(rec: Pick<EngineRecord, 'HostConfig' | 'AnonVolumes' | 'MountPoints'>): MountPoint[] {
  if (rec.MountPoints) return rec.MountPoints;
  return [
    ...rec.HostConfig.Binds.map((b) => {
      const p = splitBind(b);
      return { Type: 'bind' as const, Source: p.source, Destination: p.destination, Mode: p.options, RW: !p.readOnly, Propagation: p.propagation };
    }),
    ...rec.HostConfig.Mounts.map((m) => ({ Type: m.Type, Source: m.Source, Destination: m.Target, Mode: '', RW: !m.ReadOnly, Propagation: m.BindOptions?.Propagation ?? '' })),
    ...(rec.AnonVolumes ?? []).map((v) => ({ Type: 'volume' as const, Name: v.Name, Source: v.Source, Destination: v.Destination, Driver: 'local', Mode: '', RW: true, Propagation: '' })),
  ];
}

export interface PrepareVolumesOptions {
  config: ContainerConfig;
  hc: HostConfig;
  /** The container's root filesystem: an image's is where volumes are seeded from. */
  rootPath: string;
  /** The root filesystem is an image's: seed new volumes from it and make their mount points. */
  fromImage: boolean;
  /** With --userns MAPPING: the container's root on the host, who owns new volumes. */
  owner?: { uid: number; gid: number };
  /** The records of containers named by --volumes-from. */
  findContainer: (ref: string) => Promise<EngineRecord>;
}

/**
 * A container's volumes and the host side of its binds, at create: named volumes are made on
 * first use, anonymous ones for `-v /path`, `--mount type=volume` without a source and the
 * image's VOLUMEs (unless the user mounts something there), --volumes-from copies another
 * container's volumes and binds; a missing host directory of `-v` is made (Docker's rule) while
 * `--mount type=bind` refuses it. New or empty volumes are seeded from the image.
 */
export async function prepareVolumes(paths: EnginePaths, containerDir: string, o: PrepareVolumesOptions): Promise<ContainerVolumes> {
  const { hc } = o;
  const mountPoints: MountPoint[] = [];
  const wanted: WantedVolume[] = [];
  const borrowedBinds: Mount[] = [];
  // Host binds: -v makes a missing source, --mount type=bind refuses it (checked before anything is made).
  const missingBindSources: string[] = [];
  for (const b of hc.Binds.map(splitBind)) {
    if (b.volume) {
      wanted.push({ name: b.source, destination: b.destination, readOnly: b.readOnly, noCopy: b.noCopy, mode: b.options || 'z' });
      continue;
    }
    if (!existsSync(b.source)) missingBindSources.push(b.source);
    mountPoints.push({ Type: 'bind', Source: b.source, Destination: b.destination, Mode: b.options, RW: !b.readOnly, Propagation: b.propagation });
  }
  for (const m of hc.Mounts) {
    const destination = posix.normalize(m.Target);
    if (m.Type === 'bind') {
      if (!existsSync(m.Source)) throw new BerthError('EINVALID_ARG', `invalid mount config for type "bind": bind source path does not exist: ${m.Source} (--mount does not make it; -v does)`);
      mountPoints.push({ Type: 'bind', Source: m.Source, Destination: destination, Mode: '', RW: !m.ReadOnly, Propagation: m.BindOptions?.Propagation ?? 'rprivate' });
    } else if (m.Type === 'volume') {
      checkDriver(m.VolumeOptions?.DriverConfig?.Name, m.VolumeOptions?.DriverConfig?.Options);
      wanted.push({ name: m.Source || undefined, destination, readOnly: m.ReadOnly, noCopy: !!m.VolumeOptions?.NoCopy, mode: '', ...(m.VolumeOptions?.Labels ? { labels: m.VolumeOptions.Labels } : {}) });
    } else {
      mountPoints.push({ Type: 'tmpfs', Source: '', Destination: destination, Mode: '', RW: !m.ReadOnly, Propagation: '' });
    }
  }
  const taken = new Set(userTargets(hc));
  // --volumes-from: the other container's mounts at the same paths, unless the user mounts something there.
  for (const ref of hc.VolumesFrom ?? []) {
    const [name, mode] = ref.split(':') as [string, string | undefined];
    const other = await o.findContainer(name);
    for (const mp of recordMountPoints(other)) {
      if (mp.Type === 'tmpfs' || taken.has(mp.Destination)) continue;
      taken.add(mp.Destination);
      const readOnly = mode ? mode === 'ro' : !mp.RW;
      if (mp.Type === 'volume' && mp.Name) {
        wanted.push({ name: mp.Name, destination: mp.Destination, readOnly, noCopy: true, borrowed: true, mode: mode ?? mp.Mode });
      } else {
        borrowedBinds.push({ destination: mp.Destination, type: 'bind', source: mp.Source, options: ['rbind', readOnly ? 'ro' : 'rw', mp.Propagation || 'rprivate'] });
        mountPoints.push({ ...mp, RW: !readOnly, Mode: mode ?? mp.Mode });
      }
    }
  }
  // The image's VOLUMEs and -v /path: anonymous volumes where nothing else is mounted.
  for (const dest of anonymousVolumeTargets(o.config.Volumes, [...taken])) wanted.push({ name: undefined, destination: dest, readOnly: false, noCopy: false, mode: '' });

  // Nothing to make or record (most containers): no lock, no volumes.json on the start-up path.
  if (!wanted.length && !missingBindSources.length) return { mounts: borrowedBinds, mountPoints, anonymous: [], undo: async () => {} };
  const made: string[] = [];
  const madeDirs: string[] = [];
  const undo = async (): Promise<void> => {
    await locked(paths, () => {
      const users = volumeUsers(paths);
      for (const name of made) {
        if (!(users.get(name) ?? []).some((id) => join(paths.dataRoot, 'containers', id) !== containerDir)) destroy(paths, name);
      }
    });
    for (const d of madeDirs.reverse()) { try { rmdirSync(d); } catch { /* not empty: someone uses it now */ } }
  };

  const resolved: { want: WantedVolume; volume: VolumeFile; made: boolean }[] = [];
  try {
    for (const src of missingBindSources) {
      const first = mkdirSync(src, { recursive: true, mode: 0o755 });
      if (first) madeDirs.push(first);
    }
    for (const w of wanted) if (!w.name) w.name = randomBytes(32).toString('hex');
    await locked(paths, () => {
      // The list first: from now on volume rm and prune see these volumes as used.
      const uses: VolumeUse[] = wanted.map((w) => ({ Name: w.name!, Source: volumeMountpoint(paths, w.name!), Destination: w.destination, ...(w.borrowed || !isAnonymous(w, hc, o.config) ? { Shared: true as const } : {}) }));
      writeFileSync(join(containerDir, 'volumes.json'), JSON.stringify(uses));
      for (const w of wanted) {
        if (w.borrowed) {
          const v = readVolume(paths, w.name!);
          if (!v) throw new BerthError('ENOT_FOUND', `--volumes-from: volume ${w.name} is gone`);
          resolved.push({ want: w, volume: v, made: false });
          continue;
        }
        const r = makeVolume(paths, w.name!, isAnonymous(w, hc, o.config) ? null : (w.labels ?? null), isAnonymous(w, hc, o.config), o.owner);
        if (r.made) made.push(w.name!);
        resolved.push({ want: w, volume: r.volume, made: r.made });
      }
    });
    // Seeding: a volume that is new or empty gets the image's content at its path (Docker's copy-up).
    for (const r of resolved) {
      if (!o.fromImage || r.want.borrowed) continue;
      const inImage = await ensureMountpoint(o.rootPath, r.want.destination, o.owner);
      if (r.want.noCopy || !(await lstat(inImage)).isDirectory()) continue;
      if ((await readdir(r.volume.Mountpoint)).length) continue;
      await run('cp', ['-a', '--no-target-directory', inImage, r.volume.Mountpoint]);
    }
  } catch (err) {
    await undo().catch(() => undefined);
    throw err;
  }
  const mounts: Mount[] = [...borrowedBinds];
  for (const r of resolved) {
    const w = r.want;
    mounts.push({ destination: w.destination, type: 'bind', source: r.volume.Mountpoint, options: ['rbind', w.readOnly ? 'ro' : 'rw', 'rprivate'] });
    mountPoints.push({ Type: 'volume', Name: w.name!, Source: r.volume.Mountpoint, Destination: w.destination, Driver: 'local', Mode: w.mode, RW: !w.readOnly, Propagation: '' });
  }
  const anonymous = resolved.filter((r) => !r.want.borrowed && isAnonymous(r.want, hc, o.config)).map((r) => ({ Name: r.want.name!, Source: r.volume.Mountpoint, Destination: r.want.destination }));
  return { mounts, mountPoints, anonymous, undo };
}

/** A wanted volume is anonymous when nobody named it (its name was drawn here). */
function isAnonymous(w: WantedVolume, hc: HostConfig, _config: ContainerConfig): boolean {
  if (w.borrowed) return false;
  const named = hc.Binds.some((b) => { const p = splitBind(b); return p.volume && p.source === w.name && p.destination === w.destination; })
    || hc.Mounts.some((m) => m.Type === 'volume' && m.Source === w.name && m.Source !== '');
  return !named;
}

/**
 * Make `path` inside the root filesystem without following its symlinks out of it; the
 * directories made belong to `owner` (the container's root on the host, in a user namespace).
 * Returns the host path.
 */
async function ensureMountpoint(rootPath: string, path: string, owner?: { uid: number; gid: number }): Promise<string> {
  const host = resolveInRootSync(rootPath, path);
  const first = await mkdir(host, { recursive: true, mode: 0o755 });
  if (owner && first !== undefined) {
    for (let d = host; d.length >= first.length; d = dirname(d)) await chown(d, owner.uid, owner.gid);
  }
  return host;
}

/** Is `p` a volume source (a name) rather than a host path? */
export function isVolumeSource(p: string): boolean {
  return !isAbsolute(p);
}
