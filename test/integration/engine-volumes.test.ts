/**
 * Volumes through the berth CLI as a Docker user types them: named volumes made by `volume
 * create` or on first use and seeded from the image (content, owner, mode, links), shared between
 * containers and kept by `rm -v`; anonymous ones (`-v /path`, `--mount type=volume`, the image's
 * VOLUME) removed with their container; `--volumes-from`; binds of a missing host directory
 * (made by -v, refused by --mount); `volume ls/inspect/rm/prune` with Docker's rules (never a
 * volume in use); bad input leaving nothing behind; and from the attacker's side, an image whose
 * VOLUME path is a symlink out of its root.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tarBuffer } from '../../src/archive/tar/writer.js';
import { assertNoLeaks, processTag, uniqueId, whyNotRoot } from '../support/bundle.js';
import { busyboxTar, writeImageLayout, writeThreeLayerImage } from '../fixtures/image/build.js';
import { BerthCli } from './engine-cli.js';

const skip = whyNotRoot();
let b: BerthCli;
const IMAGE = 'local/three:v1';
const EVIL = 'local/evil-volume:v1';
let hostDir: string;

/** berth ARGS, which must succeed; its stdout. */
async function ok(args: string[], input?: string): Promise<string> {
  const r = await b.exec(args, input !== undefined ? { input } : {});
  assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const volumes = async (): Promise<string[]> => (await ok(['volume', 'ls', '-q'])).split('\n').filter(Boolean);
const sh = (flags: string[], script: string, image = IMAGE): Promise<string> => ok(['run', '--rm', ...b.cg, ...flags, image, script]);

before(async () => {
  if (skip) return;
  b = new BerthCli('volumes');
  await writeThreeLayerImage(join(b.data, 'layout'), IMAGE);
  await ok(['load', '-i', join(b.data, 'layout')]);
  // A host directory with a secret, and an image whose VOLUME paths are symlinks to it (absolute,
  // and relative with more .. than the root has).
  hostDir = join(b.run, 'host-secret');
  mkdirSync(hostDir);
  writeFileSync(join(hostDir, 'secret'), 'host secret\n');
  await writeImageLayout(join(b.data, 'evil'), EVIL, [
    { tar: await busyboxTar(), compression: 'gzip' },
    { tar: tarBuffer([
      { name: 'abs', type: 'symlink', linkname: hostDir },
      { name: 'rel', type: 'symlink', linkname: `../../../../../../../..${hostDir}` },
    ]), compression: 'none' },
  ], { Entrypoint: ['/bin/sh', '-c'], Cmd: ['sh'], Volumes: { '/abs': {}, '/rel': {} } });
  await ok(['load', '-i', join(b.data, 'evil')]);
});

after(async () => {
  if (skip) return;
  await b.cleanup();
  await assertNoLeaks(processTag());
});

test('a named volume is made on first use, seeded from the image, shared, and outlives rm -v', { skip }, async () => {
  const vol = uniqueId('named').replace(/[^a-zA-Z0-9_.-]/g, '-');
  // -u 0: the image's /data belongs to root, as its files are copied
  assert.equal(await sh(['-u', '0', '-v', `${vol}:/data`], 'ls -A /data; cat /data/hard; readlink /data/link; echo more > /data/added'), 'hard\nkeep\nlink\nnew\nkeep\nkeep\n');
  const [doc] = JSON.parse(await ok(['volume', 'inspect', vol])) as { Name: string; Driver: string; Mountpoint: string; Scope: string; Labels: object; Options: object; CreatedAt: string }[];
  assert.deepEqual([doc!.Name, doc!.Driver, doc!.Scope, doc!.Labels, doc!.Options], [vol, 'local', 'local', null, null]); // made by a run: as dockerd shows it
  assert.match(doc!.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(doc!.Mountpoint, join(b.data, 'volumes', vol, '_data'));
  // hard links stay one file; the executable bit and the owner came along
  const keep = statSync(join(doc!.Mountpoint, 'keep'));
  assert.equal(statSync(join(doc!.Mountpoint, 'hard')).ino, keep.ino);
  assert.equal(statSync(join(doc!.Mountpoint, 'new')).mode & 0o777, 0o755);
  // a second container sees what the first wrote; a volume with content is not seeded again
  assert.equal(await sh(['-u', '0', '--mount', `type=volume,source=${vol},target=/elsewhere`], 'cat /elsewhere/added; rm /elsewhere/keep /elsewhere/hard'), 'more\n');
  assert.equal(await sh(['-u', '0', '-v', `${vol}:/data`], 'ls -A /data'), 'added\nlink\nnew\n');
  // read-only
  const ro = await b.exec(['run', '--rm', ...b.cg, '-u', '0', '-v', `${vol}:/data:ro`, IMAGE, 'echo x > /data/y']);
  assert.notEqual(ro.code, 0);
  assert.match(ro.stderr, /Read-only file system/);
  // in use: volume rm refuses, naming the container; rm -v of the container leaves it
  const id = (await ok(['create', ...b.cg, '-v', `${vol}:/data`, IMAGE])).trim();
  const busy = await b.exec(['volume', 'rm', vol]);
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, new RegExp(`remove ${vol}: volume is in use - \\[${id}\\]`));
  const mounts = JSON.parse(await ok(['inspect', '-f', '{{json .Mounts}}', id])) as { Destination: string }[];
  assert.deepEqual(mounts.find((m) => m.Destination === '/data'), { Type: 'volume', Name: vol, Source: doc!.Mountpoint, Destination: '/data', Driver: 'local', Mode: 'z', RW: true, Propagation: '' });
  await ok(['rm', '-v', id]);
  assert.ok((await volumes()).includes(vol));
  // prune leaves named volumes unless --all
  await ok(['volume', 'prune', '-f']);
  assert.ok((await volumes()).includes(vol));
  assert.equal(await ok(['volume', 'rm', vol]), `${vol}\n`);
  assert.equal(existsSync(join(b.data, 'volumes', vol)), false);
  // -f quiets a missing volume only
  assert.equal((await b.exec(['volume', 'rm', vol])).code, 1);
  assert.equal((await b.exec(['volume', 'rm', '-f', vol])).code, 0);
});

test('nocopy, labels, filters and an empty-volume seed', { skip }, async () => {
  await ok(['volume', 'create', '--label', 'team=a', '--label', 'tier', 'labelled']);
  assert.equal((await ok(['volume', 'create', 'labelled'])).trim(), 'labelled'); // an existing one is returned, as Docker does
  assert.equal(await sh(['-u', '0', '-v', 'labelled:/data:nocopy'], 'ls -A /data | wc -l'), '0\n');
  // still empty, so the next use without nocopy seeds it
  assert.equal(await sh(['-u', '0', '-v', 'labelled:/data'], 'ls /data | head -1'), 'hard\n');
  await ok(['volume', 'create', 'other']);
  assert.deepEqual((await ok(['volume', 'ls', '-q', '--filter', 'label=team=a'])).split('\n').filter(Boolean), ['labelled']);
  assert.deepEqual((await ok(['volume', 'ls', '-q', '--filter', 'label=tier', '--filter', 'name=lab'])).split('\n').filter(Boolean), ['labelled']);
  assert.deepEqual((await ok(['volume', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Labels}}', '--filter', 'name=labelled'])).trim().split(' ').slice(0, 2), ['labelled', 'local']);
  const id = (await ok(['create', ...b.cg, '-v', 'other:/o', IMAGE])).trim();
  assert.deepEqual((await ok(['volume', 'ls', '-q', '--filter', 'dangling=true'])).split('\n').filter(Boolean), ['labelled']);
  const bad = await b.exec(['volume', 'ls', '--filter', 'colour=red']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /invalid --filter "colour=red": use KEY=VALUE, with KEY one of dangling, driver, label, name/);
  const pruned = await ok(['volume', 'prune', '-a', '-f', '--filter', 'label=team']);
  assert.match(pruned, /^Deleted Volumes:\nlabelled\n\nTotal reclaimed space: 13B\n$/);
  await ok(['rm', '-v', id]);
  await ok(['volume', 'rm', 'other']);
});

test('anonymous volumes: -v PATH, --mount without a source and the image\'s VOLUME go with rm -v', { skip }, async () => {
  const before = await volumes();
  const id = (await ok(['create', ...b.cg, '-v', '/anon', '--mount', 'type=volume,target=/m', IMAGE])).trim();
  const mounts = JSON.parse(await ok(['inspect', '-f', '{{json .Mounts}}', id])) as { Type: string; Name: string; Destination: string; Source: string }[];
  assert.deepEqual(mounts.map((m) => [m.Type, m.Destination]).sort(), [['volume', '/anon'], ['volume', '/m'], ['volume', '/vol']]);
  for (const m of mounts) assert.match(m.Name, /^[a-f0-9]{64}$/);
  assert.deepEqual((await volumes()).filter((v) => !before.includes(v)).sort(), mounts.map((m) => m.Name).sort());
  // plain rm leaves them (dangling), prune takes them
  await ok(['rm', id]);
  assert.deepEqual((await volumes()).filter((v) => !before.includes(v)).sort(), mounts.map((m) => m.Name).sort());
  const pruned = await ok(['volume', 'prune', '-f']);
  for (const m of mounts) assert.ok(pruned.includes(m.Name));
  // rm -v and --rm remove them at once
  const id2 = (await ok(['create', ...b.cg, '-v', '/anon', IMAGE])).trim();
  await ok(['rm', '-v', id2]);
  await ok(['run', '--rm', ...b.cg, '-v', '/anon', IMAGE, 'true']);
  assert.deepEqual(await volumes(), before);
});

test('--volumes-from takes another container\'s volumes and binds, read-only on request', { skip }, async () => {
  const dir = join(b.run, 'bind-src');
  mkdirSync(dir);
  writeFileSync(join(dir, 'f'), 'bound\n');
  const src = uniqueId('vfrom');
  await ok(['create', '--name', src, ...b.cg, '-v', 'vfnamed:/n', '-v', `${dir}:/b`, '-v', '/anon', IMAGE]);
  assert.equal(await sh(['-u', '0', '--volumes-from', src], 'echo w > /n/w && echo w > /anon/w && cat /b/f && ls /vol | wc -l'), 'bound\n0\n');
  const ro = await b.exec(['run', '--rm', ...b.cg, '-u', '0', '--volumes-from', `${src}:ro`, IMAGE, 'cat /n/w /anon/w; touch /anon/x']);
  assert.equal(ro.stdout, 'w\nw\n');
  assert.match(ro.stderr, /Read-only file system/);
  // the borrower's rm -v leaves the lender's anonymous volume; a mount at the same path wins
  const borrower = (await ok(['create', ...b.cg, '--volumes-from', src, '--tmpfs', '/anon', IMAGE])).trim();
  const mounts = JSON.parse(await ok(['inspect', '-f', '{{json .Mounts}}', borrower])) as { Destination: string; Type: string }[];
  assert.deepEqual(mounts.map((m) => `${m.Type} ${m.Destination}`).sort(), ['bind /b', 'volume /n', 'volume /vol']);
  await ok(['rm', '-v', borrower]);
  const lender = JSON.parse(await ok(['inspect', '-f', '{{json .Mounts}}', src])) as { Destination: string; Source: string }[];
  assert.ok(lender.every((m) => existsSync(m.Source)), 'the lender\'s volumes are still there');
  const missing = await b.exec(['run', '--rm', ...b.cg, '--volumes-from', 'no-such-container-berth', IMAGE, 'true']);
  assert.equal(missing.code, 125);
  assert.match(missing.stderr, /no such container: no-such-container-berth/);
  await ok(['rm', '-v', src]);
  await ok(['volume', 'rm', 'vfnamed']);
});

test('binds: -v makes a missing host directory, --mount type=bind refuses it', { skip }, async () => {
  const made = join(b.run, 'made', 'by', 'v');
  assert.equal(await sh(['-v', `${made}:/m`], 'ls -A /m | wc -l'), '0\n');
  assert.equal(statSync(made).isDirectory(), true);
  const gone = join(b.run, 'not-there');
  const before = b.containers();
  const r = await b.exec(['run', '--rm', ...b.cg, '-v', 'bindtestvol:/v', '--mount', `type=bind,source=${gone},target=/m`, IMAGE, 'true']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, new RegExp(`bind source path does not exist: ${gone}`));
  assert.equal(existsSync(gone), false);
  assert.deepEqual(b.containers(), before);
  assert.equal((await volumes()).includes('bindtestvol'), false);
});

test('bad input names the value and leaves no container and no volume', { skip }, async () => {
  const before = { c: b.containers(), v: await volumes() };
  const cases: [string[], RegExp][] = [
    [['-v', 'x:/data'], /"x" includes invalid characters for a local volume name/],
    [['-v', '../etc:/data'], /"\.\.\/etc" includes invalid characters/],
    [['-v', 'good-name:relative'], /the container path "relative" must be absolute/],
    [['-v', 'good-name:/d:bogus'], /unknown option "bogus"/],
    [['-v', `${b.run}:/d:nocopy`], /unknown option "nocopy"/],
    [['--mount', 'type=volume,source=/abs,target=/d'], /"\/abs" is not a volume name/],
    [['--mount', 'type=volume,target=/d,volume-driver=nfs'], /volume driver "nfs" is not available/],
    [['--mount', 'type=bind,source=/tmp,target=/d,volume-nocopy'], /volume options .* need type=volume/],
    [['--volumes-from', 'a:b:c'], /invalid --volumes-from "a:b:c"/],
  ];
  for (const [flags, re] of cases) {
    const r = await b.exec(['run', '--rm', ...b.cg, ...flags, IMAGE, 'true']);
    assert.equal(r.code, 125, `${flags.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re, flags.join(' '));
  }
  // a create that fails after it made a named volume removes it (a host container: its user is resolved last)
  const late = await b.exec(['run', '--rm', ...b.cg, '-v', 'made-then-failed:/v', '-u', 'no-such-user-berth', 'host', 'true']);
  assert.equal(late.code, 125);
  assert.match(late.stderr, /no-such-user-berth/);
  const opt = await b.exec(['volume', 'create', '-o', 'type=nfs', 'withopts']);
  assert.equal(opt.code, 1);
  assert.match(opt.stderr, /volume option "type" is not supported/);
  assert.equal((await b.exec(['volume', 'create', 'a'])).code, 1);
  assert.deepEqual({ c: b.containers(), v: await volumes() }, before);
  // names that would walk out of the volumes directory are not volumes
  for (const name of ['..', '../containers', '.lock']) {
    const r = await b.exec(['volume', 'inspect', name]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no such volume/);
  }
});

test('attacker: an image whose VOLUME is a symlink out of its root gets its own directory, not the host\'s', { skip }, async () => {
  const out = await sh(['-u', '0'], 'ls -A /abs | wc -l; ls -A /rel | wc -l; for p in /abs /rel; do echo pwned > $p/secret; done', EVIL);
  assert.equal(out, '0\n0\n');
  assert.equal(readFileSync(join(hostDir, 'secret'), 'utf8'), 'host secret\n');
  assert.deepEqual(readdirSync(hostDir), ['secret']);
  assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(hostDir), 'nothing is mounted on the host directory');
  // a named volume at such a path: seeded from nothing outside the root either
  assert.equal(await sh(['-u', '0', '-v', 'evilseed:/abs'], 'ls -A /abs | wc -l', EVIL), '0\n');
  await ok(['volume', 'rm', 'evilseed']);
  rmSync(join(b.data, 'evil'), { recursive: true, force: true });
});
