/**
 * Validation of config.json's `process` object. Private to src/oci/.
 */
import { invalidConfig } from '../util/errors.js';
import { isKnownCapability } from './capabilities.js';
import { RLIMIT_NAMES, rlimitNumber } from './rlimits.js';
import {
  absolute, asInt, asObj, bad, cpuList, get, join, missing, oneOf, optArr, optBool, optInt, optObj,
  optStr, optStrArr, reqInt, reqStr, I64_MAX, U32_MAX, U64_MAX, type Obj,
} from './validate-util.js';

const P = 'process';

/** The five capability sets of the OCI spec. */
export const CAPABILITY_SETS = ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const;

/** The I/O priority classes of ioprio_set(2). */
const IOPRIO_CLASSES = ['IOPRIO_CLASS_RT', 'IOPRIO_CLASS_BE', 'IOPRIO_CLASS_IDLE'];

/** Scheduling policies and flags of sched_setattr(2). */
const SCHED_POLICIES = ['SCHED_OTHER', 'SCHED_FIFO', 'SCHED_RR', 'SCHED_BATCH', 'SCHED_ISO', 'SCHED_IDLE', 'SCHED_DEADLINE'];
const SCHED_FLAGS = [
  'SCHED_FLAG_RESET_ON_FORK', 'SCHED_FLAG_RECLAIM', 'SCHED_FLAG_DL_OVERRUN', 'SCHED_FLAG_KEEP_POLICY',
  'SCHED_FLAG_KEEP_PARAMS', 'SCHED_FLAG_UTIL_CLAMP_MIN', 'SCHED_FLAG_UTIL_CLAMP_MAX',
];

/** Check `process`. */
export function checkProcess(proc: Obj): void {
  optBool(proc, 'terminal', P);
  const cs = optObj(proc, 'consoleSize', P);
  if (cs) {
    reqInt(cs, 'height', join(P, 'consoleSize'), 0, U32_MAX);
    reqInt(cs, 'width', join(P, 'consoleSize'), 0, U32_MAX);
  }
  checkUser(proc);
  const args = optStrArr(proc, 'args', P);
  if (args === undefined || args.length === 0) {
    if (get(proc, 'commandLine') === undefined) throw missing('process.args', 'and must have at least one entry');
  }
  optStr(proc, 'commandLine', P);
  (optStrArr(proc, 'env', P) ?? []).forEach((e, i) => {
    // execve takes any bytes, but a "NAME=value" without a name cannot be looked up; runc refuses it.
    if (e.indexOf('=') <= 0) throw bad(join(join(P, 'env'), i), e, 'must have the form NAME=value');
  });
  absolute(reqStr(proc, 'cwd', P), 'process.cwd');
  checkCapabilities(proc);
  checkRlimits(proc);
  optBool(proc, 'noNewPrivileges', P);
  optStr(proc, 'apparmorProfile', P);
  optStr(proc, 'selinuxLabel', P);
  optInt(proc, 'oomScoreAdj', P, -1000, 1000);
  const io = optObj(proc, 'ioPriority', P);
  if (io) {
    oneOf(reqStr(io, 'class', 'process.ioPriority'), 'process.ioPriority.class', IOPRIO_CLASSES);
    reqInt(io, 'priority', 'process.ioPriority', 0, 7);
  }
  checkScheduler(optObj(proc, 'scheduler', P));
  const aff = optObj(proc, 'execCPUAffinity', P);
  if (aff) {
    for (const k of ['initial', 'final']) {
      const v = optStr(aff, k, 'process.execCPUAffinity');
      if (v !== undefined) cpuList(v, join('process.execCPUAffinity', k));
    }
  }
}

/** `process.user`: uid and gid are required 32-bit ids. */
function checkUser(proc: Obj): void {
  const v = get(proc, 'user');
  if (v === undefined) throw missing('process.user');
  const user = asObj(v, 'process.user');
  reqInt(user, 'uid', 'process.user', 0, U32_MAX);
  reqInt(user, 'gid', 'process.user', 0, U32_MAX);
  optInt(user, 'umask', 'process.user', 0, 0o7777);
  (optArr(user, 'additionalGids', 'process.user') ?? []).forEach((g, i) =>
    asInt(g, join('process.user.additionalGids', i), 0, U32_MAX));
  optStr(user, 'username', 'process.user');
}

/** `process.capabilities`: each set is a list of known `CAP_*` names. */
function checkCapabilities(proc: Obj): void {
  const caps = optObj(proc, 'capabilities', P);
  if (!caps) return;
  for (const set of CAPABILITY_SETS) {
    const p = join('process.capabilities', set);
    (optStrArr(caps, set, 'process.capabilities') ?? []).forEach((name, i) => {
      if (!isKnownCapability(name)) throw bad(join(p, i), name, 'is not a known capability');
    });
  }
}

/** `process.rlimits`: known RLIMIT_* types, each once, soft not above hard. */
function checkRlimits(proc: Obj): void {
  const seen = new Map<string, number>();
  const list = optArr(proc, 'rlimits', P) ?? [];
  list.forEach((e, i) => {
    const p = join('process.rlimits', i);
    const r = asObj(e, p);
    const type = reqStr(r, 'type', p);
    if (rlimitNumber(type) === undefined) throw bad(join(p, 'type'), type, `is not one of ${RLIMIT_NAMES.join(', ')}`);
    const prev = seen.get(type);
    if (prev !== undefined) throw bad(join(p, 'type'), type, `is a duplicate of process.rlimits[${prev}]`);
    seen.set(type, i);
    const hard = reqInt(r, 'hard', p, 0, U64_MAX);
    const soft = reqInt(r, 'soft', p, 0, U64_MAX);
    if (soft > hard) throw bad(join(p, 'soft'), soft, `must not be greater than hard ${hard}`);
  });
}

/** `process.scheduler`, with runc's rules on which fields go with which policy. */
function checkScheduler(s: Obj | undefined): void {
  if (!s) return;
  const p = 'process.scheduler';
  const policy = oneOf(reqStr(s, 'policy', p), join(p, 'policy'), SCHED_POLICIES);
  optInt(s, 'nice', p, -20, 19);
  const prio = optInt(s, 'priority', p, 0, 99);
  (optStrArr(s, 'flags', p) ?? []).forEach((f, i) => oneOf(f, join(join(p, 'flags'), i), SCHED_FLAGS));
  const rt = ['runtime', 'deadline', 'period'].filter((k) => optInt(s, k, p, 0, I64_MAX) !== undefined && s[k] !== 0);
  if (prio && policy !== 'SCHED_FIFO' && policy !== 'SCHED_RR') {
    throw invalidConfig(join(p, 'priority'), `is only valid with SCHED_FIFO or SCHED_RR, not ${policy}`);
  }
  if (rt.length > 0 && policy !== 'SCHED_DEADLINE') {
    throw invalidConfig(join(p, rt[0] as string), `is only valid with SCHED_DEADLINE, not ${policy}`);
  }
}
