/**
 * The plan of id-mapped mounts (no root needed): one `idmap-tree` parent op per id-mapped mount,
 * in slot order, before any `setns` and before `cgroup-enter`, carrying the mount's own mapping,
 * the container's, or the path of the user namespace it joins; and the child's `mount` op
 * attaching the slot instead of mounting.
 */
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Spec } from '../../src/oci/spec.js';
import { buildCreatePlan } from '../../src/runtime/plan.js';
import type { Op, OpOf } from '../../src/native/ops.js';

function spec(mutate: (s: Spec) => void = () => {}): Spec {
  const s = {
    ociVersion: '1.2.0',
    root: { path: '/nonexistent-rootfs' },
    process: { args: ['true'], cwd: '/', user: { uid: 0, gid: 0 } },
    mounts: [],
    linux: {
      namespaces: [{ type: 'mount' }, { type: 'user' }, { type: 'network', path: '/proc/1/ns/net' }],
      uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      gidMappings: [{ containerID: 0, hostID: 200000, size: 65536 }],
    },
  } as Spec;
  mutate(s);
  return s;
}
const plan = (s: Spec) => buildCreatePlan(s, { bundle: '/', monitor: false, cgroupMoves: { enter: ['/cg'], leave: ['/own'] } });
const byName = <N extends Op['op']>(ops: Op[], name: N) => ops.filter((o): o is OpOf<N> => o.op === name);

describe('plan: id-mapped mounts', () => {
  it('makes the trees first, from the mapping of the mount or of the container', () => {
    const ops = plan(spec((s) => s.mounts!.push(
      { destination: '/a', type: 'bind', source: '/tmp', options: ['bind', 'idmap'] },
      { destination: '/p', type: 'bind', source: '/tmp', options: ['rbind'] },
      { destination: '/b', type: 'bind', source: 'tmp', options: ['rbind', 'ridmap'],
        uidMappings: [{ containerID: 1000, hostID: 100000, size: 1 }], gidMappings: [{ containerID: 1000, hostID: 200000, size: 1 }] },
    )));
    assert.deepEqual(byName(ops, 'idmap-tree'), [
      { op: 'idmap-tree', slot: 0, source: '/tmp', recursiveClone: false, recursiveIdmap: false, uidMap: '0 100000 65536\n', gidMap: '0 200000 65536\n', userns: '' },
      { op: 'idmap-tree', slot: 1, source: '/tmp', recursiveClone: true, recursiveIdmap: true, uidMap: '1000 100000 1\n', gidMap: '1000 200000 1\n', userns: '' },
    ]);
    const names = ops.map((o) => o.op);
    assert.ok(names.lastIndexOf('idmap-tree') < names.indexOf('cgroup-enter'));
    assert.ok(names.lastIndexOf('idmap-tree') < names.indexOf('setns'));
    const mounts = byName(ops, 'mount');
    assert.equal(mounts.find((m) => m.target === '/a')?.srcflags, 'idmap:0');
    assert.equal(mounts.find((m) => m.target === '/p')?.srcflags, '0');
    assert.equal(mounts.find((m) => m.target === '/b')?.srcflags, 'idmap:1');
  });

  it('uses the joined user namespace by path when the mount has no mapping', () => {
    const ops = plan(spec((s) => {
      s.linux!.namespaces![1] = { type: 'user', path: '/proc/1/ns/user' };
      delete s.linux!.uidMappings;
      delete s.linux!.gidMappings;
      s.mounts!.push({ destination: '/a', type: 'bind', source: '/tmp', options: ['rbind', 'idmap'] });
    }));
    assert.deepEqual(byName(ops, 'idmap-tree'), [{ op: 'idmap-tree', slot: 0, source: '/tmp', recursiveClone: true, recursiveIdmap: false, uidMap: '', gidMap: '', userns: '/proc/1/ns/user' }]);
  });

  it('refuses an id-mapped mount that is not a bind mount, naming it', () => {
    assert.throws(() => plan(spec((s) => s.mounts!.push({ destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['idmap'] }))),
      /mount \/t: id-mapped mounts are only supported for bind mounts/);
  });
});
