/**
 * Plan ops for the process attributes that are one system call each in the helper
 * (native/attrs.c): linux.personality, process.ioPriority, process.scheduler,
 * process.execCPUAffinity and the session keyring. The names and numbers of the kernel's
 * constants live here, in the tables the ops are built from (and `features` reads).
 */
import type { Process, Spec } from '../oci/spec.js';
import { BerthError } from '../util/errors.js';
import type { Op } from '../native/ops.js';

/** Execution domains of linux.personality.domain (linux/personality.h). */
export const PERSONALITY_DOMAINS: Record<string, number> = { LINUX: 0x0000, LINUX32: 0x0008 };

/** Personality flags (linux/personality.h); the spec defines none, these are the kernel's. */
export const PERSONALITY_FLAGS: Record<string, number> = {
  UNAME26: 0x0020000, ADDR_NO_RANDOMIZE: 0x0040000, FDPIC_FUNCPTRS: 0x0080000, MMAP_PAGE_ZERO: 0x0100000,
  ADDR_COMPAT_LAYOUT: 0x0200000, READ_IMPLIES_EXEC: 0x0400000, ADDR_LIMIT_32BIT: 0x0800000,
  SHORT_INODE: 0x1000000, WHOLE_SECONDS: 0x2000000, STICKY_TIMEOUTS: 0x4000000, ADDR_LIMIT_3GB: 0x8000000,
};

/** ioprio_set(2) classes. */
export const IOPRIO_CLASSES: Record<string, number> = { IOPRIO_CLASS_RT: 1, IOPRIO_CLASS_BE: 2, IOPRIO_CLASS_IDLE: 3 };

/** sched_setattr(2) policies (SCHED_ISO is reserved by the kernel and refused by it with EINVAL). */
export const SCHED_POLICIES: Record<string, number> = {
  SCHED_OTHER: 0, SCHED_FIFO: 1, SCHED_RR: 2, SCHED_BATCH: 3, SCHED_ISO: 4, SCHED_IDLE: 5, SCHED_DEADLINE: 6,
};

/** sched_setattr(2) flags. */
export const SCHED_FLAGS: Record<string, number> = {
  SCHED_FLAG_RESET_ON_FORK: 0x01, SCHED_FLAG_RECLAIM: 0x02, SCHED_FLAG_DL_OVERRUN: 0x04,
  SCHED_FLAG_KEEP_POLICY: 0x08, SCHED_FLAG_KEEP_PARAMS: 0x10, SCHED_FLAG_UTIL_CLAMP_MIN: 0x20,
  SCHED_FLAG_UTIL_CLAMP_MAX: 0x40,
};

function lookup(table: Record<string, number>, name: string, field: string): number {
  const v = table[name];
  if (v === undefined) {
    throw new BerthError('EINVALID_CONFIG', `config.json: ${field} ${JSON.stringify(name)} is not one of ${Object.keys(table).join(', ')}`);
  }
  return v;
}

/** `personality` op for linux.personality, or none. */
export function personalityOps(spec: Spec): Op[] {
  const p = spec.linux?.personality;
  if (!p) return [];
  let persona = lookup(PERSONALITY_DOMAINS, p.domain, 'linux.personality.domain');
  (p.flags ?? []).forEach((f, i) => { persona |= lookup(PERSONALITY_FLAGS, f, `linux.personality.flags[${i}]`); });
  return [{ op: 'personality', persona: persona >>> 0 }];
}

/** `ioprio` and `sched` ops for process.ioPriority and process.scheduler (before the user switch). */
export function priorityOps(proc: Process): Op[] {
  const ops: Op[] = [];
  if (proc.ioPriority) {
    ops.push({ op: 'ioprio', class: lookup(IOPRIO_CLASSES, proc.ioPriority.class, 'process.ioPriority.class'), level: proc.ioPriority.priority });
  }
  const s = proc.scheduler as {
    policy: string; nice?: number; priority?: number; flags?: string[]; runtime?: number; deadline?: number; period?: number;
  } | undefined;
  if (s) {
    let flags = 0;
    (s.flags ?? []).forEach((f, i) => { flags |= lookup(SCHED_FLAGS, f, `process.scheduler.flags[${i}]`); });
    ops.push({ op: 'sched', policy: lookup(SCHED_POLICIES, s.policy, 'process.scheduler.policy'), flags,
      nice: s.nice ?? 0, priority: s.priority ?? 0, runtime: s.runtime ?? 0, deadline: s.deadline ?? 0, period: s.period ?? 0 });
  }
  return ops;
}

/**
 * A CPU list ("0-3,7") as the comma-separated numbers the `affinity` op takes.
 * @example cpuListNumbers('0-2,5', 'process.execCPUAffinity.final')  // '0,1,2,5'
 */
export function cpuListNumbers(text: string, field: string): string {
  const out: number[] = [];
  for (const part of text.split(',').map((s) => s.trim())) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    const lo = m ? Number(m[1]) : NaN;
    const hi = m?.[2] !== undefined ? Number(m[2]) : lo;
    if (!m || hi < lo || hi >= 1024) {
      throw new BerthError('EINVALID_CONFIG', `${field} ${JSON.stringify(text)} is not a cpu list like 0-3,7 (cpus below 1024)`);
    }
    for (let c = lo; c <= hi; c++) out.push(c);
  }
  return out.join(',');
}

/**
 * process.execCPUAffinity of an exec: `initial` is a parent op (the helper's affinity before the
 * clone, inherited by the child), `final` a child op run after the runtime placed the child in
 * the container's cgroup. An empty or missing value leaves the affinity to the kernel.
 */
export function execAffinityOps(proc: Process): { parent: Op[]; child: Op[] } {
  const a = proc.execCPUAffinity;
  const parent: Op[] = a?.initial ? [{ op: 'affinity', cpus: cpuListNumbers(a.initial, 'process.execCPUAffinity.initial') }] : [];
  const child: Op[] = a?.final ? [{ op: 'affinity', cpus: cpuListNumbers(a.final, 'process.execCPUAffinity.final') }] : [];
  return { parent, child };
}

/** The `keyring` op: a new session keyring named after the container, unless --no-new-keyring. */
export function keyringOps(id: string | undefined): Op[] {
  return id ? [{ op: 'keyring', name: id }] : [];
}
