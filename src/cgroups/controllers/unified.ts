/**
 * linux.resources.unified: raw cgroup v2 files ("memory.high": "64M"). Written as given after
 * checking each key names a file that exists in the cgroup (no path tricks, no cgroup.* core
 * files that would move processes or change the tree). On a hybrid host the keys go to the
 * unified twin, where only the controllers enabled there (hugetlb here) have files.
 */
import { readdirSync } from 'node:fs';
import type { LinuxResources } from '../../oci/spec.js';
import { hasFile, readOpt, writeValue } from '../files.js';
import { type Controller, invalid, unsupported } from './controller.js';

/** Core files that `unified` must not write: they move processes or reshape the tree. */
const FORBIDDEN = new Set(['cgroup.procs', 'cgroup.threads', 'cgroup.subtree_control', 'cgroup.kill', 'cgroup.freeze', 'cgroup.type']);

/** The unified map (v2, and the unified twin on hybrid hosts). */
export const unifiedV2: Controller = {
  name: null,
  wants: (r: LinuxResources) => !!r.unified && Object.keys(r.unified).length > 0,
  validate(dir, r) {
    for (const [key, value] of Object.entries(r.unified!)) {
      if (!/^[a-z_]+\.[a-z0-9_.]+$/.test(key) || key.includes('..')) throw invalid(`unified[${JSON.stringify(key)}]`, 'is not a cgroup file name like "memory.high"');
      if (FORBIDDEN.has(key)) throw invalid(`unified[${JSON.stringify(key)}]`, 'is managed by the runtime and cannot be set');
      if (typeof value !== 'string') throw invalid(`unified[${JSON.stringify(key)}]`, 'value must be a string');
      if (!hasFile(dir, key)) {
        const ctrl = key.slice(0, key.indexOf('.'));
        const enabled = (readOpt(dir, 'cgroup.controllers') ?? '').trim().split(/\s+/);
        const why = ctrl !== 'cgroup' && !enabled.includes(ctrl)
          ? `the ${ctrl} controller is not available in this cgroup (available: ${enabled.filter(Boolean).join(' ') || 'none'})`
          : 'no such file in this cgroup';
        throw unsupported(`unified[${JSON.stringify(key)}]`, why, `files here: ${listKnobs(dir, ctrl)}`);
      }
    }
  },
  apply(dir, r) {
    for (const [key, value] of Object.entries(r.unified!)) writeValue(dir, key, value);
  },
};

/** A short list of the files of `prefix` in dir, for the error hint. */
function listKnobs(dir: string, prefix: string): string {
  try {
    const files = readdirSync(dir).filter((f) => f.startsWith(prefix + '.'));
    return files.length ? files.slice(0, 12).join(' ') : 'none for that prefix';
  } catch {
    return 'unknown';
  }
}

/** On a pure v1 host there is nowhere to write unified keys. */
export const unifiedV1Only: Controller = {
  name: null,
  wants: unifiedV2.wants,
  validate() {
    throw unsupported('unified', 'this host has no cgroup v2 hierarchy', 'use the v1-shaped fields (memory, cpu, ...)');
  },
  apply() {},
};
