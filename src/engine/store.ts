/**
 * The engine's containers on disk, daemonless like Podman: every command reads and writes the
 * records under the data root (default /var/lib/berth; `--data-root` or BERTH_DATA_ROOT), taking
 * the container's lock for each change.
 *
 *   <data-root>/containers/<id>/container.json   the record (atomic rename on every write)
 *   <data-root>/containers/<id>/bundle/          config.json for the runtime
 *   <data-root>/containers/<id>/rootfs/          the root of a `host` container (its writable layer)
 *   <data-root>/containers/<id>/<id>-json.log    stdout+stderr of a detached container (Docker's json-file)
 *   <data-root>/containers/<id>/exit.json        written by the detached monitor when the init exits
 *   <data-root>/containers/<id>/stdin            a fifo: the stdin of a container run with -d -i
 *   <data-root>/events.log                       the event log (events.ts)
 *   <data-root>/names/<name>                     holds the id: creating it O_EXCL reserves the name
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomicSync } from '../util/atomic.js';
import { BerthError, errnoCode } from '../util/errors.js';
import { lockDir, sleepSync } from '../util/lock.js';
import type { ContainerConfig, HostConfig, MountPoint } from './config.js';
import type { Report } from './report.js';
import type { NetworkSettings } from './config.js';
import { releaseImageResources } from './image-release.js';

/** Docker's State object, as `inspect` prints it. */
export interface ContainerState {
  Status: 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  /** Docker's meaning: an OOM kill happened anywhere in the container during its last run. */
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
}

/** Docker's zero time, which it prints for "never". */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

/**
 * The part of a container's record that is Docker's own: these fields appear in `docker inspect`
 * under the same names, with the same meaning (inspect.ts adds the derived ones and the leading
 * slash of Name).
 */
export interface DockerContainerFields {
  Id: string;
  /** Without Docker's leading slash (inspect prints `/name`). */
  Name: string;
  Created: string;
  Path: string;
  Args: string[];
  Config: ContainerConfig;
  HostConfig: HostConfig;
  State: ContainerState;
  RestartCount: number;
  /** Docker's NetworkSettings (engine/networking.ts): the endpoints asked for at create, their addresses while running. */
  NetworkSettings?: NetworkSettings;
}

/**
 * Berth's own bookkeeping about a container: not Docker's, never printed as Docker's fields by
 * `inspect` (which derives Image, Driver, GraphDriver and Mounts from some of them, and shows
 * the outcome and who killed it under its own `Berth` key).
 */
export interface Bookkeeping {
  /** The directory used as the container's root (--rootfs DIR, or the host rootfs directory). */
  RootPath: string;
  /** --rootfs was given (the root is the user's, not Berth's). */
  UserRootfs: boolean;
  /** --report: print the outcome table when the container stops (foreground run). */
  Report: boolean;
  /** The outcome of the last run. */
  Outcome?: Report;
  /**
   * The process watching the container: a foreground `run` (`node`) or the native helper of a
   * detached container (`helper`), with its start time (pids are reused).
   */
  Monitor?: { pid: number; startTime?: number; kind?: 'node' | 'helper' };
  /** `berth stop`/`kill`/`rm -f` ended the last run: a restart policy does not apply (Docker's rule). */
  ManuallyStopped?: boolean;
  /** A signal berth sent (kill, stop, rm -f, a timeout), so the outcome can say who killed it. */
  KilledBy?: { signal: string; by: string; at: string };
  /**
   * While the restart policy waits out its back-off (Status "restarting"): the sleeping
   * `berth-helper delay-exec` that will restart the container; stop and rm -f kill it.
   */
  RestartWaiter?: { pid: number; startTime?: number };
  /** The last restart's back-off in ms (Docker's: 100 ms doubling, reset after a 10 s run). */
  RestartBackoffMs?: number;
  /** From an image: its id (config digest), as Docker's inspect `Image`. */
  ImageId?: string;
  /** From an image: how its root filesystem was made (storage/rootfs.ts). */
  StorageDriver?: 'overlay' | 'copy';
  /** Anonymous volumes made for the image's Volumes (removed by rm -v and --rm). */
  AnonVolumes?: { Name: string; Source: string; Destination: string }[];
  /** Every user mount with its host source (volumes resolved), as inspect's Mounts (engine/volumes.ts). */
  MountPoints?: MountPoint[];
}

/**
 * What the engine records about a container: Docker's fields and Berth's bookkeeping, kept in
 * one flat JSON object in container.json (the layout every version so far has written and read;
 * the two parts are told apart by type, and by recordParts).
 */
export interface EngineRecord extends DockerContainerFields, Bookkeeping {}

/** Every key of each part (the compiler checks each list is complete, and recordParts that they split the record). */
const DOCKER_KEYS: Record<keyof DockerContainerFields, true> = {
  Id: true, Name: true, Created: true, Path: true, Args: true, Config: true, HostConfig: true, State: true, RestartCount: true, NetworkSettings: true,
};
const BOOKKEEPING_KEYS: Record<keyof Bookkeeping, true> = {
  RootPath: true, UserRootfs: true, Report: true, Outcome: true, Monitor: true, ManuallyStopped: true, KilledBy: true,
  RestartWaiter: true, RestartBackoffMs: true, ImageId: true, StorageDriver: true, AnonVolumes: true, MountPoints: true,
};

/** The record's two parts: Docker's fields and Berth's bookkeeping (fields a record lacks stay absent). */
export function recordParts(rec: EngineRecord): { docker: DockerContainerFields; berth: Bookkeeping } {
  const pick = (keys: object) => Object.fromEntries(Object.keys(keys).filter((k) => k in rec).map((k) => [k, rec[k as keyof EngineRecord]]));
  return { docker: pick(DOCKER_KEYS) as unknown as DockerContainerFields, berth: pick(BOOKKEEPING_KEYS) as unknown as Bookkeeping };
}

/** Locations of one engine instance. */
export interface EnginePaths {
  dataRoot: string;
  /** The runtime's state root (like `berth-runtime --root`). */
  runtimeRoot: string;
}

/** Default data root, overridable by BERTH_DATA_ROOT in the caller's environment `env`. */
export function defaultDataRoot(env: Readonly<Record<string, string | undefined>>): string {
  return env.BERTH_DATA_ROOT || '/var/lib/berth';
}

/** Default runtime root for engine containers (separate from berth-runtime's /run/berth), overridable by BERTH_RUNTIME_ROOT. */
export function defaultRuntimeRoot(env: Readonly<Record<string, string | undefined>>): string {
  return env.BERTH_RUNTIME_ROOT || '/run/berth/engine';
}

/** Docker's rule for names: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`. */
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** The record store. */
export class EngineStore {
  constructor(readonly paths: EnginePaths) {}

  get containersDir(): string { return join(this.paths.dataRoot, 'containers'); }
  get namesDir(): string { return join(this.paths.dataRoot, 'names'); }
  dir(id: string): string { return join(this.containersDir, id); }
  /** The json-file log of a detached container. */
  logPath(id: string): string { return join(this.dir(id), `${id}-json.log`); }
  /** The exit file the detached monitor writes: {"status": raw wait status, "time": RFC 3339}. */
  exitPath(id: string): string { return join(this.dir(id), 'exit.json'); }
  /** The stdin fifo of a container run with -d -i. */
  stdinPath(id: string): string { return join(this.dir(id), 'stdin'); }

  /** A new 64-hex-digit id, as Docker's. */
  newId(): string {
    return randomBytes(32).toString('hex');
  }

  /** Reserve `name` for `id`; a taken name is Docker's conflict error. */
  reserveName(name: string, id: string): void {
    const bare = name.replace(/^\//, '');
    if (!NAME_RE.test(bare)) {
      throw new BerthError('EINVALID_ARG', `invalid container name ${JSON.stringify(name)}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    }
    mkdirSync(this.namesDir, { recursive: true });
    const file = join(this.namesDir, bare);
    try {
      writeFileSync(file, id, { flag: 'wx' });
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
      const holder = this.nameHolder(bare);
      if (holder && !existsSync(join(this.dir(holder), 'container.json')) && !existsSync(this.dir(holder))) {
        // A stale name whose container is gone (a crash between the two removals): take it over.
        writeFileSync(file, id);
        return;
      }
      throw new BerthError('EEXISTS', `the container name "/${bare}" is already in use by container "${holder}": remove (or rename) that container to be able to reuse that name`);
    }
  }

  releaseName(name: string, id: string): void {
    const file = join(this.namesDir, name.replace(/^\//, ''));
    if (this.nameHolder(name) === id) {
      try { unlinkSync(file); } catch { /* already released */ }
    }
  }

  /** The id that name `name` is reserved for, if any (its record may not exist yet). */
  nameHolder(name: string): string | undefined {
    try { return readFileSync(join(this.namesDir, name.replace(/^\//, '')), 'utf8').trim(); } catch { return undefined; }
  }

  save(rec: EngineRecord): void {
    const dir = this.dir(rec.Id);
    mkdirSync(dir, { recursive: true, mode: 0o711 });
    // Atomic, not fsynced: rewritten at every step of a container's life (util/atomic.ts).
    writeFileAtomicSync(join(dir, 'container.json'), JSON.stringify(rec, null, 1), 0o666, { durable: false });
  }

  load(id: string): EngineRecord | undefined {
    try {
      return JSON.parse(readFileSync(join(this.dir(id), 'container.json'), 'utf8')) as EngineRecord;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Every record, oldest first. */
  all(): EngineRecord[] {
    let ids: string[];
    try { ids = readdirSync(this.containersDir); } catch { return []; }
    return ids.map((id) => this.load(id)).filter((r): r is EngineRecord => r !== undefined)
      .sort((a, b) => a.Created.localeCompare(b.Created));
  }

  /**
   * Find a container the way Docker does: full id, exact name, then a unique id prefix. An
   * ambiguous prefix and an unknown reference are errors naming the reference.
   */
  find(ref: string): EngineRecord {
    const bare = ref.replace(/^\//, '');
    if (/^[0-9a-f]{64}$/.test(bare)) {
      const r = this.load(bare);
      if (r) return r;
    }
    const byName = this.nameHolder(bare);
    if (byName && NAME_RE.test(bare)) {
      const r = this.load(byName);
      if (r) return r;
    }
    if (/^[0-9a-f]+$/.test(bare)) {
      const matches = this.all().filter((r) => r.Id.startsWith(bare));
      if (matches.length === 1) return matches[0]!;
      if (matches.length > 1) throw new BerthError('EINVALID_ARG', `multiple containers found with id prefix ${bare}: use more characters`);
    }
    throw new BerthError('ENOT_FOUND', `no such container: ${ref}`);
  }

  /** Run `fn` holding the container's lock (waited for up to `lockWaitMs`, default 30 s). */
  async locked<T>(id: string, fn: () => T | Promise<T>, lockWaitMs?: number): Promise<T> {
    const release = lockDir(this.dir(id), lockWaitMs);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /**
   * Remove the container's directory and its name, and its image root filesystem if it has one.
   * Anonymous volumes go with `volumes` (rm -v), with --rm, and with a failed create (a stub
   * record without HostConfig).
   */
  remove(rec: EngineRecord, opts: { volumes?: boolean } = {}): void {
    const dir = this.dir(rec.Id);
    releaseImageResources(this.paths, rec.Id, dir, opts.volumes ?? rec.HostConfig?.AutoRemove ?? true);
    this.releaseName(rec.Name, rec.Id);
    // Moved out of containers/ first, in one rename: a process waiting for the container's lock
    // (a monitor's cleanup racing rm -f) writes its attempt files into the directory, and one
    // written while a recursive rm walks it fails that rm (ENOTEMPTY). After the rename its next
    // attempt finds the directory gone. A crash between the two steps leaves removing/<id>,
    // swept at the next create (image-rootfs.ts sweepOrphans). The dying monitor still writes
    // its exit file through a directory descriptor (native/monitor.c): the rm is tried again.
    const doomed = join(this.paths.dataRoot, 'removing', rec.Id);
    try {
      mkdirSync(dirname(doomed), { recursive: true, mode: 0o700 });
      rmSync(doomed, { recursive: true, force: true });
      renameSync(dir, doomed);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
      return; // already gone
    }
    for (let tries = 1; ; tries++) {
      try {
        rmSync(doomed, { recursive: true, force: true });
        return;
      } catch (err) {
        if (errnoCode(err) !== 'ENOTEMPTY' || tries === 20) throw err;
        sleepSync(5);
      }
    }
  }
}

/** A State for a container that has never run. */
export function createdState(): ContainerState {
  return {
    Status: 'created', Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
    Pid: 0, ExitCode: 0, Error: '', StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME,
  };
}
