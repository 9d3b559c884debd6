/**
 * A tiny classic-BPF interpreter for seccomp programs, covering only the instructions Berth's
 * compiler emits (ld abs word, and k, ja, jeq/jgt/jge k, ret k). It runs a program against a
 * synthetic struct seccomp_data and returns the filter's 32-bit verdict, checking on the way
 * what the kernel's checker (seccomp_check_filter / bpf_check_classic) would reject.
 */

/** The fields of struct seccomp_data a test sets; args are 64-bit. */
export interface SeccompData {
  nr: number;
  arch: number;
  instructionPointer?: bigint;
  args?: (bigint | number)[];
}

/** Encodes seccomp_data as the kernel lays it out on a little-endian machine (64 bytes). */
export function encodeSeccompData(d: SeccompData): Buffer {
  const b = Buffer.alloc(64);
  b.writeUInt32LE(d.nr >>> 0, 0);
  b.writeUInt32LE(d.arch >>> 0, 4);
  b.writeBigUInt64LE(d.instructionPointer ?? 0n, 8);
  for (let i = 0; i < 6; i++) b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(d.args?.[i] ?? 0)), 16 + 8 * i);
  return b;
}

/** Runs `program` on `data`; returns the unsigned return value. Throws on anything the kernel would refuse. */
export function runFilter(program: Buffer, data: SeccompData): number {
  if (program.length % 8 !== 0 || program.length === 0) throw new Error('program size is not a multiple of 8');
  const n = program.length / 8;
  if (n > 4096) throw new Error(`program has ${n} instructions`);
  const mem = encodeSeccompData(data);
  let a = 0;
  for (let pc = 0, steps = 0; pc < n; pc++, steps++) {
    if (steps > n) throw new Error('loop detected');
    const o = pc * 8;
    const code = program.readUInt16LE(o);
    const jt = program.readUInt8(o + 2);
    const jf = program.readUInt8(o + 3);
    const k = program.readUInt32LE(o + 4);
    const jump = (off: number) => {
      if (pc + 1 + off >= n) throw new Error(`jump out of program at ${pc}`);
      pc += off;
    };
    switch (code) {
      case 0x20: // BPF_LD|BPF_W|BPF_ABS
        if (k % 4 !== 0 || k + 4 > 64) throw new Error(`bad load offset ${k} at ${pc}`);
        a = mem.readUInt32LE(k);
        break;
      case 0x54: a = (a & k) >>> 0; break; // BPF_ALU|BPF_AND|BPF_K
      case 0x05: jump(k); break; // BPF_JMP|BPF_JA
      case 0x15: jump(a === k ? jt : jf); break;
      case 0x25: jump(a > k ? jt : jf); break;
      case 0x35: jump(a >= k ? jt : jf); break;
      case 0x06: return k; // BPF_RET|BPF_K
      default: throw new Error(`unexpected opcode 0x${code.toString(16)} at ${pc}`);
    }
  }
  throw new Error('fell off the end of the program');
}

/** Decodes a program into `{code, jt, jf, k}` rows, for assertions on layout. */
export function decodeProgram(program: Buffer): { code: number; jt: number; jf: number; k: number }[] {
  const out = [];
  for (let o = 0; o < program.length; o += 8) {
    out.push({ code: program.readUInt16LE(o), jt: program.readUInt8(o + 2), jf: program.readUInt8(o + 3), k: program.readUInt32LE(o + 4) });
  }
  return out;
}
