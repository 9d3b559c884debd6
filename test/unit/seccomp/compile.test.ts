// Unit tests of compileSeccomp: compiled programs run in a small BPF interpreter against
// synthetic seccomp_data, for every action, multi-arch and x32 dispatch, and long jumps.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { compileSeccomp, BAD_ARCH_ACTION } from '../../../src/seccomp/compile.js';
import { AUDIT_ARCH_AARCH64, AUDIT_ARCH_ARM, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT } from '../../../src/seccomp/arch.js';
import { FLAGS, ACTIONS, OPERATORS } from '../../../src/seccomp/actions.js';
import { X86_64_SYSCALLS } from '../../../src/seccomp/syscalls/x86_64.js';
import { X86_SYSCALLS } from '../../../src/seccomp/syscalls/x86.js';
import { X32_SYSCALLS } from '../../../src/seccomp/syscalls/x32.js';
import { AARCH64_SYSCALLS } from '../../../src/seccomp/syscalls/aarch64.js';
import { ARM_SYSCALLS } from '../../../src/seccomp/syscalls/arm.js';
import { runFilter, decodeProgram } from '../../support/seccomp-bpf-interp.js';
import type { LinuxSeccomp } from '../../../src/oci/spec.js';

const ALLOW = 0x7fff0000;
const errno = (e: number) => (0x00050000 | e) >>> 0;
const x64 = (name: string, args?: (bigint | number)[]) => ({ nr: X86_64_SYSCALLS[name]!, arch: AUDIT_ARCH_X86_64, args });

test('syscall tables come from the kernel headers', () => {
  assert.equal(X86_64_SYSCALLS.read, 0);
  assert.equal(X86_64_SYSCALLS.mkdir, 83);
  assert.equal(X86_SYSCALLS.mkdir, 39);
  assert.equal(X86_SYSCALLS.socketcall, 102);
  assert.equal(X32_SYSCALLS.read, X32_SYSCALL_BIT);
  assert.equal(X32_SYSCALLS.rt_sigaction, X32_SYSCALL_BIT + 512); // x32's own numbers
  assert.equal(AARCH64_SYSCALLS.mkdirat, 34);
  assert.equal(AARCH64_SYSCALLS.mkdir, undefined);
  assert.equal(ARM_SYSCALLS.set_tls, 0x0f0005);
  for (const t of [X86_64_SYSCALLS, X86_SYSCALLS, AARCH64_SYSCALLS, ARM_SYSCALLS]) assert.equal(t.clone3, 435);
  assert.equal(X32_SYSCALLS.clone3, X32_SYSCALL_BIT + 435);
});

test('features tables', () => {
  assert.ok(ACTIONS.includes('SCMP_ACT_KILL_PROCESS') && !ACTIONS.includes('SCMP_ACT_NOTIFY'));
  assert.equal(OPERATORS.length, 7);
  assert.ok(FLAGS.includes('SECCOMP_FILTER_FLAG_SPEC_ALLOW'));
});

test('each action returns its kernel value', () => {
  const cases: [string, number | undefined, number][] = [
    ['SCMP_ACT_KILL', undefined, 0],
    ['SCMP_ACT_KILL_THREAD', undefined, 0],
    ['SCMP_ACT_KILL_PROCESS', undefined, 0x80000000],
    ['SCMP_ACT_TRAP', undefined, 0x00030000],
    ['SCMP_ACT_ERRNO', undefined, errno(1)],
    ['SCMP_ACT_ERRNO', 38, errno(38)],
    ['SCMP_ACT_TRACE', undefined, 0x7ff00001],
    ['SCMP_ACT_TRACE', 7, 0x7ff00007],
    ['SCMP_ACT_LOG', undefined, 0x7ffc0000],
  ];
  for (const [action, errnoRet, want] of cases) {
    const { program } = compileSeccomp({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mkdir'], action, ...(errnoRet !== undefined ? { errnoRet } : {}) }],
    }, 'x64');
    assert.equal(runFilter(program, x64('mkdir')), want, action);
    assert.equal(runFilter(program, x64('rmdir')), ALLOW, action);
  }
});

test('default action and defaultErrnoRet', () => {
  const { program } = compileSeccomp({
    defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 13, syscalls: [{ names: ['read', 'write', 'openat2'], action: 'SCMP_ACT_ALLOW' }],
  }, 'x64');
  assert.equal(runFilter(program, x64('read')), ALLOW);
  assert.equal(runFilter(program, x64('write')), ALLOW);
  assert.equal(runFilter(program, x64('mkdir')), errno(13));
});

test('unlisted architecture gets the bad-arch action; native is always in', () => {
  const { program } = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] }, 'x64');
  assert.equal(runFilter(program, x64('mkdir')), errno(1));
  assert.equal(runFilter(program, { nr: 39, arch: AUDIT_ARCH_I386 }), BAD_ARCH_ACTION);
  assert.equal(runFilter(program, { nr: 0, arch: AUDIT_ARCH_AARCH64 }), BAD_ARCH_ACTION);
  // x32 numbers under AUDIT_ARCH_X86_64 without an x32 section
  assert.equal(runFilter(program, { nr: X32_SYSCALLS.mkdir!, arch: AUDIT_ARCH_X86_64 }), BAD_ARCH_ACTION);
});

test('multi-arch: each section uses its own numbers', () => {
  const profile: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_S390X'],
    syscalls: [{ names: ['mkdir', 'chown32'], action: 'SCMP_ACT_ERRNO', errnoRet: 30 }],
  };
  const { program } = compileSeccomp(profile, 'x64');
  assert.equal(runFilter(program, x64('mkdir')), errno(30));
  assert.equal(runFilter(program, { nr: X86_SYSCALLS.mkdir!, arch: AUDIT_ARCH_I386 }), errno(30));
  assert.equal(runFilter(program, { nr: X86_SYSCALLS.chown32!, arch: AUDIT_ARCH_I386 }), errno(30));
  // 83 is mkdir on x86_64 but `link`'s neighbour on i386: allowed there
  assert.equal(runFilter(program, { nr: 83, arch: AUDIT_ARCH_I386 }), ALLOW);
  assert.equal(runFilter(program, { nr: X32_SYSCALLS.mkdir!, arch: AUDIT_ARCH_X86_64 }), errno(30));
  assert.equal(runFilter(program, { nr: X32_SYSCALLS.rmdir!, arch: AUDIT_ARCH_X86_64 }), ALLOW);
  assert.equal(runFilter(program, { nr: 0, arch: AUDIT_ARCH_ARM }), BAD_ARCH_ACTION);
});

test('arm64 host: aarch64 and arm sections, x86 names ignored', () => {
  const { program, unknownSyscalls } = compileSeccomp({
    defaultAction: 'SCMP_ACT_ERRNO',
    architectures: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM', 'SCMP_ARCH_X86'],
    syscalls: [{ names: ['mkdir', 'mkdirat', 'set_tls', 'no_such_call'], action: 'SCMP_ACT_ALLOW' }],
  }, 'arm64');
  assert.deepEqual(unknownSyscalls, ['no_such_call']);
  assert.equal(runFilter(program, { nr: AARCH64_SYSCALLS.mkdirat!, arch: AUDIT_ARCH_AARCH64 }), ALLOW);
  assert.equal(runFilter(program, { nr: ARM_SYSCALLS.mkdir!, arch: AUDIT_ARCH_ARM }), ALLOW);
  assert.equal(runFilter(program, { nr: ARM_SYSCALLS.set_tls!, arch: AUDIT_ARCH_ARM }), ALLOW);
  assert.equal(runFilter(program, { nr: ARM_SYSCALLS.rmdir!, arch: AUDIT_ARCH_ARM }), errno(1));
  assert.equal(runFilter(program, { nr: 39, arch: AUDIT_ARCH_I386 }), BAD_ARCH_ACTION);
});

test('rules for one syscall are OR-ed, args within a rule AND-ed, then the unconditional rule', () => {
  const { program } = compileSeccomp({
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }] },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
      {
        names: ['kill'], action: 'SCMP_ACT_LOG', args: [
          { index: 0, value: 100, op: 'SCMP_CMP_GT' }, { index: 1, value: 9, op: 'SCMP_CMP_EQ' }],
      },
      { names: ['kill'], action: 'SCMP_ACT_ALLOW' },
    ],
  }, 'x64');
  assert.equal(runFilter(program, x64('personality', [0])), ALLOW);
  assert.equal(runFilter(program, x64('personality', [8])), ALLOW);
  assert.equal(runFilter(program, x64('personality', [9])), errno(1));
  assert.equal(runFilter(program, x64('kill', [101, 9])), 0x7ffc0000);
  assert.equal(runFilter(program, x64('kill', [101, 15])), ALLOW);
  assert.equal(runFilter(program, x64('kill', [100, 9])), ALLOW);
});

test('a rule with the default action is dropped; of two unconditional actions the first wins', () => {
  const same = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] }, 'x64');
  const empty = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW' }, 'x64');
  assert.deepEqual(same.program, empty.program);
  // ld arch, jeq x86_64, ret bad-arch, ld nr, jge x32-bit, ret default, ret bad-arch (x32)
  assert.equal(decodeProgram(empty.program).length, 7);
  // podman's default profile lists setns as ALLOW and again as ERRNO; libseccomp (runc, crun)
  // keeps the first action, and so does Berth.
  const twice = compileSeccomp({
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['read'], action: 'SCMP_ACT_LOG' }, { names: ['read'], action: 'SCMP_ACT_TRAP' }],
  }, 'x64');
  const logOnly = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_LOG' }] }, 'x64');
  assert.equal(runFilter(twice.program, x64('read', [0])), runFilter(logOnly.program, x64('read', [0])));
  assert.notEqual(runFilter(twice.program, x64('read', [0])), ALLOW);
});

test('flags and unsupported features', () => {
  const r = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'] }, 'x64');
  assert.equal(r.flags, 7);
  assert.throws(() => compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_NEW_LISTENER'] }, 'x64'), { code: 'EUNSUPPORTED' });
  assert.throws(() => compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['BOGUS'] }, 'x64'), { code: 'EINVALID_CONFIG', message: /flags\[0\]/ });
  assert.throws(() => compileSeccomp({ defaultAction: 'SCMP_ACT_NOTIFY' }, 'x64'), { code: 'EUNSUPPORTED' });
  assert.throws(() => compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_NOTIFY' }] }, 'x64'), { code: 'EUNSUPPORTED' });
  assert.throws(() => compileSeccomp({ defaultAction: 'SCMP_ACT_NOPE' }, 'x64'), { code: 'EINVALID_CONFIG', message: /defaultAction/ });
  assert.throws(() => compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_KILL', errnoRet: 3 }] }, 'x64'), { code: 'EINVALID_CONFIG', message: /errnoRet/ });
  assert.throws(() => compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_VAX'] }, 'x64'), { code: 'EINVALID_CONFIG', message: /architectures\[0\]/ });
  assert.throws(() => compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW' }, 'sparc'), { code: 'EUNSUPPORTED' });
  assert.throws(() => compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_KILL', args: [{ index: 6, value: 0, op: 'SCMP_CMP_EQ' }] }] }, 'x64'), { code: 'EINVALID_CONFIG', message: /args\[0\]\.index/ });
});

test('long jumps: bodies over 255 instructions go through ja trampolines', () => {
  // 60 syscalls, each with a 5-argument rule (~23 instructions per syscall): the skip over each
  // earlier syscall body and the dispatch to the x32 section all exceed 255 instructions.
  const names = Object.keys(X86_64_SYSCALLS).slice(0, 60);
  const args = [0, 1, 2, 3, 4].map((index) => ({ index, value: 0x1_0000_0000 + index, op: 'SCMP_CMP_EQ' }));
  const { program } = compileSeccomp({
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X32'],
    syscalls: [{ names, action: 'SCMP_ACT_ERRNO', args }, { names: ['mkdir'], action: 'SCMP_ACT_TRAP' }],
  }, 'x64');
  const insns = decodeProgram(program);
  assert.ok(insns.length > 2 * 255, `${insns.length} instructions`);
  assert.ok(insns.some((i) => i.code === 0x05 && i.k > 255), 'has a long ja');
  const hit = [0x1_0000_0000n, 0x1_0000_0001n, 0x1_0000_0002n, 0x1_0000_0003n, 0x1_0000_0004n];
  for (const name of names) {
    assert.equal(runFilter(program, x64(name, hit)), errno(1), name);
    assert.equal(runFilter(program, x64(name, [...hit.slice(0, 4), 4n])), ALLOW, name);
    const nr32 = X32_SYSCALLS[name];
    if (nr32 !== undefined) assert.equal(runFilter(program, { nr: nr32, arch: AUDIT_ARCH_X86_64, args: [0, 1, 2, 3, 4] }), errno(1), `x32 ${name}`);
  }
  assert.equal(runFilter(program, { nr: X32_SYSCALLS.mkdir!, arch: AUDIT_ARCH_X86_64 }), 0x00030000);
});

test('more than 4096 instructions is refused with a clear error', () => {
  const names = Object.keys(X86_64_SYSCALLS);
  const args = [0, 1, 2, 3, 4, 5].map((index) => ({ index, value: 2 ** 40, op: 'SCMP_CMP_LT' }));
  assert.throws(() => compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names, action: 'SCMP_ACT_KILL', args }] }, 'x64'),
    { code: 'EINVALID_CONFIG', message: /4096/ });
});

test('syscalls newer than any the profile names fail with ENOSYS unless the default allows', () => {
  const profile: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ERRNO',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X32'],
    syscalls: [{ names: ['read', 'openat2'], action: 'SCMP_ACT_ALLOW' }, { names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }],
  };
  const { program } = compileSeccomp(profile, 'x64');
  assert.equal(runFilter(program, x64('openat2')), ALLOW);
  assert.equal(runFilter(program, x64('mount')), errno(1)); // older than openat2 (437): default
  assert.equal(runFilter(program, x64('clone3')), errno(1)); // 435
  assert.equal(runFilter(program, x64('close_range')), errno(1)); // 436
  assert.equal(runFilter(program, x64('faccessat2')), errno(38)); // 439 > 437
  assert.equal(runFilter(program, { nr: 1000, arch: AUDIT_ARCH_X86_64 }), errno(38));
  assert.equal(runFilter(program, { nr: X32_SYSCALLS.faccessat2!, arch: AUDIT_ARCH_X86_64 }), errno(38));
  assert.equal(runFilter(program, { nr: X32_SYSCALLS.clone3!, arch: AUDIT_ARCH_X86_64 }), errno(1));
  const allow = compileSeccomp({ ...profile, defaultAction: 'SCMP_ACT_ALLOW' }, 'x64').program;
  assert.equal(runFilter(allow, x64('faccessat2')), ALLOW);
  assert.equal(runFilter(allow, x64('mkdir')), errno(1));
});
