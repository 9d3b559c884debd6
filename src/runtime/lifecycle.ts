/**
 * The lifecycle commands that act on an existing container: start, state, kill, delete, pause,
 * resume, update, list, ps. Each takes the container's lock, reads its record, derives the
 * current status and either acts or fails with a state error that names the container and its
 * status (runc's sentinel errors, e.g. "cannot start a container that has stopped").
 */
import { constants, openSync, unlinkSync } from 'node:fs';
import { Socket } from 'node:net';
import type { LinuxResources, State } from '../oci/spec.js';
import { BerthError, errnoCode } from '../util/errors.js';
import { cgroupManagerFromState, type CgroupManager } from '../cgroups/index.js';
import { runHooksWarn } from './hooks.js';
import { lockDirAsync } from './lock.js';
import { isSameProcess } from './proc.js';
import { currentStatus, ociState, Store, type ContainerRecord } from './store.js';
import { destroyContainer, waitGone } from './destroy.js';
import { parseSignal } from './signals.js';
import { containerDeviceRules } from './devices.js';
import { attachDeviceFilter } from './helper-tools.js';

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
export async function openContainer(root: string, id: string): Promise<Opened> {
  const store = new Store(root);
  if (!store.exists(id)) throw new BerthError('ENOT_FOUND', `container ${id} does not exist`);
  const release = await lockDirAsync(store.dir(id));
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

async function withContainer<T>(root: string, id: string, fn: (c: Opened) => T | Promise<T>): Promise<T> {
  const c = await openContainer(root, id);
  try {
    return await fn(c);
  } finally {
    c.release();
  }
}

/** What `state` prints for a container. */
export type ContainerStateDoc = State & { rootfs: string; created: string; owner: string };

/** The state document runc prints: the OCI state plus rootfs, created and owner. */
export function containerState(root: string, id: string): Promise<ContainerStateDoc> {
  return withContainer(root, id, ({ record, status }) => ({
    ...ociState(record, status),
    pid: status === 'stopped' ? 0 : record.pid ?? 0,
    rootfs: record.rootfs,
    created: record.created,
    owner: record.owner,
  }));
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

/**
 * Open the exec fifo for reading, which lets the init's blocking open-for-write return, and
 * read the byte it writes. The open is non-blocking, and the fd is then watched by the event loop
 * (a pipe handle: epoll), so the byte is taken the moment it is written. A FIFO reports no hang-up
 * to a reader while no writer ever opened it, so an init that died before its open would not be
 * seen that way: a slow check of the process (every 20 ms) ends the wait then, as does EOF (the
 * init opened the fifo and died before writing).
 */
async function releaseFifo(path: string, record: ContainerRecord): Promise<void> {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const pipe = new Socket({ fd, readable: true, writable: false });
  try {
    await new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + 10_000;
      const done = (err?: Error) => {
        clearInterval(timer);
        pipe.off('data', onData);
        pipe.off('end', onEnd);
        pipe.off('error', onEnd);
        if (err) reject(err);
        else resolve();
      };
      const exited = () => new BerthError('EBAD_STATE', `cannot start container ${record.id}: its init process exited`);
      const onData = () => done();
      const onEnd = () => done(exited());
      const timer = setInterval(() => {
        if (record.pid === undefined || !isSameProcess(record.pid, record.pidStartTime)) done(exited());
        else if (Date.now() > deadline) done(new BerthError('EBAD_STATE', `container ${record.id} did not start within 10s`));
      }, 20);
      pipe.on('data', onData);
      pipe.on('end', onEnd);
      pipe.on('error', onEnd);
    });
  } finally {
    pipe.destroy(); // closes fd
  }
  unlinkSync(path);
}

/** `kill`: send a signal to the init, or with `all` to every process of the container. */
export function killContainer(root: string, id: string, signal: string, all: boolean): Promise<void> {
  const sig = parseSignal(signal);
  return withContainer(root, id, async ({ record, cgroup, status }) => {
    if (status === 'stopped' && !all) throw new BerthError('EBAD_STATE', `cannot kill container ${id}: it is not running`);
    if (all && cgroup?.exists()) {
      await cgroup.killAll(sig);
      return;
    }
    if (record.pid !== undefined) process.kill(record.pid, sig);
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
  return withContainer(root, id, async (c) => {
    const { record, status } = c;
    if (status !== 'stopped') {
      if (!force) throw new BerthError('EBAD_STATE', `cannot delete container ${id} that is not stopped: it is ${status}`);
    }
    before?.(c);
    await destroyContainer(store, record);
    if (record.status !== 'creating') {
      await runHooksWarn('poststop', record.spec.hooks?.poststop, ociState(record, 'stopped'), warn);
    }
  });
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
