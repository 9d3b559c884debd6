/**
 * Device-facing limits proven from inside real containers, through `berth-runtime`: a blkio
 * write throttle on a loop device, device cgroup rules that deny and allow opening /dev/fuse,
 * and hugetlb limits, which this hybrid host has only in the unified (cgroup2) hierarchy.
 */
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { LinuxDevice } from '../../src/oci/spec.js';
import { assertNoLeaks, parseProbe, processTag, requireCommand, requireProbe, whyNotRoot } from '../support/bundle.js';
import { Containers, cgroupFile, withResources } from './resources-support.js';

const run = promisify(execFile);
const MIB = 1024 * 1024;

/** major/minor of a device node (st_rdev = major << 8 | minor, with the high bits elsewhere). */
function devNumbers(path: string): { major: number; minor: number } {
  const rdev = statSync(path).rdev;
  return { major: (rdev >> 8) & 0xfff, minor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00) };
}

describe('berth-runtime device limits', { skip: whyNotRoot() }, () => {
  let c: Containers;
  before(() => { c = new Containers(); });
  after(async () => {
    await c.cleanup();
    await assertNoLeaks(processTag());
  });

  test('a blkio write throttle of 1 MiB/s slows O_DIRECT writes to a loop device', async (t) => {
    if (!requireProbe(t) || !requireCommand(t, 'losetup')) return;
    if (!existsSync('/dev/loop-control')) return t.skip('no /dev/loop-control: loop devices are not available');
    const dir = mkdtempSync(join(tmpdir(), `${processTag()}-loop-`));
    let loop: string | undefined;
    try {
      await run('truncate', ['-s', '64M', join(dir, 'disk.img')]);
      try {
        loop = (await run('losetup', ['--find', '--show', join(dir, 'disk.img')])).stdout.trim();
      } catch (err) {
        return t.skip(`losetup could not attach a loop device: ${(err as Error).message.split('\n')[0]}`);
      }
      const { major, minor } = devNumbers(loop);
      const node: LinuxDevice = { path: '/dev/berthdisk', type: 'b', major, minor, fileMode: 0o600, uid: 0, gid: 0 };
      const measure = async (rate: number | undefined): Promise<number> => {
        const b = await c.bundle(['probe', 'write', '/dev/berthdisk', '4'], (spec) => {
          spec.linux!.devices = [node];
          if (rate) withResources({ blockIO: { throttleWriteBpsDevice: [{ major, minor, rate }] } })(spec);
        });
        const r = await c.rt(['run', '--bundle', b.dir, b.id], { timeoutMs: 60_000 });
        assert.equal(r.code, 0, r.stderr);
        const rec = parseProbe(r.stdout)[0];
        assert.equal(rec?.direct, '1', `the write must bypass the page cache: ${r.stdout}`);
        assert.equal(rec?.bytes, String(4 * MIB), r.stdout);
        await assertNoLeaks(b.id);
        return Number(rec.bytes_per_sec) / MIB;
      };
      const free = await measure(undefined);
      const throttled = await measure(MIB);
      t.diagnostic(`blkio on ${loop} (${major}:${minor}): unthrottled ${free.toFixed(1)} MiB/s, throttled to 1 MiB/s: ${throttled.toFixed(2)} MiB/s`);
      assert.ok(throttled <= 1.2, `throttled rate ${throttled.toFixed(2)} MiB/s, expected ≤ 1.2`);
      assert.ok(free > 3 * throttled, `unthrottled ${free.toFixed(1)} MiB/s should be far above ${throttled.toFixed(2)}`);
    } finally {
      if (loop) await run('losetup', ['-d', loop]).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a device cgroup rule denies /dev/fuse; allowing it lets it open', async (t) => {
    if (!requireProbe(t)) return;
    const fuse: LinuxDevice = { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 };
    // allow undefined: no rule names the device, so its linux.devices entry allows it
    const open = async (allow: boolean | undefined): Promise<string> => {
      const b = await c.bundle(['probe', 'open', '/dev/fuse', 'r'], (spec) => {
        spec.linux!.devices = [fuse];
        spec.linux!.resources = { devices: [{ allow: false, access: 'rwm' }] };
        if (allow !== undefined) spec.linux!.resources.devices!.push({ allow, type: 'c', major: 10, minor: 229, access: 'rwm' });
      });
      const r = await c.rt(['run', '--bundle', b.dir, b.id]);
      assert.equal(r.code, 0, r.stderr);
      await assertNoLeaks(b.id);
      return r.stdout.trim();
    };
    const denied = await open(false);
    const allowed = await open(true);
    const listed = await open(undefined);
    t.diagnostic(`open /dev/fuse: deny rule → ${denied}, allow rule → ${allowed}, no rule (listed in linux.devices) → ${listed}`);
    assert.equal(denied, 'EPERM');
    assert.equal(allowed, 'ok');
    assert.equal(listed, 'ok');
  });

  test('hugepageLimits land in the unified hierarchy on this hybrid host', async (t) => {
    const b = await c.bundle(['sleep', '100'], withResources({ hugepageLimits: [{ pageSize: '2MB', limit: 4 * MIB }] }));
    const r = await c.rt(['create', '--bundle', b.dir, b.id]);
    if (r.code !== 0 && /hugepageLimits.*(not available|not mounted|no 2MB)/.test(r.stderr)) {
      await assertNoLeaks(b.id);
      return t.skip(`no 2MB hugetlb controller here: ${r.stderr.trim()}`);
    }
    assert.equal(r.code, 0, r.stderr);
    const cg = c.cgroup(b.id);
    if (cg.paths.hugetlb) {
      t.diagnostic(`hugetlb is a v1 controller here: ${cg.paths.hugetlb}`);
      assert.equal(cgroupFile(cg.paths.hugetlb, 'hugetlb.2MB.limit_in_bytes'), String(4 * MIB));
    } else {
      assert.ok(cg.paths.unified, 'the container has a unified directory');
      assert.equal(cgroupFile(cg.paths.unified, 'hugetlb.2MB.max'), String(4 * MIB));
      assert.match(cgroupFile(`${cg.paths.unified}/..`, 'cgroup.subtree_control'), /\bhugetlb\b/);
      t.diagnostic(`${cg.paths.unified}/hugetlb.2MB.max = ${4 * MIB}`);
    }
    assert.equal((await c.rt(['delete', '--force', b.id])).code, 0);
    await assertNoLeaks(b.id);
  });
});
