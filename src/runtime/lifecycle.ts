/**
 * The lifecycle commands that act on an existing container: start, state, kill, delete, pause,
 * resume, update, list, ps. Each takes the container's lock, reads its record, derives the
 * current status and either acts or fails with a state error that names the container and its
 * status (runc's sentinel errors, e.g. "cannot start a container that has stopped").
 */
import type { LinuxResources, State } from '../oci/spec.js';
import { BerthError } from '../util/errors.js';
import { releaseFifo } from './exec-fifo.js';
import { cgroupManagerFromState, type CgroupManager } from '../cgroups/index.js';
import { runHooksWarn } from './hooks.js';
import { abortLockHolder, lockDirAsync, lockOwner } from '../util/lock.js';
import { currentStatus, ociState, Store, type ContainerRecord } from './store.js';
import { destroyContainer, killUnlocked, waitGone } from './destroy.js';
import { parseSignal } from './signals.js';
import { containerDeviceRules } from './devices.js';
import { attachDeviceFilter } from '../native/one-shot.js';

/** A container opened for a command: its record, cgroup, status, and the lock to release. */
export interface Opened {
  store: Store;
  record: ContainerRecord;
  cgroup: CgroupManager | undefined;
  status: State['status'];
  release: () => void;
}

/**
 * Open a container by id under the lock. Call `release()` when done. Async because the lock is
 * waited for on a timer: in the runtime server, the request holding it must be able to go on.
 */
export async function openContainer(root: string, id: string, lockWaitMs?: number): Promise<Opened> {
  const store = new Store(root);
  if (!store.exists(id)) throw new BerthError('ENOT_FOUND', `container ${id} does not exist`);
  const release = await lockDirAsync(store.dir(id), lockWaitMs);
  try {
    const record = store.load(id);
    const cgroup = record.cgroup ? cgroupManagerFromState(record.cgroup as never) : undefined;
    const status = currentStatus(store, record, () => cgroup?.exists() === true && cgroup.freezerState() === 'frozen');
    return { store, record, cgroup, status, release };
  } catch (err) {
    release();
    throw err;
  }
}

async function withContainer<T>(root: string, id: string, fn: (c: Opened) => T | Promise<T>, lockWaitMs?: number): Promise<T> {
  const c = await openContainer(root, id, lockWaitMs);
  try {
    return await fn(c);
  } finally {
    c.release();
  }
}

/** What `state` prints for a container. */
export type ContainerStateDoc = State & { rootfs: string; created: string; owner: string };

/** The state document runc prints: the OCI state plus rootfs, created and owner. */
export async function containerState(root: string, id: string): Promise<ContainerStateDoc> {
  const doc = ({ record, status }: { record: ContainerRecord; status: State['status'] }): ContainerStateDoc => ({
    ...ociState(record, status),
    pid: status === 'stopped' ? 0 : record.pid ?? 0,
    rootfs: record.rootfs,
    created: record.created,
    owner: record.owner,
  });
  const creating = peekCreating(root, id);
  try {
    return await withContainer(root, id, doc, creating ? CREATING_LOCK_WAIT_MS : undefined);
  } catch (err) {
    // A create holds the lock for its whole run (hooks included): say "creating" from the record
    // on disk (written atomically) rather than wait for it.
    if (!creating || (err as BerthError).code !== 'ELOCKED') throw err;
    return doc({ record: creating, status: 'creating' });
  }
}

/**
 * How long `state` and `kill` wait for the lock of a container recorded as `creating` (a create
 * holds it until the init is ready, which a stalled one never is) before they answer without it.
 */
const CREATING_LOCK_WAIT_MS = 2000;

/** The record, read without the lock, when it says `creating`; else undefined. */
function peekCreating(root: string, id: string): ContainerRecord | undefined {
  try {
    const rec = new Store(root).load(id);
    return rec.status === 'creating' ? rec : undefined;
  } catch {
    return undefined;
  }
}

/** `start`: let the init of a created container exec its process. */
export function startContainer(root: string, id: string, warn: (msg: string) => void): Promise<void> {
  return withContainer(root, id, async ({ store, record, status }) => {
    if (status !== 'created') {
      throw new BerthError('EBAD_STATE', status === 'stopped'
        ? `cannot start container ${id}: it has stopped`
        : `cannot start container ${id}: it is ${status}, not created`);
    }
    await releaseFifo(store.fifoPath(id), record);
    record.status = 'running';
    store.save(record);
    await runHooksWarn('poststart', record.spec.hooks?.poststart, ociState(record, 'running'), warn);
  });
}

/** `kill`: send a signal to the init, or with `all` to every process of the container. */
export function killContainer(root: string, id: string, signal: string, all: boolean): Promise<void> {
  const sig = parseSignal(signal);
  const creating = peekCreating(root, id) !== undefined;
  return withContainer(root, id, async ({ record, cgroup, status }) => {
    if (status === 'stopped' && !all) throw new BerthError('EBAD_STATE', `cannot kill container ${id}: it is not running`);
    if (all && cgroup?.exists()) {
      await cgroup.killAll(sig);
      return;
    }
    if (record.pid !== undefined) process.kill(record.pid, sig);
  }, creating ? CREATING_LOCK_WAIT_MS : undefined).catch((err: BerthError) => {
    if (!creating || err.code !== 'ELOCKED') throw err;
    throw new BerthError('EBAD_STATE', `cannot kill container ${id}: it is being created by pid ${lockOwner(new Store(root).dir(id))} (delete --force removes it)`);
  });
}

/**
 * `delete`: remove a stopped container; with `force`, kill it first. `before` sees the container
 * under the same lock just before it goes (the engine reads the cgroup's final counters there).
 */
export function deleteContainer(root: string, id: string, force: boolean, warn: (msg: string) => void,
  before?: (c: Opened) => void): Promise<void> {
  const store = new Store(root);
  if (!store.exists(id)) {
    if (force) { store.remove(id); return Promise.resolve(); }
    throw new BerthError('ENOT_FOUND', `container ${id} does not exist`);
  }
  const remove = async (c: Opened) => {
    const { record, status } = c;
    if (status !== 'stopped') {
      if (!force) throw new BerthError('EBAD_STATE', `cannot delete container ${id} that is not stopped: it is ${status}`);
    }
    before?.(c);
    await destroyContainer(store, record);
    if (record.status !== 'creating') {
      await runHooksWarn('poststop', record.spec.hooks?.poststop, ociState(record, 'stopped'), warn);
    }
  };
  return force ? forceDelete(store, id, remove) : withContainer(root, id, remove);
}

/**
 * How long `delete --force` waits for a lock held by a live command before it kills the
 * container under it. Commands hold the lock for milliseconds; a create holds it until its init
 * is ready (hooks included), and one whose helper stalled would hold it until its own bound.
 */
const FORCE_LOCK_WAIT_MS = 1000;

/**
 * `delete --force` always wins (issue 10): when the lock stays held, kill what the record and
 * its cgroup hold without it (killing is idempotent), and abort the holder if it is a request of
 * this very process. The holder's helper then fails, it cleans up and releases, and the delete
 * takes the lock (bounded as usual) and removes whatever is left. A container that vanished
 * meanwhile (its holder removed it) is deleted.
 */
async function forceDelete(store: Store, id: string, remove: (c: Opened) => Promise<void>): Promise<void> {
  const gone = (err: unknown) => {
    if ((err as BerthError).code !== 'ENOT_FOUND') throw err;
  };
  try {
    return await withContainer(store.root, id, remove, FORCE_LOCK_WAIT_MS);
  } catch (err) {
    if ((err as BerthError).code !== 'ELOCKED') return gone(err);
  }
  try {
    await killUnlocked(store.load(id));
  } catch (err) {
    return gone(err);
  }
  abortLockHolder(store.dir(id));
  await withContainer(store.root, id, remove).catch(gone);
  if (!store.exists(id)) store.remove(id); // a directory its create left before the first record
}

/** `pause`: freeze every process of a running container. */
export function pauseContainer(root: string, id: string): Promise<void> {
  return withContainer(root, id, async ({ cgroup, status }) => {
    if (status !== 'running') throw new BerthError('EBAD_STATE', `cannot pause container ${id}: it is ${status}, not running`);
    if (!cgroup) throw new BerthError('EBAD_STATE', `cannot pause container ${id}: it has no cgroup`);
    await cgroup.freeze();
  });
}

/** `resume`: thaw a paused container. */
export function resumeContainer(root: string, id: string): Promise<void> {
  return withContainer(root, id, async ({ cgroup, status }) => {
    if (status !== 'paused') throw new BerthError('EBAD_STATE', `cannot resume container ${id}: it is ${status}, not paused`);
    await cgroup!.thaw();
  });
}

/** `update`: apply new resource limits to a live container and remember them. */
export function updateContainer(root: string, id: string, resources: LinuxResources): Promise<void> {
  return withContainer(root, id, async ({ store, record, cgroup, status }) => {
    if (status === 'stopped') throw new BerthError('EBAD_STATE', `cannot update container ${id}: it has stopped`);
    if (!cgroup) throw new BerthError('EBAD_STATE', `cannot update container ${id}: it has no cgroup`);
    // New device rules replace the old ones; like at create, the spec's devices and the
    // always-allowed ones are added. On v2 the rules become a BPF program the helper attaches.
    const devices = resources.devices
      ? containerDeviceRules({ ...record.spec, linux: { ...record.spec.linux, resources: { devices: resources.devices } } })
      : undefined;
    await cgroup.update(devices ? { ...resources, devices } : resources);
    const program = devices && cgroup.mode === 'v2' ? cgroup.deviceFilter() : undefined;
    if (program && cgroup.paths['unified']) attachDeviceFilter(cgroup.paths['unified'], program);
    const linux = (record.spec.linux ??= {});
    linux.resources = mergeResources(linux.resources ?? {}, resources);
    store.save(record);
  });
}

function mergeResources(a: LinuxResources, b: LinuxResources): LinuxResources {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && prev && typeof prev === 'object' && !Array.isArray(prev)
      ? { ...prev, ...v } : v;
  }
  return out as LinuxResources;
}

/** The pids of every process in the container's cgroup. */
export function containerPids(root: string, id: string): Promise<number[]> {
  return withContainer(root, id, ({ cgroup }) => (cgroup?.exists() ? cgroup.pids() : []));
}

/** Every container under the root with its state, for `list`. */
export async function listContainers(root: string): Promise<ContainerStateDoc[]> {
  const out: ContainerStateDoc[] = [];
  for (const id of new Store(root).list()) {
    try {
      out.push(await containerState(root, id));
    } catch (err) {
      if ((err as BerthError).code !== 'ENOT_FOUND') throw err;
    }
  }
  return out;
}

export { waitGone };
