/**
 * berth-runtime with a time namespace: linux.timeOffsets shift what the container's clocks say
 * (the helper's `timens` op; CLONE_NEWTIME is taken out of the clone flags), and the container is
 * placed in its cgroups (born in the unified one where the host has it).
 */
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { assertNoLeaks, makeBundle, processTag, testCgroupParent, whyNotRoot } from '../support/bundle.js';
import { makeRoot, runtime } from '../support/runtime.js';

const skip = whyNotRoot();

describe('berth-runtime time namespace', { skip, timeout: 60_000 }, () => {
  const root = makeRoot();
  after(async () => {
    root.cleanup();
    await assertNoLeaks(processTag());
  });

  it('shifts /proc/uptime by the boottime offset and keeps the cgroup placement', async () => {
    const b = await makeBundle({
      args: ['sh', '-c', 'cat /proc/uptime; cat /proc/self/cgroup'],
      mutate: (s) => {
        s.linux!.namespaces!.push({ type: 'time' });
        s.linux!.timeOffsets = { boottime: { secs: 1_000_000, nanosecs: 5 }, monotonic: { secs: -5 } };
      },
    });
    try {
      const host = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
      const r = await runtime(root.root, ['run', '--bundle', b.dir, b.id]);
      assert.equal(r.stderr, '');
      assert.equal(r.code, 0);
      const [uptime, ...cgroups] = r.stdout.trim().split('\n');
      const inside = Number(uptime!.split(' ')[0]);
      assert.ok(inside - host >= 1_000_000 && inside - host < 1_000_030, `uptime ${inside}, host ${host}`);
      // the v1 controllers and the unified hierarchy (named hierarchies like name=systemd are not Berth's)
      const ours = cgroups.filter((l) => !l.includes(':name='));
      assert.ok(ours.some((l) => l.startsWith('0::')), cgroups.join('\n'));
      for (const line of ours) assert.match(line, new RegExp(`:/.*${testCgroupParent()}/${b.id}$`), line);
    } finally {
      await runtime(root.root, ['delete', '--force', b.id]);
      await b.cleanup();
    }
  });

  it('refuses offsets for a joined time namespace', async () => {
    const b = await makeBundle({
      mutate: (s) => {
        s.linux!.namespaces!.push({ type: 'time', path: '/proc/self/ns/time' });
        s.linux!.timeOffsets = { boottime: { secs: 1 } };
      },
    });
    try {
      const r = await runtime(root.root, ['run', '--bundle', b.dir, b.id]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /linux\.timeOffsets cannot be applied to the time namespace joined from \/proc\/self\/ns\/time/);
    } finally {
      await runtime(root.root, ['delete', '--force', b.id]);
      await b.cleanup();
    }
  });
});
