/**
 * Validation happens before any write. These tests run the managers over a COPY of the captured
 * v2 files in a temporary directory (a fake cgroupfs tree, as allowed for unit tests) and check
 * that a bad knob throws and leaves every file untouched.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cgroupManagerFromState } from '../../../src/cgroups/manager.js';
import type { SavedCgroup } from '../../../src/cgroups/types.js';
import { fixture } from './fixtures.js';

function fakeV2(): { dir: string; cleanup: () => void; saved: SavedCgroup } {
  const root = mkdtempSync(join(tmpdir(), 'berth-test-cg-'));
  const dir = join(root, 'c');
  cpSync(fixture('v2'), dir, { recursive: true });
  return { dir, cleanup: () => rmSync(root, { recursive: true, force: true }), saved: { mode: 'v2', path: '/c', v1: {}, unified: dir, unifiedControllers: [] } };
}

const read = (dir: string, f: string): string => readFileSync(join(dir, f), 'utf8');

test('v2: v1-only knobs fail loudly, naming the knob and the alternative, before any write', () => {
  const { dir, cleanup, saved } = fakeV2();
  try {
    const m = cgroupManagerFromState(saved);
    const before = read(dir, 'memory.max');
    const cases: Array<[object, RegExp]> = [
      [{ memory: { limit: 1 << 20, swappiness: 10 } }, /memory\.swappiness.*cgroup v2/],
      [{ memory: { limit: 1 << 20, disableOOMKiller: true } }, /disableOOMKiller.*memory\.high/],
      [{ memory: { limit: 1 << 20, kernel: 1 << 20 } }, /memory\.kernel/],
      [{ memory: { limit: 1 << 20 }, cpu: { realtimeRuntime: 1000 } }, /realtimeRuntime/],
      [{ memory: { limit: 1 << 20 }, network: { classID: 7 } }, /network\.classID.*nftables/],
      [{ memory: { limit: 1 << 20 }, blockIO: { leafWeight: 100 } }, /leafWeight/],
      [{ memory: { limit: 1 << 20 }, unified: { 'memory.nosuch': '1' } }, /unified\["memory\.nosuch"\].*no such file/],
      [{ memory: { limit: 1 << 20 }, unified: { 'foo.bar': '1' } }, /foo controller is not available/],
      [{ memory: { limit: 1 << 20 }, hugepageLimits: [{ pageSize: '16KB', limit: 1 }] }, /no 16KB huge pages \(available: 1GB, 2MB\)/],
    ];
    for (const [r, re] of cases) assert.throws(() => m.apply(r), (e: Error & { code?: string }) => e.code === 'EUNSUPPORTED' && re.test(e.message), JSON.stringify(r));
    assert.throws(() => m.apply({ memory: { limit: 1 << 20 }, unified: { 'cgroup.procs': '1' } }), { code: 'EINVALID_CONFIG' });
    assert.throws(() => m.apply({ memory: { limit: 1 << 20 }, unified: { '../x': '1' } }), { code: 'EINVALID_CONFIG' });
    assert.throws(() => m.apply({ memory: { limit: 32 << 20, swap: 16 << 20 } }), { code: 'EINVALID_CONFIG', message: /memory\.swap/ });
    assert.throws(() => m.apply({ memory: { limit: 1 << 20 }, cpu: { shares: 1 } }), { code: 'EINVALID_CONFIG', message: /cpu\.shares is 1/ });
    assert.throws(() => m.apply({ memory: { limit: 1 << 20 }, cpu: { cpus: '0-x' } }), { code: 'EINVALID_CONFIG', message: /cpu\.cpus/ });
    assert.throws(() => m.apply({ memory: { limit: 1 << 20 }, devices: [{ allow: true, type: 'q' }] }), { code: 'EINVALID_CONFIG', message: /devices\[0\]\.type/ });
    assert.equal(read(dir, 'memory.max'), before, 'nothing was written');
  } finally {
    cleanup();
  }
});

test('v2: conversions are written to the v2 files', () => {
  const { dir, cleanup, saved } = fakeV2();
  try {
    const m = cgroupManagerFromState(saved);
    m.apply({
      memory: { limit: 64 << 20, swap: 96 << 20, reservation: 16 << 20 },
      cpu: { shares: 1024, quota: 20000, period: 100000 },
      pids: { limit: -1 },
      blockIO: { weight: 500 },
      hugepageLimits: [{ pageSize: '2MB', limit: 4 << 21 }],
      unified: { 'memory.high': '50000000' },
      devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' }],
    });
    assert.equal(read(dir, 'memory.max'), String(64 << 20));
    assert.equal(read(dir, 'memory.swap.max'), String(32 << 20));
    assert.equal(read(dir, 'memory.low'), String(16 << 20));
    assert.equal(read(dir, 'cpu.weight'), '100');
    assert.equal(read(dir, 'cpu.max'), '20000 100000');
    assert.equal(read(dir, 'pids.max'), 'max');
    assert.equal(read(dir, 'io.weight'), '4950');
    assert.equal(read(dir, 'hugetlb.2MB.max'), String(4 << 21));
    assert.equal(read(dir, 'memory.high'), '50000000');
    assert.ok(m.deviceFilter() instanceof Uint8Array);
  } finally {
    cleanup();
  }
});

test('v2: a controller not enabled in cgroup.controllers is reported', () => {
  const { dir, cleanup, saved } = fakeV2();
  try {
    mkdirSync(join(dir, 'x'));
    cpSync(join(dir, 'cgroup.controllers'), join(dir, 'x', 'cgroup.controllers'));
    const m = cgroupManagerFromState(saved);
    // rewrite the list without pids: the parent did not enable it
    cpSync(fixture('v2/cgroup.subtree_control'), join(dir, 'cgroup.controllers'));
    assert.throws(() => m.apply({ pids: { limit: 5 } }), { code: 'EUNSUPPORTED', message: /pids controller is not enabled/ });
  } finally {
    cleanup();
  }
});

test('save() is JSON-able and rebuilds an equal manager', () => {
  const saved: SavedCgroup = { mode: 'hybrid', path: '/berth/x', v1: { memory: '/sys/fs/cgroup/memory/berth/x', cpu: '/sys/fs/cgroup/cpu/berth/x' }, unified: '/sys/fs/cgroup/unified/berth/x', unifiedRoot: '/sys/fs/cgroup/unified', unifiedControllers: ['hugetlb'] };
  const m = cgroupManagerFromState(JSON.parse(JSON.stringify(saved)) as SavedCgroup);
  assert.deepEqual(m.save(), saved);
  assert.equal(m.paths['unified'], '/sys/fs/cgroup/unified/berth/x');
  assert.equal(m.mode, 'hybrid');
});
