/**
 * `exec`: start another process in a running container. The helper joins every namespace of
 * the container's init (user first, mount last), forks so the new process is inside the pid
 * namespace too, and the runtime puts it in the container's cgroup before it goes on.
 */
import type { Process, Spec } from '../oci/spec.js';
import { BerthError } from '../util/errors.js';
import { HelperSession, type HelperOptions } from './helper.js';
import { openContainer } from './lifecycle.js';
import { JOIN_ORDER, NAMESPACES } from './namespaces.js';
import { processOps, type Op } from './plan.js';
import { writeAtomic } from './create.js';
import { resolve } from 'node:path';

export interface ExecOptions {
  process: Process;
  detach?: boolean;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds?: number;
  stdio?: HelperOptions['stdio'];
}

/**
 * Start the process. Returns the exit code in the foreground, or 0 once it runs when detached.
 */
export async function execInContainer(root: string, id: string, opts: ExecOptions): Promise<number> {
  const c = openContainer(root, id);
  let session: HelperSession;
  try {
    if (c.status !== 'running' && c.status !== 'created') {
      throw new BerthError('EBAD_STATE', `cannot exec in container ${id}: it is ${c.status}`);
    }
    const pid = c.record.pid!;
    const spec: Spec = { ...c.record.spec, process: opts.process, hooks: {} };
    const ops: Op[] = [];
    // The console socket is a path in the caller's mount namespace: connect before setns(mnt)
    // makes the container's file system the one paths resolve in.
    if (opts.process.terminal) {
      if (!opts.consoleSocket) throw new BerthError('EINVALID_ARG', 'exec with a terminal needs --console-socket');
      ops.push(['console-socket', opts.consoleSocket]);
    }
    for (const type of JOIN_ORDER) {
      if (spec.linux?.namespaces?.some((n) => n.type === type)) {
        ops.push(['setns', NAMESPACES[type].setns, `/proc/${pid}/ns/${NAMESPACES[type].procFile}`]);
      }
    }
    if (!opts.detach) ops.push(['monitor']);
    ops.push(['clone', '0']);
    if (opts.process.terminal) {
      const size = opts.process.consoleSize;
      ops.push(['setsid'], ['console', String(size?.height ?? 0), String(size?.width ?? 0)]);
    }
    ops.push(...processOps(spec, {}));
    session = new HelperSession({ stdio: opts.stdio ?? ['inherit', 'inherit', 'inherit'], preserveFds: opts.preserveFds });
    session.sendPlan(ops);
    const [pidText] = await session.expect('pid');
    const child = Number(pidText);
    try {
      if (c.cgroup?.exists()) c.cgroup.addProcess(child);
      session.send(['go', '{}']);
      await session.expect('ready');
    } catch (err) {
      try { process.kill(child, 'SIGKILL'); } catch { /* already gone */ }
      throw err;
    }
    if (opts.pidFile) writeAtomic(resolve(opts.pidFile), String(child));
  } finally {
    c.release();
  }
  if (opts.detach) {
    session.detach();
    return 0;
  }
  return session.exitCode();
}
