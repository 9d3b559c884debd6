/**
 * The device cgroup rules a container gets: the spec's own rules, then an allow rule for each
 * device in linux.devices, then runc's always-allowed list (null, zero, full, tty, random,
 * urandom, ptmx, /dev/pts/*, and mknod of any device). Later rules win, as in the kernel's v1
 * lists and runc's eBPF program, so a spec that denies everything still gets a usable /dev.
 */
import type { LinuxDeviceCgroup, Spec } from '../oci/spec.js';
import { ALLOWED_DEVICE_RULES } from '../oci/defaults.js';

/** The full rule list for `linux.resources.devices` at create time. */
export function containerDeviceRules(spec: Spec): LinuxDeviceCgroup[] {
  const rules: LinuxDeviceCgroup[] = [...(spec.linux?.resources?.devices ?? [])];
  for (const d of spec.linux?.devices ?? []) {
    if (d.type === 'p') continue; // fifos are not subject to the device cgroup
    rules.push({ allow: true, type: d.type === 'u' ? 'c' : d.type, major: d.major ?? null, minor: d.minor ?? null, access: 'rwm' });
  }
  for (const { allow, type, major, minor, access } of ALLOWED_DEVICE_RULES) rules.push({ allow, type, major, minor, access });
  return rules;
}
