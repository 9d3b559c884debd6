/**
 * Id-mapped mounts (runtime-spec 1.1+: mount options `idmap`/`ridmap`, a mount's own
 * `uidMappings`/`gidMappings`). The container runs in a user namespace mapping 0 -> 200000 and
 * 0 -> 300000 (65536 ids); a host directory owned by 1000:1000 is bind-mounted several ways:
 *
 * - plain: uid 1000 is not mapped into the container, so it shows as the overflow id 65534;
 * - `idmap` with the container's mapping: disk id 1000 is host 201000 through the mount, which is
 *   1000 inside;
 * - `idmap` with the mount's own mapping 1000 -> 200000/300000: the container's root owns the
 *   files, and what it creates is stored as 1000:1000 on the host;
 * - `rbind` + `ridmap` (recursive) vs `rbind` + `idmap` over a directory with a tmpfs mounted
 *   below it: only ridmap maps the submount too.
 */
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { Mount, Spec } from '../../../src/oci/spec.js';
import { processTag, type TestBundle } from '../../support/bundle.js';
import { isBerth, runScript, section, useHarness, type Sections } from './support.js';

const run = promisify(execFile);
const uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
const gidMappings = [{ containerID: 0, hostID: 300000, size: 65536 }];

const [major = 0, minor = 0] = release().split('.').map(Number);
// tmpfs (the submount below) supports id-mapped mounts from Linux 6.3 on.
const tooOld = major * 1000 + minor < 6003 ? `kernel ${release()} is older than 6.3` : false;

describe('id-mapped mounts', { skip: isBerth ? tooOld : 'berth-specific expectations' }, () => {
  const h = useHarness();
  let src = '';
  let out: Sections;
  before(async () => {
    src = await mkdtemp(join(tmpdir(), `${processTag()}-idmap-`));
    await chmod(src, 0o755);
    await writeFile(join(src, 'owned'), 'x\n');
    await mkdir(join(src, 'sub'));
    for (const p of [src, join(src, 'owned'), join(src, 'sub')]) await chown(p, 1000, 1000);
    // A submount below the source: tmpfs supports id-mapped mounts, so ridmap can map it.
    await run('mount', ['-t', 'tmpfs', '-o', 'mode=755,uid=1000,gid=1000', 'tmpfs', join(src, 'sub')]);
    try {
      const bind = (dest: string, options: string[], own?: Partial<Mount>): Mount =>
        ({ destination: dest, type: 'bind', source: src, options, ...own });
      const mutate = (s: Spec) => {
        s.linux!.namespaces!.push({ type: 'user' });
        s.linux!.uidMappings = uidMappings;
        s.linux!.gidMappings = gidMappings;
        s.root!.readonly = false;
        s.mounts!.push(
          bind('/plain', ['rbind']), // a plain bind of a tree with a submount must be recursive in a user namespace
          bind('/same', ['bind', 'idmap']),
          bind('/own', ['bind', 'idmap'], {
            uidMappings: [{ containerID: 1000, hostID: 200000, size: 1 }],
            gidMappings: [{ containerID: 1000, hostID: 300000, size: 1 }],
          }),
          bind('/rtop', ['rbind', 'idmap']),
          bind('/rall', ['rbind', 'ridmap']),
        );
      };
      // mkdtemp made the bundle 0700: the container's root (host uid 200000) must reach rootfs/;
      // and it may not create the mount points in the host-owned rootfs, so they are made here.
      const open = async (b: TestBundle) => {
        await chmod(b.dir, 0o755);
        for (const d of ['plain', 'same', 'own', 'rtop', 'rall']) await mkdir(join(b.rootfs, d));
      };
      out = await runScript(h, [
        section('ids'), 'id -u; id -g',
        section('plain'), 'stat -c "%u:%g" /plain/owned',
        section('same'), 'stat -c "%u:%g" /same/owned',
        section('own'), 'stat -c "%u:%g" /own/owned /own',
        section('write'), 'echo new > /own/created && mkdir /own/madedir && echo ok',
        section('rtop'), 'stat -c "%u:%g" /rtop/sub',
        section('rall'), 'stat -c "%u:%g" /rall/sub',
      ].join('\n'), mutate, [], open);
    } finally {
      await run('umount', [join(src, 'sub')]);
    }
  });
  after(async () => { if (src) await rm(src, { recursive: true, force: true }); });

  test('the container runs', () => assert.equal(out.result.code, 0, out.result.stderr));
  test('the process is root in its user namespace', () => assert.equal(out.get('ids'), '0\n0'));
  test('a plain bind shows the unmapped host owner as the overflow id', () => assert.equal(out.get('plain'), '65534:65534'));
  test('idmap with the container\'s mapping shows host ids as the same ids inside', () => assert.equal(out.get('same'), '1000:1000'));
  test('idmap with the mount\'s mapping: files owned by 1000 on the host are root\'s inside', () => {
    assert.equal(out.get('own'), '0:0\n0:0');
  });
  test('files the container\'s root creates through the mount are 1000:1000 on the host', async () => {
    assert.equal(out.get('write'), 'ok');
    for (const name of ['created', 'madedir']) {
      const st = await stat(join(src, name));
      assert.deepEqual([st.uid, st.gid], [1000, 1000], name);
    }
  });
  test('rbind + idmap maps only the top mount: the submount is unmapped', () => assert.equal(out.get('rtop'), '65534:65534'));
  test('rbind + ridmap maps the submount too', () => assert.equal(out.get('rall'), '1000:1000'));
});

describe('id-mapped mount errors', { skip: isBerth ? false : 'berth-specific messages' }, () => {
  const h = useHarness();
  const create = async (mutate: (s: Spec) => void) => {
    const b = await h.bundle(['true'], mutate);
    return h.rt(['create', '--bundle', b.dir, b.id]);
  };
  test('idmap on a tmpfs names the mount and asks for a bind mount', async () => {
    const r = await create((s) => {
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = uidMappings;
      s.linux!.gidMappings = gidMappings;
      s.mounts!.push({ destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['idmap'] });
    });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /mounts\[\d+\]\.options\[0\] "idmap" \(mount on \/scratch\) is only supported for bind mounts/);
  });
  test('idmap without a user namespace names the mount', async () => {
    const r = await create((s) => s.mounts!.push({ destination: '/data', type: 'bind', source: '/tmp', options: ['bind', 'idmap'] }));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /"idmap" \(mount on \/data\) needs a user namespace/);
  });
  test('a source on a file system without id-mapped mounts (sysfs): the helper names it', async () => {
    const r = await create((s) => {
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = uidMappings;
      s.linux!.gidMappings = gidMappings;
      s.mounts!.push({ destination: '/hostsys', type: 'bind', source: '/sys/kernel', options: ['rbind', 'idmap'] });
    });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /idmap-tree 0: mount_setattr\(MOUNT_ATTR_IDMAP\) on \/sys\/kernel \(a file system without id-mapped mount support\?\): Invalid argument/);
  });
  test('features reports idmap as enabled', async () => {
    const r = await h.rt(['features']);
    assert.equal(r.code, 0, r.stderr);
    const f = JSON.parse(r.stdout) as { linux: { mountExtensions: { idmap: { enabled: boolean } } } };
    assert.equal(f.linux.mountExtensions.idmap.enabled, true);
  });
});
