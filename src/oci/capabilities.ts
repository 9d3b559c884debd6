/**
 * Linux capabilities: the name → number table, masks for capset(2) and the bounding set, and the
 * highest capability the running kernel knows.
 *
 * The numbers are fixed kernel ABI (include/uapi/linux/capability.h) and identical on every
 * architecture. A name that is not in this table is a config error (see validate.ts); a name that
 * is in the table but newer than the running kernel (e.g. CAP_CHECKPOINT_RESTORE on a 5.4 kernel)
 * is dropped with a warning, as runc does: the same config.json then runs on old and new hosts.
 */
import { readFileSync } from 'node:fs';

/** Every capability the OCI runtime spec can name, in kernel order: `CAP_CHOWN` is 0. */
export const CAPABILITIES: Readonly<Record<string, number>> = Object.freeze({
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_DAC_READ_SEARCH: 2,
  CAP_FOWNER: 3,
  CAP_FSETID: 4,
  CAP_KILL: 5,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_SETPCAP: 8,
  CAP_LINUX_IMMUTABLE: 9,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_BROADCAST: 11,
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
  CAP_IPC_LOCK: 14,
  CAP_IPC_OWNER: 15,
  CAP_SYS_MODULE: 16,
  CAP_SYS_RAWIO: 17,
  CAP_SYS_CHROOT: 18,
  CAP_SYS_PTRACE: 19,
  CAP_SYS_PACCT: 20,
  CAP_SYS_ADMIN: 21,
  CAP_SYS_BOOT: 22,
  CAP_SYS_NICE: 23,
  CAP_SYS_RESOURCE: 24,
  CAP_SYS_TIME: 25,
  CAP_SYS_TTY_CONFIG: 26,
  CAP_MKNOD: 27,
  CAP_LEASE: 28,
  CAP_AUDIT_WRITE: 29,
  CAP_AUDIT_CONTROL: 30,
  CAP_SETFCAP: 31,
  CAP_MAC_OVERRIDE: 32,
  CAP_MAC_ADMIN: 33,
  CAP_SYSLOG: 34,
  CAP_WAKE_ALARM: 35,
  CAP_BLOCK_SUSPEND: 36,
  CAP_AUDIT_READ: 37,
  CAP_PERFMON: 38,
  CAP_BPF: 39,
  CAP_CHECKPOINT_RESTORE: 40,
});

/** The capability names in kernel order (the order `runc features` prints them in). */
export const CAPABILITY_NAMES: readonly string[] = Object.freeze(
  Object.entries(CAPABILITIES)
    .sort((a, b) => a[1] - b[1])
    .map(([name]) => name),
);

/** The highest capability number in the table (CAP_CHECKPOINT_RESTORE, 40). */
export const CAP_LAST_KNOWN = CAPABILITY_NAMES.length - 1;

/** True when `name` is a capability this table knows (exact upper-case `CAP_*` spelling). */
export function isKnownCapability(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(CAPABILITIES, name);
}

let cachedLastCap: number | undefined;

/**
 * The highest capability number the running kernel supports, from /proc/sys/kernel/cap_last_cap
 * (present since Linux 3.2). When /proc is unreadable (an unusual sandbox) the table's own last
 * capability is assumed, so nothing is dropped silently on a host we cannot inspect.
 */
export function kernelLastCap(procFile = '/proc/sys/kernel/cap_last_cap'): number {
  if (procFile === '/proc/sys/kernel/cap_last_cap' && cachedLastCap !== undefined) return cachedLastCap;
  let last = CAP_LAST_KNOWN;
  try {
    const n = Number.parseInt(readFileSync(procFile, 'utf8').trim(), 10);
    if (Number.isInteger(n) && n >= 0) last = n;
  } catch {
    // keep the table's value
  }
  if (procFile === '/proc/sys/kernel/cap_last_cap') cachedLastCap = last;
  return last;
}

/** The result of turning a capability name list into a mask. */
export interface CapabilityMask {
  /** Bit n set for capability number n; 64 bits wide, as capset(2) takes two 32-bit words. */
  mask: bigint;
  /** Names dropped because the running kernel does not know them (caller should warn). */
  ignored: string[];
}

/**
 * Turn capability names into a bitmask. Unknown names throw (validate.ts reports them first with
 * the field path); names beyond the kernel's `lastCap` are left out and returned in `ignored`,
 * which is what runc does ("ignoring unknown or unavailable capabilities").
 *
 * @example capabilityMask(['CAP_KILL', 'CAP_CHOWN']).mask === 0b100001n
 */
export function capabilityMask(names: readonly string[], lastCap: number = kernelLastCap()): CapabilityMask {
  let mask = 0n;
  const ignored: string[] = [];
  for (const name of names) {
    const n = CAPABILITIES[name];
    if (n === undefined) {
      throw new RangeError(`capability "${name}" is not a known capability`);
    }
    if (n > lastCap) {
      if (!ignored.includes(name)) ignored.push(name);
      continue;
    }
    mask |= 1n << BigInt(n);
  }
  return { mask, ignored };
}

/** The names of the bits set in `mask`, in kernel order (the inverse of `capabilityMask`). */
export function capabilityNames(mask: bigint): string[] {
  return CAPABILITY_NAMES.filter((_, n) => (mask & (1n << BigInt(n))) !== 0n);
}
