/**
 * `create`: from a bundle to a container whose init is blocked on the exec fifo, following the
 * OCI lifecycle (creating → created). Every resource is recorded in the state directory before
 * it is made, and any failure removes all of it again: the cgroup, the process, the state.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Spec } from '../oci/spec.js';
import { parseConfig } from '../oci/validate.js';
import { BerthError, errnoCode } from '../util/errors.js';
import { cgroupManager, detectCgroupHost, helperCgroupMoves, oomDuringCreate, resolveCgroupPath, type CgroupManager, type SavedCgroup } from '../cgroups/index.js';
import { parseProcCgroup, readLiveProcCgroup } from '../cgroups/host.js';
import type { CgroupHost } from '../cgroups/types.js';
import { spawnHelper, type HelperLauncher, type HelperOptions, type HelperSession } from '../native/helper-session.js';
import { readyWaitMs, runHooks, runHooksWarn } from './hooks.js';
import { writeFileAtomicSync } from '../util/atomic.js';
import { lockDirAsync, onLockAbort } from '../util/lock.js';
import { buildCreatePlan, type Op } from './plan.js';
import { pidStartTime } from '../util/proc.js';
import { ociState, Store, type ContainerRecord } from './store.js';
import { cgroupMountContext } from './cgroup-context.js';
import { destroyContainer } from './destroy.js';
import { releaseFifo } from './exec-fifo.js';
import { containerDeviceRules } from './devices.js';

export interface CreateOptions {
  bundle?: string;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds?: number;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  /** The container's stdio (default: the runtime's own). */
  stdio?: HelperOptions['stdio'];
  /** Keep the helper as the container's parent and monitor (`run` in the foreground). */
  monitor?: boolean;
  /** Where warnings go (a failing poststart or poststop hook): the caller's stderr (default: nowhere). */
  warn?: (msg: string) => void;
  /**
   * Extra parent ops placed first in the plan, before any `setns` (their paths are host paths):
   * the detached monitor's `daemon`, `log-file`, `exit-file`, `exit-exec` (native/PROTOCOL.md).
   */
  parentOps?: Op[];
  /** How to get the helper (default: spawn it; the runtime server's client becomes it instead). */
  launch?: HelperLauncher;
  /**
   * Create and start in one step, as `run` does: the plan has no exec fifo, so the init goes on
   * to exec its process as soon as it is set up, and the container is running (its poststart
   * hooks run) when this returns. Saves the fifo, a lock, and a state write and read. With
   * poststart hooks the fifo stays, released at once: the spec runs them only after the user's
   * process was executed, and the fifo's last reader going away is how we learn that it was
   * (`ready` comes before the startContainer hooks and the execve).
   */
  start?: boolean;
  /** The bundle's config.json, already read and validated by the caller (the engine made it). */
  spec?: Spec;
  /**
   * Whose cgroup a relative cgroupsPath is below: this pid's (the runtime server passes its
   * client's, i.e. the caller's), default this process's own.
   */
  cgroupOf?: number;
}

export interface Created {
  record: ContainerRecord;
  session: HelperSession;
  cgroup: CgroupManager;
}

/** Read and validate `<bundle>/config.json`. */
export function loadBundleSpec(bundle: string): Spec {
  const file = join(bundle, 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw new BerthError('EINVALID_CONFIG', `${file} does not exist: is ${bundle} a bundle?`);
    throw new BerthError('EINVALID_CONFIG', `cannot read ${file}: ${(err as Error).message}`);
  }
  const spec = parseConfig(text, bundle);
  if (spec.process?.apparmorProfile) {
    throw new BerthError('EUNSUPPORTED', `config.json: process.apparmorProfile ${JSON.stringify(spec.process.apparmorProfile)} cannot be applied: apparmor is not enabled on this host`);
  }
  if (spec.process?.selinuxLabel) {
    throw new BerthError('EUNSUPPORTED', `config.json: process.selinuxLabel ${JSON.stringify(spec.process.selinuxLabel)} cannot be applied: selinux is not enabled on this host`);
  }
  return spec;
}

/** Create a container. The caller owns `session` (detach it, or wait on it in monitor mode). */
export async function createContainer(root: string, id: string, opts: CreateOptions): Promise<Created> {
  const store = new Store(root);
  const bundle = resolve(opts.bundle ?? '.');
  const spec = opts.spec ?? loadBundleSpec(bundle);
  // Where the cgroup will be is known before anything exists, so the first record has it.
  const host = cgroupHostOf(await detectCgroupHost(), opts.cgroupOf);
  const cgroup = cgroupManager(host, resolveCgroupPath(host, spec.linux?.cgroupsPath, id));
  const dir = store.reserve(id);
  const release = await lockDirAsync(dir);
  const record: ContainerRecord = {
    id, bundle, rootfs: spec.root?.path ?? '', created: new Date().toISOString(), owner: '', status: 'creating', spec,
    ...(opts.noNewKeyring ? { noNewKeyring: true } : {}), cgroup: cgroup.save(),
  };
  let session: HelperSession | undefined;
  let forced: BerthError | undefined;
  // delete --force of this container from another request of this process (lifecycle.ts)
  const unregister = onLockAbort(dir, () => {
    forced = new BerthError('EBAD_STATE', `container ${id} was removed by delete --force while it was being created`);
    session?.abort(forced);
  });
  const warn = opts.warn ?? (() => {});
  try {
    store.save(record);
    cgroup.create();
    cgroup.apply({ ...spec.linux?.resources, devices: containerDeviceRules(spec) });
    const fifo = opts.start && !spec.hooks?.poststart?.length ? undefined : store.fifoPath(id);
    // cgroup v2: the device filter is attached and the child cloned straight into its cgroup
    // (CLONE_INTO_CGROUP: no migration afterwards) by the helper, before the container runs.
    const unified = cgroup.paths['unified'];
    const program = cgroup.deviceFilter();
    const moves = helperCgroupMoves(host, cgroup);
    const ops = buildCreatePlan(spec, {
      bundle, fifo, monitor: opts.monitor === true, noPivot: opts.noPivot,
      consoleSocket: opts.consoleSocket, cgroup: cgroupMountContext(host, cgroup, spec),
      devices: program && unified ? { dir: unified, program } : undefined, cgroupDir: unified,
      cgroupMoves: moves,
      keyring: opts.noNewKeyring ? undefined : id,
    });
    if (opts.parentOps) ops.unshift(...opts.parentOps);
    session = (opts.launch ?? spawnHelper)({ stdio: opts.stdio ?? ['inherit', 'inherit', 'inherit'], preserveFds: opts.preserveFds });
    session.sendPlan(ops);
    if (forced) session.abort(forced);
    const [pidText, bornInCgroup] = await session.expect('pid');
    const pid = Number(pidText);
    record.pid = pid;
    record.pidStartTime = pidStartTime(pid);
    // "1": born in every cgroup (v2: CLONE_INTO_CGROUP; v1 and hybrid: the helper sat in the v1
    // dirs during the clone, see cgroups/placement.ts), so no cgroup.procs write and no RCU wait.
    // The v1 memory cgroup is joined by the child itself (`cgroup-self`), except in a new user
    // namespace, where it may not write the host's cgroup files.
    const newUserns = spec.linux?.namespaces?.some((n) => n.type === 'user' && !n.path) === true;
    if (bornInCgroup !== '1' || (moves?.memory && newUserns)) {
      // A process not (yet) in the container's cgroup is found only by its pid: on record first.
      store.save(record);
      cgroup.addProcess(pid);
    }
    // Otherwise the record already names the cgroup it was born in, where a delete after a crash
    // finds and kills it (destroy.ts); the pid is written with the next state.

    writeIdMaps(pid, spec);
    if (spec.process?.oomScoreAdj !== undefined) {
      writeFileSync(`/proc/${pid}/oom_score_adj`, String(spec.process.oomScoreAdj));
    }
    const state = ociState(record, 'creating');
    await runHooks('prestart', spec.hooks?.prestart, state);
    await runHooks('createRuntime', spec.hooks?.createRuntime, state);
    session.send(['go', JSON.stringify(state)]);
    await session.expect('ready', readyWaitMs(spec.hooks?.createContainer));
    if (opts.start && fifo) await releaseFifo(fifo, record);
    record.status = opts.start ? 'running' : 'created';
    store.save(record);
    // Whole or not at all: shims poll pid files.
    if (opts.pidFile) writeFileAtomicSync(resolve(opts.pidFile), String(pid), 0o666, { durable: false });
    if (opts.start) await runHooksWarn('poststart', spec.hooks?.poststart, ociState(record, 'running'), warn);
    return { record, session, cgroup };
  } catch (err) {
    session?.kill();
    // read before destroy removes the cgroup and its OOM counter
    const oom = oomDuringCreate(record.cgroup as SavedCgroup | undefined, spec.linux?.resources?.memory?.limit);
    await destroyContainer(store, record);
    // The spec's lifecycle: a failed create (a prestart, createRuntime or createContainer hook
    // included) stops the container and "continues the lifecycle at delete", whose last step
    // is the poststop hooks; their failures are only warnings.
    await runHooksWarn('poststop', spec.hooks?.poststop, ociState(record, 'stopped'), warn);
    throw oom ?? err;
  } finally {
    unregister();
    release();
  }
}

/** Write uid_map and gid_map of a new user namespace (as root no setgroups deny is needed). */
function writeIdMaps(pid: number, spec: Spec): void {
  const userns = spec.linux?.namespaces?.find((n) => n.type === 'user');
  if (!userns || userns.path) return;
  const fmt = (maps: { containerID: number; hostID: number; size: number }[] | undefined) =>
    (maps ?? []).map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
  const uid = fmt(spec.linux?.uidMappings);
  const gid = fmt(spec.linux?.gidMappings);
  try {
    if (uid) writeFileSync(`/proc/${pid}/uid_map`, uid);
    if (gid) writeFileSync(`/proc/${pid}/gid_map`, gid);
  } catch (err) {
    throw new BerthError('EINVALID_CONFIG', `config.json: linux.uidMappings/gidMappings could not be written for pid ${pid}: ${(err as Error).message}`);
  }
}

/**
 * The cgroup host as seen by process `pid`: the detected layout (cached per process) with the
 * `self` part read from /proc/<pid>/cgroup, for a runtime that acts for another process.
 */
export function cgroupHostOf(host: CgroupHost, pid: number | undefined): CgroupHost {
  if (pid === undefined || pid === process.pid) return host;
  let text: string;
  try {
    text = readLiveProcCgroup(pid);
  } catch (err) {
    throw new BerthError('EINVALID_ARG', `cannot read the cgroup of the calling process ${pid}: ${(err as Error).message}`);
  }
  const { self, selfUnified } = parseProcCgroup(text);
  const out: CgroupHost = { ...host, self };
  if (selfUnified !== undefined) out.selfUnified = selfUnified;
  else delete out.selfUnified;
  return out;
}
