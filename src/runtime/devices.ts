/**
 * The device cgroup rules a container gets: the spec's own rules, then an allow rule for each
 * device in linux.devices that no spec rule names exactly, then runc's always-allowed list (null,
 * zero, full, tty, random, urandom, ptmx, /dev/pts/*, and mknod of any device). Later rules
 * win, as in the kernel's v1 lists and runc's eBPF program, so a spec that denies everything
 * still gets a usable /dev.
 */
import type { LinuxDeviceCgroup, Spec } from '../oci/spec.js';
import { ALLOWED_DEVICE_RULES } from '../oci/defaults.js';

/** The full rule list for `linux.resources.devices` at create time. */
export function containerDeviceRules(spec: Spec): LinuxDeviceCgroup[] {
  const rules: LinuxDeviceCgroup[] = [...(spec.linux?.resources?.devices ?? [])];
  for (const d of spec.linux?.devices ?? []) {
    if (d.type === 'p') continue; // fifos are not subject to the device cgroup
    const type = d.type === 'u' ? 'c' : d.type;
    // A rule of the spec that names this very device (type, major and minor) is the spec's own
    // word on it: a node created but denied stays denied, as in runc, which adds no rules here.
    if (rules.some((r) => r.type === type && r.major === d.major && r.minor === d.minor)) continue;
    rules.push({ allow: true, type, major: d.major ?? null, minor: d.minor ?? null, access: 'rwm' });
  }
  for (const { allow, type, major, minor, access } of ALLOWED_DEVICE_RULES) rules.push({ allow, type, major, minor, access });
  return rules;
}
