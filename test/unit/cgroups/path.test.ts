import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { resolveCgroupPath, absoluteIn } from '../../../src/cgroups/path.js';
import { parseCgroupHost } from '../../../src/cgroups/host.js';
import { cgroupManager } from '../../../src/cgroups/manager.js';
import { fixtureText } from './fixtures.js';

const host = parseCgroupHost(fixtureText('v1/mountinfo'), fixtureText('v1/proc-self-cgroup'), 'hugetlb');

test('absent cgroupsPath defaults to /berth/<id>', () => {
  assert.equal(resolveCgroupPath(host, undefined, 'web1'), '/berth/web1');
  assert.equal(resolveCgroupPath(host, '', 'web1'), '/berth/web1');
});

test('absolute paths are kept (relative to each hierarchy root), normalised', () => {
  assert.equal(resolveCgroupPath(host, '/machine//web1/', 'x'), '/machine/web1');
});

test('relative paths stay relative and land below our own cgroup per controller', () => {
  const p = resolveCgroupPath(host, 'berth-test/web1', 'x');
  assert.equal(p, 'berth-test/web1');
  const m = cgroupManager(host, p);
  assert.match(m.paths['memory']!, /^\/sys\/fs\/cgroup\/memory\/process_api\/[0-9a-f]+\/berth-test\/web1$/);
  assert.equal(m.paths['cpu'], '/sys/fs/cgroup/cpu/berth-test/web1');
  assert.equal(m.paths['unified'], '/sys/fs/cgroup/unified/berth-test/web1');
  assert.equal(absoluteIn('/a', '/b'), '/b');
});

test('bad paths are refused with the field named', () => {
  assert.throws(() => resolveCgroupPath(host, '/a/../../etc', 'x'), { code: 'EINVALID_CONFIG', message: /linux\.cgroupsPath/ });
  assert.throws(() => resolveCgroupPath(host, '/', 'x'), { code: 'EINVALID_CONFIG' });
  assert.throws(() => resolveCgroupPath(host, 'system.slice:berth:web1', 'x'), { code: 'EUNSUPPORTED', message: /systemd/ });
  assert.throws(() => resolveCgroupPath(host, undefined, '../x'), { code: 'EINVALID_ARG' });
});
