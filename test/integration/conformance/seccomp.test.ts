/**
 * Conformance: `linux.seccomp` (runtime-tools' linux_seccomp program and runtimetest's
 * validateSeccomp): a profile that denies chosen syscalls with an errno, allows the rest, and
 * is in force (Seccomp: 2) for the container's process, as root and as another user without
 * no_new_privs (the filter is then loaded while the process still has CAP_SYS_ADMIN).
 */
import * as assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Spec } from '../../../src/oci/spec.js';
import { whyNotRoot } from '../../support/bundle.js';
import { keyValues, runScript, section, useHarness, type Sections } from './support.js';

const skip = whyNotRoot();

const SCRIPT = [
  section('mkdir'), 'probe syscall mkdir /tmp/denied',
  section('mkdirat'), 'probe syscall mkdirat /tmp/denied',
  section('rmdir'), 'probe syscall rmdir /tmp/no-such-dir',
  section('allowed'), 'probe cwd',
  section('caps'), 'probe caps',
].join('\n');

const profile = (s: Spec) => {
  s.root!.readonly = false;
  s.linux!.seccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [
      { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
      // (not getcwd, as runtimetest does: runc 1.1 calls it after loading the filter and fails)
      { names: ['rmdir'], action: 'SCMP_ACT_ERRNO' },
    ],
  };
};

describe('conformance: seccomp', { skip }, () => {
  const h = useHarness();
  for (const [name, mutate] of [
    ['as root with no_new_privs', profile],
    ['as uid 1000 without no_new_privs', (s: Spec) => {
      profile(s);
      s.process!.user = { uid: 1000, gid: 1000 };
      s.process!.noNewPrivileges = false;
    }],
  ] as const) {
    describe(name, () => {
      let out: Sections;
      before(async () => { out = await runScript(h, SCRIPT, mutate); });
      test('the run succeeds', () => assert.equal(out.result.code, 0, out.result.stderr));
      test('denied syscalls fail with errnoRet (EACCES)', () => {
        assert.equal(out.get('mkdir'), 'EACCES');
        assert.equal(out.get('mkdirat'), 'EACCES');
      });
      test('a denied syscall without errnoRet fails with EPERM', () => assert.equal(out.get('rmdir'), 'EPERM'));
      test('other syscalls are allowed', () => assert.equal(out.get('allowed'), 'cwd=/'));
      test('the process runs under a seccomp filter', () => assert.equal(keyValues(out.get('caps'))['Seccomp'], '2'));
    });
  }
});
