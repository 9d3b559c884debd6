/**
 * Conformance: `linux.cgroupsPath` (relative and absolute) and `linux.resources` (runtime-tools'
 * linux_cgroups_* and linux_cgroups_relative_* programs), read back from the cgroup files of a
 * created container and from /proc/<pid>/cgroup.
 *
 * Good neighbour: a relative path lands below this process's own cgroup in every hierarchy.
 * An absolute path is taken from the root of each hierarchy, and this process sits at different
 * places in different ones (memory /process_api/<id>, the rest /), so the absolute path used is
 * <own memory cgroup>/berth-test-<pid>/<id>-abs: below our own cgroup everywhere. Directories the
 * runtime creates on the way in the other hierarchies are removed in `after`.
 */
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ownCgroupDirs, processTag, testCgroupParent, whyNotRoot } from '../../support/bundle.js';
import type { LinuxResources } from '../../../src/oci/spec.js';
import { createLive, useHarness, type Live } from './support.js';

const skip = whyNotRoot();
const MiB = 1024 * 1024;
const HUGE_2M = existsSync('/sys/kernel/mm/hugepages/hugepages-2048kB');
/** MAJ:MIN of the first virtio or SCSI disk, for a blkio throttle rule. */
const DISK = ['vda', 'sda', 'nvme0n1'].map((d) => `/sys/block/${d}/dev`).filter((f) => existsSync(f)).map((f) => readFileSync(f, 'utf8').trim())[0];

const resources = (hugetlb: boolean): LinuxResources => ({
  devices: [{ allow: false, access: 'rwm' }],
  memory: { limit: 64 * MiB, reservation: 32 * MiB },
  cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' },
  pids: { limit: 42 },
  ...(DISK ? { blockIO: { throttleReadBpsDevice: [{ major: Number(DISK.split(':')[0]), minor: Number(DISK.split(':')[1]), rate: MiB }] } } : {}),
  ...(HUGE_2M && hugetlb ? { hugepageLimits: [{ pageSize: '2MB', limit: 4 * MiB }] } : {}),
});

/** The container's directory in each hierarchy, from /proc/<pid>/cgroup. */
async function containerDirs(pid: number): Promise<Record<string, string>> {
  const own = await ownCgroupDirs();
  const mine = Object.fromEntries(own.map((d) => [d.controllers, d.dir]));
  const ownLines = Object.fromEntries((await readFile('/proc/self/cgroup', 'utf8')).trim().split('\n').map((l) => {
    const [, c = '', p = ''] = /^\d+:([^:]*):(.*)$/.exec(l) ?? [];
    return [c || 'unified', p];
  }));
  const out: Record<string, string> = {};
  for (const line of (await readFile(`/proc/${pid}/cgroup`, 'utf8')).trim().split('\n')) {
    const [, c = '', p = ''] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    const key = c || 'unified';
    const base = mine[key];
    const ownPath = ownLines[key];
    if (!base || ownPath === undefined) continue;
    // the mount point of the hierarchy is our own dir minus our own path
    const mount = ownPath === '/' ? base : base.slice(0, base.length - ownPath.length);
    for (const ctl of key.split(',')) out[ctl] = join(mount, p);
  }
  return out;
}

const read = async (dir: string | undefined, file: string) => (await readFile(join(dir ?? '/nonexistent', file), 'utf8')).trim();

/**
 * One container with every resource, checked file by file. `hugetlb`: also a 2 MiB huge page
 * limit (runc 1.1 cannot set one on this hybrid host, where hugetlb is only in cgroup2, so the
 * absolute-path case leaves it out and runc can still be checked on the rest).
 */
function resourceTests(name: string, pathFor: (id: string, memOwn: string) => string, expectBelowOwn: boolean, hugetlb: boolean) {
  describe(name, () => {
    let live: Live;
    let dirs: Record<string, string>;
    let path = '';
    const created: string[] = [];
    // registered before the harness's own `after`, which checks for leaks
    after(async () => {
      await live?.remove();
      for (const d of [...new Set(created)].sort((a, b) => b.length - a.length)) await rmdir(d).catch(() => undefined);
    });
    const h = useHarness();
    before(async () => {
      const memOwn = (await readFile('/proc/self/cgroup', 'utf8')).match(/:memory:(.*)$/m)?.[1] ?? '/';
      // hierarchies where we sit at the root: an absolute path makes its parents there; note
      // the ones that do not exist yet, to remove them afterwards
      const roots = (await ownCgroupDirs()).filter((d) => !d.controllers.includes('memory') && /^\/sys\/fs\/cgroup\/[^/]+$/.test(d.dir));
      live = await createLive(h, ['sleep', '30'], (s) => {
        path = pathFor(s.linux!.cgroupsPath!.split('/').pop()!, memOwn);
        s.linux!.cgroupsPath = path;
        s.linux!.resources = resources(hugetlb);
        if (!path.startsWith('/')) return;
        for (const { dir } of roots) {
          for (let p = join(dir, path); p !== dir; p = p.slice(0, p.lastIndexOf('/'))) if (!existsSync(p)) created.push(p);
        }
      });
      dirs = await containerDirs(live.pid);
    });

    test('the process is in the cgroup named by cgroupsPath in every hierarchy', async () => {
      for (const ctl of ['memory', 'cpu', 'cpuset', 'pids', 'devices']) {
        assert.ok(dirs[ctl]?.endsWith(path.startsWith('/') ? path : `/${path}`), `${ctl}: ${dirs[ctl]} for ${path}`);
      }
      if (expectBelowOwn) {
        for (const { controllers, dir } of await ownCgroupDirs()) {
          // name=systemd is no controller: runtimes need not place containers there
          if (dirs[controllers] && !controllers.startsWith('name=')) assert.ok(dirs[controllers]!.startsWith(`${dir}/${testCgroupParent()}/`), `${controllers}: ${dirs[controllers]}`);
        }
      }
    });
    test('memory: limit and reservation', async () => {
      assert.equal(await read(dirs['memory'], 'memory.limit_in_bytes'), String(64 * MiB));
      assert.equal(await read(dirs['memory'], 'memory.soft_limit_in_bytes'), String(32 * MiB));
    });
    test('cpu: shares, quota, period', async () => {
      assert.equal(await read(dirs['cpu'], 'cpu.shares'), '512');
      assert.equal(await read(dirs['cpu'], 'cpu.cfs_quota_us'), '50000');
      assert.equal(await read(dirs['cpu'], 'cpu.cfs_period_us'), '100000');
    });
    test('cpuset: cpus and mems', async () => {
      assert.equal(await read(dirs['cpuset'], 'cpuset.cpus'), '0');
      assert.equal(await read(dirs['cpuset'], 'cpuset.mems'), '0');
    });
    test('pids: limit', async () => assert.equal(await read(dirs['pids'], 'pids.max'), '42'));
    test('blkio: throttle.read_bps_device', { skip: DISK ? undefined : 'no /sys/block/vda' }, async () => {
      assert.equal(await read(dirs['blkio'], 'blkio.throttle.read_bps_device'), `${DISK} ${MiB}`);
    });
    test('hugetlb: 2MB limit', { skip: !hugetlb ? 'covered by the relative case' : HUGE_2M ? undefined : 'no 2 MiB huge pages' }, async () => {
      const dir = dirs['hugetlb'] ?? dirs['unified'];
      const file = existsSync(join(dir!, 'hugetlb.2MB.max')) ? 'hugetlb.2MB.max' : 'hugetlb.2MB.limit_in_bytes';
      assert.equal(await read(dir, file), String(4 * MiB));
    });
    test('devices: deny all, then the default devices allowed', async () => {
      const list = (await read(dirs['devices'], 'devices.list')).split('\n');
      assert.ok(!list.includes('a *:* rwm'), list.join(', '));
      for (const rule of ['c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm', 'c 5:0 rwm']) assert.ok(list.includes(rule), `${rule} not in ${list.join(', ')}`);
    });
  });
}

describe('conformance: cgroups', { skip }, () => {
  resourceTests('relative cgroupsPath', (id) => `${testCgroupParent()}/${id}`, true, true);
  resourceTests('absolute cgroupsPath', (id, memOwn) => `${memOwn === '/' ? '' : memOwn}/${processTag()}/${id}-abs`, false, false);
  test('network: net_cls and net_prio', { skip: existsSync('/sys/fs/cgroup/net_cls') ? 'not written yet' : 'net_cls and net_prio are not mounted on this host' }, () => undefined);
});
