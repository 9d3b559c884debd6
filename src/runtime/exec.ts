/**
 * `exec`: start another process in a running container. The helper joins every namespace of
 * the container's init (user first, mount last), forks so the new process is inside the pid
 * namespace too, and the runtime puts it in the container's cgroup before it goes on.
 */
import type { Process, Spec } from '../oci/spec.js';
import { BerthError } from '../util/errors.js';
import { spawnHelper, type HelperLauncher, type HelperOptions, type HelperSession } from '../native/helper-session.js';
import { openContainer } from './lifecycle.js';
import { onLockAbort } from '../util/lock.js';
import { JOIN_ORDER, NAMESPACES } from './namespaces.js';
import { processOps, type Op } from './plan.js';
import { writeFileAtomicSync } from '../util/atomic.js';
import { resolve } from 'node:path';
import { addToCgroupDirs, execCgroupDirs } from './exec-cgroup.js';
import { execAffinityOps } from './process-attrs.js';

export interface ExecOptions {
  process: Process;
  detach?: boolean;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds?: number;
  stdio?: HelperOptions['stdio'];
  /** How to get the helper (default: spawn it; see HelperLauncher). */
  launch?: HelperLauncher;
  /** runc's `exec --cgroup`: `PATH` or `CONTROLLER[,…]:PATH` sub-cgroups of the container's (exec-cgroup.ts). */
  cgroups?: string[];
  /**
   * With a terminal in the foreground: the file the monitor reads "<rows> <cols>" from on
   * SIGWINCH, instead of its own terminal's size (the Engine API's exec resize).
   */
  winsizeFile?: string;
}

/**
 * Start the process. Returns the exit code in the foreground, or 0 once it runs when detached.
 */
export async function execInContainer(root: string, id: string, opts: ExecOptions): Promise<number> {
  const c = await openContainer(root, id);
  let session: HelperSession | undefined;
  let forced: BerthError | undefined;
  // delete --force of this container from another request of this process (lifecycle.ts)
  const unregister = onLockAbort(c.store.dir(id), () => {
    forced = new BerthError('EBAD_STATE', `cannot exec in container ${id}: it was removed by delete --force`);
    session?.abort(forced);
  });
  try {
    if (c.status !== 'running' && c.status !== 'created') {
      throw new BerthError('EBAD_STATE', `cannot exec in container ${id}: it is ${c.status}`);
    }
    const pid = c.record.pid!;
    const spec: Spec = { ...c.record.spec, process: opts.process, hooks: {} };
    const ops: Op[] = [];
    // cgroup v2 (or hybrid's unified twin): the process is cloned straight into its cgroup
    // (CLONE_INTO_CGROUP), opened before any setns while the path is the host's.
    const dirs = c.cgroup?.exists() ? execCgroupDirs(c.cgroup, opts.cgroups ?? []) : undefined;
    if (dirs?.['unified']) ops.push({ op: 'cgroup-fd', dir: dirs['unified'] });
    const affinity = execAffinityOps(opts.process);
    ops.push(...affinity.parent);
    // The console socket is a path in the caller's mount namespace: connect before setns(mnt)
    // makes the container's file system the one paths resolve in.
    if (opts.process.terminal) {
      // In the foreground without a console socket the monitor proxies the pty (native/tty.c).
      if (opts.consoleSocket) ops.push({ op: 'console-socket', path: opts.consoleSocket });
      else if (!opts.detach) {
        ops.push({ op: 'console-local' });
        if (opts.winsizeFile) ops.push({ op: 'winsize-file', path: opts.winsizeFile });
      }
      else throw new BerthError('EINVALID_ARG', 'exec --tty --detach needs --console-socket');
    }
    for (const type of JOIN_ORDER) {
      if (spec.linux?.namespaces?.some((n) => n.type === type)) {
        ops.push({ op: 'setns', type: NAMESPACES[type].setns, path: `/proc/${pid}/ns/${NAMESPACES[type].procFile}` });
      }
    }
    if (!opts.detach) ops.push({ op: 'monitor' });
    ops.push({ op: 'clone', flags: 0 });
    ops.push(...affinity.child);
    if (opts.process.terminal) {
      const size = opts.process.consoleSize;
      ops.push({ op: 'setsid' }, { op: 'console', rows: size?.height ?? 0, cols: size?.width ?? 0 });
    }
    ops.push(...processOps(spec, { keyring: c.record.noNewKeyring ? undefined : id }));
    session = (opts.launch ?? spawnHelper)({ stdio: opts.stdio ?? ['inherit', 'inherit', 'inherit'], preserveFds: opts.preserveFds });
    session.sendPlan(ops);
    if (forced) session.abort(forced);
    const [pidText, bornIn] = await session.expect('pid');
    const child = Number(pidText);
    try {
      // Born in its cgroup on v2, the process needs no move; on hybrid the v1 hierarchies do.
      const born = bornIn === '1';
      if (c.cgroup && dirs) {
        if (opts.cgroups?.length) addToCgroupDirs(child, dirs, born ? 'unified' : undefined);
        else if (!born || c.cgroup.mode !== 'v2') c.cgroup.addProcess(child);
      }
      session.send(['go', '{}']);
      await session.expect('ready');
    } catch (err) {
      try { process.kill(child, 'SIGKILL'); } catch { /* already gone */ }
      throw err;
    }
    if (opts.pidFile) writeFileAtomicSync(resolve(opts.pidFile), String(child), 0o666, { durable: false });
  } finally {
    unregister();
    c.release();
  }
  if (opts.detach) {
    session.detach();
    return 0;
  }
  return session.exitCode();
}
