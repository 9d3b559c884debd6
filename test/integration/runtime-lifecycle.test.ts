/**
 * berth-runtime's lifecycle as the OCI spec describes it, driven through the real CLI:
 * creating → created → running → stopped, state across invocations, and the errors for
 * commands in the wrong state. Each test checks that nothing is left behind.
 */
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertNoLeaks, makeBundle, processTag, whyNotRoot, type TestBundle } from '../support/bundle.js';
import { makeRoot, runtime } from '../support/runtime.js';

const skip = whyNotRoot();

describe('berth-runtime lifecycle', { skip }, () => {
  let root: ReturnType<typeof makeRoot>;
  const bundles: TestBundle[] = [];
  const bundle = async (args: string[], mutate?: (spec: import('../../src/oci/spec.js').Spec) => void) => {
    const b = await makeBundle({ args, mutate });
    bundles.push(b);
    return b;
  };

  before(() => { root = makeRoot(); });
  after(async () => {
    for (const b of bundles) await runtime(root.root, ['delete', '--force', b.id]);
    for (const b of bundles) await b.cleanup();
    root.cleanup();
    await assertNoLeaks(processTag());
  });

  test('run exits with the container status', async () => {
    const b = await bundle(['sh', '-c', 'exit 3']);
    const r = await runtime(root.root, ['run', '--bundle', b.dir, b.id]);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(existsSync(join(root.root, b.id)), false, 'run removes the container');
  });

  test('run reports a signal death as 128+N', async () => {
    // pid 1 of a pid namespace cannot be killed by a signal from inside, so kill it from outside.
    const b = await bundle(['sleep', '100']);
    const running = runtime(root.root, ['run', '--bundle', b.dir, b.id]);
    for (let i = 0; i < 200; i++) {
      const s = await runtime(root.root, ['state', b.id]);
      if (s.code === 0 && JSON.parse(s.stdout).status === 'running') break;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal((await runtime(root.root, ['kill', b.id, 'KILL'])).code, 0);
    const r = await running;
    assert.equal(r.code, 137, r.stderr);
    await assertNoLeaks(b.id);
  });

  test('create, state, start, kill, delete', async () => {
    const b = await bundle(['sleep', '100']);
    const pidFile = join(b.dir, 'pid');
    const c = await runtime(root.root, ['create', '--bundle', b.dir, '--pid-file', pidFile, b.id]);
    assert.equal(c.code, 0, c.stderr);
    const s1 = JSON.parse((await runtime(root.root, ['state', b.id])).stdout);
    assert.equal(s1.status, 'created');
    assert.equal(s1.id, b.id);
    assert.equal(s1.bundle, b.dir);
    assert.equal(s1.pid, Number(readFileSync(pidFile, 'utf8')));
    const again = await runtime(root.root, ['create', '--bundle', b.dir, b.id]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, new RegExp(`container with id ${b.id} already exists`));
    assert.equal((await runtime(root.root, ['start', b.id])).code, 0);
    assert.equal(JSON.parse((await runtime(root.root, ['state', b.id])).stdout).status, 'running');
    const twice = await runtime(root.root, ['start', b.id]);
    assert.notEqual(twice.code, 0);
    assert.match(twice.stderr, /cannot start container .*: it is running, not created/);
    const del = await runtime(root.root, ['delete', b.id]);
    assert.notEqual(del.code, 0, 'delete of a running container must fail');
    assert.match(del.stderr, /that is not stopped: it is running/);
    assert.equal(JSON.parse((await runtime(root.root, ['state', b.id])).stdout).status, 'running');
    assert.equal((await runtime(root.root, ['kill', b.id, 'KILL'])).code, 0);
    for (let i = 0; i < 100; i++) {
      if (JSON.parse((await runtime(root.root, ['state', b.id])).stdout).status === 'stopped') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(JSON.parse((await runtime(root.root, ['state', b.id])).stdout).status, 'stopped');
    assert.equal((await runtime(root.root, ['delete', b.id])).code, 0);
    const gone = await runtime(root.root, ['state', b.id]);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, new RegExp(`container ${b.id} does not exist`));
    await assertNoLeaks(b.id);
  });

  test('delete --force of an unknown id succeeds, as in runc', async () => {
    const r = await runtime(root.root, ['delete', '--force', `${processTag()}-nonexistent`]);
    assert.equal(r.code, 0, r.stderr);
  });

  test('a malformed config.json gives a one-line error and leaves nothing', async () => {
    const b = await bundle(['true']);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(b.dir, 'config.json'), '{"ociVersion": "1.0.2", "process": ');
    const log = join(b.dir, 'log.json');
    const r = await runtime(root.root, ['--log', log, '--log-format', 'json', 'create', '--bundle', b.dir, b.id]);
    assert.notEqual(r.code, 0);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /config\.json/);
    const last = JSON.parse(readFileSync(log, 'utf8').trim().split('\n').pop()!);
    assert.equal(last.level, 'error');
    assert.match(last.msg, /config\.json/);
    assert.equal(existsSync(join(root.root, b.id)), false);
    await assertNoLeaks(b.id);
  });

  test('a failing process leaves nothing behind', async () => {
    const b = await bundle(['/no/such/binary']);
    const r = await runtime(root.root, ['create', '--bundle', b.dir, b.id]);
    assert.notEqual(r.code, 0, 'a missing binary fails create, as in runc');
    assert.match(r.stderr, /exec: \/no\/such\/binary: No such file or directory/);
    assert.equal(existsSync(join(root.root, b.id)), false);
    const b2 = await bundle(['/no/such/binary']);
    const r2 = await runtime(root.root, ['run', '--bundle', b2.dir, b2.id]);
    assert.notEqual(r2.code, 0);
    assert.match(r2.stderr, /no\/such\/binary/);
    await assertNoLeaks(b.id);
    await assertNoLeaks(b2.id);
  });

  test('list and ps', async () => {
    const b = await bundle(['sleep', '100']);
    assert.equal((await runtime(root.root, ['run', '-d', '--bundle', b.dir, b.id])).code, 0);
    const table = (await runtime(root.root, ['list'])).stdout;
    assert.match(table, /^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER/);
    assert.match(table, new RegExp(`${b.id}\\s+\\d+\\s+running`));
    assert.match((await runtime(root.root, ['list', '-q'])).stdout, new RegExp(`^${b.id}$`, 'm'));
    const json = JSON.parse((await runtime(root.root, ['list', '--format', 'json'])).stdout);
    assert.ok(json.some((c: { id: string; status: string }) => c.id === b.id && c.status === 'running'));
    const pids = JSON.parse((await runtime(root.root, ['ps', '--format', 'json', b.id])).stdout);
    assert.equal(pids.length, 1);
    assert.equal((await runtime(root.root, ['delete', '--force', b.id])).code, 0);
    await assertNoLeaks(b.id);
  });

  test('exec runs in the container and returns its status', async () => {
    const b = await bundle(['sleep', '100']);
    assert.equal((await runtime(root.root, ['run', '-d', '--bundle', b.dir, b.id])).code, 0);
    const r = await runtime(root.root, ['exec', b.id, 'sh', '-c', 'hostname; echo $$; exit 5']);
    assert.equal(r.code, 5, r.stderr);
    const [host, pid] = r.stdout.trim().split('\n');
    assert.equal(host, 'berth');
    assert.notEqual(Number(pid), 1);
    const ps = JSON.parse((await runtime(root.root, ['ps', '--format', 'json', b.id])).stdout);
    assert.equal(ps.length, 1, 'the exec process has gone');
    await runtime(root.root, ['delete', '--force', b.id]);
    await assertNoLeaks(b.id);
  });

  test('pause and resume', async () => {
    const b = await bundle(['sleep', '100']);
    assert.equal((await runtime(root.root, ['run', '-d', '--bundle', b.dir, b.id])).code, 0);
    assert.equal((await runtime(root.root, ['pause', b.id])).code, 0);
    assert.equal(JSON.parse((await runtime(root.root, ['state', b.id])).stdout).status, 'paused');
    const p2 = await runtime(root.root, ['pause', b.id]);
    assert.notEqual(p2.code, 0);
    assert.equal((await runtime(root.root, ['resume', b.id])).code, 0);
    assert.equal(JSON.parse((await runtime(root.root, ['state', b.id])).stdout).status, 'running');
    await runtime(root.root, ['delete', '--force', b.id]);
    await assertNoLeaks(b.id);
  });
});
