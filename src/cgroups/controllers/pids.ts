/** pids controller: pids.max and pids.current, the same files on v1 and v2. */
import type { LinuxResources } from '../../oci/spec.js';
import { readNumber, writeValue, finite } from '../files.js';
import { pidsMaxValue } from '../convert.js';
import { type Controller, invalid } from './controller.js';

/** The pids controller (both versions). */
export const pidsController: Controller = {
  name: 'pids',
  wants: (r: LinuxResources) => r.pids !== undefined && pidsMaxValue(r.pids.limit) !== undefined,
  validate(_dir, r) {
    const l = r.pids!.limit;
    if (!Number.isInteger(l)) throw invalid('pids.limit', `is ${String(l)}; must be an integer (-1 for unlimited)`);
  },
  apply(dir, r) {
    const v = pidsMaxValue(r.pids!.limit);
    if (v !== undefined) writeValue(dir, 'pids.max', v);
  },
  stats(dir, out) {
    const current = readNumber(dir, 'pids.current');
    if (current === undefined) return;
    out.pids = { current };
    const limit = finite(readNumber(dir, 'pids.max'));
    if (limit !== undefined) out.pids.limit = limit;
  },
};
