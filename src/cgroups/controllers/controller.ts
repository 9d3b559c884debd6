/**
 * The shape of one controller module. Each controller file exports a v1 and/or a v2 object of
 * this shape; controllers/index.ts holds the static lists the managers walk (adding a controller
 * = one file + one list entry, as in youki).
 *
 * `validate` runs for every controller before any `apply` writes, so a bad or meaningless knob
 * fails before the cgroup is half-configured.
 */
import type { LinuxResources } from '../../oci/spec.js';
import type { CgroupStats } from '../types.js';
import { BerthError } from '../../util/errors.js';

/** What a controller is told about the call. */
export interface ApplyContext {
  /** false while creating the container, true for a live `update`. */
  live: boolean;
}

/** One controller in one cgroup version. */
export interface Controller {
  /**
   * The kernel's controller name: the v1 subsystem (mount option) or the v2 name in
   * cgroup.controllers. null for v2 core features that are not controllers (devices via eBPF,
   * freezer, the unified map).
   */
  readonly name: string | null;
  /** Whether `r` asks anything of this controller. */
  wants(r: LinuxResources): boolean;
  /** Throws EINVALID_CONFIG / EUNSUPPORTED for a bad or meaningless knob. Writes nothing. */
  validate(dir: string, r: LinuxResources, ctx: ApplyContext): void;
  /** Writes the knobs (validate has passed for every controller). */
  apply(dir: string, r: LinuxResources, ctx: ApplyContext): void;
  /** Adds this controller's numbers to `out`; leaves a section undefined when files are missing. */
  stats?(dir: string, out: CgroupStats): void;
}

/** EUNSUPPORTED naming the knob and what to use instead. */
export function unsupported(knob: string, why: string, instead?: string): BerthError {
  return new BerthError('EUNSUPPORTED', `linux.resources.${knob}: ${why}${instead ? `; ${instead}` : ''}`);
}

/** EINVALID_CONFIG for a resources field. */
export function invalid(knob: string, problem: string): BerthError {
  return new BerthError('EINVALID_CONFIG', `config.json: linux.resources.${knob} ${problem}`);
}

/** Checks an optional integer field is an integer ≥ min. */
export function checkInt(knob: string, v: number | undefined, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (v === undefined) return;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw invalid(knob, `is ${v}; must be an integer from ${min} to ${max === Number.MAX_SAFE_INTEGER ? 'any size' : max}`);
  }
}
