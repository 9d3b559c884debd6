/**
 * Changing and refusing resources through `berth-runtime`: a paused container makes no
 * progress, `update` changes a running container's limits (seen on the host and from inside),
 * and bad resource input fails create with one line naming the knob, leaving nothing behind.
 */
import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { LinuxResources } from '../../src/oci/spec.js';
import { assertNoLeaks, processTag, whyNotRoot } from '../support/bundle.js';
import { Containers, cgroupFile, sleep, withResources } from './resources-support.js';

const MIB = 1024 * 1024;

describe('berth-runtime resource control', { skip: whyNotRoot() }, () => {
  let c: Containers;
  before(() => { c = new Containers(); });
  after(async () => {
    await c.cleanup();
    await assertNoLeaks(processTag());
  });

  test('a paused container makes no progress; resumed, it goes on', async (t) => {
    const data = mkdtempSync(join(tmpdir(), `${processTag()}-data-`));
    try {
      // write + rename: a freeze between truncate and write cannot leave an empty file
      const loop = 'i=0; while true; do i=$((i+1)); echo $i > /data/tmp; mv /data/tmp /data/count; sleep 0.02; done';
      const b = await c.bundle(['sh', '-c', loop], (spec) => {
        spec.mounts!.push({ destination: '/data', type: 'bind', source: data, options: ['rbind', 'rw'] });
      });
      await c.runDetached(b);
      const count = (): number => Number(readFileSync(join(data, 'count'), 'utf8').trim() || 0);
      const waitAbove = async (n: number, ms: number): Promise<number> => {
        const deadline = Date.now() + ms;
        while (Date.now() < deadline && !(existsSync(join(data, 'count')) && count() > n)) await sleep(20);
        return existsSync(join(data, 'count')) ? count() : 0;
      };
      assert.ok((await waitAbove(3, 10_000)) > 3, 'the counter runs');
      assert.equal((await c.rt(['pause', b.id])).code, 0);
      assert.equal(await c.status(b.id), 'paused');
      const cg = c.cgroup(b.id);
      assert.equal(cgroupFile(cg.paths.freezer, 'freezer.state'), 'FROZEN');
      const frozenAt = count();
      await sleep(500);
      const stillAt = count();
      assert.equal(stillAt, frozenAt, 'no increment while frozen');
      assert.equal((await c.rt(['resume', b.id])).code, 0);
      assert.equal(cgroupFile(cg.paths.freezer, 'freezer.state'), 'THAWED');
      const t0 = Date.now();
      const resumedAt = await waitAbove(stillAt + 2, 5_000);
      t.diagnostic(`freezer: counter ${frozenAt} at pause, ${stillAt} after 500 ms frozen, ${resumedAt} ${Date.now() - t0} ms after resume`);
      assert.ok(resumedAt > stillAt + 2, 'the counter moves again');
      assert.equal((await c.rt(['delete', '--force', b.id])).code, 0);
      await assertNoLeaks(b.id);
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });

  test('update --memory 64m --pids-limit 20 changes a running container', async (t) => {
    const b = await c.bundle(['sleep', '100'], withResources({ memory: { limit: 32 * MIB }, pids: { limit: 10 } }));
    await c.runDetached(b);
    const cg = c.cgroup(b.id);
    const inside = async (file: string): Promise<string> => {
      const r = await c.rt(['exec', b.id, 'cat', `/sys/fs/cgroup/${file}`]);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.trim();
    };
    assert.equal(await inside('memory/memory.limit_in_bytes'), String(32 * MIB));
    const u = await c.rt(['update', '--memory', '64m', '--pids-limit', '20', b.id]);
    assert.equal(u.code, 0, u.stderr);
    assert.equal(cgroupFile(cg.paths.memory, 'memory.limit_in_bytes'), String(64 * MIB));
    assert.equal(cgroupFile(cg.paths.pids, 'pids.max'), '20');
    const memInside = await inside('memory/memory.limit_in_bytes');
    const pidsInside = await inside('pids/pids.max');
    t.diagnostic(`update: host memory.limit_in_bytes ${cgroupFile(cg.paths.memory, 'memory.limit_in_bytes')}, pids.max 20; inside ${memInside} and ${pidsInside}`);
    assert.equal(memInside, String(64 * MIB));
    assert.equal(pidsInside, '20');
    const stats = JSON.parse((await c.rt(['events', '--stats', b.id])).stdout) as { data: { memory: { usage: { limit: number } }; pids: { limit: number } } };
    assert.equal(stats.data.memory.usage.limit, 64 * MIB);
    assert.equal(stats.data.pids.limit, 20);
    assert.equal((await c.rt(['delete', '--force', b.id])).code, 0);
    await assertNoLeaks(b.id);
  });

  test('update with a bad value fails with one line and changes nothing', async () => {
    const b = await c.bundle(['sleep', '100'], withResources({ memory: { limit: 32 * MIB } }));
    await c.runDetached(b);
    const cg = c.cgroup(b.id);
    const r = await c.rt(['update', '--cpu-quota', '500', '--memory', '64m', b.id]);
    assert.notEqual(r.code, 0);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /cpu\.quota/);
    assert.equal(cgroupFile(cg.paths.memory, 'memory.limit_in_bytes'), String(32 * MIB), 'validation runs before any write');
    assert.equal((await c.rt(['delete', '--force', b.id])).code, 0);
    await assertNoLeaks(b.id);
  });

  const refusals: { name: string; resources: LinuxResources; message: RegExp }[] = [
    { name: 'cpu quota 500', resources: { cpu: { quota: 500, period: 100000 } }, message: /linux\.resources\.cpu\.quota\b.*\b500\b.*at least 1000/ },
    { name: 'unknown unified key memory.bogus', resources: { unified: { 'memory.bogus': '1' } }, message: /linux\.resources\.unified\["memory\.bogus"\]/ },
    { name: 'cpuset cpus 4096 (not on this host)', resources: { cpu: { cpus: '4096' } }, message: /linux\.resources\.cpu\.cpus "4096" names 4096, not available/ },
    { name: 'hugepage size 3MB', resources: { hugepageLimits: [{ pageSize: '3MB', limit: MIB }] }, message: /hugepageLimits\[0\]\.pageSize/ },
  ];
  for (const { name, resources, message } of refusals) {
    test(`bad resource input is refused and leaves nothing: ${name}`, async (t) => {
      const b = await c.bundle(['true'], withResources(resources));
      const r = await c.rt(['create', '--bundle', b.dir, b.id]);
      assert.notEqual(r.code, 0, 'create must fail');
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
      assert.match(r.stderr, message);
      t.diagnostic(r.stderr.trim());
      assert.equal(existsSync(join(c.root.root, b.id)), false, 'no state directory');
      await assertNoLeaks(b.id);
    });
  }

  test('a memory limit of 1 byte fails the container and leaves nothing', async (t) => {
    const b = await c.bundle(['true'], withResources({ memory: { limit: 1 } }));
    const r = await c.rt(['run', '--bundle', b.dir, b.id], { timeoutMs: 30_000 });
    t.diagnostic(`exit ${r.code}: ${r.stderr.trim()}`);
    assert.notEqual(r.code, 0, 'a container cannot run in one byte');
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    // the kernel takes the value (v1 rounds it down to 0 pages) and OOM-kills the init
    assert.match(r.stderr, /linux\.resources\.memory\.limit 1 is too low: .*OOM killer/);
    assert.equal(existsSync(join(c.root.root, b.id)), false, 'no state directory');
    await assertNoLeaks(b.id);
  });
});
