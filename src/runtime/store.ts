/**
 * Container state on disk: one directory per container under the runtime root (`--root`,
 * default /run/berth), holding `state.json` (written atomically: temp file + rename), the exec
 * fifo while the container is created but not started, and the lock file.
 *
 * The record is written *before* each resource is created (see docs/architecture.md and docs/security.md, crash safety), so a
 * `delete --force` after a killed `create` finds the cgroup and the process to remove.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Spec, State } from '../oci/spec.js';
import { OCI_VERSION } from '../oci/spec.js';
import { BerthError, errnoCode } from '../util/errors.js';
import { writeFileAtomicSync } from '../util/atomic.js';
import { isSameProcess } from '../util/proc.js';

export const DEFAULT_ROOT = '/run/berth';

/** What Berth records about a container. `status` is the last recorded one; see `currentStatus`. */
export interface ContainerRecord {
  id: string;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  pid?: number;
  pidStartTime?: number;
  status: State['status'];
  /** The cgroup manager's saved form (written before the cgroup is created). */
  cgroup?: unknown;
  spec: Spec;
  /** `--no-new-keyring` at create: exec keeps the runtime's session keyring too. */
  noNewKeyring?: boolean;
}

/** runc's rule for container ids: letters, digits and `_ + - .`, not `.` or `..`. */
const ID_RE = /^[\w+.-]+$/;

/** Throw a clear error for an id that would be unsafe as a directory name. */
export function checkId(id: string | undefined): string {
  if (!id) throw new BerthError('EINVALID_ARG', 'container id cannot be empty');
  if (!ID_RE.test(id) || id === '.' || id === '..' || id.length > 1024) {
    throw new BerthError('EINVALID_ARG', `invalid container id ${JSON.stringify(id)}: use letters, digits and _ + - .`);
  }
  return id;
}

/** The runtime root: one per `--root`, holding a directory per container. */
export class Store {
  constructor(readonly root: string) {}

  dir(id: string): string {
    return join(this.root, checkId(id));
  }

  /** Reserve the directory of a new container; fails when the id is taken. */
  reserve(id: string): string {
    const dir = this.dir(id);
    mkdirSync(this.root, { recursive: true, mode: 0o711 });
    try {
      mkdirSync(dir, { mode: 0o711 });
    } catch (err) {
      if (errnoCode(err) === 'EEXIST') throw new BerthError('EEXISTS', `container with id ${id} already exists`);
      throw err;
    }
    return dir;
  }

  exists(id: string): boolean {
    return existsSync(join(this.dir(id), 'state.json'));
  }

  /** Load a container's record; a missing one is ENOT_FOUND naming the id. */
  load(id: string): ContainerRecord {
    const file = join(this.dir(id), 'state.json');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw new BerthError('ENOT_FOUND', `container ${id} does not exist`);
      throw err;
    }
    return JSON.parse(text) as ContainerRecord;
  }

  /** Write a record atomically (a reader never sees half a file). */
  save(record: ContainerRecord): void {
    const dir = this.dir(record.id);
    writeFileAtomicSync(join(dir, 'state.json'), JSON.stringify(record), 0o666, { durable: false });
  }

  remove(id: string): void {
    rmSync(this.dir(id), { recursive: true, force: true });
  }

  /** Ids of every container under the root, sorted. */
  list(): string[] {
    let names: string[];
    try {
      names = readdirSync(this.root);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw err;
    }
    return names.filter((n) => ID_RE.test(n) && existsSync(join(this.root, n, 'state.json'))).sort();
  }

  fifoPath(id: string): string {
    return join(this.dir(id), 'exec.fifo');
  }
}

/**
 * The status as it is now: a recorded "running" container whose process has exited is
 * "stopped"; a live one whose exec fifo still exists is "created". Paused is decided by the
 * caller, which has the cgroup (`frozen`).
 */
export function currentStatus(store: Store, rec: ContainerRecord, frozen?: () => boolean): State['status'] {
  if (rec.pid === undefined) return rec.status === 'creating' ? 'creating' : 'stopped';
  if (!isSameProcess(rec.pid, rec.pidStartTime)) return 'stopped';
  if (rec.status === 'creating') return 'creating';
  if (existsSync(store.fifoPath(rec.id))) return 'created';
  if (frozen?.()) return 'paused';
  return 'running';
}

/** The OCI state document for a record (what `state` prints and hooks read on stdin). */
export function ociState(rec: ContainerRecord, status: State['status']): State {
  const state: State = { ociVersion: OCI_VERSION, id: rec.id, status, bundle: rec.bundle };
  if (rec.pid !== undefined && status !== 'stopped') state.pid = rec.pid;
  if (rec.spec.annotations) state.annotations = rec.spec.annotations;
  return state;
}
