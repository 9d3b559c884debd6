import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseCgroupHost, parseMountinfo, parseProcCgroup, dirInMount } from '../../../src/cgroups/host.js';
import { fixtureText } from './fixtures.js';

test('this host (captured): hybrid, cpu and cpuacct mounted separately, unified with hugetlb', () => {
  const host = parseCgroupHost(fixtureText('v1/mountinfo'), fixtureText('v1/proc-self-cgroup'), 'hugetlb\n');
  assert.equal(host.mode, 'hybrid');
  assert.equal(host.v1['cpu']!.mountPoint, '/sys/fs/cgroup/cpu');
  assert.equal(host.v1['cpuacct']!.mountPoint, '/sys/fs/cgroup/cpuacct');
  assert.equal(host.v1['memory']!.mountPoint, '/sys/fs/cgroup/memory');
  assert.equal(host.v1['systemd'], undefined, 'named hierarchies are ignored');
  assert.equal(host.unified!.mountPoint, '/sys/fs/cgroup/unified');
  assert.deepEqual(host.unifiedControllers, ['hugetlb']);
  assert.match(host.self['memory']!, /^\/process_api\//);
  assert.equal(host.self['cpu'], '/');
  assert.equal(host.selfUnified, '/');
});

test('v2 VM (captured): unified only', () => {
  const host = parseCgroupHost(fixtureText('v2/mountinfo'), fixtureText('v2/proc-self-cgroup'), fixtureText('v2/root.cgroup.controllers'));
  assert.equal(host.mode, 'v2');
  assert.deepEqual(host.v1, {});
  assert.equal(host.unified!.mountPoint, '/sys/fs/cgroup');
  assert.deepEqual(host.unifiedControllers, ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids', 'rdma', 'misc']);
  assert.equal(host.selfUnified, '/');
});

test('co-mounted cpu,cpuacct and net_cls,net_prio share one mount', () => {
  const { v1, unified } = parseMountinfo(fixtureText('synthetic/v1-cocpu/mountinfo'));
  assert.equal(v1['cpu'], v1['cpuacct']);
  assert.equal(v1['cpu']!.mountPoint, '/sys/fs/cgroup/cpu,cpuacct');
  assert.deepEqual(v1['cpu']!.controllers, ['cpu', 'cpuacct']);
  assert.equal(v1['net_prio']!.mountPoint, '/sys/fs/cgroup/net_cls,net_prio');
  assert.equal(unified!.mountPoint, '/sys/fs/cgroup/unified');
  const { self, selfUnified } = parseProcCgroup(fixtureText('synthetic/v1-cocpu/proc-self-cgroup'));
  assert.equal(self['cpu'], '/user.slice');
  assert.equal(self['cpuacct'], '/user.slice');
  assert.equal(selfUnified, '/user.slice/session-1.scope');
});

test('a mount whose root is a sub-cgroup (cgroup namespace, bind mount) maps paths below that root', () => {
  const { v1 } = parseMountinfo(fixtureText('synthetic/v1-cocpu/mountinfo'));
  assert.equal(dirInMount(v1['pids']!, '/docker/abc/berth/x'), '/sys/fs/cgroup/pids/berth/x');
  assert.equal(dirInMount(v1['memory']!, '/berth/x'), '/sys/fs/cgroup/memory/berth/x');
});

test('pure v1 host without cgroup2 mount', () => {
  const mi = fixtureText('v1/mountinfo').split('\n').filter((l) => !l.includes('cgroup2')).join('\n');
  const host = parseCgroupHost(mi, '', undefined);
  assert.equal(host.mode, 'v1');
  assert.equal(host.unified, undefined);
});

test('mountinfo octal escapes are decoded', () => {
  const { v1 } = parseMountinfo('40 31 0:37 / /sys/fs/cgroup/my\\040dir rw - cgroup cgroup rw,pids\n');
  assert.equal(v1['pids']!.mountPoint, '/sys/fs/cgroup/my dir');
});
