/**
 * devices controller. v1: devices.allow / devices.deny, one rule per write. v2 has no files: the
 * rules become an eBPF program (devices-bpf.ts) that the native helper attaches; apply() only
 * validates and computes it, and the manager hands it out through `deviceFilter()`.
 */
import type { LinuxDeviceCgroup, LinuxResources } from '../../oci/spec.js';
import { writeValue } from '../files.js';
import { isAllDevicesRule } from '../devices-bpf.js';
import { type Controller, invalid } from './controller.js';

/** Checks every rule's type, numbers and access string. */
export function validateDeviceRules(rules: LinuxDeviceCgroup[]): void {
  rules.forEach((r, i) => {
    const f = `devices[${i}]`;
    if (typeof r.allow !== 'boolean') throw invalid(`${f}.allow`, 'must be true or false');
    if (r.type !== undefined && !['a', 'b', 'c'].includes(r.type)) throw invalid(`${f}.type`, `${JSON.stringify(r.type)} must be "a", "b" or "c"`);
    for (const k of ['major', 'minor'] as const) {
      const v = r[k];
      if (v !== undefined && v !== null && v !== -1 && (!Number.isInteger(v) || v < 0 || v > 0xffffffff)) throw invalid(`${f}.${k}`, `is ${v}; must be a device number or -1/null for any`);
    }
    if (r.access !== undefined && !/^[rwm]{0,3}$/.test(r.access)) throw invalid(`${f}.access`, `${JSON.stringify(r.access)} must use only r, w and m`);
  });
}

/** The devices.allow/deny line of a rule: "c 1:3 rwm", "a *:* rwm". */
export function deviceRuleLine(r: LinuxDeviceCgroup): string {
  const n = (v: number | null | undefined): string => (v === undefined || v === null || v === -1 ? '*' : String(v));
  return `${r.type ?? 'a'} ${n(r.major)}:${n(r.minor)} ${r.access || 'rwm'}`;
}

const wants = (r: LinuxResources): boolean => !!r.devices?.length;

/** The cgroup v1 devices controller. */
export const devicesV1: Controller = {
  name: 'devices',
  wants,
  validate(_dir, r) {
    validateDeviceRules(r.devices!);
  },
  apply(dir, r) {
    // Each write changes the kernel's list at once: a leading deny-all is written as "a" to
    // devices.deny (empties the exception list and switches the default to deny), then each rule
    // in order. A live update thus passes through "deny all" for a few microseconds, as with runc
    // before its emulator; the container's open files are unaffected (only open/mknod is checked).
    for (const rule of r.devices!) {
      if (isAllDevicesRule(rule)) writeValue(dir, rule.allow ? 'devices.allow' : 'devices.deny', 'a');
      else writeValue(dir, rule.allow ? 'devices.allow' : 'devices.deny', deviceRuleLine(rule));
    }
  },
};

/** The cgroup v2 devices "controller" (eBPF; not in cgroup.controllers). */
export const devicesV2: Controller = {
  name: null,
  wants,
  validate(_dir, r) {
    validateDeviceRules(r.devices!);
  },
  apply() {
    // Nothing to write: the manager computes the program from the rules (deviceFilter()).
  },
};
