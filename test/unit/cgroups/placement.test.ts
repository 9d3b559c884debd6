import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseCgroupHost } from '../../../src/cgroups/host.js';
import { cgroupManager } from '../../../src/cgroups/manager.js';
import { helperCgroupMoves } from '../../../src/cgroups/placement.js';
import { fixtureText } from './fixtures.js';

const MEM = '/process_api/db73d8b3288c82b0d5f9ed80897f7625';

test('hybrid (this host): the helper enters each v1 dir but memory and leaves to its own cgroup there', () => {
  const host = parseCgroupHost(fixtureText('v1/mountinfo'), fixtureText('v1/proc-self-cgroup'), 'hugetlb\n');
  const m = cgroupManager(host, 'berth-test-1/c1');
  const moves = helperCgroupMoves(host, m)!;
  assert.ok(moves);
  assert.equal(moves.enter.length, moves.leave.length);
  const pair = (ctrl: string): [string, string] => {
    const i = moves.enter.indexOf(`/sys/fs/cgroup/${ctrl}${ctrl === 'memory' ? MEM : ''}/berth-test-1/c1`);
    assert.ok(i >= 0, `${ctrl} in ${moves.enter.join(' ')}`);
    return [moves.enter[i]!, moves.leave[i]!];
  };
  // A tiny memory limit must not OOM-kill the helper: the child joins memory itself.
  assert.ok(!moves.enter.some((d) => d.startsWith('/sys/fs/cgroup/memory')), 'memory is not entered by the helper');
  assert.equal(moves.memory, `/sys/fs/cgroup/memory${MEM}/berth-test-1/c1`, 'memory: below this process\'s own cgroup');
  assert.equal(pair('cpu')[1], '/sys/fs/cgroup/cpu');
  assert.equal(pair('freezer')[1], '/sys/fs/cgroup/freezer');
  assert.ok(!moves.enter.some((d) => d.startsWith('/sys/fs/cgroup/unified')), 'the unified twin is CLONE_INTO_CGROUP\'s');
});

test('co-mounted cpu,cpuacct is one directory, entered once', () => {
  const dir = 'synthetic/v1-cocpu';
  const host = parseCgroupHost(fixtureText(`${dir}/mountinfo`), fixtureText(`${dir}/proc-self-cgroup`), undefined);
  const moves = helperCgroupMoves(host, cgroupManager(host, '/berth/c1'))!;
  assert.equal(new Set(moves.enter).size, moves.enter.length);
  assert.equal(moves.enter.filter((d) => d.includes('cpu,cpuacct')).length, 1, moves.enter.join(' '));
});

test('cgroup v2: no moves (the child is cloned into its cgroup)', () => {
  const host = parseCgroupHost(fixtureText('v2/mountinfo'), fixtureText('v2/proc-self-cgroup'), 'cpu memory pids\n');
  assert.equal(helperCgroupMoves(host, cgroupManager(host, '/berth/c1')), undefined);
});
