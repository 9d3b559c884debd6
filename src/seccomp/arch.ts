/**
 * The architectures Berth's seccomp compiler knows: their OCI (libseccomp) names, the
 * AUDIT_ARCH_* value the kernel puts in seccomp_data.arch, and their syscall tables.
 *
 * x32 has no AUDIT_ARCH of its own: an x32 task reports AUDIT_ARCH_X86_64 and marks its syscall
 * numbers with __X32_SYSCALL_BIT (0x40000000). The tables in ./syscalls/ hold x32 numbers with
 * that bit already set, exactly as seccomp_data.nr carries them.
 */
import { BerthError } from '../util/errors.js';
import { AARCH64_SYSCALLS } from './syscalls/aarch64.js';
import { ARM_SYSCALLS } from './syscalls/arm.js';
import { X32_SYSCALLS } from './syscalls/x32.js';
import { X86_SYSCALLS } from './syscalls/x86.js';
import { X86_64_SYSCALLS } from './syscalls/x86_64.js';

/** linux/audit.h: EM_* machine number | __AUDIT_ARCH_64BIT (0x80000000) | __AUDIT_ARCH_LE (0x40000000). */
export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_I386 = 0x40000003;
export const AUDIT_ARCH_AARCH64 = 0xc00000b7;
export const AUDIT_ARCH_ARM = 0x40000028;

/** The bit x32 syscall numbers carry (arch/x86/include/uapi/asm/unistd.h). */
export const X32_SYSCALL_BIT = 0x40000000;

/** One architecture a filter can have a section for. */
export interface ArchInfo {
  /** OCI / libseccomp name, e.g. `SCMP_ARCH_X86_64`. */
  name: string;
  /** The value of seccomp_data.arch for tasks of this architecture. */
  audit: number;
  /** Syscall name -> seccomp_data.nr. */
  syscalls: Readonly<Record<string, number>>;
  /**
   * True when libseccomp treats syscall arguments as 32 bits wide and compares only the low
   * word (i386, arm, and x32 — whose ints travel in 64-bit registers but are 32 bits in C).
   */
  args32: boolean;
  /** The native architecture whose kernel can run tasks of this one (its "family"). */
  family: 'x86_64' | 'aarch64';
}

const TABLE: readonly ArchInfo[] = [
  { name: 'SCMP_ARCH_X86_64', audit: AUDIT_ARCH_X86_64, syscalls: X86_64_SYSCALLS, args32: false, family: 'x86_64' },
  { name: 'SCMP_ARCH_X86', audit: AUDIT_ARCH_I386, syscalls: X86_SYSCALLS, args32: true, family: 'x86_64' },
  { name: 'SCMP_ARCH_X32', audit: AUDIT_ARCH_X86_64, syscalls: X32_SYSCALLS, args32: true, family: 'x86_64' },
  { name: 'SCMP_ARCH_AARCH64', audit: AUDIT_ARCH_AARCH64, syscalls: AARCH64_SYSCALLS, args32: false, family: 'aarch64' },
  { name: 'SCMP_ARCH_ARM', audit: AUDIT_ARCH_ARM, syscalls: ARM_SYSCALLS, args32: true, family: 'aarch64' },
];

/** The architecture names the compiler supports (for `features`). */
export const ARCHITECTURES: readonly string[] = TABLE.map((a) => a.name);

/**
 * Architecture names the OCI spec defines that Berth has no syscall table for. A profile may list
 * them (Docker's archMap does): the kernel of an x86 or arm host can never report them in
 * seccomp_data.arch, so leaving them out of the filter changes nothing.
 */
export const FOREIGN_ARCHITECTURES: readonly string[] = [
  'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64', 'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390',
  'SCMP_ARCH_S390X', 'SCMP_ARCH_PARISC', 'SCMP_ARCH_PARISC64', 'SCMP_ARCH_RISCV64', 'SCMP_ARCH_LOONGARCH64',
  'SCMP_ARCH_M68K', 'SCMP_ARCH_SH', 'SCMP_ARCH_SHEB',
];

/** The ArchInfo for an OCI architecture name, or undefined when Berth has no table for it. */
export function archByName(name: string): ArchInfo | undefined {
  return TABLE.find((a) => a.name === name);
}

/** Host architecture spellings: Node's `process.arch`, Go's GOARCH, uname -m, and OCI names. */
const HOST_ALIASES: Record<string, string> = {
  x64: 'SCMP_ARCH_X86_64', amd64: 'SCMP_ARCH_X86_64', x86_64: 'SCMP_ARCH_X86_64',
  ia32: 'SCMP_ARCH_X86', '386': 'SCMP_ARCH_X86', i386: 'SCMP_ARCH_X86', i686: 'SCMP_ARCH_X86', x86: 'SCMP_ARCH_X86',
  x32: 'SCMP_ARCH_X32',
  arm64: 'SCMP_ARCH_AARCH64', aarch64: 'SCMP_ARCH_AARCH64',
  arm: 'SCMP_ARCH_ARM', armv7l: 'SCMP_ARCH_ARM', armhf: 'SCMP_ARCH_ARM',
};

/**
 * Resolves a host architecture (default `process.arch`) to its ArchInfo.
 * @example resolveHostArch('x64').name === 'SCMP_ARCH_X86_64'
 */
export function resolveHostArch(host: string = process.arch): ArchInfo {
  const info = archByName(HOST_ALIASES[host] ?? host);
  if (!info) {
    throw new BerthError('EUNSUPPORTED',
      `seccomp: host architecture ${host} is not supported (supported: x64, ia32, arm64, arm)`);
  }
  return info;
}
