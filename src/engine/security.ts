/**
 * Docker's security defaults and the flags that change them: the 14 default capabilities with
 * --cap-add/--cap-drop (names with or without CAP_, any case, `ALL`), --privileged, the default
 * seccomp profile or --security-opt seccomp=unconfined|<profile>, no-new-privileges, and the
 * masked and read-only /proc and /sys paths (systempaths=unconfined lifts them).
 */
import type { LinuxSeccomp } from '../oci/spec.js';
import { CAPABILITY_NAMES, isKnownCapability } from '../oci/capabilities.js';
import { dockerDefaultProfile } from '../seccomp/docker-default.js';
import { BerthError } from '../util/errors.js';
import type { HostConfig } from './config.js';

/** Docker's default capability set (moby daemon/pkg/oci/caps/defaults.go), in its order. */
export const DOCKER_DEFAULT_CAPS: readonly string[] = Object.freeze([
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
]);

/** Docker's masked paths (moby daemon/pkg/oci/defaults.go). */
export const DOCKER_MASKED_PATHS: readonly string[] = Object.freeze([
  '/proc/asound', '/proc/acpi', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats',
  '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware',
  '/sys/devices/virtual/powercap',
]);

/** Docker's read-only paths. */
export const DOCKER_READONLY_PATHS: readonly string[] = Object.freeze([
  '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger',
]);

/** `net_admin`, `CAP_NET_ADMIN` → `CAP_NET_ADMIN`; an unknown name is an error naming it. */
export function normalizeCap(name: string, flag: string): string {
  const upper = name.trim().toUpperCase();
  if (upper === 'ALL') return 'ALL';
  const full = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (!isKnownCapability(full)) throw new BerthError('EINVALID_ARG', `invalid ${flag} ${JSON.stringify(name)}: unknown capability (e.g. NET_ADMIN, SYS_PTRACE or ALL)`);
  return full;
}

/**
 * The container's capabilities, as Docker's TweakCapabilities computes them: privileged → all;
 * otherwise the defaults, `--cap-drop ALL` clearing them first, adds then drops applied.
 */
export function containerCaps(hc: Pick<HostConfig, 'Privileged' | 'CapAdd' | 'CapDrop'>): string[] {
  if (hc.Privileged) return [...CAPABILITY_NAMES];
  const add = hc.CapAdd.map((c) => normalizeCap(c, '--cap-add'));
  const drop = hc.CapDrop.map((c) => normalizeCap(c, '--cap-drop'));
  if (add.includes('ALL')) {
    return CAPABILITY_NAMES.filter((c) => !drop.includes(c));
  }
  const caps = new Set(drop.includes('ALL') ? [] : DOCKER_DEFAULT_CAPS);
  for (const c of add) caps.add(c);
  for (const c of drop) if (c !== 'ALL' && !add.includes(c)) caps.delete(c);
  return CAPABILITY_NAMES.filter((c) => caps.has(c));
}

/** What --security-opt asks for. */
export interface SecurityChoices {
  noNewPrivileges: boolean;
  /** undefined = unconfined. */
  seccomp?: LinuxSeccomp;
  /** systempaths=unconfined (or --privileged): no masked or read-only paths. */
  unmaskSystemPaths: boolean;
}

/** Resolve --security-opt (as stored in HostConfig.SecurityOpt) and --privileged. */
export function securityChoices(hc: Pick<HostConfig, 'Privileged' | 'SecurityOpt'>, caps: readonly string[], arch = process.arch): SecurityChoices {
  let noNewPrivileges = false;
  let seccomp: LinuxSeccomp | undefined | 'default' = 'default';
  let unmask = hc.Privileged;
  for (const opt of hc.SecurityOpt) {
    const eq = opt.indexOf('=');
    const key = eq < 0 ? opt : opt.slice(0, eq);
    const value = eq < 0 ? '' : opt.slice(eq + 1);
    if (key === 'no-new-privileges') noNewPrivileges = value === '' || value === 'true';
    else if (key === 'systempaths' && value === 'unconfined') unmask = true;
    else if (key === 'apparmor' || key === 'label') continue; // decided at create (validate.ts adaptHostConfig): ignored
    else if (key === 'seccomp') {
      if (value === 'unconfined') seccomp = undefined;
      else if (value === 'builtin') seccomp = 'default';
      else seccomp = profileFromJson(value);
    } else {
      throw new BerthError('EINVALID_ARG', `invalid --security-opt ${JSON.stringify(opt)}: use no-new-privileges, seccomp=FILE, seccomp=unconfined or systempaths=unconfined`);
    }
  }
  // Docker: a privileged container runs unconfined unless a profile is given explicitly.
  if (hc.Privileged && seccomp === 'default') seccomp = undefined;
  return { noNewPrivileges, seccomp: seccomp === 'default' ? dockerDefaultProfile(caps, arch) : seccomp, unmaskSystemPaths: unmask };
}

/**
 * A profile in Docker's format (moby profiles/seccomp: `defaultAction`, `archMap`, `syscalls`
 * with `names` or `name`) or in OCI form, as an OCI LinuxSeccomp. Docker's conditional fields
 * (`includes`/`excludes`) are not interpreted: a rule carrying them is an error rather than a
 * silently wider or narrower filter.
 */
export function profileFromJson(text: string): LinuxSeccomp {
  let p: Record<string, unknown>;
  try {
    p = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new BerthError('EINVALID_ARG', 'seccomp profile is not valid json');
  }
  if (typeof p.defaultAction !== 'string') throw new BerthError('EINVALID_ARG', 'seccomp profile: defaultAction is required (e.g. SCMP_ACT_ERRNO)');
  const out: LinuxSeccomp = { defaultAction: p.defaultAction };
  if (typeof p.defaultErrnoRet === 'number') out.defaultErrnoRet = p.defaultErrnoRet;
  if (Array.isArray(p.architectures)) out.architectures = p.architectures as string[];
  else if (Array.isArray(p.archMap)) {
    out.architectures = (p.archMap as { architecture: string; subArchitectures?: string[] }[])
      .flatMap((a) => [a.architecture, ...(a.subArchitectures ?? [])]);
  }
  if (Array.isArray(p.flags)) out.flags = p.flags as string[];
  out.syscalls = ((p.syscalls ?? []) as Record<string, unknown>[]).map((r, i) => {
    const hasCond = (k: string) => r[k] && typeof r[k] === 'object' && Object.keys(r[k] as object).length > 0;
    if (hasCond('includes') || hasCond('excludes')) {
      throw new BerthError('EUNSUPPORTED', `seccomp profile: syscalls[${i}] uses includes/excludes, which berth does not evaluate: remove them or use the built-in profile`);
    }
    const names = Array.isArray(r.names) ? (r.names as string[]) : typeof r.name === 'string' ? [r.name] : [];
    const rule: NonNullable<LinuxSeccomp['syscalls']>[number] = { names, action: String(r.action) };
    if (typeof r.errnoRet === 'number') rule.errnoRet = r.errnoRet;
    if (Array.isArray(r.args) && r.args.length) rule.args = r.args as never;
    return rule;
  });
  return out;
}
