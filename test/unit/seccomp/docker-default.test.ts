// Docker's default profile: compiles under BPF_MAXINSNS for every host and capability set, and
// keeps Docker's decisions (personality personas, clone namespace flags, clone3 ENOSYS, caps).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { compileSeccomp } from '../../../src/seccomp/compile.js';
import { dockerDefaultProfile } from '../../../src/seccomp/docker-default.js';
import { AUDIT_ARCH_AARCH64, AUDIT_ARCH_ARM, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64 } from '../../../src/seccomp/arch.js';
import { X86_64_SYSCALLS } from '../../../src/seccomp/syscalls/x86_64.js';
import { X86_SYSCALLS } from '../../../src/seccomp/syscalls/x86.js';
import { X32_SYSCALLS } from '../../../src/seccomp/syscalls/x32.js';
import { AARCH64_SYSCALLS } from '../../../src/seccomp/syscalls/aarch64.js';
import { ARM_SYSCALLS } from '../../../src/seccomp/syscalls/arm.js';
import { runFilter } from '../../support/seccomp-bpf-interp.js';

const ALLOW = 0x7fff0000;
const EPERM = 0x00050001;
const ENOSYS = 0x00050026;
const DEFAULT_CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE'];
const ALL_CAPS = [...DEFAULT_CAPS, 'CAP_SYS_ADMIN', 'CAP_SYS_PTRACE', 'CAP_SYS_BOOT', 'CAP_SYS_MODULE', 'CAP_SYS_TIME',
  'CAP_SYS_NICE', 'CAP_SYSLOG', 'CAP_BPF', 'CAP_PERFMON', 'CAP_SYS_RAWIO', 'CAP_SYS_PACCT', 'CAP_DAC_READ_SEARCH', 'CAP_SYS_TTY_CONFIG'];

test('compiles under 4096 instructions on every host, with any capabilities', () => {
  for (const arch of ['x64', 'arm64', 'arm', 'ia32']) {
    for (const caps of [[], DEFAULT_CAPS, ALL_CAPS]) {
      const { program, unknownSyscalls } = compileSeccomp(dockerDefaultProfile(caps, arch), arch);
      const insns = program.length / 8;
      assert.ok(insns < 4096, `${arch}: ${insns} instructions`);
      assert.ok(!unknownSyscalls.includes('read'));
    }
  }
});

test('x86_64 with Docker default capabilities', () => {
  const { program } = compileSeccomp(dockerDefaultProfile(DEFAULT_CAPS, 'x64'), 'x64');
  const call = (name: string, args: number[] = []) => runFilter(program, { nr: X86_64_SYSCALLS[name]!, arch: AUDIT_ARCH_X86_64, args });
  for (const name of ['read', 'write', 'execve', 'mkdir', 'arch_prctl', 'chroot', 'ptrace', 'rseq', 'futex_waitv']) assert.equal(call(name), ALLOW, name);
  for (const name of ['mount', 'unshare', 'reboot', 'kexec_load', 'bpf', 'add_key', 'init_module', 'open_by_handle_at']) assert.equal(call(name), EPERM, name);
  for (const p of [0, 8, 0x20000, 0x20008, 0xffffffff]) assert.equal(call('personality', [p]), ALLOW, `personality ${p}`);
  assert.equal(call('personality', [0x0040000]), EPERM); // READ_IMPLIES_EXEC
  assert.equal(call('socket', [2]), ALLOW);
  assert.equal(call('socket', [40]), EPERM); // AF_VSOCK
  assert.equal(call('clone', [0x01200011]), ALLOW); // fork-like clone (CLONE_CHILD_SETTID|CLEARTID|SIGCHLD)
  assert.equal(call('clone', [0x10000000 | 17]), EPERM); // CLONE_NEWUSER
  assert.equal(call('clone3'), ENOSYS);
  // i386 and x32 sections are present too
  assert.equal(runFilter(program, { nr: X86_SYSCALLS.socketcall!, arch: AUDIT_ARCH_I386 }), ALLOW);
  assert.equal(runFilter(program, { nr: X86_SYSCALLS.mount!, arch: AUDIT_ARCH_I386 }), EPERM);
  assert.equal(runFilter(program, { nr: X32_SYSCALLS.read!, arch: AUDIT_ARCH_X86_64 }), ALLOW);
  assert.equal(runFilter(program, { nr: 0, arch: AUDIT_ARCH_AARCH64 }), 0);
});

test('capabilities open their groups', () => {
  const { program } = compileSeccomp(dockerDefaultProfile(['CAP_SYS_ADMIN', 'CAP_SYS_PTRACE'], 'x64'), 'x64');
  const call = (name: string, args: number[] = []) => runFilter(program, { nr: X86_64_SYSCALLS[name]!, arch: AUDIT_ARCH_X86_64, args });
  for (const name of ['mount', 'unshare', 'setns', 'clone3', 'kcmp', 'pidfd_getfd']) assert.equal(call(name), ALLOW, name);
  assert.equal(call('clone', [0x10000000 | 17]), ALLOW);
  assert.equal(call('reboot'), EPERM);
});

test('arm64 host: aarch64 and arm sections with arm-only syscalls', () => {
  const { program } = compileSeccomp(dockerDefaultProfile(DEFAULT_CAPS, 'arm64'), 'arm64');
  assert.equal(runFilter(program, { nr: AARCH64_SYSCALLS.openat!, arch: AUDIT_ARCH_AARCH64 }), ALLOW);
  assert.equal(runFilter(program, { nr: AARCH64_SYSCALLS.mount!, arch: AUDIT_ARCH_AARCH64 }), EPERM);
  assert.equal(runFilter(program, { nr: ARM_SYSCALLS.set_tls!, arch: AUDIT_ARCH_ARM }), ALLOW);
  assert.equal(runFilter(program, { nr: ARM_SYSCALLS.cacheflush!, arch: AUDIT_ARCH_ARM }), ALLOW);
  assert.equal(runFilter(program, { nr: 0, arch: AUDIT_ARCH_X86_64 }), 0);
});

test('every syscall number gets the verdict of the profile\'s rules (the search over number ranges misses none)', () => {
  // An independent reading of the profile: for each number of each section, the first
  // unconditional rule (with an action other than the default) that names it; a number named
  // only by rules with arguments is checked by the tests above; an unnamed one gets the default
  // action, or ENOSYS above the highest number the profile names.
  const sections = [
    { host: 'x64', arch: AUDIT_ARCH_X86_64, table: X86_64_SYSCALLS, base: 0 },
    { host: 'x64', arch: AUDIT_ARCH_X86_64, table: X32_SYSCALLS, base: 0x40000000 },
    { host: 'x64', arch: AUDIT_ARCH_I386, table: X86_SYSCALLS, base: 0 },
    { host: 'arm64', arch: AUDIT_ARCH_AARCH64, table: AARCH64_SYSCALLS, base: 0 },
    { host: 'arm64', arch: AUDIT_ARCH_ARM, table: ARM_SYSCALLS, base: 0 },
  ];
  for (const caps of [DEFAULT_CAPS, ALL_CAPS]) {
    for (const s of sections) {
      const profile = dockerDefaultProfile(caps, s.host);
      const { program } = compileSeccomp(profile, s.host);
      const byNr = new Map<number, string[]>();
      for (const [name, nr] of Object.entries(s.table)) byNr.set(nr, [...(byNr.get(nr) ?? []), name]);
      const named = (profile.syscalls ?? []).flatMap((r) => r.names).map((n) => s.table[n]).filter((n): n is number => n !== undefined);
      const last = Math.max(...named);
      for (let nr = s.base; nr < s.base + 1100; nr++) {
        const names = byNr.get(nr) ?? [];
        const isDefault = (r: { action: string; errnoRet?: number }) => r.action === profile.defaultAction && (r.errnoRet ?? 1) === (profile.defaultErrnoRet ?? 1);
        const rules = (profile.syscalls ?? []).filter((r) => r.names.some((n) => names.includes(n)) && !isDefault(r));
        if (rules.some((r) => r.args?.length)) continue;
        const want = rules[0] ? (rules[0].action === 'SCMP_ACT_ALLOW' ? ALLOW : (0x00050000 | (rules[0].errnoRet ?? 1)) >>> 0)
          : nr > last ? ENOSYS : EPERM;
        assert.equal(runFilter(program, { nr, arch: s.arch }), want, `${s.host} arch ${s.arch.toString(16)} nr ${nr} (${names.join(' ') || 'unnamed'})`);
      }
    }
  }
});
