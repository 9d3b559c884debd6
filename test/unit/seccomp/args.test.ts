// Argument comparisons checked against a BigInt reference over edge values that differ in the
// high word, the low word, or both — the cases a 32-bit-at-a-time comparison gets wrong.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { compileSeccomp } from '../../../src/seccomp/compile.js';
import { toU64 } from '../../../src/seccomp/args.js';
import { AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT } from '../../../src/seccomp/arch.js';
import { X86_64_SYSCALLS } from '../../../src/seccomp/syscalls/x86_64.js';
import { X86_SYSCALLS } from '../../../src/seccomp/syscalls/x86.js';
import { X32_SYSCALLS } from '../../../src/seccomp/syscalls/x32.js';
import { runFilter } from '../../support/seccomp-bpf-interp.js';

const HIT = 0x00050000 | 99;
const MISS = 0x7fff0000;
const EDGES = [
  0n, 1n, 2n, 0x7fffffffn, 0x80000000n, 0xfffffffen, 0xffffffffn, 0x1_00000000n, 0x1_00000001n,
  0x1_fffffffen, 0x2_00000000n, 0x7fffffff_ffffffffn, 0x80000000_00000000n, 0xffffffff_00000000n,
  0xffffffff_fffffffen, 0xffffffff_ffffffffn, 0x12345678_9abcdef0n,
];
const REF: Record<string, (x: bigint, v: bigint, d: bigint) => boolean> = {
  SCMP_CMP_EQ: (x, v) => x === v,
  SCMP_CMP_NE: (x, v) => x !== v,
  SCMP_CMP_LT: (x, v) => x < v,
  SCMP_CMP_LE: (x, v) => x <= v,
  SCMP_CMP_GT: (x, v) => x > v,
  SCMP_CMP_GE: (x, v) => x >= v,
  SCMP_CMP_MASKED_EQ: (x, v, d) => (x & v) === d,
};

function profile(op: string, value: bigint, index: number, datum?: bigint) {
  return {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [{
      names: ['ioctl'], action: 'SCMP_ACT_ERRNO', errnoRet: 99,
      // bigint values are accepted at run time (a bigint-aware JSON parser can give them)
      args: [{ index, value: value as unknown as number, op, ...(datum !== undefined ? { valueTwo: datum as unknown as number } : {}) }],
    }],
  };
}

for (const op of Object.keys(REF)) {
  test(`64-bit ${op} on x86_64 matches the reference`, () => {
    for (const v of EDGES) {
      const datum = op === 'SCMP_CMP_MASKED_EQ' ? v & 0x00000001_00000001n : undefined;
      const index = Number(v % 6n);
      const { program } = compileSeccomp(profile(op, v, index, datum), 'x64');
      for (const x of EDGES) {
        const args = [0n, 0n, 0n, 0n, 0n, 0n];
        args[index] = x;
        const got = runFilter(program, { nr: X86_64_SYSCALLS.ioctl!, arch: AUDIT_ARCH_X86_64, args });
        assert.equal(got, REF[op]!(x, v, datum ?? 0n) ? HIT : MISS, `${op} x=0x${x.toString(16)} v=0x${v.toString(16)}`);
      }
    }
  });
}

test('32-bit architectures compare the low word only (as libseccomp)', () => {
  const { program } = compileSeccomp(profile('SCMP_CMP_EQ', 0xffffffff_ffffffffn, 0), 'x64');
  // (int)-1 arrives zero-extended on i386 and still matches a rule written as -1
  assert.equal(runFilter(program, { nr: X86_SYSCALLS.ioctl!, arch: AUDIT_ARCH_I386, args: [0xffffffffn] }), HIT);
  assert.equal(runFilter(program, { nr: X32_SYSCALLS.ioctl!, arch: AUDIT_ARCH_X86_64, args: [0xffffffffn] }), HIT);
  assert.equal(runFilter(program, { nr: X86_64_SYSCALLS.ioctl!, arch: AUDIT_ARCH_X86_64, args: [0xffffffffn] }), MISS);
  assert.equal(runFilter(program, { nr: X86_SYSCALLS.ioctl!, arch: AUDIT_ARCH_I386, args: [0xfffffffen] }), MISS);
  const gt = compileSeccomp(profile('SCMP_CMP_GT', 10n, 2), 'x64').program;
  assert.equal(runFilter(gt, { nr: X86_SYSCALLS.ioctl!, arch: AUDIT_ARCH_I386, args: [0, 0, 11] }), HIT);
  assert.equal(runFilter(gt, { nr: X86_SYSCALLS.ioctl!, arch: AUDIT_ARCH_I386, args: [0, 0, 10] }), MISS);
  assert.ok(X32_SYSCALLS.ioctl! >= X32_SYSCALL_BIT);
});

test('JSON numbers become unsigned 64-bit values', () => {
  assert.equal(toU64(-1, 'f'), 0xffffffff_ffffffffn);
  assert.equal(toU64(JSON.parse('18446744073709551615'), 'f'), 0xffffffff_ffffffffn);
  assert.equal(toU64(4294967295, 'f'), 0xffffffffn);
  assert.throws(() => toU64(1.5, 'linux.seccomp.syscalls[0].args[0].value'), { code: 'EINVALID_CONFIG', message: /args\[0\]\.value/ });
  assert.throws(() => toU64(2 ** 65, 'f'), { code: 'EINVALID_CONFIG' });
});
