/**
 * The launch plan's cgroup and time parent ops (no root needed): the device filter and the
 * cgroup fd come first, a new time namespace becomes a `timens` op before the mount namespace is
 * joined, and CLONE_NEWTIME never reaches the clone flags (it collides with CSIGNAL).
 */
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Spec } from '../../src/oci/spec.js';
import { buildCreatePlan } from '../../src/runtime/plan.js';
import { opFields, type Op, type OpOf } from '../../src/native/ops.js';
import { CLONE_NEWTIME } from '../../src/runtime/namespaces.js';

function spec(mutate: (s: Spec) => void = () => {}): Spec {
  const s: Spec = {
    ociVersion: '1.2.0',
    root: { path: '/nonexistent-rootfs' },
    process: { args: ['true'], cwd: '/', user: { uid: 0, gid: 0 } },
    linux: { namespaces: [{ type: 'mount' }, { type: 'pid' }, { type: 'time' }], timeOffsets: { boottime: { secs: 10, nanosecs: 5 }, monotonic: { secs: -3 } } },
  } as Spec;
  mutate(s);
  return s;
}

/** An op and its first field, as on the wire: `setns user`. */
const brief = (o: Op) => { const f = opFields(o); return `${f[0]} ${f[1] ?? ''}`; };

const parentOps = (ops: ReturnType<typeof buildCreatePlan>) => ops.slice(0, ops.findIndex((o) => o.op === 'clone') + 1);

describe('plan: cgroup and time parent ops', () => {
  it('puts bpf-devices and cgroup-fd first and timens before the clone without CLONE_NEWTIME', () => {
    const program = new Uint8Array([0x95, 0, 0, 0, 0, 0, 0, 0]);
    const ops = parentOps(buildCreatePlan(spec(), { bundle: '/b', monitor: false, devices: { dir: '/sys/fs/cgroup/c', program }, cgroupDir: '/sys/fs/cgroup/c' }));
    assert.deepEqual(ops.map((o) => o.op), ['bpf-devices', 'cgroup-fd', 'timens', 'clone']);
    assert.deepEqual(ops[0], { op: 'bpf-devices', dir: '/sys/fs/cgroup/c', program });
    assert.deepEqual(ops[2], { op: 'timens', offsets: 'boottime 10 5\nmonotonic -3 0\n' });
    const clone = ops[3] as OpOf<'clone'>;
    assert.equal(Number(clone.flags) & CLONE_NEWTIME, 0);
    assert.notEqual(Number(clone.flags), 0);
  });

  it('makes the time namespace before joining a mount namespace and after joining a user namespace', () => {
    const ops = parentOps(buildCreatePlan(spec((s) => {
      s.linux!.namespaces = [{ type: 'user', path: '/proc/1/ns/user' }, { type: 'mount', path: '/proc/1/ns/mnt' }, { type: 'time' }];
      s.linux!.timeOffsets = {};
    }), { bundle: '/b', monitor: false }));
    assert.deepEqual(ops.map(brief), ['setns user', 'timens ', 'setns mnt', 'clone 0']);
  });

  it('refuses offsets for a joined time namespace, and joins it with setns', () => {
    assert.throws(() => buildCreatePlan(spec((s) => { s.linux!.namespaces![2] = { type: 'time', path: '/proc/1/ns/time' }; }), { bundle: '/b', monitor: false }),
      { code: 'EINVALID_CONFIG', message: /linux\.timeOffsets cannot be applied to the time namespace joined from \/proc\/1\/ns\/time/ });
    const ops = parentOps(buildCreatePlan(spec((s) => {
      s.linux!.namespaces![2] = { type: 'time', path: '/proc/1/ns/time' };
      delete s.linux!.timeOffsets;
    }), { bundle: '/b', monitor: false }));
    assert.deepEqual(ops.map(brief), ['setns time', `clone ${0x20000 | 0x20000000}`]);
  });
});
