/**
 * The native helper's less common ops: seccomp, preserved fds, chroot, sysctl, remount, cgroup
 * namespaces, user namespaces with bind-mounted devices, and joining another container.
 */
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { assertNoLeaks, processTag } from '../support/bundle.js';
import {
  CLONE_NEWCGROUP, CLONE_NEWUSER, errors, FLAGS, killLeftovers, makeTmpRootfs, MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID,
  MS_PRIVATE, MS_RDONLY, MS_REC, MS_REMOUNT, MS_SLAVE, run, setup, skip,
} from './helper-driver.js';

/** x86_64 BPF: mkdir(83) and mkdirat(258) fail with EPERM, everything else is allowed. */
function denyMkdirFilter(): Buffer {
  const ins: [number, number, number, number][] = [
    [0x20, 0, 0, 4], // ld arch
    [0x15, 0, 4, 0xc000003e], // x86_64? else allow
    [0x20, 0, 0, 0], // ld nr
    [0x15, 3, 0, 83],
    [0x15, 2, 0, 258],
    [0x06, 0, 0, 0x7fff0000],
    [0x06, 0, 0, 0x7fff0000],
    [0x06, 0, 0, 0x00050001], // SECCOMP_RET_ERRNO | EPERM
  ];
  const b = Buffer.alloc(ins.length * 8);
  ins.forEach(([code, jt, jf, k], i) => {
    b.writeUInt16LE(code, i * 8);
    b.writeUInt8(jt, i * 8 + 2);
    b.writeUInt8(jf, i * 8 + 3);
    b.writeUInt32LE(k, i * 8 + 4);
  });
  return b;
}

describe('berth-helper more ops', { skip, timeout: 60_000 }, () => {
  let tmp = '';
  let rootfs = '';
  before(async () => ({ tmp, rootfs } = await makeTmpRootfs()));
  after(async () => {
    killLeftovers();
    if (tmp) await rm(tmp, { recursive: true, force: true });
    await assertNoLeaks(processTag());
  });

  it('loads a seccomp filter', async () => {
    const r = await run([['monitor'], ['clone', FLAGS], ...setup(rootfs), ['pivot'], ['no-new-privs'],
      ['seccomp', '0', denyMkdirFilter()], ['env', 'PATH=/bin'], ['exec', 'sh', '-c', 'mkdir /tmp/d 2>&1; echo rc=$?']]);
    assert.deepEqual(errors(r), []);
    assert.match(r.stdout, /Operation not permitted[^]*rc=1/);
  });

  it('passes preserved fds through and keeps the sync fd out', async () => {
    const r = await run([['monitor'], ['clone', FLAGS], ...setup(rootfs), ['pivot'], ['env', 'PATH=/bin'],
      ['exec', 'sh', '-c', 'echo fds=$(ls /proc/self/fd)']], { preserveOne: true });
    assert.deepEqual(errors(r), []);
    assert.match(r.stdout, /fds=0 1 2 3 4\n/); // 3 preserved, 4 is ls's own directory handle
  });

  it('chroots, sets sysctls, domainname, cwd, remounts read-only and unshares a cgroup namespace', async () => {
    const r = await run([['monitor'], ['clone', FLAGS], ...setup(rootfs), ['propagation', '/', String(MS_REC | MS_SLAVE)], ['chroot'],
      ['sysctl', 'kernel.hostname', 'via-sysctl'], ['domainname', 'berth.dom'], ['remount', '/', String(MS_RDONLY | MS_REMOUNT)],
      ['unshare', String(CLONE_NEWCGROUP)], ['chdir', '/bin'], ['env', 'PATH=/bin'],
      ['exec', 'sh', '-c', 'hostname; cat /proc/sys/kernel/domainname; pwd; touch /x 2>&1; cat /proc/self/cgroup | head -1']]);
    assert.deepEqual(errors(r), []);
    assert.match(r.stdout, /^via-sysctl\nberth.dom\n\/bin\n.*Read-only file system\n\d+:[^:]*:\/\n/);
  });

  it('runs in a user namespace with devices bind-mounted from the host', async () => {
    // the clone keeps our host uid 0, unmapped in the new namespace: become its root first
    const r = await run([['monitor'], ['clone', String(Number(FLAGS) | CLONE_NEWUSER)], ['user', '0', '0', ''],
      ['rootfs', rootfs, String(MS_REC | MS_PRIVATE)],
      ['mount', 'proc', '/proc', 'proc', String(MS_NOSUID | MS_NODEV | MS_NOEXEC), '', 'dir', '0'],
      ['mount', 'tmpfs', '/dev', 'tmpfs', String(MS_NOSUID), 'mode=755', 'dir', '0'],
      ['bind-dev', '/dev/null', '/dev/null'],
      ['mount', '/sys', '/sys', '', String(MS_BIND | MS_REC | MS_NOSUID | MS_NODEV | MS_NOEXEC | 1), '', 'dir', '0'],
      ['pivot'], ['env', 'PATH=/bin'], ['exec', 'sh', '-c', 'id -u; echo ok > /dev/null && echo null-ok; cat /proc/self/uid_map; touch /sys/x 2>&1']],
    {
      onPid: async (pid) => {
        await writeFile(`/proc/${pid}/uid_map`, '0 200000 65536');
        await writeFile(`/proc/${pid}/gid_map`, '0 200000 65536');
      },
    });
    assert.deepEqual(errors(r), []);
    assert.match(r.stdout, /^0\nnull-ok\n\s+0\s+200000\s+65536\n.*Read-only file system/);
  });

  it('joins the namespaces of another container', async () => {
    let first: number | undefined;
    const a = run([['monitor'], ['clone', FLAGS], ...setup(rootfs), ['pivot'], ['hostname', 'berth-a'], ['env', 'PATH=/bin'], ['ready'],
      ['exec', 'sleep', '30']], { onPid: (pid) => void (first = pid), onReady: () => void 0 });
    try {
      while (first === undefined || !existsSync(`/proc/${first}/ns/uts`)) await new Promise((res) => setTimeout(res, 10));
      await new Promise((res) => setTimeout(res, 100)); // let it set its hostname
      const r = await run([['monitor'], ['setns', 'uts', `/proc/${first}/ns/uts`], ['setns', 'pid', `/proc/${first}/ns/pid`],
        ['clone', '0'], ['exec', '/bin/sh', '-c', 'hostname; echo $$']]);
      assert.deepEqual(errors(r), []);
      assert.match(r.stdout, /^berth-a\n([2-9]|\d\d+)\n$/);
    } finally {
      if (first) process.kill(first, 'SIGKILL');
      await a;
    }
  });
});
