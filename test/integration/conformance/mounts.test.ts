/**
 * Conformance: `mounts`, `root.readonly` and `linux.rootfsPropagation` (runtimetest's
 * validatePosixMounts — every non-bind mount exists with its type and source, in config order —
 * validateDefaultFS, validateRootFS and validateRootfsPropagation), read from the container's
 * own /proc/self/mountinfo.
 *
 * Propagation needs a shared mount to be visible at all: the host's / is private here, so the
 * propagation tests put their root filesystems on a tmpfs that the test mounts and makes shared
 * (`berth-test-<pid>-prop`), then compare peer-group ids: a slave root's `master:N` is that
 * tmpfs's `shared:N`.
 */
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { makeBusyboxRootfs, processTag, whyNotRoot, type TestBundle } from '../../support/bundle.js';
import { mountAt, parseMountinfo, runScript, section, useHarness, type MountLine, type Sections } from './support.js';

const run = promisify(execFile);
const skip = whyNotRoot();

const SCRIPT = [
  section('mountinfo'), 'probe mountinfo',
  section('create-root'), 'probe create /',
  section('create-ro'), 'probe create /mnt/ro',
  section('create-rw'), 'touch /mnt/rw/from-container && echo ok',
  section('read-ro'), 'cat /mnt/ro/hello',
  section('file'), 'cat /etc/bound-file',
  section('inner'), 'probe stat /mnt/order/inner',
].join('\n');

describe('conformance: mounts', { skip }, () => {
  const h = useHarness();

  describe('mounts in order, with their options', () => {
    let out: Sections;
    let mounts: MountLine[];
    const extra = [
      { destination: '/mnt/t1', type: 'tmpfs', source: 'conf-tmpfs', options: ['nosuid', 'nodev', 'noexec', 'mode=0700', 'size=1m'] },
      { destination: '/mnt/order', type: 'tmpfs', source: 'conf-outer', options: ['size=1m'] },
      { destination: '/mnt/order/inner', type: 'tmpfs', source: 'conf-inner', options: ['size=1m'] },
      { destination: '/mnt/ro', type: 'bind', source: 'hostdir-ro', options: ['bind', 'ro'] },
      { destination: '/mnt/rw', type: 'bind', source: 'hostdir-rw', options: ['rbind', 'rw', 'private'] },
      { destination: '/etc/bound-file', type: 'bind', source: 'hostfile', options: ['bind', 'ro'] },
    ];
    before(async () => {
      out = await runScript(h, SCRIPT, (s) => {
        s.mounts!.push(...extra);
        s.root!.readonly = true;
      }, [], writeBindSources);
      mounts = parseMountinfo(out.get('mountinfo'));
    });

    test('the run succeeds', () => assert.equal(out.result.code, 0, out.result.stderr));
    test('every non-bind mount exists with its type and source, in config order', () => {
      // mount sources of the helper's bind mounts are host paths; only non-bind mounts are
      // compared by source, as runtimetest does
      let last = -1;
      for (const m of [
        { destination: '/proc', type: 'proc', source: 'proc' },
        { destination: '/dev', type: 'tmpfs', source: 'tmpfs' },
        { destination: '/dev/pts', type: 'devpts', source: 'devpts' },
        { destination: '/dev/shm', type: 'tmpfs', source: 'shm' },
        { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue' },
        { destination: '/sys', type: 'sysfs', source: 'sysfs' },
        ...extra.filter((e) => e.type !== 'bind'),
      ]) {
        const i = mounts.findIndex((x, k) => k > last && x.point === m.destination && x.fstype === m.type && x.source === m.source);
        assert.ok(i > last, `mount ${m.destination} (${m.type} ${m.source}) missing or out of order in:\n${out.get('mountinfo')}`);
        last = i;
      }
    });
    test('per-mount flags: nosuid, nodev, noexec', () => {
      const t1 = mountAt(mounts, '/mnt/t1');
      for (const o of ['nosuid', 'nodev', 'noexec']) assert.ok(t1?.opts.includes(o), `${o} not in ${t1?.opts}`);
    });
    test('file-system data: mode=0700, size=1m', () => {
      const t1 = mountAt(mounts, '/mnt/t1');
      assert.ok(t1?.superOpts.includes('mode=700'), `${t1?.superOpts}`);
      assert.ok(t1?.superOpts.includes('size=1024k'), `${t1?.superOpts}`);
    });
    test('a mount below an earlier one is on top of it', () => {
      assert.match(out.get('inner'), /^type=d /);
      assert.equal(mountAt(mounts, '/mnt/order/inner')?.source, 'conf-inner');
    });
    test('sysfs ro from its options', () => assert.ok(mountAt(mounts, '/sys')?.opts.includes('ro')));
    test('default file systems: proc, sysfs, devpts, tmpfs /dev/shm', () => {
      assert.equal(mountAt(mounts, '/proc')?.fstype, 'proc');
      assert.equal(mountAt(mounts, '/sys')?.fstype, 'sysfs');
      assert.equal(mountAt(mounts, '/dev/pts')?.fstype, 'devpts');
      assert.equal(mountAt(mounts, '/dev/shm')?.fstype, 'tmpfs');
    });
    test('bind ro: readable, not writable (EROFS)', () => {
      assert.equal(out.get('read-ro'), 'hello from the host');
      assert.equal(out.get('create-ro'), 'EROFS');
      assert.ok(mountAt(mounts, '/mnt/ro')?.opts.includes('ro'));
    });
    test('rbind rw: a file written inside appears on the host', () => {
      assert.equal(out.get('create-rw'), 'ok');
      assert.ok(existsSync(join(out.bundle.dir, 'hostdir-rw/from-container')));
    });
    test('a file can be bind mounted', () => assert.equal(out.get('file'), 'a bound file'));
    test('root.readonly: / is read-only (EROFS)', () => {
      assert.equal(out.get('create-root'), 'EROFS');
      assert.ok(mountAt(mounts, '/')?.opts.includes('ro'));
    });
  });

  describe('root.readonly false', () => {
    let out: Sections;
    before(async () => {
      out = await runScript(h, [section('create-root'), 'probe create /', section('mountinfo'), 'probe mountinfo'].join('\n'), (s) => {
        s.root!.readonly = false;
      });
    });
    test('/ is writable', () => {
      assert.equal(out.get('create-root'), 'ok');
      assert.ok(mountAt(parseMountinfo(out.get('mountinfo')), '/')?.opts.includes('rw'));
    });
  });

  describe('linux.rootfsPropagation', () => {
    let shared = '';
    let peer = '';
    before(async () => {
      shared = await mkdtemp(join(tmpdir(), `${processTag()}-prop-`));
      await run('mount', ['-t', 'tmpfs', '-o', 'size=64m', `${processTag()}-prop`, shared]);
      await run('mount', ['--make-shared', shared]);
      const host = mountAt(parseMountinfo(await readFile('/proc/self/mountinfo', 'utf8')), shared);
      peer = host?.optional.find((o) => o.startsWith('shared:'))?.slice('shared:'.length) ?? '';
    });
    after(async () => {
      if (!shared) return;
      await run('umount', ['-R', '-l', shared]).catch(() => undefined);
      await run('rmdir', [shared]).catch(() => undefined);
    });

    const rootOf = async (prop: string): Promise<{ out: Sections; root: MountLine | undefined }> => {
      const rootfs = join(shared, `${prop}-${Math.random().toString(36).slice(2, 8)}`);
      await makeBusyboxRootfs(rootfs);
      const out = await runScript(h, [section('mountinfo'), 'probe mountinfo'].join('\n'), (s) => {
        s.root = { path: rootfs, readonly: false };
        s.linux!.rootfsPropagation = prop;
      });
      return { out, root: mountAt(parseMountinfo(out.get('mountinfo')), '/') };
    };

    test('the host side is shared (precondition)', () => assert.match(peer, /^\d+$/));
    test('private: / has no peer group and no master', async () => {
      const { out, root } = await rootOf('private');
      assert.equal(out.result.code, 0, out.result.stderr);
      assert.deepEqual(root?.optional, [], out.get('mountinfo'));
    });
    test('slave: / receives from the host tmpfs (master:N is its peer group)', async () => {
      const { out, root } = await rootOf('slave');
      assert.equal(out.result.code, 0, out.result.stderr);
      assert.deepEqual(root?.optional, [`master:${peer}`], out.get('mountinfo'));
    });
    test('shared: / is in a peer group', async () => {
      const { out, root } = await rootOf('shared');
      assert.equal(out.result.code, 0, out.result.stderr);
      assert.ok(root?.optional.some((o) => o.startsWith('shared:')), out.get('mountinfo'));
    });
    test('unbindable: / is unbindable', async () => {
      const { out, root } = await rootOf('unbindable');
      assert.equal(out.result.code, 0, out.result.stderr);
      assert.ok(root?.optional.includes('unbindable'), out.get('mountinfo'));
    });
  });
});

/** Writes the bind sources the mount tests use into the bundle directory (relative sources). */
async function writeBindSources({ dir }: TestBundle): Promise<void> {
  await mkdir(join(dir, 'hostdir-ro'), { recursive: true });
  await mkdir(join(dir, 'hostdir-rw'), { recursive: true });
  await writeFile(join(dir, 'hostdir-ro/hello'), 'hello from the host\n');
  await writeFile(join(dir, 'hostfile'), 'a bound file\n');
}
