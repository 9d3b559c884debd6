import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { CgroupStats } from '../../../src/cgroups/types.js';
import { memoryV1, memoryV2 } from '../../../src/cgroups/controllers/memory.js';
import { cpuV1, cpuV2 } from '../../../src/cgroups/controllers/cpu.js';
import { cpuacctV1 } from '../../../src/cgroups/controllers/cpuacct.js';
import { pidsController } from '../../../src/cgroups/controllers/pids.js';
import { blkioV1 } from '../../../src/cgroups/controllers/blkio.js';
import { ioV2 } from '../../../src/cgroups/controllers/io.js';
import { hugetlbV2 } from '../../../src/cgroups/controllers/hugetlb.js';
import { oomKillCountV1, oomKillCountV2 } from '../../../src/cgroups/oom.js';
import { freezerStateV1 } from '../../../src/cgroups/controllers/freezer.js';
import { parseFlatKeyed, parseNumber } from '../../../src/cgroups/files.js';
import { fixture } from './fixtures.js';

test('v1 memory stats from this host (captured)', () => {
  const s: CgroupStats = {};
  memoryV1.stats!(fixture('v1/memory'), s);
  const m = s.memory!;
  assert.equal(m.usage, 491520);
  assert.equal(m.workingSet, 491520 - 0, 'usage − total_inactive_file');
  assert.equal(m.limit, 33554432);
  assert.equal(m.peak, 9961472);
  assert.equal(m.cache, 4096);
  assert.equal(m.rss, 147456);
  assert.equal(m.swap, 0, 'memsw.usage − usage');
  assert.equal(m.kernel, 106496);
  assert.equal(m.failcnt, 0);
  assert.equal(m.raw['hierarchical_memory_limit'], 33554432, 'every memory.stat key is kept');
  // raw is printed as JSON (events --stats): the kernel's number as runc prints it, not null
  assert.equal(m.raw['hierarchical_memsw_limit'], 9223372036854771712, 'raw keeps the kernel number');
  assert.equal(JSON.stringify(m.raw).includes('null'), false);
  assert.equal(oomKillCountV1(fixture('v1/memory')), 0);
});

test('v1 cpu: cpuacct (separate mount here) + cpu.stat throttling', () => {
  const s: CgroupStats = {};
  cpuV1.stats!(fixture('v1/cpu'), s);
  cpuacctV1.stats!(fixture('v1/cpuacct'), s);
  assert.equal(s.cpu!.usageTotal, 32944211);
  assert.equal(s.cpu!.usageUser, 28000000);
  assert.equal(s.cpu!.usageSystem, 4000000);
  assert.deepEqual(s.cpu!.percpu, [32853928, 90283]);
  assert.deepEqual(s.cpu!.throttling, { periods: 2, throttledPeriods: 0, throttledTime: 0 });
  assert.equal(s.cpu!.raw['nr_bursts'], 0, 'unknown keys kept');
});

test('v1 pids, blkio (synthetic per-device counters), freezer', () => {
  const s: CgroupStats = {};
  pidsController.stats!(fixture('v1/pids'), s);
  assert.deepEqual(s.pids, { current: 2, limit: 10 });
  blkioV1.stats!(fixture('v1/blkio'), s);
  assert.deepEqual(s.blkio, { devices: [] }, 'this host records no per-device I/O: "Total 0" only');
  blkioV1.stats!(fixture('synthetic/v1-blkio'), s);
  assert.deepEqual(s.blkio!.devices, [
    { major: 8, minor: 0, readBytes: 4096, writeBytes: 1052672, readOps: 1, writeOps: 257 },
    { major: 253, minor: 1, readBytes: 512, writeBytes: 0, readOps: 1, writeOps: 0 },
  ]);
  assert.equal(freezerStateV1(fixture('v1/freezer')), 'thawed');
});

test('v2 stats from the VM (captured)', () => {
  const dir = fixture('v2');
  const s: CgroupStats = {};
  for (const c of [memoryV2, cpuV2, pidsController, ioV2, hugetlbV2]) c.stats!(dir, s);
  assert.equal(s.memory!.usage, 483328);
  assert.equal(s.memory!.workingSet, 483328 - 98304, 'memory.current − inactive_file');
  assert.equal(s.memory!.limit, 33554432);
  assert.equal(s.memory!.peak, 5754880);
  assert.equal(s.memory!.cache, 208896);
  assert.equal(s.memory!.rss, 0);
  assert.equal(s.memory!.kernel, 16384);
  assert.equal(s.memory!.swap, 0);
  assert.equal(s.cpu!.usageTotal, 493357000, 'µs → ns');
  assert.equal(s.cpu!.usageUser, 201633000);
  assert.equal(s.cpu!.usageSystem, 291724000);
  assert.equal(s.cpu!.percpu, undefined, 'v2 has no per-CPU usage');
  assert.deepEqual(s.cpu!.throttling, { periods: 14, throttledPeriods: 9, throttledTime: 391663000 });
  assert.deepEqual(s.pids, { current: 0, limit: 10 });
  assert.deepEqual(s.blkio, { devices: [] });
  assert.deepEqual(s.hugetlb!['2MB'], { usage: 0, failcnt: 0 });
  assert.ok(s.hugetlb!['1GB']);
  assert.equal(oomKillCountV2(dir), 0);
});

test('v2 io.stat and an OOM-killed memory.events (synthetic)', () => {
  const s: CgroupStats = {};
  ioV2.stats!(fixture('synthetic/v2-io'), s);
  assert.deepEqual(s.blkio!.devices[0], { major: 8, minor: 0, readBytes: 4096, writeBytes: 1052672, readOps: 1, writeOps: 257 });
  assert.equal(oomKillCountV2(fixture('synthetic/v2-oom')), 1);
});

test('a missing file is a missing feature, not an error', () => {
  const s: CgroupStats = {};
  for (const c of [memoryV1, memoryV2, cpuV2, pidsController, ioV2, hugetlbV2]) c.stats!('/nonexistent/berth-test', s);
  assert.deepEqual(s, {});
  assert.equal(oomKillCountV2('/nonexistent/berth-test'), 0);
});

test('parsers: flat keyed keeps unknown keys, "max" is Infinity, junk is skipped', () => {
  assert.deepEqual(parseFlatKeyed('a 1\nnew_key 7\nweird\nmaxed max\n'), { a: 1, new_key: 7, maxed: Infinity });
  assert.equal(parseNumber('9223372036854771712\n'), Infinity);
  assert.equal(parseNumber('nope'), undefined);
});
