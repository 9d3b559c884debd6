/**
 * Time namespaces (Linux 5.6): a container can see CLOCK_MONOTONIC and CLOCK_BOOTTIME shifted by
 * linux.timeOffsets (e.g. an uptime that starts at 0 after a checkpoint/restore).
 *
 * CLONE_NEWTIME (0x80) cannot be given to clone(): it lies inside CSIGNAL, the byte that carries
 * the exit signal. And the offsets can be written only before a process has entered the
 * namespace. So the helper's parent unshares a time namespace for its children, writes the
 * offsets, and then clones (the `timens` op); the clone flags must not contain CLONE_NEWTIME.
 */
import type { Linux } from '../oci/spec.js';
import type { OpOf } from '../native/ops.js';
import { BerthError } from '../util/errors.js';

/** The clocks a time namespace can offset, as named in /proc/<pid>/timens_offsets. */
const CLOCKS = ['monotonic', 'boottime'] as const;

/**
 * The `timens` op for a new time namespace (with the /proc/self/timens_offsets text, one
 * "<clock> <secs> <nanosecs>" line per clock), or undefined when the spec makes none. Offsets
 * with a joined time namespace are refused: that namespace's offsets were fixed by its first
 * process.
 */
export function timeNamespaceOp(linux: Linux): OpOf<'timens'> | undefined {
  const ns = (linux.namespaces ?? []).find((n) => n.type === 'time');
  const offsets = Object.entries(linux.timeOffsets ?? {});
  if (ns?.path && offsets.length) {
    throw new BerthError('EINVALID_CONFIG', `config.json: linux.timeOffsets cannot be applied to the time namespace joined from ${ns.path}; remove its path or the offsets`);
  }
  if (!ns || ns.path) return undefined;
  let text = '';
  for (const [clock, o] of offsets) {
    if (!(CLOCKS as readonly string[]).includes(clock)) {
      throw new BerthError('EINVALID_CONFIG', `config.json: linux.timeOffsets clock ${JSON.stringify(clock)} is not one of ${CLOCKS.join(', ')}`);
    }
    text += `${clock} ${Math.trunc(o.secs ?? 0)} ${Math.trunc(o.nanosecs ?? 0)}\n`;
  }
  return { op: 'timens', offsets: text };
}
