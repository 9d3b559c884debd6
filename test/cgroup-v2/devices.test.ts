/**
 * cgroup v2 device control and CLONE_INTO_CGROUP for real, inside the cgroup v2 VM
 * (scripts/test-cgroup-v2.sh): the native helper's `bpf-devices` (one-shot and as a parent op of
 * a berth-runtime container), `update` replacing the program, and a container born in its cgroup.
 * Skipped elsewhere.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { deviceFilterProgram } from '../../src/cgroups/devices-bpf.js';
import { assertNoLeaks, makeBundle, processTag, testCgroupParent } from '../support/bundle.js';
import { makeRoot, runtime } from '../support/runtime.js';

const skip = process.env['V2VM'] === '1' ? false : 'runs only in the cgroup v2 VM (npm run test:cgroup-v2)';
const HELPER = join(process.cwd(), 'native/build/berth-helper');
const ROOT = '/sys/fs/cgroup';

/** Run `script` with sh after moving the shell into cgroup `dir`. */
function shIn(dir: string, script: string): string {
  const r = spawnSync('sh', ['-c', `echo $$ > ${dir}/cgroup.procs && ${script}`], { encoding: 'utf8' });
  return r.stdout + r.stderr;
}

test('bpf-devices one-shot: /dev/null allowed, /dev/zero denied, a second program replaces the first', { skip, timeout: 120_000 }, () => {
  const dir = join(ROOT, `${processTag()}-bpf`);
  mkdirSync(dir);
  try {
    const deny = deviceFilterProgram([{ allow: false, type: 'c', major: 1, minor: 3, access: 'rwm' }]);
    let r = spawnSync(HELPER, ['bpf-devices', dir], { input: deny, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(shIn(dir, 'echo x > /dev/null && echo null-ok'), /Operation not permitted/);
    const nullOnly = deviceFilterProgram([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }]);
    r = spawnSync(HELPER, ['bpf-devices', dir], { input: nullOnly, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    // (the VM has no /dev/fuse node: the container test below makes one)
    assert.match(shIn(dir, 'echo x > /dev/null && echo null-ok; head -c1 /dev/zero'), /^null-ok\n.*\/dev\/zero.*: Operation not permitted\n$/);
  } finally {
    for (let i = 0; i < 100 && existsSync(dir); i++) try { rmdirSync(dir); } catch { spawnSync('sleep', ['0.05']); }
  }
});

test('a berth-runtime container: device filter attached before it runs, born in its cgroup, update replaces the filter', { skip, timeout: 300_000 }, async () => {
  const root = makeRoot();
  const fuse = `/dev/${processTag()}-fuse`;
  const b = await makeBundle({
    args: ['sh', '-c', 'echo x > /dev/null && echo null-ok; mknod /dev/fuse c 10 229 && cat /dev/fuse; grep ^0:: /proc/self/cgroup'],
    mutate: (s) => {
      for (const set of ['bounding', 'effective', 'permitted'] as const) s.process!.capabilities![set]!.push('CAP_MKNOD');
    },
  });
  try {
    const r = await runtime(root.root, ['run', '--bundle', b.dir, b.id], { timeoutMs: 120_000 });
    // the container's stdout and stderr are the runtime's
    assert.equal(r.stdout, `null-ok\n0::/${testCgroupParent()}/${b.id}\n`);
    assert.equal(r.stderr, `cat: can't open '/dev/fuse': Operation not permitted\n`);
    assert.equal(r.code, 0);

    // update: a running container gets a program that also allows /dev/fuse (10:229)
    b.spec.process!.args = ['sleep', '600'];
    await b.write();
    assert.equal((await runtime(root.root, ['run', '-d', '--bundle', b.dir, b.id], { timeoutMs: 120_000 })).code, 0);
    const dir = join(ROOT, testCgroupParent(), b.id);
    // a shell joins the container's cgroup from the VM's side; the VM has no /dev/fuse, so make one
    // (devtmpfs allows device nodes; the VM is thrown away)
    spawnSync('mknod', [fuse, 'c', '10', '229']);
    // only the open counts (reading an unmounted fuse device fails with EPERM too)
    assert.match(shIn(dir, `true < ${fuse} && echo open-ok`), /cannot open .*: Operation not permitted/);
    const devices = [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' }];
    const u = await runtime(root.root, ['update', '-r', '-', b.id], { input: JSON.stringify({ devices }), timeoutMs: 120_000 });
    assert.equal(u.code, 0, u.stderr);
    // fuse opens now; null stays allowed
    assert.equal(shIn(dir, `true < ${fuse} && echo open-ok; echo x > /dev/null && echo null-ok`), 'open-ok\nnull-ok\n');
    assert.equal((await runtime(root.root, ['delete', '--force', b.id], { timeoutMs: 120_000 })).code, 0);
  } finally {
    // each berth-runtime start costs seconds in the VM: only when the container is still there
    if (existsSync(join(root.root, b.id))) await runtime(root.root, ['delete', '--force', b.id], { timeoutMs: 120_000 }).catch(() => undefined);
    rmSync(fuse, { force: true });
    await b.cleanup();
    root.cleanup();
  }
});

test('a container with a time namespace sees the boottime offset in /proc/uptime', { skip, timeout: 120_000 }, async () => {
  const root = makeRoot();
  const b = await makeBundle({
    args: ['cat', '/proc/uptime'],
    mutate: (s) => {
      s.linux!.namespaces!.push({ type: 'time' });
      s.linux!.timeOffsets = { boottime: { secs: 86400 * 365, nanosecs: 0 } };
    },
  });
  try {
    const host = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    const r = await runtime(root.root, ['run', '--bundle', b.dir, b.id], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    const inside = Number(r.stdout.split(' ')[0]);
    assert.ok(inside - host >= 86400 * 365 && inside - host < 86400 * 365 + 60, `uptime ${inside}, host ${host}`);
  } finally {
    // each berth-runtime start costs seconds in the VM: only when the container is still there
    if (existsSync(join(root.root, b.id))) await runtime(root.root, ['delete', '--force', b.id], { timeoutMs: 120_000 }).catch(() => undefined);
    await b.cleanup();
    root.cleanup();
  }
});

test('leaves no cgroup, mount or process behind', { skip }, async () => {
  await assertNoLeaks(processTag());
});

