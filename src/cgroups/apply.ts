/**
 * The validate-then-write walk shared by both managers: every wanted controller validates
 * first, so a bad or meaningless knob throws before anything is written.
 */
import type { LinuxResources } from '../oci/spec.js';
import type { ApplyContext, Controller } from './controllers/controller.js';
import { unsupported } from './controllers/controller.js';

/** One controller bound to the directory it acts on (undefined: not available on this host). */
export interface BoundController {
  ctrl: Controller;
  dir: string | undefined;
  /** Why dir is undefined, for the error. */
  missing?: string;
  /** What to do instead, for the error. */
  instead?: string;
}

/** The OCI field that a controller serves, for messages. */
const KNOB: Record<string, string> = {
  memory: 'memory', cpu: 'cpu', cpuset: 'cpu.cpus', pids: 'pids', blkio: 'blockIO', io: 'blockIO', hugetlb: 'hugepageLimits',
  devices: 'devices', net_cls: 'network.classID', net_prio: 'network.priorities', rdma: 'rdma',
};

/** Validates every wanted controller, then applies them in list order. */
export function validateAndApply(bound: BoundController[], r: LinuxResources, ctx: ApplyContext): void {
  const todo = bound.filter((b) => b.ctrl.wants(r));
  for (const b of todo) {
    if (b.dir === undefined) {
      const name = b.ctrl.name ?? 'unknown';
      throw unsupported(KNOB[name] ?? name, b.missing ?? `the ${name} controller is not available on this host`, b.instead);
    }
    b.ctrl.validate(b.dir, r, ctx);
  }
  for (const b of todo) b.ctrl.apply(b.dir!, r, ctx);
}

/** Signals pids, ignoring those that exited meanwhile (ESRCH). */
export function signalPids(pids: number[], signal: NodeJS.Signals | number): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }
}
