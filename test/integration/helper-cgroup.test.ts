/**
 * The helper's cgroup and time work on this host: the cgroup v2 device filter (attached to the
 * hybrid host's unified twin, where BPF device programs work as on v2), CLONE_INTO_CGROUP and its
 * fallback, time namespaces with offsets, and the v1 OOM eventfd watcher (one-shot and through
 * the v1 manager's watchOom).
 */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { deviceFilterProgram } from '../../src/cgroups/devices-bpf.js';
import { cgroupManager, detectCgroupHost, resolveCgroupPath } from '../../src/cgroups/index.js';
import { assertNoLeaks, ownCgroupDirs, processTag, testCgroupParent } from '../support/bundle.js';
import { errors, FLAGS, HELPER, killLeftovers, makeTmpRootfs, run, setup, skip } from './helper-driver.js';

/** Deny everything but mknod of any char device and rwm of /dev/null (1:3). */
const NULL_ONLY = deviceFilterProgram([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: null, minor: null, access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }]);
/** Allow everything but /dev/null. */
const NO_NULL = deviceFilterProgram([{ allow: false, type: 'c', major: 1, minor: 3, access: 'rwm' }]);

const oneShot = (args: string[], input?: Uint8Array) => spawnSync(HELPER, args, { input, encoding: 'utf8' });

/** Run `script` with sh after moving the shell into cgroup `dir` (cgroup.procs). */
function shIn(dir: string, script: string): string {
  const r = spawnSync('sh', ['-c', `echo $$ > ${dir}/cgroup.procs && ${script}`], { encoding: 'utf8' });
  return r.stdout + r.stderr;
}

describe('berth-helper cgroups and time', { skip, timeout: 120_000 }, () => {
  let tmp = '';
  let rootfs = '';
  let unified: string | undefined;
  let memory: string | undefined;
  const made: string[] = [];
  const cgroup = (parent: string | undefined, name: string): string => {
    const dir = join(parent!, `${processTag()}-${name}`);
    mkdirSync(dir);
    made.push(dir);
    return dir;
  };
  before(async () => {
    ({ tmp, rootfs } = await makeTmpRootfs());
    const dirs = await ownCgroupDirs();
    unified = dirs.find((d) => d.controllers === 'unified')?.dir;
    memory = dirs.find((d) => d.controllers.split(',').includes('memory') && !d.dir.startsWith('/sys/fs/cgroup/unified'))?.dir;
    if (memory && !existsSync(join(memory, 'memory.oom_control'))) memory = undefined;
  });
  after(async () => {
    killLeftovers();
    for (const d of made.reverse()) {
      for (let i = 0; i < 50 && existsSync(d); i++) {
        try { rmdirSync(d); } catch { await sleep(20); }
      }
    }
    if (tmp) await rm(tmp, { recursive: true, force: true });
    await assertNoLeaks(processTag());
  });

  it('bpf-devices (one-shot) attaches a device filter and replaces the previous one', (t) => {
    if (!unified) return t.skip('no cgroup2 hierarchy on this host');
    const dir = cgroup(unified, 'bpf');
    let r = oneShot(['bpf-devices', dir], NO_NULL);
    assert.equal(r.status, 0, r.stderr);
    assert.match(shIn(dir, 'echo x > /dev/null && echo null-ok'), /Operation not permitted/);
    // the second program replaces the first: were both attached, /dev/null would stay denied
    r = oneShot(['bpf-devices', dir], NULL_ONLY);
    assert.equal(r.status, 0, r.stderr);
    // `true <` only opens (reading an unmounted /dev/fuse fails with EPERM too; `:` would end the shell)
    assert.match(shIn(dir, 'echo x > /dev/null && echo null-ok; true < /dev/zero; true < /dev/fuse'),
      /^null-ok\n.*cannot open \/dev\/zero: Operation not permitted\n.*cannot open \/dev\/fuse: Operation not permitted\n$/);
    r = oneShot(['bpf-devices', dir], Buffer.from('abc'));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^berth-helper: bpf-devices: program of 3 bytes is not a whole number of 8-byte instructions\n$/);
    r = oneShot(['bpf-devices', dir], Buffer.alloc(8));
    assert.match(r.stderr, /bpf-devices: load program of 1 instructions: Invalid argument \(verifier: .+\)/);
  });

  it('clones the child into its cgroup with the device filter in place (bpf-devices, cgroup-fd)', async (t) => {
    if (!unified) return t.skip('no cgroup2 hierarchy on this host');
    const dir = cgroup(unified, 'into');
    const r = await run([['bpf-devices', dir, Buffer.from(NULL_ONLY)], ['cgroup-fd', dir], ['monitor'], ['clone', FLAGS],
      ...setup(rootfs, [['mknod', '/dev/fuse', 'c', '10', '229', '666', '0', '0']]), ['pivot'], ['env', 'PATH=/bin'],
      ['exec', 'sh', '-c', 'echo x > /dev/null && echo null-ok; cat /dev/fuse 2>&1; grep ^0:: /proc/self/cgroup']]);
    assert.deepEqual(errors(r), []);
    assert.deepEqual(r.msgs.find((m) => m[0] === 'pid')?.slice(2), ['1'], 'born in its cgroup');
    const rel = dir.slice('/sys/fs/cgroup/unified'.length);
    assert.equal(r.stdout, `null-ok\ncat: can't open '/dev/fuse': Operation not permitted\n0::${rel}\n`);
  });

  it('falls back to clone() when CLONE_INTO_CGROUP is refused', async (t) => {
    const v1 = '/sys/fs/cgroup/pids';
    if (!existsSync(join(v1, 'cgroup.procs')) || existsSync(join(v1, 'cgroup.controllers'))) return t.skip('no v1 pids hierarchy');
    // a v1 directory is no cgroup2 directory: clone3 fails with EBADF
    const r = await run([['cgroup-fd', v1], ['monitor'], ['clone', FLAGS], ['exec', '/bin/true']]);
    assert.deepEqual(errors(r), []);
    assert.equal(r.code, 0);
    assert.deepEqual(r.msgs.find((m) => m[0] === 'pid')?.slice(2), ['0']);
  });

  it('makes a time namespace with offsets (timens)', async (t) => {
    if (!existsSync('/proc/self/ns/time')) return t.skip('no time namespaces (linux < 5.6)');
    const before = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    const r = await run([['timens', 'boottime 100000 0\nmonotonic -1 500000000\n'], ['monitor'], ['clone', FLAGS], ...setup(rootfs),
      ['pivot'], ['env', 'PATH=/bin'], ['exec', 'sh', '-c', 'cat /proc/uptime; readlink /proc/self/ns/time']]);
    assert.deepEqual(errors(r), []);
    const [uptime, ns] = r.stdout.trim().split('\n');
    const inside = Number(uptime!.split(' ')[0]);
    // /proc/uptime has 10 ms steps and both readings may fall in one: 144445.36 - 44445.36 is
    // 99999.99999999999 in floating point, so compare in hundredths.
    const diff = Math.round(inside * 100) - Math.round(before * 100);
    assert.ok(diff >= 100000_00 && diff < 100060_00, `uptime ${inside}, host ${before}`);
    assert.match(ns!, /^time:\[\d+\]$/);
    assert.notEqual(ns, readlinkSync('/proc/self/ns/time'), 'a new time namespace');
    const bad = await run([['timens', 'realtime 1 0\n'], ['clone', FLAGS], ['exec', '/bin/true']]);
    assert.match(errors(bad)[0] ?? '', /^timens: write offsets realtime 1 0\n: Invalid argument$/);
  });

  it('oom-watch (one-shot) reports each OOM and exits when the cgroup is removed', async (t) => {
    if (!memory) return t.skip('no v1 memory hierarchy with memory.oom_control');
    const dir = cgroup(memory, 'oom');
    writeFileSync(join(dir, 'memory.limit_in_bytes'), String(16 << 20));
    const w = spawn(HELPER, ['oom-watch', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const lines: string[] = [];
      const rl = createInterface({ input: w.stdout });
      let wake = (): void => {};
      rl.on('line', (l) => { lines.push(l); wake(); });
      const waitFor = async (n: number): Promise<void> => {
        for (let i = 0; i < 200 && lines.length < n; i++) await new Promise<void>((res) => { wake = res; setTimeout(res, 50); });
      };
      await waitFor(1);
      assert.deepEqual(lines, ['ready']);
      const out = shIn(dir, 'dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null; echo rc=$?');
      assert.match(out, /rc=137/);
      await waitFor(2);
      assert.equal(lines[1], 'oom');
      const code = new Promise((res) => w.on('exit', res));
      rmdirSync(dir);
      made.splice(made.indexOf(dir), 1);
      assert.equal(await code, 0);
      assert.ok(lines.slice(1).every((l) => l === 'oom'), lines.join(','));
    } finally {
      w.kill('SIGKILL');
    }
    const r = oneShot(['oom-watch', join(memory, `${processTag()}-nosuch`)]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^berth-helper: oom-watch: open .*-nosuch\/memory.oom_control: No such file or directory\n$/);
  });

  it('the v1 manager watchOom is driven by the helper eventfd', async (t) => {
    const host = await detectCgroupHost();
    if (host.mode === 'v2' || !host.v1['memory']) return t.skip('no v1 memory hierarchy');
    const m = cgroupManager(host, resolveCgroupPath(host, `${testCgroupParent()}/${processTag()}-watch`, 'x'));
    m.create();
    let stop = (): void => {};
    try {
      m.apply({ memory: { limit: 16 << 20 } });
      const counts: number[] = [];
      stop = m.watchOom((n) => counts.push(n));
      await sleep(200); // the watcher's "ready"
      const watchers = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
        try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(`oom-watch\0${m.paths['memory']}`); } catch { return false; }
      });
      assert.equal(watchers.length, 1, 'a berth-helper oom-watch process');
      assert.match(shIn(m.paths['memory']!, 'dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null; echo rc=$?'), /rc=137/);
      for (let i = 0; i < 100 && counts.length === 0; i++) await sleep(10);
      assert.deepEqual(counts, [1]);
    } finally {
      stop();
      await m.killAll();
      await m.destroy();
    }
  });
});
