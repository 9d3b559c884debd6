/**
 * Tests of test/support/bundle.ts: the busybox rootfs, bundles, ids and the probe output parser.
 * Building a rootfs needs no root (cp, symlinks), except chown of home/berth, so the rootfs test
 * skips without root.
 */
import * as assert from 'node:assert/strict';
import { existsSync, lstatSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  makeBundle, makeBusyboxRootfs, parseProbe, probePath, processTag, testCgroupParent, uniqueId, whyNotRoot,
} from '../support/bundle.js';

test('uniqueId gives distinct berth-test-<pid> ids', () => {
  const a = uniqueId();
  const b = uniqueId('exec');
  assert.match(a, new RegExp(`^berth-test-${process.pid}-\\d+$`));
  assert.match(b, new RegExp(`^berth-test-${process.pid}-exec-\\d+$`));
  assert.notEqual(a, uniqueId());
  assert.ok(a.startsWith(processTag()));
});

test('testCgroupParent is relative so the runtime places it below its own cgroup', () => {
  assert.equal(testCgroupParent(), `berth-test-${process.pid}`);
  assert.ok(!testCgroupParent().startsWith('/'));
});

test('parseProbe reads key=value records and keeps spaces in the last value', () => {
  const recs = parseProbe('uid=0 gid=0 groups=1,2\nfd=3 target=/tmp/a b (deleted)\n');
  assert.deepEqual(recs, [{ uid: '0', gid: '0', groups: '1,2' }, { fd: '3', target: '/tmp/a b (deleted)' }]);
});

test('makeBusyboxRootfs lays out a usable rootfs', { skip: whyNotRoot() }, async () => {
  const dir = await mkdtemp(join(tmpdir(), `${processTag()}-unit-`));
  try {
    const start = Date.now();
    await makeBusyboxRootfs(join(dir, 'a'));
    const second = Date.now();
    await makeBusyboxRootfs(join(dir, 'b')); // from the cached template
    const copyMs = Date.now() - second;
    for (const root of ['a', 'b'].map((n) => join(dir, n))) {
      assert.ok(statSync(join(root, 'bin/busybox')).mode & 0o111);
      assert.equal(readlinkSync(join(root, 'bin/sh')), 'busybox');
      assert.ok(lstatSync(join(root, 'bin/ls')).isSymbolicLink());
      assert.equal(statSync(join(root, 'tmp')).mode & 0o7777, 0o1777);
      for (const d of ['proc', 'sys', 'dev']) assert.ok(statSync(join(root, d)).isDirectory());
      assert.match(readFileSync(join(root, 'etc/passwd'), 'utf8'), /^berth:x:1000:1000:/m);
      assert.match(readFileSync(join(root, 'etc/group'), 'utf8'), /^berth:x:1000:/m);
      assert.equal(existsSync(join(root, 'bin/probe')), existsSync(probePath));
    }
    assert.ok(copyMs < 2000, `copy from template took ${copyMs} ms (first build ${second - start} ms)`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('makeBundle writes a config.json that mutate and write() change', { skip: whyNotRoot() }, async () => {
  const b = await makeBundle({ args: ['probe', 'ids'], mutate: (s) => { s.hostname = 'mutated'; } });
  try {
    assert.match(b.dir, /berth-test/);
    assert.equal(b.rootfs, join(b.dir, 'rootfs'));
    const written = JSON.parse(readFileSync(join(b.dir, 'config.json'), 'utf8'));
    assert.deepEqual(written.process.args, ['probe', 'ids']);
    assert.equal(written.process.terminal, false);
    assert.equal(written.hostname, 'mutated');
    assert.equal(written.root.path, 'rootfs');
    assert.equal(written.linux.cgroupsPath, `${testCgroupParent()}/${b.id}`);
    b.spec.hostname = 'again';
    await b.write();
    assert.equal(JSON.parse(readFileSync(join(b.dir, 'config.json'), 'utf8')).hostname, 'again');
  } finally {
    await b.cleanup();
  }
  assert.ok(!existsSync(b.dir));
});

test('makeBundle defaults args to sh -c true', { skip: whyNotRoot() }, async () => {
  const b = await makeBundle();
  try {
    assert.deepEqual(b.spec.process?.args, ['sh', '-c', 'true']);
  } finally {
    await b.cleanup();
  }
});
