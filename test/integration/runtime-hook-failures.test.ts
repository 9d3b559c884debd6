/**
 * The OCI spec's failure rules for the create-time hooks: when a prestart, createRuntime or
 * createContainer hook fails (non-zero exit or timeout), `create` fails with an error naming the
 * hook, the container is stopped and destroyed, and "the lifecycle continues at delete": the
 * poststop hooks run (with status "stopped").
 */
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Hook, Spec } from '../../src/oci/spec.js';
import { assertNoLeaks, makeBundle, processTag, whyNotRoot, type TestBundle } from '../support/bundle.js';
import { makeRoot, runtime } from '../support/runtime.js';

const skip = whyNotRoot();

/** A host hook that appends `name status` (from the state on stdin) to `log`, then exits `code` (or sleeps). */
const hook = (log: string, name: string, code = 0, sleep = 0, timeout?: number): Hook => ({
  path: '/bin/sh',
  args: ['sh', '-c', `s=$(/bin/cat | /bin/sed -n 's/.*"status": *"\\([a-z]*\\)".*/\\1/p'); echo "${name} $s" >> ${log}; `
    + `${sleep ? `/bin/sleep ${sleep}; ` : ''}echo ${name} failed >&2; exit ${code}`],
  env: ['PATH=/usr/bin:/bin'],
  ...(timeout ? { timeout } : {}),
});

describe('berth-runtime create-time hook failures', { skip }, () => {
  let root: ReturnType<typeof makeRoot>;
  const bundles: TestBundle[] = [];
  const hooked = async (hooks: (log: string) => Spec['hooks']) => {
    const b = await makeBundle({ args: ['true'] });
    bundles.push(b);
    const log = join(b.dir, 'hooks.log');
    writeFileSync(log, '');
    b.spec.hooks = hooks(log);
    await b.write();
    return { b, lines: () => readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) };
  };

  before(() => { root = makeRoot(); });
  after(async () => {
    for (const b of bundles) await runtime(root.root, ['delete', '--force', b.id]);
    for (const b of bundles) await b.cleanup();
    root.cleanup();
    await assertNoLeaks(processTag());
  });

  const cases: { name: string; hooks: (log: string) => Spec['hooks']; error: RegExp; ran: string[]; maxMs?: number }[] = [
    {
      name: 'a failing createRuntime hook',
      hooks: (log) => ({ prestart: [hook(log, 'prestart')], createRuntime: [hook(log, 'createRuntime', 4)], createContainer: [hook(log, 'createContainer')], poststop: [hook(log, 'poststop')] }),
      error: /createRuntime hook \/bin\/sh exited with status 4: createRuntime failed/,
      ran: ['prestart creating', 'createRuntime creating', 'poststop stopped'],
    },
    {
      name: 'a failing createContainer hook (run by the helper in the container\'s namespaces)',
      hooks: (log) => ({ createContainer: [hook(log, 'createContainer', 5), hook(log, 'never')], poststop: [hook(log, 'poststop-1', 1), hook(log, 'poststop-2')] }),
      error: /hook \/bin\/sh: exited with status 5/,
      ran: ['createContainer creating', 'poststop-1 stopped', 'poststop-2 stopped'],
    },
    {
      name: 'a prestart hook that times out',
      hooks: (log) => ({ prestart: [hook(log, 'slow', 0, 30, 1)], poststop: [hook(log, 'poststop')] }),
      error: /prestart hook \/bin\/sh timed out after 1s/,
      ran: ['slow creating', 'poststop stopped'],
      maxMs: 10_000,
    },
    {
      name: 'a createContainer hook that times out',
      hooks: (log) => ({ createContainer: [hook(log, 'slow', 0, 30, 1)], poststop: [hook(log, 'poststop')] }),
      error: /hook \/bin\/sh: timed out after 1 seconds/,
      ran: ['slow creating', 'poststop stopped'],
      maxMs: 10_000,
    },
  ];
  for (const c of cases) {
    test(`${c.name} fails create, destroys the container and runs poststop`, async () => {
      const { b, lines } = await hooked(c.hooks);
      const t0 = Date.now();
      const r = await runtime(root.root, ['create', '--bundle', b.dir, b.id]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, c.error);
      if (c.maxMs) assert.ok(Date.now() - t0 < c.maxMs, `the timeout is honoured (${Date.now() - t0} ms)`);
      assert.deepEqual(lines(), c.ran);
      assert.equal(existsSync(join(root.root, b.id)), false, 'no state directory');
      assert.notEqual((await runtime(root.root, ['state', b.id])).code, 0);
      await assertNoLeaks(b.id);
    });
  }

  test('a failing startContainer hook: run reports the helper\'s error and runs poststop', async () => {
    const { b, lines } = await hooked((log) => ({
      startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'echo nope >&2; exit 6'] }], poststop: [hook(log, 'poststop')],
    }));
    const r = await runtime(root.root, ['run', '--bundle', b.dir, b.id]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /hook \/bin\/sh: exited with status 6/);
    assert.deepEqual(lines(), ['poststop stopped']);
    await assertNoLeaks(b.id);
  });
});
