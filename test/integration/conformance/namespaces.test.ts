/**
 * Conformance: `linux.namespaces` (runtime-tools' linux_ns_nopath, linux_ns_path and
 * linux_ns_itype programs) and `linux.uidMappings` / `gidMappings` (runtimetest's
 * validateUIDMappings and validateGIDMappings).
 *
 * Checked from outside through /proc/<pid>/ns: a namespace listed without a path is new (its
 * inode differs from the runtime's), one listed with a path is that very namespace (same inode
 * as the file), and one not listed is shared with the runtime. The namespaces to join are made
 * by the test (`ip netns add berth-test-<pid>-net`, `unshare --uts=FILE --ipc=FILE`) and removed
 * in `after`.
 */
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { processTag, whyNotRoot, type TestBundle } from '../../support/bundle.js';
import { createLive, nsOf, procStatus, runScript, section, useHarness, type Live, type Sections } from './support.js';

const run = promisify(execFile);
const skip = whyNotRoot();

describe('conformance: namespaces', { skip }, () => {
  const h = useHarness();

  describe('new namespaces, and the ones not listed', () => {
    let live: Live;
    before(async () => {
      live = await createLive(h, ['sleep', '30'], (s) => {
        s.linux!.namespaces = [{ type: 'pid' }, { type: 'network' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }];
      });
    });
    after(async () => { await live?.remove(); });

    for (const [type, file] of [['pid', 'pid'], ['network', 'net'], ['uts', 'uts'], ['mount', 'mnt'], ['cgroup', 'cgroup']]) {
      test(`${type}: a new namespace`, async () => {
        assert.notEqual(await nsOf(live.pid, file!), await nsOf('self', file!));
      });
    }
    for (const file of ['ipc', 'user']) {
      test(`${file}: not listed, shared with the runtime`, async () => {
        assert.equal(await nsOf(live.pid, file), await nsOf('self', file));
      });
    }
  });

  describe('namespaces joined by path', () => {
    const netns = `${processTag()}-net`;
    let dir = '';
    let live: Live | undefined;
    let out: Sections;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), `${processTag()}-ns-`));
      await run('ip', ['netns', 'add', netns]);
      await writeFile(join(dir, 'uts'), '');
      await writeFile(join(dir, 'ipc'), '');
      // the namespaces live on as long as their bind mounts do
      await run('unshare', [`--uts=${join(dir, 'uts')}`, `--ipc=${join(dir, 'ipc')}`, 'hostname', 'joined-uts']);
      const joined = (s: import('../../../src/oci/spec.js').Spec) => {
        delete s.hostname; // the joined UTS namespace keeps its own name
        s.linux!.namespaces = [{ type: 'pid' }, { type: 'mount' },
          { type: 'network', path: `/run/netns/${netns}` }, { type: 'uts', path: join(dir, 'uts') }, { type: 'ipc', path: join(dir, 'ipc') }];
      };
      live = await createLive(h, ['sleep', '30'], joined);
      out = await runScript(h, [section('uts'), 'probe hostname', section('links'), 'ip -o link show'].join('\n'), joined);
    });
    after(async () => {
      await live?.remove();
      await run('ip', ['netns', 'delete', netns]).catch(() => undefined);
      if (!dir) return;
      for (const f of ['uts', 'ipc']) await run('umount', [join(dir, f)]).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    });

    test('network: the process is in the namespace at linux.namespaces[].path', async () => {
      assert.equal(await nsOf(live!.pid, 'net'), `net:[${(await stat(`/run/netns/${netns}`)).ino}]`);
    });
    test('uts: joined by path', async () => {
      assert.equal(await nsOf(live!.pid, 'uts'), `uts:[${(await stat(join(dir, 'uts'))).ino}]`);
    });
    test('ipc: joined by path', async () => {
      assert.equal(await nsOf(live!.pid, 'ipc'), `ipc:[${(await stat(join(dir, 'ipc'))).ino}]`);
    });
    test('inside: the joined UTS namespace\'s hostname', () => {
      assert.equal(out.result.code, 0, out.result.stderr);
      assert.match(out.get('uts'), /^hostname=joined-uts /);
    });
    test('inside: the joined network namespace has only its loopback', () => {
      assert.deepEqual(out.get('links').split('\n').map((l) => l.split(':')[1]?.trim()), ['lo']);
    });
  });

  describe('user namespace with uid and gid mappings', () => {
    const uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
    const gidMappings = [{ containerID: 0, hostID: 300000, size: 65536 }];
    const mutate = (s: import('../../../src/oci/spec.js').Spec) => {
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = uidMappings;
      s.linux!.gidMappings = gidMappings;
      s.root!.readonly = false;
    };
    // mkdtemp made the bundle 0700: the container's root (host uid 200000) must reach rootfs/
    const open = async (b: TestBundle) => chmod(b.dir, 0o755);
    let out: Sections;
    let live: Live;
    before(async () => {
      out = await runScript(h, [section('uid_map'), 'cat /proc/self/uid_map', section('gid_map'), 'cat /proc/self/gid_map',
        section('ids'), 'probe ids'].join('\n'), mutate, [], open);
      live = await createLive(h, ['sleep', '30'], mutate, true, open);
    });
    after(async () => { await live?.remove(); });

    test('the run succeeds', () => assert.equal(out.result.code, 0, out.result.stderr));
    test('uid_map inside is linux.uidMappings', () => assert.deepEqual(out.get('uid_map').split(/\s+/).map(Number), [0, 200000, 65536]));
    test('gid_map inside is linux.gidMappings', () => assert.deepEqual(out.get('gid_map').split(/\s+/).map(Number), [0, 300000, 65536]));
    test('the process is root inside', () => assert.match(out.get('ids'), /^uid=0 gid=0 /));
    test('outside: a new user namespace with the maps, the process runs as host uid 200000', async () => {
      assert.notEqual(await nsOf(live.pid, 'user'), await nsOf('self', 'user'));
      assert.deepEqual((await readFile(`/proc/${live.pid}/uid_map`, 'utf8')).trim().split(/\s+/).map(Number), [0, 200000, 65536]);
      assert.deepEqual((await readFile(`/proc/${live.pid}/gid_map`, 'utf8')).trim().split(/\s+/).map(Number), [0, 300000, 65536]);
      assert.equal(await procStatus(live.pid, 'Uid'), '200000 200000 200000 200000');
      assert.equal(await procStatus(live.pid, 'Gid'), '300000 300000 300000 300000');
    });
  });
});
