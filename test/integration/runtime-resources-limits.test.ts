/**
 * linux.resources limits proven from inside real containers, through `berth-runtime`: a memory
 * limit that OOM-kills (and is reported), a pids limit against a fork bomb, a CFS quota, and a
 * cpuset. On this hybrid host the limits are v1 files (cpu and cpuacct mounted separately).
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { assertNoLeaks, parseProbe, processTag, requireProbe, whyNotRoot } from '../support/bundle.js';
import { runtimeBin } from '../support/runtime.js';
import { Containers, cgroupFile, sleep, withResources } from './resources-support.js';

const MIB = 1024 * 1024;

describe('berth-runtime resource limits', { skip: whyNotRoot() }, () => {
  let c: Containers;
  before(() => { c = new Containers(); });
  after(async () => {
    await c.cleanup();
    await assertNoLeaks(processTag());
  });

  test('a 32 MiB memory limit OOM-kills a 100 MiB process with 137', async (t) => {
    if (!requireProbe(t)) return;
    const b = await c.bundle(['probe', 'memhog', '100'], withResources({ memory: { limit: 32 * MIB } }));
    const r = await c.rt(['run', '--bundle', b.dir, b.id], { timeoutMs: 60_000 });
    assert.equal(r.code, 137, `exit ${r.code}, stderr: ${r.stderr}`);
    const last = parseProbe(r.stdout).map((p) => Number(p.mib ?? 0)).pop() ?? 0;
    assert.ok(last > 0 && last < 40, `the hog got to ${last} MiB before the kill`);
    t.diagnostic(`oom: killed after ${last} MiB, exit ${r.code}`);
    await assertNoLeaks(b.id);
  });

  test('an OOM kill of the init is counted in the cgroup before delete', async (t) => {
    if (!requireProbe(t)) return;
    const b = await c.bundle(['probe', 'memhog', '100'], withResources({ memory: { limit: 32 * MIB } }));
    assert.equal((await c.rt(['create', '--bundle', b.dir, b.id])).code, 0);
    const cg = c.cgroup(b.id);
    assert.equal((await c.rt(['start', b.id])).code, 0);
    await c.waitStatus(b.id, 'stopped', 30_000);
    assert.equal(cg.oomKillCount(), 1, 'memory.oom_control oom_kill');
    assert.equal(cgroupFile(cg.paths.memory, 'memory.limit_in_bytes'), String(32 * MIB));
    assert.equal((await c.rt(['delete', b.id])).code, 0);
    assert.equal(cg.exists(), false);
    await assertNoLeaks(b.id);
  });

  test('events reports an OOM kill live and in --stats', async (t) => {
    if (!requireProbe(t)) return;
    const b = await c.bundle(['sleep', '100'], withResources({ memory: { limit: 32 * MIB } }));
    await c.runDetached(b);
    // the live stream, started before the kill
    const ev = spawn(process.execPath, [runtimeBin, '--root', c.root.root, 'events', '--interval', '200ms', b.id], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    ev.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    try {
      // the first stats line shows the stream is up (and its OOM watcher armed)
      for (let i = 0; i < 100 && !out.includes('"stats"'); i++) await sleep(50);
      assert.match(out, /"type":"stats"/, 'events printed no stats line');
      const hog = await c.rt(['exec', b.id, 'probe', 'memhog', '100'], { timeoutMs: 60_000 });
      assert.equal(hog.code, 137, `exec memhog exit ${hog.code}: ${hog.stderr}`);
      for (let i = 0; i < 60 && !out.includes('"oom"'); i++) await sleep(50);
      const ooms = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; id: string }).filter((e) => e.type === 'oom');
      assert.deepEqual(ooms, [{ type: 'oom', id: b.id }]);
      assert.equal(await c.status(b.id), 'running', 'the init survives the OOM kill of an exec');
      const stats = await c.rt(['events', '--stats', b.id]);
      assert.equal(stats.code, 0, stats.stderr);
      const data = (JSON.parse(stats.stdout) as { data: { memory: { usage: { limit: number; failcnt: number; max: number }; oomKills?: number } } }).data;
      assert.equal(data.memory.usage.limit, 32 * MIB);
      assert.ok(data.memory.usage.failcnt > 0, 'failcnt counts the hits on the limit');
      assert.equal(data.memory.oomKills, 1, `events --stats oomKills: ${stats.stdout}`);
      assert.equal(c.cgroup(b.id).oomKillCount(), 1);
      t.diagnostic(`events --stats: limit ${data.memory.usage.limit} failcnt ${data.memory.usage.failcnt} peak ${data.memory.usage.max} oomKills ${data.memory.oomKills}`);
    } finally {
      const gone = new Promise((r) => (ev.exitCode !== null || ev.signalCode !== null ? r(null) : ev.on('exit', r)));
      ev.kill('SIGTERM');
      await gone;
    }
    assert.equal((await c.rt(['delete', '--force', b.id])).code, 0);
    await assertNoLeaks(b.id);
  });

  test('pids limit 10 stops a fork bomb and the container survives', async (t) => {
    if (!requireProbe(t)) return;
    const b = await c.bundle(['sleep', '100'], withResources({ pids: { limit: 10 } }));
    await c.runDetached(b);
    const cg = c.cgroup(b.id);
    assert.equal(cgroupFile(cg.paths.pids, 'pids.max'), '10');
    // sleep (1) + probe (1) leave room for 8 children
    const bomb = await c.rt(['exec', b.id, 'probe', 'forkbomb', '50'], { timeoutMs: 30_000 });
    assert.equal(bomb.code, 0, bomb.stderr);
    const rec = parseProbe(bomb.stdout)[0];
    assert.equal(rec?.errno, 'EAGAIN', bomb.stdout);
    assert.ok(Number(rec?.forked) <= 8, `forked ${rec?.forked}`);
    t.diagnostic(`forkbomb: forked=${rec?.forked} then ${rec?.errno}`);
    assert.equal(await c.status(b.id), 'running');
    const alive = await c.rt(['exec', b.id, 'sh', '-c', 'echo alive']);
    assert.equal(alive.code, 0, alive.stderr);
    assert.equal(alive.stdout.trim(), 'alive');
    const events = cgroupFile(cg.paths.pids, 'pids.events');
    assert.match(events, /^max [1-9]/m, `pids.events: ${events}`);
    assert.equal((await c.rt(['delete', '--force', b.id])).code, 0);
    await assertNoLeaks(b.id);
  });

  test('cpu quota 50000/100000 gives half a CPU', async (t) => {
    if (!requireProbe(t)) return;
    // Two spinners for 3 s: without the quota they would use up to 2 CPUs on this 2-core host.
    // On a host busy with other work they may get less than half a CPU, and then the quota is
    // not what limits them (few throttled periods); such a run says nothing about the quota, so
    // it is retried, and after three the test is skipped with the figures. The upper bound holds
    // on any host.
    const measure = async (): Promise<{ cpus: number; periods: number; throttled: number }> => {
      const b = await c.bundle(['sh', '-c', 'probe busy 3 & probe busy 3; wait'], withResources({ cpu: { quota: 50000, period: 100000 } }));
      assert.equal((await c.rt(['create', '--bundle', b.dir, b.id])).code, 0);
      const cg = c.cgroup(b.id);
      assert.equal(cgroupFile(cg.paths.cpu, 'cpu.cfs_quota_us'), '50000');
      assert.equal(cgroupFile(cg.paths.cpu, 'cpu.cfs_period_us'), '100000');
      const u0 = Number(cgroupFile(cg.paths.cpuacct, 'cpuacct.usage'));
      assert.equal((await c.rt(['start', b.id])).code, 0);
      await c.waitStatus(b.id, 'stopped', 20_000);
      const used = (Number(cgroupFile(cg.paths.cpuacct, 'cpuacct.usage')) - u0) / 1e9;
      const stat = cgroupFile(cg.paths.cpu, 'cpu.stat');
      const field = (k: string): number => Number(new RegExp(`^${k} (\\d+)$`, 'm').exec(stat)?.[1] ?? 0);
      assert.equal((await c.rt(['delete', b.id])).code, 0);
      await assertNoLeaks(b.id);
      return { cpus: used / 3, periods: field('nr_periods'), throttled: field('nr_throttled') };
    };
    const runs: string[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      const m = await measure();
      runs.push(`${m.cpus.toFixed(3)} CPU (throttled in ${m.throttled}/${m.periods} periods, load ${loadavg()[0]!.toFixed(1)})`);
      t.diagnostic(`cpu attempt ${attempt}: ${runs.at(-1)}`);
      assert.ok(m.cpus <= 0.55, `used ${m.cpus.toFixed(3)} CPU, above the quota of 0.5`);
      if (m.cpus >= 0.45) return;
      // throttled most of the time yet below 0.45: the quota itself gives too little
      assert.ok(m.throttled < m.periods / 2, `used only ${m.cpus.toFixed(3)} CPU although the quota limited ${m.throttled}/${m.periods} periods`);
    }
    t.skip(`host too busy to measure a CPU quota: ${runs.join('; ')}`);
  });

  test('cpuset cpus "1" pins the process to CPU 1', async (t) => {
    const b = await c.bundle(['sh', '-c', 'grep Cpus_allowed_list /proc/self/status'], withResources({ cpu: { cpus: '1' } }));
    const online = cgroupFile('/sys/devices/system/cpu', 'online');
    if (online === '0') return t.skip('needs a second CPU');
    const r = await c.rt(['run', '--bundle', b.dir, b.id]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Cpus_allowed_list:\s+1$/m, r.stdout);
    t.diagnostic(r.stdout.trim());
    await assertNoLeaks(b.id);
  });
});
