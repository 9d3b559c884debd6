/**
 * Validation of `linux.seccomp` against the names the seccomp compiler (src/seccomp/) knows.
 * Private to src/oci/. This checks the shape and the names; src/seccomp/ turns the result into
 * BPF and reports what it cannot compile (e.g. SCMP_ACT_NOTIFY) with EUNSUPPORTED.
 */
import { ACTIONS, FLAGS, OPERATORS } from '../seccomp/actions.js';
import { ARCHITECTURES, FOREIGN_ARCHITECTURES } from '../seccomp/arch.js';
import { invalidConfig } from '../util/errors.js';
import {
  absolute, bad, join, missing, oneOf, optInt, optObjArr, optStr, optStrArr, reqInt, reqStr,
  U64_MAX, type Obj,
} from './validate-util.js';

/** Every action name the OCI spec defines (the compiler rejects SCMP_ACT_NOTIFY as unsupported). */
export const SECCOMP_ACTION_NAMES: readonly string[] = [...new Set([...ACTIONS, 'SCMP_ACT_NOTIFY'])];

/** Every architecture name the OCI spec defines, whether or not Berth has a syscall table for it. */
export const SECCOMP_ARCH_NAMES: readonly string[] = [...new Set([...ARCHITECTURES, ...FOREIGN_ARCHITECTURES])];

/** Actions that carry data (the errno, or the message for the tracer) in errnoRet. */
const DATA_ACTIONS = ['SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE'];

/** Check `linux.seccomp`. */
export function checkSeccomp(seccomp: Obj): void {
  const P = 'linux.seccomp';
  const defaultAction = reqStr(seccomp, 'defaultAction', P);
  oneOf(defaultAction, join(P, 'defaultAction'), SECCOMP_ACTION_NAMES);
  checkErrnoRet(seccomp, 'defaultErrnoRet', P, defaultAction);
  (optStrArr(seccomp, 'architectures', P) ?? []).forEach((a, i) =>
    oneOf(a, join(join(P, 'architectures'), i), SECCOMP_ARCH_NAMES));
  (optStrArr(seccomp, 'flags', P) ?? []).forEach((f, i) => oneOf(f, join(join(P, 'flags'), i), FLAGS));
  const listener = optStr(seccomp, 'listenerPath', P);
  if (listener) absolute(listener, join(P, 'listenerPath'));
  optStr(seccomp, 'listenerMetadata', P);
  let notify = defaultAction === 'SCMP_ACT_NOTIFY';
  (optObjArr(seccomp, 'syscalls', P) ?? []).forEach((sc, i) => {
    const p = join(join(P, 'syscalls'), i);
    const names = optStrArr(sc, 'names', p);
    if (!names || names.length === 0) throw missing(join(p, 'names'), 'and must list at least one syscall');
    names.forEach((n, j) => {
      if (n === '') throw bad(join(join(p, 'names'), j), n, 'must be a syscall name');
    });
    const action = reqStr(sc, 'action', p);
    oneOf(action, join(p, 'action'), SECCOMP_ACTION_NAMES);
    if (action === 'SCMP_ACT_NOTIFY') notify = true;
    checkErrnoRet(sc, 'errnoRet', p, action);
    (optObjArr(sc, 'args', p) ?? []).forEach((a, j) => {
      const ap = join(join(p, 'args'), j);
      reqInt(a, 'index', ap, 0, 5);
      reqInt(a, 'value', ap, 0, U64_MAX);
      optInt(a, 'valueTwo', ap, 0, U64_MAX);
      oneOf(reqStr(a, 'op', ap), join(ap, 'op'), OPERATORS);
    });
  });
  if (notify && !listener) {
    throw missing(join(P, 'listenerPath'), 'when an action is SCMP_ACT_NOTIFY');
  }
}

/** errnoRet: an errno (0-65535 travels in the filter's 16 data bits), only for ERRNO and TRACE. */
function checkErrnoRet(o: Obj, key: string, parent: string, action: string): void {
  const v = optInt(o, key, parent, 0, 0xffff);
  if (v !== undefined && !DATA_ACTIONS.includes(action)) {
    throw invalidConfig(join(parent, key), `is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not ${action}`);
  }
}
