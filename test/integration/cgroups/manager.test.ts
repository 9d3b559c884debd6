/**
 * Real cgroups on this host (hybrid here; v1 or v2 elsewhere). Every cgroup is created BELOW
 * this process's own cgroup in each hierarchy, named berth-test-*, and removed in `finally`.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { detectCgroupHost, resolveCgroupPath, cgroupManager, cgroupManagerFromState, type CgroupManager } from '../../../src/cgroups/index.js';

const root = process.getuid?.() === 0;
const skip = !root ? 'needs root' : !existsSync('/sys/fs/cgroup') ? 'no /sys/fs/cgroup' : false;

let seq = 0;
async function withCgroup(fn: (m: CgroupManager, kids: ChildProcess[]) => Promise<void>): Promise<void> {
  const host = await detectCgroupHost();
  const path = resolveCgroupPath(host, `berth-test-${process.pid}-${++seq}`, 'unused');
  const m = cgroupManager(host, path);
  const kids: ChildProcess[] = [];
  try {
    m.create();
    await fn(m, kids);
  } finally {
    for (const k of kids) if (k.exitCode === null && k.signalCode === null) k.kill('SIGKILL');
    if (m.exists()) {
      if (m.freezerState() === 'frozen') await m.thaw();
      await m.killAll('SIGKILL');
      await m.destroy();
    }
  }
}

/** Spawns a command and waits until it is running. */
function start(kids: ChildProcess[], cmd: string, args: string[]): ChildProcess {
  const k = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'ignore'] });
  kids.push(k);
  return k;
}

const exited = (k: ChildProcess): Promise<NodeJS.Signals | number | null> =>
  k.exitCode !== null || k.signalCode !== null ? Promise.resolve(k.signalCode ?? k.exitCode) : new Promise((res) => k.once('exit', (code, sig) => res(sig ?? code)));

const cat = (dir: string | undefined, f: string): string => readFileSync(join(dir!, f), 'utf8').trim();

test('create, apply memory 32M / pids 10 / cpu quota, add a process, stats, destroy leaves nothing', { skip }, async () => {
  let paths: Record<string, string> = {};
  await withCgroup(async (m, kids) => {
    paths = m.paths;
    m.apply({ memory: { limit: 32 << 20 }, pids: { limit: 10 }, cpu: { quota: 50000, period: 100000 } });
    if (m.mode === 'v2') {
      assert.equal(cat(m.paths['unified'], 'memory.max'), String(32 << 20));
      assert.equal(cat(m.paths['unified'], 'pids.max'), '10');
      assert.equal(cat(m.paths['unified'], 'cpu.max'), '50000 100000');
    } else {
      assert.equal(cat(m.paths['memory'], 'memory.limit_in_bytes'), String(32 << 20));
      assert.equal(cat(m.paths['pids'], 'pids.max'), '10');
      assert.equal(cat(m.paths['cpu'], 'cpu.cfs_quota_us'), '50000');
      assert.equal(cat(m.paths['cpu'], 'cpu.cfs_period_us'), '100000');
      assert.notEqual(cat(m.paths['cpuset'], 'cpuset.cpus'), '', 'cpuset copied from the parent');
    }
    const k = start(kids, 'sleep', ['30']);
    m.addProcess(k.pid!);
    assert.deepEqual(m.pids(), [k.pid]);
    if (m.paths['unified']) assert.ok(cat(m.paths['unified'], 'cgroup.procs').split('\n').includes(String(k.pid)), 'tracked in the unified hierarchy too');
    const s = m.stats();
    assert.equal(s.pids?.current, 1);
    assert.equal(s.pids?.limit, 10);
    assert.equal(s.memory?.limit, 32 << 20);
    assert.equal(typeof s.cpu?.usageTotal, 'number');
    assert.equal(s.oomKills, 0);
    // a sub-cgroup the container made is removed too
    mkdirSync(join(m.paths['memory'] ?? m.paths['unified']!, 'berth-test-child'));
    await m.killAll();
    assert.equal(await exited(k), 'SIGKILL');
    await m.destroy();
    assert.equal(m.exists(), false);
    await m.destroy(); // idempotent
  });
  for (const p of Object.values(paths)) assert.equal(existsSync(p), false, `${p} removed`);
});

test('freeze stops a busy loop, thaw resumes it', { skip }, async () => {
  await withCgroup(async (m, kids) => {
    const k = start(kids, 'sh', ['-c', 'while :; do :; done']);
    m.addProcess(k.pid!);
    await sleep(100);
    await m.freeze();
    assert.equal(m.freezerState(), 'frozen');
    const a = m.stats().cpu!.usageTotal;
    await sleep(300);
    const b = m.stats().cpu!.usageTotal;
    assert.ok(b - a < 5e6, `no progress while frozen (${b - a} ns)`);
    await m.thaw();
    assert.equal(m.freezerState(), 'thawed');
    await sleep(300);
    const c = m.stats().cpu!.usageTotal;
    assert.ok(c - b > 50e6, `runs again after thaw (${c - b} ns)`);
    await m.killAll('SIGTERM');
    assert.equal(await exited(k), 'SIGTERM');
    assert.equal(m.freezerState(), 'thawed', 'killAll thaws after signalling');
  });
});

test('killAll reaches children forked inside the cgroup', { skip }, async () => {
  await withCgroup(async (m, kids) => {
    const k = start(kids, 'sh', ['-c', 'read x; sleep 30 & sleep 30 & wait']);
    m.addProcess(k.pid!);
    k.stdin!.write('go\n');
    for (let i = 0; i < 100 && m.pids().length < 3; i++) await sleep(10);
    assert.equal(m.pids().length, 3);
    await m.killAll();
    await exited(k);
    for (let i = 0; i < 100 && m.pids().length > 0; i++) await sleep(10);
    assert.deepEqual(m.pids(), []);
  });
});

test('OOM kill is counted and watchOom fires', { skip }, async () => {
  await withCgroup(async (m, kids) => {
    m.apply({ memory: { limit: 32 << 20, swap: 32 << 20 } });
    const seen: number[] = [];
    const stop = m.watchOom((n) => seen.push(n));
    try {
      const k = start(kids, 'sh', ['-c', 'read x; a=$(head -c 100000000 /dev/zero | tr "\\0" x); echo ${#a}']);
      m.addProcess(k.pid!);
      k.stdin!.write('go\n');
      await exited(k);
      for (let i = 0; i < 50 && seen.length === 0; i++) await sleep(20);
      assert.ok(m.oomKillCount() >= 1, 'oom_kill counted');
      assert.ok(seen.length >= 1 && seen[0]! >= 1, 'watchOom fired');
      assert.equal(m.stats().oomKills, m.oomKillCount());
    } finally {
      stop();
    }
  });
});

test('v1 update honours the memory / memsw ordering, and rejects bad knobs before writing', { skip }, async (t) => {
  await withCgroup(async (m) => {
    if (m.mode === 'v2' || !existsSync(join(m.paths['memory']!, 'memory.memsw.limit_in_bytes'))) return t.skip('needs v1 swap accounting');
    const mem = m.paths['memory'];
    m.apply({ memory: { limit: 32 << 20, swap: 32 << 20 } });
    m.update({ memory: { limit: 128 << 20, swap: 256 << 20 } }); // swap must go first
    assert.equal(cat(mem, 'memory.limit_in_bytes'), String(128 << 20));
    assert.equal(cat(mem, 'memory.memsw.limit_in_bytes'), String(256 << 20));
    m.update({ memory: { limit: 16 << 20, swap: 16 << 20 } }); // limit must go first
    assert.equal(cat(mem, 'memory.limit_in_bytes'), String(16 << 20));
    assert.equal(cat(mem, 'memory.memsw.limit_in_bytes'), String(16 << 20));
    m.update({ memory: { limit: -1 } }); // both unlimited
    assert.equal(cat(mem, 'memory.memsw.limit_in_bytes'), '9223372036854771712');
    assert.throws(() => m.update({ memory: { limit: 8 << 20, swappiness: 101 } }), { code: 'EINVALID_CONFIG', message: /swappiness/ });
    assert.equal(cat(mem, 'memory.limit_in_bytes'), '9223372036854771712', 'nothing written');
    assert.throws(() => m.update({ memory: { kernel: 1 << 20 } }), { code: 'EUNSUPPORTED', message: /memory\.kernel/ });
  });
});

test('devices, hugetlb (unified twin on hybrid hosts), cpu shares, and restore from the saved record', { skip }, async (t) => {
  await withCgroup(async (m) => {
    m.apply({
      devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 5, access: 'rw' }],
      cpu: { shares: 512 },
    });
    if (m.mode !== 'v2') {
      assert.equal(cat(m.paths['devices'], 'devices.list'), 'c 1:3 rwm\nc 1:5 rw');
      assert.equal(cat(m.paths['cpu'], 'cpu.shares'), '512');
    }
    const again = cgroupManagerFromState(JSON.parse(JSON.stringify(m.save())));
    assert.deepEqual(again.paths, m.paths);
    const sizes = m.stats().hugetlb;
    if (!sizes?.['2MB']) return t.skip('no 2MB hugetlb here');
    again.apply({ hugepageLimits: [{ pageSize: '2MB', limit: 0 }] });
    const dir = m.mode === 'v1' ? m.paths['hugetlb'] : m.paths['unified'];
    assert.equal(cat(dir, m.mode === 'v1' ? 'hugetlb.2MB.limit_in_bytes' : 'hugetlb.2MB.max'), '0');
  });
});
