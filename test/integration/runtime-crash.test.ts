/**
 * Crash safety: a `create` killed with SIGKILL at any moment leaves only what `delete --force`
 * can find and remove (docs/security.md, "Crashes and hangs"; runc and crun leave empty cgroups behind when
 * killed 5-30 ms into create).
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { assertNoLeaks, makeBundle, processTag, testCgroupParent, whyNotRoot, type TestBundle } from '../support/bundle.js';
import { makeRoot, runtime, runtimeBin } from '../support/runtime.js';

describe('berth-runtime create killed at any instant', { skip: whyNotRoot() }, () => {
  let root: ReturnType<typeof makeRoot>;
  let b: TestBundle;

  before(async () => {
    root = makeRoot();
    b = await makeBundle({ args: ['sleep', '100'] });
  });
  after(async () => {
    await b.cleanup();
    root.cleanup();
    await assertNoLeaks(processTag());
  });

  // Node's start takes most of the first ~50 ms here, so the delays reach well into the create
  // itself (cgroup creation, helper spawn, namespace setup).
  const delays = [5, 30, 50, 60, 70, 80, 90, 100, 110, 120, 140, 160, 200];
  for (const ms of delays) {
    test(`killed after ${ms} ms, delete --force leaves nothing`, async () => {
      const id = `${b.id}-k${ms}`;
      // Each container gets its own cgroup, so a leaked process is attributed to its test.
      b.spec.linux!.cgroupsPath = `${testCgroupParent()}/${id}`;
      await b.write();
      const child = spawn(process.execPath, [runtimeBin, '--root', root.root, 'create', '--bundle', b.dir, id], {
        stdio: ['ignore', 'ignore', 'ignore'],
      });
      const exited = new Promise((r) => child.on('exit', r));
      await new Promise((r) => setTimeout(r, ms));
      child.kill('SIGKILL');
      await exited;
      const del = await runtime(root.root, ['delete', '--force', id]);
      assert.equal(del.code, 0, del.stderr);
      const again = await runtime(root.root, ['delete', '--force', id]);
      assert.equal(again.code, 0, `a repeated delete --force is harmless: ${again.stderr}`);
      await assertNoLeaks(id);
    });
  }
});
