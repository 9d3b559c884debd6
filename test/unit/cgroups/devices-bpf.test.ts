/**
 * The generated BPF_PROG_TYPE_CGROUP_DEVICE program, run by a tiny eBPF interpreter that knows
 * exactly the opcodes devices-bpf.ts emits (and fails on anything else).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { LinuxDeviceCgroup } from '../../../src/oci/spec.js';
import { deviceFilterProgram, OP, BPF_DEVCG_DEV_CHAR, BPF_DEVCG_DEV_BLOCK, BPF_DEVCG_ACC_READ, BPF_DEVCG_ACC_WRITE, BPF_DEVCG_ACC_MKNOD } from '../../../src/cgroups/devices-bpf.js';

/** Runs the program on a bpf_cgroup_dev_ctx; returns r0. */
function run(prog: Uint8Array, type: number, access: number, major: number, minor: number): number {
  const ctx = new DataView(new ArrayBuffer(12));
  ctx.setUint32(0, (access << 16) | type, true);
  ctx.setUint32(4, major, true);
  ctx.setUint32(8, minor, true);
  const code = new DataView(prog.buffer, prog.byteOffset, prog.byteLength);
  const r = new Array<number>(11).fill(0);
  const CTX = -1; // r1 points at ctx
  r[1] = CTX;
  const n = prog.byteLength / 8;
  for (let pc = 0, steps = 0; pc < n; pc++) {
    assert.ok(++steps < 10000, 'program must terminate');
    const op = code.getUint8(pc * 8);
    const regs = code.getUint8(pc * 8 + 1);
    const dst = regs & 0xf;
    const src = regs >> 4;
    const off = code.getInt16(pc * 8 + 2, true);
    const imm = code.getInt32(pc * 8 + 4, true);
    switch (op) {
      case OP.LDXW:
        assert.equal(r[src], CTX, 'loads only from ctx');
        assert.ok(off >= 0 && off <= 8 && off % 4 === 0);
        r[dst] = ctx.getUint32(off, true);
        break;
      case OP.AND32_K: r[dst] = (r[dst]! & imm) >>> 0; break;
      case OP.RSH32_K: r[dst] = r[dst]! >>> imm; break;
      case OP.MOV32_X: r[dst] = r[src]! >>> 0; break;
      case OP.MOV32_K: r[dst] = imm >>> 0; break;
      case OP.JNE_K: if (r[dst] !== imm >>> 0) pc += off; break;
      case OP.JEQ_K: if (r[dst] === imm >>> 0) pc += off; break;
      case OP.JNE_X: if (r[dst] !== r[src]) pc += off; break;
      case OP.EXIT: return r[0]!;
      default: assert.fail(`unexpected opcode 0x${op.toString(16)} at ${pc}`);
    }
    assert.ok(pc + 1 <= n, 'jump stays inside the program');
  }
  return assert.fail('fell off the end of the program');
}

const C = BPF_DEVCG_DEV_CHAR, B = BPF_DEVCG_DEV_BLOCK, R = BPF_DEVCG_ACC_READ, W = BPF_DEVCG_ACC_WRITE, M = BPF_DEVCG_ACC_MKNOD;

/** runc's default rule set (deny all, then the standard char devices). */
const DEFAULT: LinuxDeviceCgroup[] = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, // /dev/null
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }, // /dev/zero
  { allow: true, type: 'c', major: 136, minor: null, access: 'rwm' }, // /dev/pts/*
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rw' }, // /dev/ptmx without mknod
];

test('default rule set: listed devices allowed, everything else denied', () => {
  const p = deviceFilterProgram(DEFAULT);
  assert.equal(p.byteLength % 8, 0);
  assert.equal(run(p, C, R | W, 1, 3), 1);
  assert.equal(run(p, C, M, 1, 5), 1);
  assert.equal(run(p, C, R, 136, 42), 1, 'wildcard minor');
  assert.equal(run(p, C, R | W, 5, 2), 1);
  assert.equal(run(p, C, M, 5, 2), 0, 'mknod not in "rw"');
  assert.equal(run(p, C, R | M, 5, 2), 0, 'partial access is not enough');
  assert.equal(run(p, C, R, 10, 229), 0, '/dev/fuse denied');
  assert.equal(run(p, B, R, 1, 3), 0, 'type must match');
  assert.equal(run(p, B, R, 8, 0), 0);
});

test('later rules win; a deny takes away any access it names', () => {
  const p = deviceFilterProgram([
    { allow: false, access: 'rwm' },
    { allow: true, type: 'c', major: 1, minor: null, access: 'rwm' },
    { allow: false, type: 'c', major: 1, minor: 7, access: 'w' },
  ]);
  assert.equal(run(p, C, R, 1, 7), 1);
  assert.equal(run(p, C, W, 1, 7), 0);
  assert.equal(run(p, C, R | W, 1, 7), 0, 'denying w denies rw');
  assert.equal(run(p, C, R | W, 1, 8), 1);
});

test('without a deny-all the default is allow (as a fresh v1 cgroup); an allow-all resets', () => {
  const p = deviceFilterProgram([{ allow: false, type: 'b', major: 8, minor: null, access: 'w' }]);
  assert.equal(run(p, B, W, 8, 1), 0);
  assert.equal(run(p, B, R, 8, 1), 1);
  assert.equal(run(p, C, R | W, 10, 200), 1);
  const q = deviceFilterProgram([{ allow: false, type: 'c', major: 1, minor: 3 }, { allow: true, type: 'a' }]);
  assert.equal(run(q, C, R, 1, 3), 1, 'rules before the last all-devices rule do not matter');
});

test('encoding: 8-byte little-endian struct bpf_insn, ends with exit', () => {
  const p = deviceFilterProgram(DEFAULT);
  assert.equal(p[0], OP.LDXW);
  assert.equal(p[1], 0x12, 'dst r2 in the low nibble, src r1 in the high nibble');
  assert.equal(p[p.byteLength - 8], OP.EXIT);
  assert.equal(deviceFilterProgram([]).byteLength, 8 * 8, 'prologue + default verdict');
});
