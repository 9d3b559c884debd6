/**
 * compileSeccomp: an OCI `linux.seccomp` profile -> a classic-BPF seccomp program, the bytes the
 * native helper passes to seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog). No libseccomp; the
 * semantics follow libseccomp as runc drives it:
 *
 * - Architectures: the filter has a section for the host's native architecture and for each
 *   listed one of the same family (x86_64 with x86 and x32; aarch64 with arm). Listed
 *   architectures of other families can never appear in seccomp_data.arch on this kernel and
 *   are left out. A syscall made with any other architecture gets libseccomp's "bad arch"
 *   action, SCMP_ACT_KILL (SECCOMP_RET_KILL_THREAD).
 * - x32: x32 tasks report AUDIT_ARCH_X86_64 with __X32_SYSCALL_BIT in nr, so that section splits
 *   on nr >= 0x40000000; without an x32 section such numbers get the bad-arch action.
 * - Syscall names are resolved per architecture; a name an architecture lacks is skipped there
 *   (profiles list syscalls for every architecture), and a name no table knows is ignored and
 *   reported in `unknownSyscalls` for the caller to warn about (runc logs and goes on).
 * - A rule whose action (with errno) equals the default action is dropped, as runc does.
 * - Rules for one syscall: argument conditions within a rule are AND-ed; conditional rules are
 *   tried in profile order and the first that matches decides (rules are OR-ed); then the
 *   syscall's unconditional rule, if any, else the default action. Two unconditional rules with
 *   different actions for one syscall are a config error (libseccomp refuses them too).
 * - ENOSYS for syscalls newer than the profile (runc's "-ENOSYS stub"): unless the default
 *   action is ALLOW or LOG, a syscall number above the highest one the profile names on that
 *   architecture fails with ENOSYS instead of the default action, so that libcs fall back from
 *   syscalls the profile's author could not have known (as they do for clone3 or faccessat2).
 */
import { invalidConfig } from '../util/errors.js';
import type { LinuxSeccomp } from './profile.js';
import {
  SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_THREAD, SECCOMP_RET_LOG, encodeAction, encodeFlags,
} from './actions.js';
import { SECCOMP_DATA_ARCH, SECCOMP_DATA_NR, emitArgCheck, parseArg, type ArgCheck } from './args.js';
import {
  ARCHITECTURES, FOREIGN_ARCHITECTURES, X32_SYSCALL_BIT, archByName, resolveHostArch, type ArchInfo,
} from './arch.js';
import { Assembler, type Label } from './bpf.js';

/** The result of compiling a profile. */
export interface CompiledSeccomp {
  /** `struct sock_filter` array, little-endian, 8 bytes per instruction. */
  program: Buffer;
  /** SECCOMP_FILTER_FLAG_* bits for seccomp(). */
  flags: number;
  /** Syscall names no supported architecture knows; ignored, for the caller to warn about. */
  unknownSyscalls: string[];
}

/** libseccomp's default action for a syscall from an architecture the filter has no section for. */
export const BAD_ARCH_ACTION = SECCOMP_RET_KILL_THREAD;

interface Rule {
  names: string[];
  ret: number;
  checks: ArgCheck[];
}

/** What one architecture's section does for one syscall number. */
interface SyscallPlan {
  name: string;
  conditional: { checks: ArgCheck[]; ret: number }[];
  unconditional?: number;
}

/**
 * Compiles `profile` for a host of architecture `hostArch` (default `process.arch`; Node, Go and
 * OCI spellings accepted).
 * @example const { program, flags } = compileSeccomp(spec.linux.seccomp)
 */
export function compileSeccomp(profile: LinuxSeccomp, hostArch?: string): CompiledSeccomp {
  // A long-lived process (the runtime server, a program using the API) compiles the same profile
  // (Docker's default, mostly) for every container: 2 ms of CPU each time, so the result is kept.
  const key = `${hostArch ?? ''}\0${JSON.stringify(profile, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}`;
  const hit = compiled.get(key);
  if (hit) return hit;
  const result = compileUncached(profile, hostArch);
  if (compiled.size >= 16) compiled.delete(compiled.keys().next().value!);
  compiled.set(key, result);
  return result;
}

/** The last few programs compiled, by architecture and profile (a compiled program is never changed). */
const compiled = new Map<string, Readonly<CompiledSeccomp>>();

function compileUncached(profile: LinuxSeccomp, hostArch?: string): CompiledSeccomp {
  const native = resolveHostArch(hostArch);
  const defaultRet = encodeAction(profile.defaultAction, profile.defaultErrnoRet, 'linux.seccomp.defaultAction');
  const flags = encodeFlags(profile.flags);
  const arches = selectArches(native, profile.architectures);
  const rules = parseRules(profile, defaultRet);
  const allNames = (profile.syscalls ?? []).flatMap((c) => c.names);
  const enosys = defaultRet !== SECCOMP_RET_ALLOW && defaultRet !== SECCOMP_RET_LOG;
  const unknownSyscalls = [...new Set(rules.flatMap((r) => r.names))]
    .filter((n) => !ARCHITECTURES.some((a) => archByName(a)!.syscalls[n] !== undefined));

  const asm = new Assembler();
  const badArch = asm.label();
  const lateBadArch = asm.label();
  // Dispatch on seccomp_data.arch; x86_64 and x32 share one AUDIT_ARCH value and one entry.
  const entries = new Map<number, Label>();
  asm.load(SECCOMP_DATA_ARCH);
  for (const arch of arches) {
    if (entries.has(arch.audit)) continue;
    const entry = asm.label();
    const next = asm.label();
    entries.set(arch.audit, entry);
    asm.jeq(arch.audit, entry, next);
    asm.place(next);
  }
  asm.place(badArch);
  asm.ret(BAD_ARCH_ACTION);

  const x64 = arches.find((a) => a.name === 'SCMP_ARCH_X86_64');
  const x32 = arches.find((a) => a.name === 'SCMP_ARCH_X32');
  for (const [audit, entry] of entries) {
    asm.place(entry);
    asm.load(SECCOMP_DATA_NR);
    if (audit === x64?.audit || audit === x32?.audit) {
      // Jumps only go forward: a missing half returns the bad-arch action at the program's end.
      const x64Label = x64 ? asm.label() : lateBadArch;
      const x32Label = x32 ? asm.label() : lateBadArch;
      asm.jge(X32_SYSCALL_BIT, x32Label, x64Label);
      for (const [arch, label] of [[x64, x64Label], [x32, x32Label]] as const) {
        if (!arch) continue;
        asm.place(label);
        emitSection(asm, arch, rules, defaultRet, enosys ? lastNr(arch, allNames) : undefined);
      }
    } else {
      const arch = arches.find((a) => a.audit === audit)!;
      emitSection(asm, arch, rules, defaultRet, enosys ? lastNr(arch, allNames) : undefined);
    }
  }
  asm.place(lateBadArch);
  asm.ret(BAD_ARCH_ACTION);
  return { program: asm.assemble(), flags, unknownSyscalls };
}

/** Native first, then the listed architectures of the native family, without duplicates. */
function selectArches(native: ArchInfo, listed: readonly string[] | undefined): ArchInfo[] {
  const out = [native];
  for (const [i, name] of (listed ?? []).entries()) {
    const info = archByName(name);
    if (!info) {
      if (FOREIGN_ARCHITECTURES.includes(name)) continue;
      throw invalidConfig(`linux.seccomp.architectures[${i}]`,
        `is ${JSON.stringify(name)}; valid: ${[...ARCHITECTURES, ...FOREIGN_ARCHITECTURES].join(', ')}`);
    }
    if (info.family === native.family && !out.includes(info)) out.push(info);
  }
  return out;
}

function parseRules(profile: LinuxSeccomp, defaultRet: number): Rule[] {
  const rules: Rule[] = [];
  for (const [i, call] of (profile.syscalls ?? []).entries()) {
    const field = `linux.seccomp.syscalls[${i}]`;
    if (!Array.isArray(call.names) || call.names.length === 0 || call.names.some((n) => typeof n !== 'string' || n === '')) {
      throw invalidConfig(`${field}.names`, 'must be a non-empty list of syscall names');
    }
    const ret = encodeAction(call.action, call.errnoRet, field);
    const checks = (call.args ?? []).map((a, j) => parseArg(a, `${field}.args[${j}]`));
    if (ret === defaultRet) continue;
    rules.push({ names: call.names, ret, checks });
  }
  return rules;
}

/** Builds the per-syscall plan of one architecture from the rules, in profile order. */
function planArch(arch: ArchInfo, rules: readonly Rule[]): Map<number, SyscallPlan> {
  const plans = new Map<number, SyscallPlan>();
  for (const rule of rules) {
    for (const name of rule.names) {
      const nr = arch.syscalls[name];
      if (nr === undefined) continue;
      let plan = plans.get(nr);
      if (!plan) plans.set(nr, (plan = { name, conditional: [] }));
      if (rule.checks.length > 0) {
        plan.conditional.push({ checks: rule.checks, ret: rule.ret });
      } else if (plan.unconditional === undefined) {
        // Profiles in the wild (podman's default lists setns as ALLOW and again as ERRNO) give
        // a syscall two unconditional actions; libseccomp, and so runc and crun, keep the first.
        plan.unconditional = rule.ret;
      }
    }
  }
  // A conditional rule with the same action as the unconditional one changes nothing.
  for (const plan of plans.values()) {
    plan.conditional = plan.conditional.filter((c) => c.ret !== plan.unconditional);
  }
  return plans;
}

/** How one range of syscall numbers ends: a return value, or a syscall's argument rules. */
type Leaf = { ret: number } | { body: Label };

/** The numbers from `lo` up to the next span's `lo` (the last span: to 2^32 - 1) all end alike. */
interface Span {
  lo: number;
  leaf: Leaf;
}

/**
 * Emits one architecture's rules. On entry A holds seccomp_data.nr. The syscall numbers are cut
 * into spans that end alike (Docker's profile: ~350 allowed syscalls make a few dozen ranges),
 * and a binary search over the spans' bounds (`jge`) reaches each span's `ret`, or the argument
 * rules of a syscall that has them, after log2(spans) comparisons: a short program for the
 * kernel to check at load and a cheap one on every syscall the container makes, where a `jeq`
 * per syscall took up to ~350 comparisons (libseccomp's binary tree does the same). Argument
 * code clobbers A, but every path through it ends in a `ret`.
 */
function emitSection(asm: Assembler, arch: ArchInfo, rules: readonly Rule[], defaultRet: number, lastKnown?: number): void {
  const plans = [...planArch(arch, rules).entries()].sort((a, b) => a[0] - b[0]);
  const spans: Span[] = [];
  const push = (lo: number, leaf: Leaf): void => {
    const last = spans[spans.length - 1];
    if (last && 'ret' in last.leaf && 'ret' in leaf && last.leaf.ret === leaf.ret) return; // the same end: one span
    spans.push({ lo, leaf });
  };
  // Numbers no rule names, from `next` up to `upto`: the default action, or ENOSYS above the
  // highest syscall the profile names.
  let next = 0;
  const unnamed = (upto: number): void => {
    if (next >= upto) return;
    if (lastKnown === undefined || upto <= lastKnown + 1) {
      push(next, { ret: defaultRet });
      return;
    }
    if (next <= lastKnown) push(next, { ret: defaultRet });
    push(Math.max(next, lastKnown + 1), { ret: SECCOMP_RET_ERRNO | ENOSYS });
  };
  const bodies: { label: Label; plan: SyscallPlan }[] = [];
  for (const [nr, plan] of plans) {
    unnamed(nr);
    if (plan.conditional.length > 0) {
      const label = asm.label();
      bodies.push({ label, plan });
      push(nr, { body: label });
    } else {
      push(nr, { ret: plan.unconditional ?? defaultRet });
    }
    next = nr + 1;
  }
  unnamed(2 ** 32);
  emitSearch(asm, spans, 0, spans.length);
  for (const { label, plan } of bodies) {
    asm.place(label);
    for (const rule of plan.conditional) {
      const fail = asm.label();
      for (const check of rule.checks) emitArgCheck(asm, check, arch.args32, fail);
      asm.ret(rule.ret);
      asm.place(fail);
    }
    asm.ret(plan.unconditional ?? defaultRet);
  }
}

/** Binary search over spans[from, to), knowing that A lies within them. */
function emitSearch(asm: Assembler, spans: readonly Span[], from: number, to: number): void {
  if (to - from === 1) {
    const leaf = spans[from]!.leaf;
    if ('ret' in leaf) asm.ret(leaf.ret);
    else asm.ja(leaf.body);
    return;
  }
  const mid = (from + to) >> 1;
  const low = asm.label();
  const high = asm.label();
  asm.jge(spans[mid]!.lo, high, low);
  asm.place(low);
  emitSearch(asm, spans, from, mid);
  asm.place(high);
  emitSearch(asm, spans, mid, to);
}

const ENOSYS = 38;

/** The highest syscall number among `names` on `arch`, or undefined when none resolves. */
function lastNr(arch: ArchInfo, names: readonly string[]): number | undefined {
  let last: number | undefined;
  for (const name of names) {
    const nr = arch.syscalls[name];
    if (nr !== undefined && (last === undefined || nr > last)) last = nr;
  }
  return last;
}
