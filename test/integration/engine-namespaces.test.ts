/**
 * Namespace flags typed as a user does: --pid/--ipc/--uts/--network container:NAME share the
 * other container's namespaces (the same /proc/self/ns/* inode inside both), host shares the
 * host's, and --userns with a mapping runs root inside as an unprivileged uid outside (a file
 * made in a bind mount belongs to the mapped uid on the host).
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { assertNoLeaks, processTag, uniqueId, whyNotRoot } from '../support/bundle.js';
import { BerthCli } from './engine-cli.js';

const skip = whyNotRoot();
let b: BerthCli;
const NS = ['pid', 'ipc', 'uts', 'net'];
const readNs = 'for n in pid ipc uts net; do readlink /proc/self/ns/$n; done';

before(() => { if (!skip) b = new BerthCli('engine-ns'); });
after(async () => {
  if (skip) return;
  await b.cleanup();
  await assertNoLeaks(processTag());
});

test('container:NAME joins the other container\'s pid, ipc, uts and network namespaces', { skip }, async () => {
  const name = uniqueId('nsbase');
  assert.equal((await b.exec(['run', '-d', '--name', name, ...b.cg, '-h', 'base-host', '--', 'sleep', '60'])).code, 0);
  const base = await b.exec(['exec', name, 'sh', '-c', readNs]);
  assert.equal(base.code, 0, base.stderr);
  const joined = await b.exec(['run', '--rm', ...b.cg, ...['pid', 'ipc', 'uts', 'network'].flatMap((f) => [`--${f}`, `container:${name}`]),
    '--', 'sh', '-c', `${readNs}; hostname; ps -o comm= -p 1`]);
  assert.equal(joined.code, 0, joined.stderr);
  assert.equal(joined.stdout, `${base.stdout}base-host\nsleep\n`);
  // Each one alone, too: only that namespace is shared.
  const pidOnly = await b.exec(['run', '--rm', ...b.cg, '--pid', `container:${name}`, '--', 'sh', '-c', readNs]);
  const [bp, bi] = base.stdout.split('\n');
  const [jp, ji] = pidOnly.stdout.split('\n');
  assert.equal(jp, bp);
  assert.notEqual(ji, bi);
  assert.equal((await b.exec(['stop', '-t', '0', name])).code, 0);
  const stopped = await b.exec(['run', '--rm', ...b.cg, '--ipc', `container:${name}`, '--', 'true']);
  assert.equal(stopped.code, 125);
  assert.match(stopped.stderr, /^berth: cannot join the ipc namespace of container .*: container [0-9a-f]{12} is not running\n$/);
  assert.equal((await b.exec(['rm', name])).code, 0);
});

test('host shares the host\'s namespaces; none has only loopback', { skip }, async () => {
  const r = await b.exec(['run', '--rm', ...b.cg, '--pid', 'host', '--ipc', 'host', '--uts', 'host', '--network', 'host', '--', 'sh', '-c', readNs]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), NS.map((n) => readlinkSync(`/proc/self/ns/${n}`)));
  const none = await b.exec(['run', '--rm', ...b.cg, '--network', 'none', '--', 'ls', '/sys/class/net']);
  assert.equal(none.stdout, 'lo\n');
});

test('bad namespace flags: one-line errors, nothing left behind', { skip }, async () => {
  const before = b.containers().length;
  const cases: [string[], RegExp][] = [
    [['--pid', 'container:nosuch-berth'], /^berth: no such container: nosuch-berth\n$/],
    [['--network', 'container:nosuch-berth'], /^berth: no such container: nosuch-berth\n$/],
    [['--uts', 'banana'], /^berth: invalid --uts "banana": use host or private or container:NAME\n$/],
    [['--userns', '1:2'], /^berth: invalid --userns "1:2": use host or CONTAINER-ID:HOST-ID:SIZE\[,...\], e.g. 0:100000:65536\n$/],
  ];
  for (const [flags, msg] of cases) {
    const image = flags.includes('busybox');
    const r = await b.exec(['run', '--rm', ...b.cg, ...flags.filter((f) => f !== 'busybox'), ...(image ? ['busybox'] : ['--']), 'true']);
    assert.equal(r.code, 125, flags.join(' '));
    assert.match(r.stderr, msg);
  }
  assert.equal(b.containers().length, before);
});

test('--userns 0:100000:65536: root inside is uid 100000 outside', { skip }, async () => {
  // The runtime mounts the root from inside the user namespace: the data root must be searchable.
  chmodSync(b.data, 0o711);
  const vol = join(b.data, `vol-${uniqueId('userns')}`);
  mkdirSync(vol);
  chownSync(vol, 100000, 100000);
  const r = await b.exec(['run', '--rm', ...b.cg, '--userns', '0:100000:65536', '-v', `${vol}:/vol`, '--',
    'sh', '-c', 'id -u; id -g; cat /proc/self/uid_map | tr -s " "; touch /vol/made /tmp/own; readlink /proc/self/ns/user']);
  assert.equal(r.code, 0, r.stderr);
  const [uid, gid, map, userNs] = r.stdout.trim().split('\n');
  assert.equal(uid, '0');
  assert.equal(gid, '0');
  assert.equal(map!.trim(), '0 100000 65536');
  assert.notEqual(userNs, readlinkSync('/proc/self/ns/user'));
  const st = statSync(join(vol, 'made'));
  assert.deepEqual([st.uid, st.gid], [100000, 100000]);
});
