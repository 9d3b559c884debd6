/**
 * Syscall argument comparisons. struct seccomp_data holds six 64-bit arguments, but classic BPF
 * loads 32-bit words, so a 64-bit comparison is done on the high word first and then the low
 * word, as libseccomp does. On architectures whose arguments are 32 bits (i386, arm, x32 —
 * libseccomp's ARCH_SIZE_32) only the low word is compared, so that `-1` meaning `(int)-1`
 * matches there too.
 */
import { invalidConfig } from '../util/errors.js';
import { OPERATORS } from './actions.js';
import type { Assembler, Label } from './bpf.js';
import type { LinuxSeccompArg } from './profile.js';

/** Offsets in struct seccomp_data {int nr; u32 arch; u64 instruction_pointer; u64 args[6];}. */
export const SECCOMP_DATA_NR = 0;
export const SECCOMP_DATA_ARCH = 4;
/** Byte offset of the low word of args[i] (all supported architectures are little-endian). */
export const argLo = (i: number): number => 16 + 8 * i;
export const argHi = (i: number): number => 20 + 8 * i;

/** A validated comparison: `value` is the operand (the mask for MASKED_EQ), `datum` MASKED_EQ's right side. */
export interface ArgCheck {
  index: number;
  op: string;
  value: bigint;
  datum: bigint;
}

const U64 = (1n << 64n) - 1n;

/**
 * Converts a JSON number (or bigint) to an unsigned 64-bit value. Negative numbers are taken as
 * two's complement (-1 → 0xffffffffffffffff). JSON has no exact doubles near 2^64: the literal
 * 18446744073709551615 parses to 2^64, which is taken as the all-ones value it spells.
 */
export function toU64(v: unknown, field: string): bigint {
  let b: bigint;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number' && Number.isInteger(v)) b = v === 2 ** 64 ? U64 : BigInt(v);
  else throw invalidConfig(field, `is ${JSON.stringify(v)}; must be an integer`);
  if (b < -(1n << 63n) || b > U64) throw invalidConfig(field, `is ${b}; must fit in 64 bits`);
  return b & U64;
}

/** Validates one OCI argument rule; `field` names it in errors (e.g. `linux.seccomp.syscalls[3].args[0]`). */
export function parseArg(arg: LinuxSeccompArg, field: string): ArgCheck {
  if (!Number.isInteger(arg.index) || arg.index < 0 || arg.index > 5) {
    throw invalidConfig(`${field}.index`, `is ${JSON.stringify(arg.index)}; must be 0 to 5`);
  }
  if (!OPERATORS.includes(arg.op)) {
    throw invalidConfig(`${field}.op`, `is ${JSON.stringify(arg.op)}; valid: ${OPERATORS.join(', ')}`);
  }
  const value = toU64(arg.value, `${field}.value`);
  const datum = arg.op === 'SCMP_CMP_MASKED_EQ' && arg.valueTwo !== undefined && arg.valueTwo !== null
    ? toU64(arg.valueTwo, `${field}.valueTwo`) : 0n;
  return { index: arg.index, op: arg.op, value, datum };
}

const lo = (v: bigint): number => Number(v & 0xffffffffn);
const hi = (v: bigint): number => Number(v >> 32n);

/**
 * Emits code that falls through when `check` holds and jumps to `fail` when it does not.
 * Clobbers A. With `args32`, compares the low words only.
 */
export function emitArgCheck(asm: Assembler, check: ArgCheck, args32: boolean, fail: Label): void {
  const pass = asm.label();
  const { index, op, value, datum } = check;
  // Orders compare hi words first: a strict difference there decides; equality defers to lo.
  // `hiGreater`/`hiLess` say where to go when the hi word of the argument is above/below.
  const ordered = (hiGreater: Label, hiLess: Label, emitLo: () => void) => {
    if (!args32) {
      const hiNotAbove = asm.label();
      const hiEqual = asm.label();
      asm.load(argHi(index));
      asm.jgt(hi(value), hiGreater, hiNotAbove);
      asm.place(hiNotAbove);
      asm.jeq(hi(value), hiEqual, hiLess);
      asm.place(hiEqual);
    }
    asm.load(argLo(index));
    emitLo();
  };
  switch (op) {
    case 'SCMP_CMP_EQ':
    case 'SCMP_CMP_NE': {
      const [onEq, onNe] = op === 'SCMP_CMP_EQ' ? [pass, fail] : [fail, pass];
      if (!args32) {
        asm.load(argHi(index));
        const next = asm.label();
        asm.jeq(hi(value), next, onNe);
        asm.place(next);
      }
      asm.load(argLo(index));
      asm.jeq(lo(value), onEq, onNe);
      break;
    }
    case 'SCMP_CMP_GT': ordered(pass, fail, () => asm.jgt(lo(value), pass, fail)); break;
    case 'SCMP_CMP_GE': ordered(pass, fail, () => asm.jge(lo(value), pass, fail)); break;
    case 'SCMP_CMP_LE': ordered(fail, pass, () => asm.jgt(lo(value), fail, pass)); break;
    case 'SCMP_CMP_LT': ordered(fail, pass, () => asm.jge(lo(value), fail, pass)); break;
    case 'SCMP_CMP_MASKED_EQ': {
      if (!args32) {
        asm.load(argHi(index));
        asm.and(hi(value));
        const next = asm.label();
        asm.jeq(hi(datum), next, fail);
        asm.place(next);
      }
      asm.load(argLo(index));
      asm.and(lo(value));
      asm.jeq(lo(datum), pass, fail);
      break;
    }
    default:
      throw new Error(`seccomp internal error: operator ${op}`);
  }
  asm.place(pass);
}
