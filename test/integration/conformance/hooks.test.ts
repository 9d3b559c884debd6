/**
 * Conformance: `hooks` (runtime-tools' hooks, hooks_stdin, prestart, prestart_fail, poststart,
 * poststart_fail, poststop and poststop_fail programs): the order of the six kinds, the state
 * each one gets on stdin, and the failure rules — a failing prestart stops `create` and leaves
 * nothing; failing poststart and poststop hooks only warn and the remaining hooks still run.
 *
 * Each hook appends "<name> <status> <id>" to a log. createContainer runs before pivot_root and
 * sees host paths; startContainer runs in the container after pivot_root, so its log is a bind
 * mount (/hooklog) and its path a busybox in the rootfs.
 */
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Hook, Spec } from '../../../src/oci/spec.js';
import { assertNoLeaks, whyNotRoot, type TestBundle } from '../../support/bundle.js';
import { useHarness, waitStatus } from './support.js';

const skip = whyNotRoot();

/** A host-side hook: log its name, the status and id from the state on stdin; exit `code`. */
const hostHook = (dir: string, name: string, code = 0): Hook => ({
  path: '/bin/sh',
  args: ['sh', '-c', `state=$(/bin/cat); s=$(echo "$state" | /bin/sed -n 's/.*"status": *"\\([a-z]*\\)".*/\\1/p'); `
    + `i=$(echo "$state" | /bin/sed -n 's/.*"id": *"\\([^"]*\\)".*/\\1/p'); echo "${name} $s $i" >> ${dir}/hooklog/log; `
    + `echo "$state" > ${dir}/hooklog/${name}.json; exit ${code}`],
  env: ['PATH=/usr/bin:/bin'],
});
/** The startContainer hook: runs in the container, so it uses the rootfs's busybox. */
const containerHook = (name: string): Hook => ({
  path: '/bin/sh',
  args: ['sh', '-c', `state=$(cat); s=$(echo "$state" | sed -n 's/.*"status": *"\\([a-z]*\\)".*/\\1/p'); `
    + `i=$(echo "$state" | sed -n 's/.*"id": *"\\([^"]*\\)".*/\\1/p'); echo "${name} $s $i" >> /hooklog/log`],
  env: ['PATH=/bin'],
});

describe('conformance: hooks', { skip }, () => {
  const h = useHarness();

  /** A bundle whose hooks are set by `hooks(bundleDir)`, with /hooklog bound from the bundle. */
  const hooked = async (hooks: (dir: string) => Spec['hooks'], args = ['sh', '-c', 'echo ran > /hooklog/process']): Promise<TestBundle> => {
    const b = await h.bundle(args);
    await mkdir(join(b.dir, 'hooklog'));
    await chmod(join(b.dir, 'hooklog'), 0o777);
    await writeFile(join(b.dir, 'hooklog/log'), '');
    b.spec.hooks = hooks(b.dir);
    b.spec.annotations = { 'org.berth.test': 'hooks' };
    b.spec.mounts!.push({ destination: '/hooklog', type: 'bind', source: join(b.dir, 'hooklog'), options: ['rbind', 'rw'] });
    await b.write();
    return b;
  };
  const log = async (b: TestBundle) => (await readFile(join(b.dir, 'hooklog/log'), 'utf8')).trim().split('\n').filter(Boolean);

  test('all six kinds run in order, each with the state on stdin', async () => {
    const b = await hooked((dir) => ({
      prestart: [hostHook(dir, 'prestart')],
      createRuntime: [hostHook(dir, 'createRuntime')],
      createContainer: [hostHook(dir, 'createContainer')],
      startContainer: [containerHook('startContainer')],
      poststart: [hostHook(dir, 'poststart')],
      poststop: [hostHook(dir, 'poststop')],
    }));
    assert.equal((await h.rt(['create', '--bundle', b.dir, b.id])).code, 0);
    const afterCreate = (await log(b)).map((l) => l.split(' ')[0]);
    assert.deepEqual(afterCreate, ['prestart', 'createRuntime', 'createContainer'], 'create runs the create-time hooks only');
    assert.equal((await h.rt(['start', b.id])).code, 0);
    assert.equal(await waitStatus(h, b.id, 'stopped'), 'stopped');
    assert.equal((await h.rt(['delete', b.id])).code, 0);
    const lines = await log(b);
    assert.deepEqual(lines.map((l) => l.split(' ')[0]),
      ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
    for (const l of lines) assert.equal(l.split(' ')[2], b.id, `the state names the container: ${l}`);
    const status = Object.fromEntries(lines.map((l) => l.split(' ').slice(0, 2)));
    assert.equal(status['prestart'], 'creating');
    assert.equal(status['createRuntime'], 'creating');
    assert.equal(status['poststop'], 'stopped');
    const pre = JSON.parse(await readFile(join(b.dir, 'hooklog/prestart.json'), 'utf8'));
    assert.ok(pre.pid > 0, 'prestart gets the pid');
    assert.equal(pre.bundle, b.dir);
    assert.equal(pre.ociVersion !== undefined, true);
    assert.deepEqual(pre.annotations, { 'org.berth.test': 'hooks' });
    assert.ok(existsSync(join(b.dir, 'hooklog/process')), 'the process ran');
    await assertNoLeaks(b.id);
  });

  test('run (create and start in one step) runs poststart only after the process was executed', async () => {
    // The startContainer hook holds the init for a second before its execve: a poststart hook
    // run on "ready" (before the hooks and the exec) would see the helper, not the process.
    const b = await hooked((dir) => ({
      startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'sleep 1'], env: ['PATH=/bin'] }],
      poststart: [{ path: '/bin/sh', args: ['sh', '-c', `pid=$(/bin/cat | /bin/sed -n 's/.*"pid": *\\([0-9]*\\).*/\\1/p'); `
        + `/bin/cat /proc/$pid/comm > ${dir}/hooklog/poststart-comm`], env: ['PATH=/usr/bin:/bin'] }],
    }), ['sleep', '1']);
    const r = await h.rt(['run', '--bundle', b.dir, b.id]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await readFile(join(b.dir, 'hooklog/poststart-comm'), 'utf8')).trim(), 'sleep', 'poststart saw the process, not its init');
    await h.rt(['delete', '--force', b.id]);
    await assertNoLeaks(b.id);
  });

  test('a failing prestart hook fails create, runs no later create hook, runs poststop and leaves nothing', async () => {
    const b = await hooked((dir) => ({
      prestart: [hostHook(dir, 'prestart-1'), hostHook(dir, 'prestart-fails', 3), hostHook(dir, 'prestart-3')],
      createRuntime: [hostHook(dir, 'createRuntime')],
      poststop: [hostHook(dir, 'poststop')],
    }));
    const r = await h.rt(['create', '--bundle', b.dir, b.id]);
    assert.notEqual(r.code, 0, 'create must fail');
    // The spec: "stop the container, and continue the lifecycle at step 12" (delete), whose
    // last step runs the poststop hooks.
    assert.deepEqual((await log(b)).map((l) => l.split(' ')[0]), ['prestart-1', 'prestart-fails', 'poststop']);
    assert.notEqual((await h.rt(['state', b.id])).code, 0, 'the container does not exist');
    assert.equal(existsSync(join(b.dir, 'hooklog/process')), false, 'the process never ran');
    await assertNoLeaks(b.id);
  });

  test('a failing poststart hook only warns: the later hooks and the container go on', async () => {
    const b = await hooked((dir) => ({
      poststart: [hostHook(dir, 'poststart-fails', 1), hostHook(dir, 'poststart-2')],
    }));
    assert.equal((await h.rt(['create', '--bundle', b.dir, b.id])).code, 0);
    await h.rt(['start', b.id]);
    assert.equal(await waitStatus(h, b.id, 'stopped'), 'stopped');
    assert.ok(existsSync(join(b.dir, 'hooklog/process')), 'the process ran');
    assert.deepEqual((await log(b)).map((l) => l.split(' ')[0]), ['poststart-fails', 'poststart-2']);
    await h.rt(['delete', '--force', b.id]);
    await assertNoLeaks(b.id);
  });

  test('a failing poststop hook only warns: delete succeeds and the later hooks run', async () => {
    const b = await hooked((dir) => ({
      poststop: [hostHook(dir, 'poststop-fails', 1), hostHook(dir, 'poststop-2')],
    }));
    assert.equal((await h.rt(['create', '--bundle', b.dir, b.id])).code, 0);
    assert.equal((await h.rt(['start', b.id])).code, 0);
    assert.equal(await waitStatus(h, b.id, 'stopped'), 'stopped');
    const d = await h.rt(['delete', b.id]);
    assert.equal(d.code, 0, d.stderr);
    assert.notEqual((await h.rt(['state', b.id])).code, 0, 'the container is gone');
    assert.deepEqual((await log(b)).map((l) => l.split(' ')[0]), ['poststop-fails', 'poststop-2']);
    await assertNoLeaks(b.id);
  });
});
