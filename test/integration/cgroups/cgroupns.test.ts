/**
 * Through `berth-runtime` on this v1 hybrid host: a container with a private cgroup namespace sees
 * its own cgroup as the root of every hierarchy (in /proc/self/cgroup and in the /sys/fs/cgroup
 * mounts), and the knobs whose v1 controller is not mounted here (net_cls, net_prio, rdma) fail
 * create with one line naming the knob, leaving nothing. The v2 twin is test/cgroup-v2/.
 */
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { LinuxResources } from '../../../src/oci/spec.js';
import { assertNoLeaks, processTag, whyNotRoot } from '../../support/bundle.js';
import { Containers, withResources } from '../resources-support.js';

const MIB = 1024 * 1024;

/** Whether a v1 controller is mounted on this host. */
function v1Mounted(ctrl: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => / - cgroup /.test(l) && l.split(' ').pop()!.split(',').includes(ctrl));
}

describe('cgroup namespace and missing v1 controllers, through berth-runtime', { skip: whyNotRoot() }, () => {
  let c: Containers;
  before(() => { c = new Containers(); });
  after(async () => {
    await c.cleanup();
    await assertNoLeaks(processTag());
  });

  test('with a cgroup namespace, /sys/fs/cgroup and /proc/self/cgroup show the container\'s cgroup as the root', async (t) => {
    const script = [
      'cat /proc/self/cgroup',
      'echo ---',
      'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max',
      'grep -x 1 /sys/fs/cgroup/pids/cgroup.procs',
      // the container's cgroup is a leaf: no sub-directories (the test's cgroups are above it)
      'find /sys/fs/cgroup/memory /sys/fs/cgroup/pids -mindepth 1 -type d | wc -l',
    ].join('; ');
    const b = await c.bundle(['sh', '-c', script], (spec) => {
      withResources({ memory: { limit: 48 * MIB }, pids: { limit: 17 } })(spec);
      spec.linux!.namespaces!.push({ type: 'cgroup' });
    });
    const r = await c.rt(['run', '--bundle', b.dir, b.id]);
    assert.equal(r.code, 0, r.stderr);
    const [own, rest] = r.stdout.split('---\n');
    t.diagnostic(`inside: ${JSON.stringify(r.stdout)}`);
    const lines = own!.trim().split('\n');
    assert.ok(lines.length >= 2, own);
    // every hierarchy, v1 and the unified one (0::), is rooted at the container's cgroup
    for (const line of lines) assert.match(line, /^\d+:[^:]*:\/$/, `not at the namespace root: ${line}`);
    assert.ok(lines.includes('0::/'), own);
    // pid 1, the shell itself (the container's init), is in it: the pids cgroup is the container's own
    assert.deepEqual(rest!.trim().split('\n'), [String(48 * MIB), '17', '1', '0']);
    await assertNoLeaks(b.id);
  });

  test('without a cgroup namespace the container still sees only its own cgroup under /sys/fs/cgroup', async () => {
    const b = await c.bundle(['sh', '-c', 'cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids/cgroup.procs'], withResources({ pids: { limit: 23 } }));
    const r = await c.rt(['run', '--bundle', b.dir, b.id]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['23', '1']);
    await assertNoLeaks(b.id);
  });

  const missing: { ctrl: string; resources: LinuxResources; message: RegExp }[] = [
    { ctrl: 'net_cls', resources: { network: { classID: 0x100001 } }, message: /^linux\.resources\.network\.classID: the v1 net_cls controller is not mounted on this host; .*remove/ },
    { ctrl: 'net_prio', resources: { network: { priorities: [{ name: 'eth0', priority: 5 }] } }, message: /^linux\.resources\.network\.priorities: the v1 net_prio controller is not mounted on this host; / },
    { ctrl: 'rdma', resources: { rdma: { mlx5_0: { hcaHandles: 3 } } }, message: /^linux\.resources\.rdma: the v1 rdma controller is not mounted on this host; / },
  ];
  for (const { ctrl, resources, message } of missing) {
    test(`a knob of the unmounted v1 ${ctrl} controller fails create with one line and leaves nothing`, async (t) => {
      if (v1Mounted(ctrl)) return t.skip(`${ctrl} is mounted on this host`);
      const b = await c.bundle(['true'], withResources(resources));
      const r = await c.rt(['create', '--bundle', b.dir, b.id]);
      assert.notEqual(r.code, 0);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr.trim().replace(/^[^:]*berth-runtime: /, ''), message);
      t.diagnostic(r.stderr.trim());
      assert.equal(existsSync(join(c.root.root, b.id)), false);
      await assertNoLeaks(b.id);
    });
  }
});
