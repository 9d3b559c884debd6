/**
 * The helper's one-shot modes (native/PROTOCOL.md, "One-shot modes"): small privileged jobs that
 * Node cannot do itself but that need no container, run as `berth-helper <mode> <args>`.
 */
import { spawnSync } from 'node:child_process';
import { BerthError } from '../util/errors.js';
import { helperPath } from './helper.js';

/**
 * Load a BPF_PROG_TYPE_CGROUP_DEVICE program (CgroupManager.deviceFilter()) and attach it to the
 * cgroup v2 directory `dir`, replacing the one attached before without a gap (the new program
 * is attached before the old one is detached). Used by `update` on a running container.
 */
export function attachDeviceFilter(dir: string, program: Uint8Array): void {
  const r = spawnSync(helperPath(), ['bpf-devices', dir], { input: Buffer.from(program), encoding: 'utf8', timeout: 10_000 });
  if (r.error) throw new BerthError('EHELPER', `berth-helper bpf-devices ${dir}: ${r.error.message}`);
  if (r.status !== 0) {
    const msg = (r.stderr ?? '').trim().replace(/^berth-helper: /, '') || `exited with status ${r.status ?? r.signal}`;
    throw new BerthError('EHELPER', msg);
  }
}
