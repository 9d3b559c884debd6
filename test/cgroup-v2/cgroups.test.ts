/**
 * The cgroup library on a real cgroup v2 kernel. Runs only inside the v2 VM
 * (scripts/test-cgroup-v2.sh sets V2VM=1 via /work/shared/tools/v2vm); skipped elsewhere.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { existsSync, mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { detectCgroupHost, resolveCgroupPath, cgroupManager, type CgroupManager } from '../../src/cgroups/index.js';

const skip = process.env['V2VM'] === '1' ? false : 'runs only in the cgroup v2 VM (npm run test:cgroup-v2)';

let seq = 0;
async function withCgroup(fn: (m: CgroupManager, kids: ChildProcess[]) => Promise<void>): Promise<void> {
  const host = await detectCgroupHost();
  const parent = `berth-test-${process.pid}-${++seq}`;
  const m = cgroupManager(host, resolveCgroupPath(host, `${parent}/c`, 'unused'));
  const kids: ChildProcess[] = [];
  try {
    m.create();
    await fn(m, kids);
  } finally {
    for (const k of kids) if (k.exitCode === null && k.signalCode === null) k.kill('SIGKILL');
    if (m.exists()) {
      await m.thaw();
      await m.killAll();
      await m.destroy();
    }
    const p = join(host.unified!.mountPoint, host.selfUnified ?? '/', parent);
    if (existsSync(p)) rmdirSync(p);
  }
}

const cat = (m: CgroupManager, f: string): string => readFileSync(join(m.paths['unified']!, f), 'utf8').trim();
const exited = (k: ChildProcess): Promise<NodeJS.Signals | number | null> =>
  k.exitCode !== null || k.signalCode !== null ? Promise.resolve(k.signalCode ?? k.exitCode) : new Promise((res) => k.once('exit', (c, s) => res(s ?? c)));

test('detects v2 and enables controllers down a nested path', { skip }, async () => {
  const host = await detectCgroupHost();
  assert.equal(host.mode, 'v2');
  await withCgroup(async (m) => {
    const ctrls = cat(m, 'cgroup.controllers').split(' ');
    for (const c of ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids']) assert.ok(ctrls.includes(c), `${c} enabled in ${ctrls.join(' ')}`);
  });
});

test('apply converts OCI values to v2 files; v1-only knobs fail', { skip }, async () => {
  await withCgroup(async (m) => {
    m.apply({
      memory: { limit: 32 << 20, swap: 48 << 20, reservation: 8 << 20 },
      pids: { limit: 10 },
      cpu: { shares: 1024, quota: 50000, period: 100000, cpus: '0' },
      blockIO: { weight: 500 },
      hugepageLimits: [{ pageSize: '2MB', limit: 0 }],
      unified: { 'memory.high': String(24 << 20) },
    });
    assert.equal(cat(m, 'memory.max'), String(32 << 20));
    if (existsSync(join(m.paths['unified']!, 'memory.swap.max'))) assert.equal(cat(m, 'memory.swap.max'), String(16 << 20));
    assert.equal(cat(m, 'memory.low'), String(8 << 20));
    assert.equal(cat(m, 'memory.high'), String(24 << 20));
    assert.equal(cat(m, 'pids.max'), '10');
    assert.equal(cat(m, 'cpu.weight'), '100');
    assert.equal(cat(m, 'cpu.max'), '50000 100000');
    assert.equal(cat(m, 'cpuset.cpus'), '0');
    assert.equal(cat(m, 'hugetlb.2MB.max'), '0');
    m.update({ cpu: { period: 200000 } });
    assert.equal(cat(m, 'cpu.max'), '50000 200000', 'period-only update keeps the quota');
    assert.throws(() => m.apply({ memory: { swappiness: 10 } }), { code: 'EUNSUPPORTED', message: /swappiness/ });
    assert.throws(() => m.apply({ memory: { disableOOMKiller: true } }), { code: 'EUNSUPPORTED', message: /^linux\.resources\.memory\.disableOOMKiller: .*memory\.high/ });
    assert.throws(() => m.apply({ memory: { kernel: 64 << 20 } }), { code: 'EUNSUPPORTED', message: /^linux\.resources\.memory\.kernel: .*charged to memory\.limit/ });
    assert.throws(() => m.apply({ memory: { kernelTCP: 64 << 20 } }), { code: 'EUNSUPPORTED', message: /^linux\.resources\.memory\.kernelTCP: .*memory\.max/ });
    assert.throws(() => m.apply({ cpu: { realtimeRuntime: 1000 } }), { code: 'EUNSUPPORTED', message: /^linux\.resources\.cpu\.realtimeRuntime: / });
    assert.throws(() => m.apply({ blockIO: { leafWeight: 100 } }), { code: 'EUNSUPPORTED', message: /^linux\.resources\.blockIO\.leafWeight: / });
    assert.equal(cat(m, 'memory.max'), String(32 << 20), 'a refused apply writes nothing');
    assert.throws(() => m.apply({ unified: { 'memory.nosuch': '1' } }), { code: 'EUNSUPPORTED' });
    m.apply({ devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }] });
    assert.ok((m.deviceFilter()?.byteLength ?? 0) > 0, 'device program generated for the helper');
  });
});

test('process, stats, freeze/thaw, killAll with cgroup.kill, destroy with a sub-cgroup', { skip }, async () => {
  let dir = '';
  await withCgroup(async (m, kids) => {
    dir = m.paths['unified']!;
    m.apply({ memory: { limit: 64 << 20 }, pids: { limit: 20 } });
    const k = spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' });
    kids.push(k);
    m.addProcess(k.pid!);
    assert.deepEqual(m.pids(), [k.pid]);
    await sleep(200);
    const s = m.stats();
    assert.equal(s.pids?.current, 1);
    assert.equal(s.memory?.limit, 64 << 20);
    assert.ok(s.cpu!.usageTotal > 0);
    assert.equal(s.oomKills, 0);
    await m.freeze();
    assert.equal(m.freezerState(), 'frozen');
    const a = m.stats().cpu!.usageTotal;
    await sleep(400);
    const b = m.stats().cpu!.usageTotal;
    assert.ok(b - a < 5e6, `no progress while frozen (${b - a} ns)`);
    await m.thaw();
    await sleep(400);
    assert.ok(m.stats().cpu!.usageTotal - b > 20e6, 'progress after thaw');
    mkdirSync(join(dir, 'berth-test-sub'));
    await m.killAll();
    assert.equal(await exited(k), 'SIGKILL');
    await m.destroy();
    assert.equal(m.exists(), false);
  });
  assert.equal(existsSync(dir), false);
});

test('killAll with SIGTERM freezes around the signalling', { skip }, async () => {
  await withCgroup(async (m, kids) => {
    const k = spawn('sleep', ['60'], { stdio: 'ignore' });
    kids.push(k);
    m.addProcess(k.pid!);
    await m.killAll('SIGTERM');
    assert.equal(await exited(k), 'SIGTERM');
    assert.equal(m.freezerState(), 'thawed');
  });
});

test('OOM kill: counter and fs.watch event on memory.events', { skip }, async () => {
  await withCgroup(async (m, kids) => {
    m.apply({ memory: { limit: 32 << 20, swap: 32 << 20 } });
    const seen: number[] = [];
    const stop = m.watchOom((n) => seen.push(n));
    try {
      const k = spawn('sh', ['-c', 'read x; a=$(head -c 100000000 /dev/zero | tr "\\0" x); echo ${#a}'], { stdio: ['pipe', 'ignore', 'ignore'] });
      kids.push(k);
      m.addProcess(k.pid!);
      k.stdin!.write('go\n');
      await exited(k);
      for (let i = 0; i < 100 && seen.length === 0; i++) await sleep(20);
      assert.ok(m.oomKillCount() >= 1);
      assert.ok(seen.length >= 1, 'watchOom fired');
    } finally {
      stop();
    }
  });
});

test('the generated device program passes the verifier and filters opens', { skip }, async (t) => {
  const loader = fileURLToPath(new URL('./bpf-load', import.meta.url));
  if (!existsSync(loader)) return t.skip('bpf-load not built (no C compiler)');
  await withCgroup(async (m) => {
    m.apply({ devices: [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: null, access: 'rw' },
      { allow: false, type: 'c', major: 1, minor: 8, access: 'w' },
    ] });
    const prog = join(tmpdir(), `berth-test-prog-${process.pid}.bin`);
    writeFileSync(prog, m.deviceFilter()!);
    try {
      const out = execFileSync(loader, [prog, m.paths['unified']!, '/dev/null', '/dev/zero', '/dev/random', '/dev/tty', '/dev/fuse'], { encoding: 'utf8' });
      assert.deepEqual(out.trim().split('\n').sort(), ['/dev/fuse: denied', '/dev/null: allowed', '/dev/random: denied', '/dev/tty: denied', '/dev/zero: allowed']);
    } finally {
      rmSync(prog, { force: true });
    }
  });
});

test('rdma.max from hcaHandles/hcaObjects on a soft-RoCE device; unknown devices and network knobs refused', { skip }, async (t) => {
  // rdma_rxe over a dummy link gives the rdma controller a device (the kernel loads the modules)
  const link = `brt${process.pid % 100000}`;
  const ip = (args: string[]) => spawnSync('ip', args, { encoding: 'utf8' });
  const made = ip(['link', 'add', link, 'type', 'dummy']).status === 0;
  const rdma = made && spawnSync('rdma', ['link', 'add', `${link}rxe`, 'type', 'rxe', 'netdev', link], { encoding: 'utf8' });
  try {
    await withCgroup(async (m) => {
      assert.throws(() => m.apply({ network: { classID: 0x100001 } }), { code: 'EUNSUPPORTED', message: /^linux\.resources\.network\.classID: cgroup v2 has no net_cls.*nftables/ });
      assert.throws(() => m.apply({ network: { priorities: [{ name: 'eth0', priority: 1 }] } }), { code: 'EUNSUPPORTED', message: /^linux\.resources\.network\.priorities: / });
      assert.throws(() => m.apply({ rdma: { nosuch0: { hcaHandles: 1 } } }), { code: 'EUNSUPPORTED', message: /rdma\["nosuch0"\]: no such rdma device/ });
      if (!rdma || rdma.status !== 0) return t.skip(`no rdma device: ${made ? (rdma ? rdma.stderr.trim() : '') : 'ip link add dummy failed'}`);
      const dev = `${link}rxe`;
      assert.match(cat(m, 'rdma.max'), new RegExp(`^${dev} hca_handle=max hca_object=max$`, 'm'));
      m.apply({ rdma: { [dev]: { hcaHandles: 3, hcaObjects: 1000 } } });
      assert.match(cat(m, 'rdma.max'), new RegExp(`^${dev} hca_handle=3 hca_object=1000$`, 'm'));
      m.update({ rdma: { [dev]: { hcaObjects: 50 } } });
      assert.match(cat(m, 'rdma.max'), new RegExp(`^${dev} hca_handle=3 hca_object=50$`, 'm'), 'a key left out keeps its value');
    });
  } finally {
    if (rdma && rdma.status === 0) spawnSync('rdma', ['link', 'delete', `${link}rxe`]);
    if (made) ip(['link', 'delete', link]);
  }
});
