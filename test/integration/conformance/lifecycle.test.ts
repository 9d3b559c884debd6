/**
 * Conformance: the lifecycle through the CLI (runtime-tools' create, start, state, kill,
 * killsig, kill_no_effect, delete, pidfile and misc_props programs): the state document at each
 * step, the pid file, signals by name and number, and the operations the spec forbids — a
 * second `create` of an id, `start` twice, `delete` of a running container, `kill` of a stopped
 * one — which must fail and change nothing.
 */
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { assertNoLeaks, processTag, whyNotRoot } from '../../support/bundle.js';
import { useHarness, waitStatus } from './support.js';

const skip = whyNotRoot();

/** pid 1 of a pid namespace gets only the signals it handles: trap them and log each. */
const TRAPS = 'trap "echo USR1 >> /sig/log" USR1; trap "echo USR2 >> /sig/log" USR2; trap "echo TERM >> /sig/log; exit 0" TERM; '
  + 'echo ready > /sig/log; while :; do sleep 0.05; done';

describe('conformance: lifecycle', { skip }, () => {
  const h = useHarness();

  test('create, state, start, signals, delete — with the errors in between', async () => {
    const b = await h.bundle(['sh', '-c', TRAPS], (s) => {
      s.annotations = { 'org.opencontainers.test': 'conformance', 'org.berth.empty': '' };
    });
    await mkdir(join(b.dir, 'sig'));
    await chmod(join(b.dir, 'sig'), 0o777);
    b.spec.mounts!.push({ destination: '/sig', type: 'bind', source: join(b.dir, 'sig'), options: ['rbind', 'rw'] });
    await b.write();
    const pidFile = join(b.dir, 'pid');
    const sigLog = async () => (await readFile(join(b.dir, 'sig/log'), 'utf8').catch(() => '')).trim().split('\n');
    const waitLog = async (line: string) => {
      for (let i = 0; i < 100 && !(await sigLog()).includes(line); i++) await new Promise((r) => setTimeout(r, 30));
      return sigLog();
    };

    const c = await h.rt(['create', '--bundle', b.dir, '--pid-file', pidFile, b.id]);
    assert.equal(c.code, 0, c.stderr);
    const created = JSON.parse((await h.rt(['state', b.id])).stdout);
    assert.equal(created.status, 'created');
    assert.equal(created.id, b.id);
    assert.equal(created.bundle, b.dir);
    assert.equal(typeof created.ociVersion, 'string');
    assert.deepEqual(created.annotations, { 'org.opencontainers.test': 'conformance', 'org.berth.empty': '' });
    assert.equal(created.pid, Number(await readFile(pidFile, 'utf8')), 'the pid file holds the state\'s pid');
    assert.ok(existsSync(`/proc/${created.pid}`), 'the pid is alive');
    assert.equal(existsSync(join(b.dir, 'sig/log')), false, 'the process has not run before start');

    const again = await h.rt(['create', '--bundle', b.dir, b.id]);
    assert.notEqual(again.code, 0, 'create of an existing id fails');
    assert.equal(JSON.parse((await h.rt(['state', b.id])).stdout).status, 'created', 'and changes nothing');

    assert.equal((await h.rt(['start', b.id])).code, 0);
    assert.equal(JSON.parse((await h.rt(['state', b.id])).stdout).status, 'running');
    assert.deepEqual(await waitLog('ready'), ['ready']);
    assert.notEqual((await h.rt(['start', b.id])).code, 0, 'start of a running container fails');

    const del = await h.rt(['delete', b.id]);
    assert.notEqual(del.code, 0, 'delete of a running container fails');
    assert.equal(JSON.parse((await h.rt(['state', b.id])).stdout).status, 'running', 'and changes nothing');

    assert.equal((await h.rt(['kill', b.id, 'USR1'])).code, 0, 'a signal name without SIG');
    assert.deepEqual(await waitLog('USR1'), ['ready', 'USR1']);
    assert.equal((await h.rt(['kill', b.id, '12'])).code, 0, 'a signal number (12 is SIGUSR2)');
    assert.deepEqual(await waitLog('USR2'), ['ready', 'USR1', 'USR2']);
    assert.equal((await h.rt(['kill', b.id, 'SIGTERM'])).code, 0, 'a signal name with SIG');
    assert.deepEqual(await waitLog('TERM'), ['ready', 'USR1', 'USR2', 'TERM']);
    assert.equal(await waitStatus(h, b.id, 'stopped'), 'stopped');
    const stopped = JSON.parse((await h.rt(['state', b.id])).stdout);
    assert.equal(stopped.id, b.id);
    assert.notEqual((await h.rt(['kill', b.id, 'KILL'])).code, 0, 'kill of a stopped container fails');
    assert.notEqual((await h.rt(['start', b.id])).code, 0, 'start of a stopped container fails');

    assert.equal((await h.rt(['delete', b.id])).code, 0, 'delete of a stopped container');
    assert.notEqual((await h.rt(['state', b.id])).code, 0, 'state after delete fails');
    await assertNoLeaks(b.id);
  });

  test('kill KILL of a created container stops it; delete removes it', async () => {
    const b = await h.bundle(['sleep', '30']);
    assert.equal((await h.rt(['create', '--bundle', b.dir, b.id])).code, 0);
    assert.equal((await h.rt(['kill', b.id, 'KILL'])).code, 0);
    assert.equal(await waitStatus(h, b.id, 'stopped'), 'stopped');
    assert.equal((await h.rt(['delete', b.id])).code, 0);
    await assertNoLeaks(b.id);
  });

  test('operations on an unknown id fail', async () => {
    const id = `${processTag()}-unknown`;
    for (const args of [['state', id], ['start', id], ['kill', id, 'KILL'], ['delete', id]]) {
      assert.notEqual((await h.rt(args)).code, 0, args.join(' '));
    }
  });
});
