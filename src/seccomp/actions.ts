/**
 * OCI seccomp action and flag names and their kernel encodings (linux/seccomp.h).
 *
 * A filter returns a 32-bit value: the action in the high 16 bits (SECCOMP_RET_ACTION_FULL) and,
 * for ERRNO and TRACE, 16 bits of data — the errno the syscall fails with, or the message a
 * ptrace tracer reads with PTRACE_GETEVENTMSG.
 */
import { BerthError, invalidConfig } from '../util/errors.js';

export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_KILL_THREAD = 0x00000000;
export const SECCOMP_RET_TRAP = 0x00030000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_USER_NOTIF = 0x7fc00000;
export const SECCOMP_RET_TRACE = 0x7ff00000;
export const SECCOMP_RET_LOG = 0x7ffc0000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;

/** EPERM: the errno of SCMP_ACT_ERRNO and the trace message of SCMP_ACT_TRACE when none is given (as runc). */
const EPERM = 1;

const BASE: Record<string, number> = {
  // SCMP_ACT_KILL is libseccomp's historic name for killing only the calling thread.
  SCMP_ACT_KILL: SECCOMP_RET_KILL_THREAD,
  SCMP_ACT_KILL_THREAD: SECCOMP_RET_KILL_THREAD,
  SCMP_ACT_KILL_PROCESS: SECCOMP_RET_KILL_PROCESS,
  SCMP_ACT_TRAP: SECCOMP_RET_TRAP,
  SCMP_ACT_ERRNO: SECCOMP_RET_ERRNO,
  SCMP_ACT_TRACE: SECCOMP_RET_TRACE,
  SCMP_ACT_ALLOW: SECCOMP_RET_ALLOW,
  SCMP_ACT_LOG: SECCOMP_RET_LOG,
  SCMP_ACT_NOTIFY: SECCOMP_RET_USER_NOTIF,
};

/** Action names the compiler accepts (for `features`). SCMP_ACT_NOTIFY is listed by OCI but rejected. */
export const ACTIONS: readonly string[] = Object.keys(BASE).filter((a) => a !== 'SCMP_ACT_NOTIFY');

/** Comparison operator names the compiler accepts (for `features`). */
export const OPERATORS: readonly string[] = [
  'SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ',
];

/** seccomp(2) SECCOMP_SET_MODE_FILTER flags. */
export const SECCOMP_FILTER_FLAG_TSYNC = 1;
export const SECCOMP_FILTER_FLAG_LOG = 2;
export const SECCOMP_FILTER_FLAG_SPEC_ALLOW = 4;
export const SECCOMP_FILTER_FLAG_NEW_LISTENER = 8;
export const SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV = 32;

const FLAG_BITS: Record<string, number> = {
  SECCOMP_FILTER_FLAG_TSYNC,
  SECCOMP_FILTER_FLAG_LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_NEW_LISTENER,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
};

/** Filter flag names the compiler knows (for `features`). */
export const FLAGS: readonly string[] = Object.keys(FLAG_BITS);

/**
 * The filter return value for an OCI action. `errnoRet` is only meaningful for ERRNO and TRACE
 * (default EPERM, as runc); giving it with another action is a config error, as in runc.
 * @example encodeAction('SCMP_ACT_ERRNO', 38, 'syscalls[2]') === 0x00050026
 */
export function encodeAction(action: string, errnoRet: number | undefined, field: string): number {
  const base = BASE[action];
  if (base === undefined) {
    throw invalidConfig(`${field}.action`, `is ${JSON.stringify(action)}; valid: ${ACTIONS.join(', ')}`);
  }
  if (action === 'SCMP_ACT_NOTIFY') {
    throw new BerthError('EUNSUPPORTED',
      `seccomp: ${field}.action SCMP_ACT_NOTIFY is not supported yet (no seccomp agent support); use SCMP_ACT_ERRNO or SCMP_ACT_TRACE`);
  }
  const takesData = base === SECCOMP_RET_ERRNO || base === SECCOMP_RET_TRACE;
  if (errnoRet !== undefined && errnoRet !== null) {
    if (!takesData) throw invalidConfig(`${field}.errnoRet`, `is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not ${action}`);
    if (!Number.isInteger(errnoRet) || errnoRet < 0 || errnoRet > 0xffff) {
      throw invalidConfig(`${field}.errnoRet`, `is ${errnoRet}; must be an integer from 0 to 65535`);
    }
  }
  return takesData ? (base | (errnoRet ?? EPERM)) >>> 0 : base;
}

/**
 * The seccomp() flags word for the OCI `flags` list. NEW_LISTENER and WAIT_KILLABLE_RECV only
 * make sense with a notify listener, which Berth does not support yet, so they are rejected.
 */
export function encodeFlags(flags: readonly string[] | undefined): number {
  let bits = 0;
  for (const [i, name] of (flags ?? []).entries()) {
    const bit = FLAG_BITS[name];
    if (bit === undefined) {
      throw invalidConfig(`linux.seccomp.flags[${i}]`, `is ${JSON.stringify(name)}; valid: ${FLAGS.join(', ')}`);
    }
    if (bit === SECCOMP_FILTER_FLAG_NEW_LISTENER || bit === SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) {
      throw new BerthError('EUNSUPPORTED',
        `seccomp: flag ${name} needs a notify listener (SCMP_ACT_NOTIFY), which berth does not support yet; remove it`);
    }
    bits |= bit;
  }
  return bits;
}
