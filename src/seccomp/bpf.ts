/**
 * A small classic-BPF assembler for seccomp filters: instructions jump to labels, and
 * `assemble()` resolves them into `struct sock_filter` bytes.
 *
 * Classic BPF conditional jumps carry 8-bit offsets (jt, jf ≤ 255 instructions forward) and can
 * only jump forward. When a label is further away, the assembler retargets the branch to a
 * trampoline — an unconditional `ja` (32-bit offset) inserted right after the jump — and repeats
 * layout until every offset fits (inserting only ever lengthens distances, so this terminates).
 */
import { BerthError } from '../util/errors.js';

/** linux/filter.h opcodes, the only ones the compiler emits. */
export const BPF = {
  LD_W_ABS: 0x20, // A = *(u32 *)(seccomp_data + k)
  ALU_AND_K: 0x54, // A &= k
  JMP_JA: 0x05, // pc += k
  JMP_JEQ_K: 0x15, // pc += (A == k) ? jt : jf
  JMP_JGT_K: 0x25, // pc += (A > k) ? jt : jf   (unsigned)
  JMP_JGE_K: 0x35, // pc += (A >= k) ? jt : jf  (unsigned)
  RET_K: 0x06, // return k
} as const;

/** The kernel rejects filters longer than this (BPF_MAXINSNS in linux/bpf_common.h). */
export const BPF_MAXINSNS = 4096;

/** Size of one `struct sock_filter` {u16 code; u8 jt; u8 jf; u32 k}. */
export const SOCK_FILTER_SIZE = 8;

/** A position in the program, bound with `Assembler.place`. */
export interface Label {
  readonly id: number;
}

type Item =
  | { kind: 'op'; code: number; k: number }
  | { kind: 'jcond'; code: number; k: number; jt: Label; jf: Label }
  | { kind: 'ja'; target: Label }
  | { kind: 'label'; label: Label };

/** Builds one program; see the module comment. */
export class Assembler {
  private items: Item[] = [];
  private nextLabel = 0;

  /** A new, unplaced label. */
  label(): Label {
    return { id: this.nextLabel++ };
  }

  /** Binds `label` to the next instruction emitted. */
  place(label: Label): void {
    this.items.push({ kind: 'label', label });
  }

  /** A = the 32-bit word at byte `offset` of struct seccomp_data. */
  load(offset: number): void {
    this.items.push({ kind: 'op', code: BPF.LD_W_ABS, k: offset });
  }

  /** A &= k. */
  and(k: number): void {
    this.items.push({ kind: 'op', code: BPF.ALU_AND_K, k: k >>> 0 });
  }

  /** Returns the seccomp action `k`. */
  ret(k: number): void {
    this.items.push({ kind: 'op', code: BPF.RET_K, k: k >>> 0 });
  }

  /** Jumps to `jt` when A == k, else to `jf`. */
  jeq(k: number, jt: Label, jf: Label): void {
    this.items.push({ kind: 'jcond', code: BPF.JMP_JEQ_K, k: k >>> 0, jt, jf });
  }

  /** Jumps to `jt` when A > k (unsigned), else to `jf`. */
  jgt(k: number, jt: Label, jf: Label): void {
    this.items.push({ kind: 'jcond', code: BPF.JMP_JGT_K, k: k >>> 0, jt, jf });
  }

  /** Jumps to `jt` when A >= k (unsigned), else to `jf`. */
  jge(k: number, jt: Label, jf: Label): void {
    this.items.push({ kind: 'jcond', code: BPF.JMP_JGE_K, k: k >>> 0, jt, jf });
  }

  /** Jumps to `target` unconditionally. */
  ja(target: Label): void {
    this.items.push({ kind: 'ja', target });
  }

  /** Resolves labels, inserts trampolines, checks BPF_MAXINSNS, and encodes the program. */
  assemble(): Buffer {
    let items = this.items;
    for (;;) {
      const pos = positions(items);
      const out: Item[] = [];
      let changed = false;
      for (const [i, item] of items.entries()) {
        if (item.kind !== 'jcond') {
          out.push(item);
          continue;
        }
        const at = pos.insn[i]!;
        const far = (l: Label) => target(pos, l) - at - 1 > 255;
        if (!far(item.jt) && !far(item.jf)) {
          out.push(item);
          continue;
        }
        // Route each far branch through a `ja` placed directly after this jump.
        changed = true;
        const fixed = { ...item };
        const tramps: Item[] = [];
        for (const side of ['jt', 'jf'] as const) {
          if (!far(item[side])) continue;
          const t = this.label();
          fixed[side] = t;
          tramps.push({ kind: 'label', label: t }, { kind: 'ja', target: item[side] });
        }
        out.push(fixed, ...tramps);
      }
      items = out;
      if (!changed) break;
    }
    const pos = positions(items);
    if (pos.count > BPF_MAXINSNS) {
      throw new BerthError('EINVALID_CONFIG',
        `seccomp: the filter needs ${pos.count} bpf instructions, more than the kernel's limit of ${BPF_MAXINSNS}; list fewer syscalls or argument rules`);
    }
    const buf = Buffer.alloc(pos.count * SOCK_FILTER_SIZE);
    let n = 0;
    for (const [i, item] of items.entries()) {
      if (item.kind === 'label') continue;
      const at = pos.insn[i]!;
      const rel = (l: Label) => {
        const off = target(pos, l) - at - 1;
        if (off < 0) throw new Error(`seccomp internal error: backward jump at instruction ${at}`);
        return off;
      };
      let code: number, jt = 0, jf = 0, k: number;
      if (item.kind === 'op') ({ code, k } = item);
      else if (item.kind === 'ja') [code, k] = [BPF.JMP_JA, rel(item.target)];
      else [code, k, jt, jf] = [item.code, item.k, rel(item.jt), rel(item.jf)];
      const o = n++ * SOCK_FILTER_SIZE;
      buf.writeUInt16LE(code, o);
      buf.writeUInt8(jt, o + 2);
      buf.writeUInt8(jf, o + 3);
      buf.writeUInt32LE(k >>> 0, o + 4);
    }
    return buf;
  }
}

interface Positions {
  /** Instruction index of each item (for labels: of the instruction after them). */
  insn: number[];
  byLabel: Map<number, number>;
  count: number;
}

function positions(items: readonly Item[]): Positions {
  const insn: number[] = [];
  const byLabel = new Map<number, number>();
  let n = 0;
  for (const item of items) {
    insn.push(n);
    if (item.kind === 'label') byLabel.set(item.label.id, n);
    else n++;
  }
  return { insn, byLabel, count: n };
}

function target(pos: Positions, l: Label): number {
  const t = pos.byLabel.get(l.id);
  if (t === undefined) throw new Error(`seccomp internal error: label ${l.id} never placed`);
  return t;
}
