// Compiled programs loaded into the real kernel: a static C loader (test/support/seccomp-load.c,
// built here with `cc -static`) installs the filter with PR_SET_NO_NEW_PRIVS + seccomp() and
// execs busybox, as berth's native helper will.
import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileSeccomp } from '../../../src/seccomp/compile.js';
import { dockerDefaultProfile } from '../../../src/seccomp/docker-default.js';
import { X86_64_SYSCALLS } from '../../../src/seccomp/syscalls/x86_64.js';
import type { LinuxSeccomp } from '../../../src/oci/spec.js';

// dist/test/integration/seccomp -> repository root
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const SOURCE = join(ROOT, 'test/support/seccomp-load.c');
const BUSYBOX = ['/usr/bin/busybox', '/bin/busybox'].find((p) => existsSync(p));
const kernelHasSeccomp = /^Seccomp:/m.test(readFileSync('/proc/self/status', 'utf8'));

let dir = '';
let loader = '';
let skip: string | false = false;
if (!BUSYBOX) skip = 'busybox is not installed (apt-get install busybox-static)';
else if (!kernelHasSeccomp) skip = 'kernel without CONFIG_SECCOMP_FILTER';
else if (process.arch !== 'x64' && process.arch !== 'arm64') skip = `untested host architecture ${process.arch}`;

before(() => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'berth-test-seccomp-'));
  loader = join(dir, 'seccomp-load');
  const cc = spawnSync('cc', ['-static', '-O2', '-o', loader, SOURCE], { encoding: 'utf8' });
  if (cc.error || cc.status !== 0) skip = `cannot build the static loader: ${cc.error?.message ?? cc.stderr.trim()}`;
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Compiles `profile`, loads it, runs busybox `args` (or the loader's `@syscall`); returns exit status and output. */
function runUnder(profile: LinuxSeccomp, args: string[]) {
  const { program, flags } = compileSeccomp(profile);
  const file = join(dir, `prog-${Math.random().toString(36).slice(2)}.bpf`);
  writeFileSync(file, program);
  const cmd = args[0] === '@syscall' ? args : [BUSYBOX!, ...args];
  const r = spawnSync(loader, [file, String(flags), ...cmd], { encoding: 'utf8', timeout: 10_000 });
  return { status: r.status, signal: r.signal, out: r.stdout, err: r.stderr };
}

test('ERRNO(EPERM) on mkdir makes busybox mkdir fail with "Operation not permitted"', (t) => {
  if (skip) return t.skip(skip);
  const target = join(dir, 'made');
  const profile: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
  };
  const r = runUnder(profile, ['mkdir', target]);
  assert.notEqual(r.status, 0);
  assert.match(r.err, /Operation not permitted/);
  assert.equal(existsSync(target), false);
  // control: without the rule the same command works
  const ok = runUnder({ defaultAction: 'SCMP_ACT_ALLOW' }, ['mkdir', target]);
  assert.equal(ok.status, 0, ok.err);
  assert.equal(existsSync(target), true);
});

test('an argument rule denies personality(PER_LINUX32) only', (t) => {
  if (skip) return t.skip(skip);
  const profile: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] }],
  };
  const denied = runUnder(profile, ['linux32', BUSYBOX!, 'true']);
  assert.notEqual(denied.status, 0);
  assert.match(denied.err, /Operation not permitted/);
  const allowed = runUnder(profile, ['linux64', BUSYBOX!, 'true']); // personality(PER_LINUX)
  assert.equal(allowed.status, 0, allowed.err);
});

test('64-bit argument values are compared in full by the real kernel', (t) => {
  if (skip) return t.skip(skip);
  // personality's argument travels in a 64-bit register, so a raw syscall can set the high word.
  const nr = String(X86_64_SYSCALLS.personality);
  if (process.arch !== 'x64') return t.skip('raw syscall numbers here are x86_64 ones');
  const profile: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [
      { names: ['personality'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, args: [{ index: 0, value: 0xffffffff, op: 'SCMP_CMP_EQ' }] },
      { names: ['personality'], action: 'SCMP_ACT_ERRNO', errnoRet: 22, args: [{ index: 0, value: 0x1_0000_0000, op: 'SCMP_CMP_GE' }] },
    ],
  };
  const call = (arg: string) => runUnder(profile, ['@syscall', nr, arg]).out.trim();
  assert.equal(call('0xffffffff'), 'Operation not permitted');
  assert.equal(call('0'), 'ok');
  assert.equal(call('0x1ffffffff'), 'Invalid argument');
  assert.equal(call('0xfffffffe'), 'ok');
});

test('SCMP_ACT_KILL_PROCESS kills with SIGSYS', (t) => {
  if (skip) return t.skip(skip);
  const r = runUnder({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_KILL_PROCESS' }] },
    ['mkdir', join(dir, 'never')]);
  assert.equal(r.signal, 'SIGSYS');
});

test("Docker's default profile still runs busybox sh -c 'echo ok'", (t) => {
  if (skip) return t.skip(skip);
  const profile = dockerDefaultProfile(['CAP_CHOWN', 'CAP_SETUID', 'CAP_SETGID', 'CAP_KILL']);
  const r = runUnder(profile, ['sh', '-c', 'echo ok; mkdir ' + join(dir, 'docker-ok')]);
  assert.equal(r.status, 0, r.err);
  assert.equal(r.out, 'ok\n');
  // and it still denies what Docker denies: unshare without CAP_SYS_ADMIN
  const u = runUnder(profile, ['unshare', '-U', 'true']);
  assert.notEqual(u.status, 0);
  assert.match(u.err, /Operation not permitted/);
});
