/**
 * `berth cp` as a Docker user types it, between the host and running and stopped containers:
 * Docker's rules for what lands where, owners (the container's root by default, the source's
 * with -a), tar streams on stdin/stdout, a stopped container's volumes, a read-only root; and
 * from the attacker's side: a container's symlinks pointing at host paths (absolute, relative,
 * into /proc), a hostile archive (.., absolute names, a symlink then a path through it, a hard
 * link out), and a container that swaps a directory for a symlink to / while files are copied
 * into it (CVE-2018-15664 against docker cp). Nothing may be read from or written to the host.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tarBuffer } from '../../src/archive/tar/writer.js';
import { assertNoLeaks, processTag, uniqueId, whyNotRoot } from '../support/bundle.js';
import { writeImageLayout, writeThreeLayerImage } from '../fixtures/image/build.js';
import { BerthCli } from './engine-cli.js';

const skip = whyNotRoot();
let b: BerthCli;
let host: string;
const IMAGE = 'local/three:v1';

async function ok(args: string[], input?: string | Buffer): Promise<string> {
  const r = await b.exec(args, input !== undefined ? { input: input as string } : {});
  assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
async function fails(args: string[], re: RegExp): Promise<void> {
  const r = await b.exec(args);
  assert.notEqual(r.code, 0, `berth ${args.join(' ')} should fail`);
  assert.match(r.stderr, re);
}
async function running(flags: string[] = []): Promise<string> {
  const name = uniqueId('cp');
  await ok(['run', '-d', '--name', name, ...b.cg, ...flags, IMAGE, 'sleep 300']);
  return name;
}
const inCtr = async (name: string, script: string): Promise<string> => ok(['exec', '-u', '0', name, 'sh', '-c', script]);

before(async () => {
  if (skip) return;
  b = new BerthCli('cp');
  await writeThreeLayerImage(join(b.data, 'layout'), IMAGE);
  await ok(['load', '-i', join(b.data, 'layout')]);
  host = mkdtempSync(join(tmpdir(), `${processTag()}-cp-host-`));
});

after(async () => {
  if (skip) return;
  await b.settle();
  await b.cleanup();
  rmSync(host, { recursive: true, force: true });
  await assertNoLeaks(processTag());
});

test('out of a container: Docker\'s rules for files and directories, owners with and without -a, a tar on stdout', { skip }, async () => {
  const c = await running();
  const out = join(host, 'out');
  mkdirSync(out);
  await ok(['cp', `${c}:/data`, out]); // into an existing directory, under its own name
  assert.deepEqual(readdirSync(join(out, 'data')).sort(), ['hard', 'keep', 'link', 'new']);
  assert.equal(statSync(join(out, 'data', 'hard')).ino, statSync(join(out, 'data', 'keep')).ino);
  assert.equal(readlinkSync(join(out, 'data', 'link')), 'keep');
  await ok(['cp', `${c}:/data/.`, join(out, 'flat')]); // a missing destination is the copy
  assert.deepEqual(readdirSync(join(out, 'flat')).sort(), ['hard', 'keep', 'link', 'new']);
  await ok(['cp', `${c}:/data/.`, out]); // "/." : the contents, into the existing directory
  assert.ok(existsSync(join(out, 'keep')));
  // /etc/motd belongs to uid 1000 in the image: the caller's without -a, 1000 with it
  await ok(['cp', `${c}:/etc/motd`, join(out, 'motd')]);
  assert.equal(readFileSync(join(out, 'motd'), 'utf8'), 'hello from layer 2\n');
  assert.equal(statSync(join(out, 'motd')).uid, 0);
  assert.equal(statSync(join(out, 'motd')).mode & 0o777, 0o600);
  await ok(['cp', '-a', `${c}:/etc/motd`, join(out, 'motd-a')]);
  assert.equal(statSync(join(out, 'motd-a')).uid, 1000);
  assert.equal(statSync(join(out, 'motd-a')).mtimeMs, 1_000_000_000_000);
  await fails(['cp', `${c}:/data`, join(out, 'motd')], /cannot copy a directory to a file/);
  await fails(['cp', `${c}:/etc/motd`, join(out, 'missing-dir') + '/'], /destination directory .* does not exist/);
  await fails(['cp', `${c}:/no/such`, out], /Could not find the file \/no\/such in container/);
  // a tar on stdout: what docker cp CONTAINER:PATH - writes
  const r = spawnSync('sh', ['-c', `"$0" "$@" | tar -t`, process.execPath, join(process.cwd(), 'bin/berth.js'), '--data-root', b.data, '--root', b.run, 'cp', `${c}:/data`, '-'], { encoding: 'utf8' });
  assert.equal(r.stdout, 'data/\ndata/hard\ndata/keep\ndata/link\ndata/new\n', r.stderr);
  await ok(['rm', '-f', c]);
});

test('into a container: files, directories, "/.", owners, a tar on stdin; a stopped container and its volume; a read-only root', { skip }, async () => {
  const src = join(host, 'src');
  mkdirSync(join(src, 'sub'), { recursive: true });
  writeFileSync(join(src, 'sub', 'f'), 'f\n');
  writeFileSync(join(src, 'top'), 'top\n', { mode: 0o640 });
  spawnSync('chown', ['-R', '1234:1234', src]);
  const c = await running();
  await ok(['cp', join(src, 'top'), `${c}:/tmp/`]);
  await ok(['cp', src, `${c}:/tmp/copy`]);
  await ok(['cp', `${src}/.`, `${c}:/tmp`]);
  await ok(['cp', '-a', join(src, 'top'), `${c}:/tmp/top-a`]);
  assert.equal(await inCtr(c, 'stat -c "%n %u %a" /tmp/top /tmp/copy/sub/f /tmp/sub/f /tmp/top-a'), '/tmp/top 0 640\n/tmp/copy/sub/f 0 644\n/tmp/sub/f 0 644\n/tmp/top-a 1234 640\n');
  await fails(['cp', src, `${c}:/tmp/top`], /cannot copy a directory to a file/);
  await fails(['cp', join(src, 'top'), `${c}:/nodir/`], /destination directory \/nodir\/ does not exist/);
  await fails(['cp', join(host, 'nothing-here'), `${c}:/tmp`], /could not find the file/);
  const tar = tarBuffer([{ name: 'from-stdin', type: 'file', data: 'stdin\n', mode: 0o600, uid: 7, gid: 7 }]);
  const r = spawnSync(process.execPath, [join(process.cwd(), 'bin/berth.js'), '--data-root', b.data, '--root', b.run, 'cp', '-', `${c}:/tmp`], { input: tar, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(await inCtr(c, 'cat /tmp/from-stdin; stat -c %u /tmp/from-stdin'), 'stdin\n0\n');
  await ok(['rm', '-f', c]);

  // a stopped container: its root file system and its volume (not mounted anywhere now)
  const stopped = uniqueId('cp-stopped');
  await ok(['create', '--name', stopped, ...b.cg, '-u', '0', '-v', 'cpvol:/vol', IMAGE, 'cat /vol/top /tmp/top; ls /vol']);
  await ok(['cp', join(src, 'top'), `${stopped}:/vol/`]);
  await ok(['cp', join(src, 'top'), `${stopped}:/tmp/`]);
  await ok(['cp', `${stopped}:/vol/top`, join(host, 'from-stopped')]);
  assert.equal(readFileSync(join(host, 'from-stopped'), 'utf8'), 'top\n');
  assert.equal(await ok(['start', '-a', stopped]), 'top\ntop\ntop\n');
  const vol = JSON.parse(await ok(['volume', 'inspect', 'cpvol']))[0].Mountpoint as string;
  assert.equal(readFileSync(join(vol, 'top'), 'utf8'), 'top\n');
  await ok(['rm', stopped]);
  await ok(['volume', 'rm', 'cpvol']);

  // --read-only: the root takes nothing; a volume of the container does
  const ro = await running(['--read-only', '-v', '/data']);
  await fails(['cp', join(src, 'top'), `${ro}:/tmp/`], /read-only/);
  await ok(['cp', join(src, 'top'), `${ro}:/data/`]);
  assert.equal(await inCtr(ro, 'cat /data/top'), 'top\n');
  await ok(['rm', '-f', '-v', ro]);
});

test('attacker: the container\'s symlinks to host paths lead into the container, never to the host', { skip }, async () => {
  const target = join(host, 'target');
  mkdirSync(target);
  writeFileSync(join(target, 'secret'), 'host secret\n');
  const c = await running();
  // absolute, relative with too many .., and through /proc/1/root (a magic link in the container)
  await inCtr(c, `ln -s ${target} /abs; ln -s ../../../../../../..${target} /rel; ln -s /proc/1/root${target} /procroot; ln -s ${target}/secret /file`);
  for (const link of ['abs', 'rel', 'procroot']) {
    const r = await b.exec(['cp', join(host, 'target', 'secret'), `${c}:/${link}/planted-${link}`]);
    // either written inside the container (the link resolved in its root) or refused; never on the host
    assert.equal(existsSync(join(target, `planted-${link}`)), false, `cp through /${link} wrote on the host: ${r.stderr}`);
    const out = await b.exec(['cp', `${c}:/${link}/secret`, join(host, `read-${link}`)]);
    assert.notEqual(out.code, 0, `cp out of /${link}/secret read something`);
  }
  // the symlink itself is copied (not what it points to); -L follows it inside the container
  await ok(['cp', `${c}:/file`, join(host, 'link-copy')]);
  assert.equal(lstatSync(join(host, 'link-copy')).isSymbolicLink(), true);
  await fails(['cp', '-L', `${c}:/file`, join(host, 'followed')], /Could not find the file/);
  assert.equal(existsSync(join(host, 'followed')), false);
  assert.deepEqual(readdirSync(target), ['secret']);
  await ok(['rm', '-f', c]);
});

test('attacker: a hostile archive on stdin cannot write outside the destination or the container', { skip }, async () => {
  const c = await running();
  const escape = `escape-${processTag()}`;
  const send = (entries: Parameters<typeof tarBuffer>[0]) => spawnSync(process.execPath, [join(process.cwd(), 'bin/berth.js'), '--data-root', b.data, '--root', b.run, 'cp', '-', `${c}:/tmp`], { input: tarBuffer(entries), encoding: 'utf8' });
  const dotdot = send([{ name: `../../../../../../tmp/${escape}`, type: 'file', data: 'x' }]);
  assert.notEqual(dotdot.status, 0);
  assert.match(dotdot.stderr, /archive entry .*: a '\.\.' in the name/);
  const abs = send([{ name: `/tmp/${escape}`, type: 'file', data: 'x' }]);
  assert.match(abs.stderr, /an absolute name/);
  // a symlink to the host's /tmp, then a file through it: lands in the container's /tmp
  const through = send([{ name: 'l', type: 'symlink', linkname: '/tmp' }, { name: `l/${escape}`, type: 'file', data: 'through\n' }]);
  assert.equal(through.status, 0, through.stderr);
  assert.equal(await inCtr(c, `cat /tmp/${escape}`), 'through\n');
  // a hard link to a file outside the destination
  const hard = send([{ name: 'h', type: 'hardlink', linkname: '../etc/motd' }]);
  assert.match(hard.stderr, /a '\.\.' in the name/);
  const dev = send([{ name: 'null', type: 'chardev', devmajor: 1, devminor: 3 }]);
  assert.match(dev.stderr, /cannot be copied/);
  assert.equal(existsSync(join('/tmp', escape)), false, 'a file was written on the host');
  await ok(['rm', '-f', c]);
});

test('attacker: a directory swapped for a symlink to / while files are copied into it (CVE-2018-15664)', { skip, timeout: 120_000 }, async () => {
  const c = await running();
  const mark = `berth-race-${processTag()}`;
  // The container flips /tmp/w between a directory and a symlink to / as fast as it can.
  await ok(['exec', '-d', '-u', '0', c, 'sh', '-c', 'mkdir -p /tmp/d; while true; do mv /tmp/d /tmp/w; mv /tmp/w /tmp/d; ln -sfn / /tmp/w; rm /tmp/w; done']);
  const file = join(host, mark);
  writeFileSync(file, 'raced\n');
  let landed = 0;
  for (let i = 0; i < 40; i++) {
    const r = await b.exec(['cp', file, `${c}:/tmp/w/`]);
    if (r.code === 0) landed++;
    assert.equal(existsSync(join('/', mark)), false, `iteration ${i}: the copy landed in the host's /`);
  }
  // Some copies got through (into the container's directory, or its own / through the symlink).
  assert.ok(landed > 0, 'no copy succeeded: the race was not exercised');
  await ok(['rm', '-f', c]);
});

test('diff lists what a container changed in its image; export is its root without its volumes', { skip }, async () => {
  const c = await running(['-v', '/vol']);
  await inCtr(c, 'rm /data/keep; echo x > /etc/newfile; mkdir /newdir; echo v > /vol/in-volume');
  const changes = (await ok(['diff', c])).split('\n').filter(Boolean);
  for (const line of ['C /data', 'D /data/keep', 'C /etc', 'A /etc/newfile', 'A /newdir']) assert.ok(changes.includes(line), `${line} in ${changes.join(', ')}`);
  assert.ok(!changes.some((l) => l.includes('in-volume')), 'a volume is not a change of the root');
  const paths = changes.map((l) => l.slice(2));
  assert.deepEqual([...paths].sort(), paths, 'sorted by path');
  const r = spawnSync('sh', ['-c', `"$0" "$@" | tar -t`, process.execPath, join(process.cwd(), 'bin/berth.js'), '--data-root', b.data, '--root', b.run, 'export', c], { encoding: 'utf8', maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, r.stderr);
  const names = r.stdout.split('\n');
  assert.ok(names.includes('etc/newfile') && names.includes('bin/busybox') && names.includes('data/new'));
  assert.ok(!names.includes('data/keep') && !names.includes('vol/in-volume'));
  const file = join(host, 'export.tar');
  await ok(['export', '-o', file, c]);
  assert.ok(statSync(file).size > 500_000);
  await ok(['rm', '-f', '-v', c]);
  const hostCtr = uniqueId('diff-host');
  await ok(['create', '--name', hostCtr, ...b.cg, 'host', 'true']);
  await fails(['diff', hostCtr], /keeps no record of its changes: diff needs an image on the overlay driver/);
  await ok(['rm', hostCtr]);
});

test('system df counts images, containers and volumes; system prune removes what nothing uses', { skip }, async () => {
  await ok(['volume', 'prune', '-f']); // what earlier tests' containers left (their image's VOLUME)
  const keep = await running(['-v', 'dfnamed:/n']);
  const stopped = uniqueId('df-stopped');
  await ok(['run', '--name', stopped, ...b.cg, '-u', '0', '-v', '/anon', IMAGE, 'head -c 100000 /dev/zero > /big']);
  const df = (await ok(['system', 'df'])).split('\n');
  assert.match(df[0]!, /^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE$/);
  assert.match(df[1]!, /^Images +1 +1 +\d+(\.\d+)?[kM]B +0B \(0%\)$/);
  assert.match(df[2]!, /^Containers +2 +1 +\d+(\.\d+)?kB +\d+(\.\d+)?kB \(\d+%\)$/);
  assert.match(df[3]!, /^Local Volumes +4 +4 /); // dfnamed, /vol of each, /anon
  assert.match(await ok(['system', 'df', '-v']), /Local Volumes space usage:\n\nVOLUME NAME +LINKS +SIZE\n/);
  const pruned = await ok(['system', 'prune', '-f', '--volumes']);
  assert.match(pruned, /^Deleted Containers:\n[a-f0-9]{64}\n\nDeleted Volumes:\n[a-f0-9]{64}\n[a-f0-9]{64}\n\nTotal reclaimed space: \d+(\.\d+)?kB\n$/);
  assert.equal((await b.exec(['inspect', stopped])).code, 1);
  assert.equal((await b.exec(['inspect', keep])).code, 0);
  assert.deepEqual((await ok(['volume', 'ls', '-q'])).split('\n').filter(Boolean).map((v) => (/^[a-f0-9]{64}$/.test(v) ? 'anonymous' : v)).sort(), ['anonymous', 'dfnamed']); // the running one's /vol; named volumes stay, as in Docker
  await ok(['rm', '-f', '-v', keep]);
  await ok(['volume', 'rm', 'dfnamed']);
});

test('commit makes an image of a container\'s changes: added, changed, deleted, a directory made again, and --change', { skip }, async () => {
  const c = await running(['-u', '0']);
  await inCtr(c, 'mkdir /newdir && echo a > /newdir/f && rm /data/keep && rm -rf /opq && mkdir /opq && echo n > /opq/only && echo more >> /etc/motd');
  const id = (await ok(['commit', '-a', 'Berth Test <t@example.com>', '-m', 'a message', '-c', 'ENTRYPOINT ["cat"]', '-c', 'CMD ["/newdir/f"]', '-c', 'ENV X=1', c, 'local/committed:v1'])).trim();
  assert.match(id, /^sha256:[a-f0-9]{64}$/);
  assert.equal(await inCtr(c, 'echo still running'), 'still running\n', 'unpaused after the commit');
  assert.equal(await ok(['run', '--rm', ...b.cg, 'local/committed:v1']), 'a\n');
  assert.equal(await ok(['run', '--rm', ...b.cg, '-u', '0', '--entrypoint', 'sh', 'local/committed:v1', '-c', 'ls /data; echo --; ls -A /opq; echo --; cat /etc/motd; echo $X']),
    'hard\nlink\nnew\n--\nonly\n--\nhello from layer 2\nmore\n1\n');
  const [doc] = JSON.parse(await ok(['image', 'inspect', 'local/committed:v1'])) as { Id: string; Author: string; RootFS: { Layers: string[] } }[];
  assert.equal(doc!.Id, id);
  assert.equal(doc!.Author, 'Berth Test <t@example.com>');
  assert.equal(doc!.RootFS.Layers.length, 4);
  assert.match(await ok(['history', '--no-trunc', 'local/committed:v1']), /a message/);
  await ok(['rm', '-f', '-v', c]);
  await ok(['rmi', 'local/committed:v1']);
  const hostCtr = uniqueId('commit-host');
  await ok(['create', '--name', hostCtr, ...b.cg, 'host', 'true']);
  await fails(['commit', hostCtr], /keeps no record of its changes to commit/);
  await ok(['rm', hostCtr]);
});

test('ps --filter/-n/-l/-s, run --pull/--platform, --security-opt apparmor= on a host without AppArmor, images --digests', { skip }, async () => {
  const up = await running(['-l', 'team=ps']);
  const made = uniqueId('ps-created');
  await ok(['create', '--name', made, ...b.cg, IMAGE]);
  const names = async (args: string[]) => (await ok(['ps', ...args, '--format', '{{.Names}}'])).split('\n').filter(Boolean);
  assert.deepEqual(await names(['-a', '--filter', 'label=team=ps']), [up]);
  assert.deepEqual(await names(['--filter', 'status=created']), [made]);
  assert.deepEqual(await names(['-n', '1']), [made]);
  assert.deepEqual(await names(['-l']), [made]);
  assert.deepEqual(await names(['-a', '--filter', `before=${made}`, '--filter', `name=${up}`]), [up]);
  assert.deepEqual(await names(['-a', '--filter', `since=${up}`]), [made]);
  assert.deepEqual((await names(['-a', '--filter', `ancestor=${IMAGE}`])).sort(), [made, up].sort());
  assert.match(await ok(['ps', '-l', '-s']), /SIZE\n.* \d+(\.\d+)?[kM]?B \(virtual \d+(\.\d+)?[kM]?B\)\n$/);
  await fails(['ps', '--filter', 'colour=red'], /invalid filter 'colour': Berth filters containers by ancestor, before/);
  await ok(['rm', '-f', '-v', up, made]);
  await fails(['run', '--rm', ...b.cg, '--pull', 'never', 'local/no-such-image:v1', 'true'], /No such image: local\/no-such-image:v1/);
  await fails(['run', '--rm', ...b.cg, '--pull', 'sometimes', IMAGE, 'true'], /invalid --pull "sometimes": use always, missing or never/);
  const other = process.arch === 'arm64' ? 'linux/amd64' : 'linux/arm64';
  await fails(['run', '--rm', ...b.cg, '--platform', other, IMAGE, 'true'], /this host runs linux\/\w+ containers only \(Berth has no emulation\)/);
  const lsm = await b.exec(['run', '--rm', ...b.cg, '--security-opt', 'apparmor=docker-default', IMAGE, 'echo ran']);
  let apparmor = false;
  try { apparmor = readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() === 'Y'; } catch { /* no AppArmor module */ }
  if (apparmor) {
    assert.equal(lsm.code, 125);
  } else {
    assert.equal(lsm.stdout, 'ran\n', lsm.stderr);
    assert.match(lsm.stderr, /WARNING: apparmor is not enabled on this host: --security-opt apparmor=docker-default is ignored/);
  }
  assert.match(await ok(['images', '--digests']), /^REPOSITORY +TAG +DIGEST +IMAGE ID +CREATED +SIZE\nlocal\/three +v1 +<none> +[a-f0-9]{12} /);
});

test('inspect finds an image or a volume by name when no container has it, as docker inspect does', { skip }, async () => {
  await ok(['volume', 'create', 'inspect-vol']);
  assert.equal((await ok(['inspect', '-f', '{{.Id}}', IMAGE])).trim(), (await ok(['image', 'inspect', '-f', '{{.Id}}', IMAGE])).trim());
  assert.equal(await ok(['inspect', '-f', '{{.Name}} {{.Driver}}', 'inspect-vol']), 'inspect-vol local\n');
  await fails(['inspect', '--type', 'container', IMAGE], new RegExp(`no such container: ${IMAGE}`));
  await fails(['inspect', 'no-such-thing-berth'], /no such object: no-such-thing-berth/);
  await ok(['volume', 'rm', 'inspect-vol']);
});

test('an image loaded twice (an OCI layout and a docker-archive) is one image; rmi ID needs -f for several tags', { skip }, async () => {
  const layer = tarBuffer([{ name: 'hello', type: 'file', data: 'dup\n' }]);
  const oci = join(host, 'dup-oci');
  await writeImageLayout(oci, 'local/dup:v1', [{ tar: layer, compression: 'gzip' }], { Cmd: ['sh'] });
  const index = JSON.parse(readFileSync(join(oci, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const manifest = JSON.parse(readFileSync(join(oci, 'blobs', 'sha256', index.manifests[0]!.digest.slice(7)), 'utf8')) as { config: { digest: string } };
  // the same config, as a docker-archive (uncompressed layer: another manifest)
  const archive = join(host, 'dup-archive');
  mkdirSync(archive);
  const cfgName = `${manifest.config.digest.slice(7)}.json`;
  writeFileSync(join(archive, cfgName), readFileSync(join(oci, 'blobs', 'sha256', manifest.config.digest.slice(7))));
  writeFileSync(join(archive, 'l0.tar'), layer);
  writeFileSync(join(archive, 'manifest.json'), JSON.stringify([{ Config: cfgName, RepoTags: ['local/dup:v2'], Layers: ['l0.tar'] }]));
  spawnSync('tar', ['-C', archive, '-cf', `${archive}.tar`, '.']);
  await ok(['load', '-i', oci]);
  await ok(['load', '-i', `${archive}.tar`]);
  const rows = (await ok(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}', 'local/dup'])).trim().split('\n').sort();
  const id = manifest.config.digest.slice(7, 19);
  assert.deepEqual(rows, [`local/dup:v1 ${id}`, `local/dup:v2 ${id}`]);
  assert.equal((await ok(['images', '-q', 'local/dup'])).trim(), id);
  await fails(['rmi', id], /unable to delete .* \(must be forced\): the image is referenced in multiple repositories \(local\/dup:v1, local\/dup:v2\)/);
  assert.equal(await ok(['rmi', '-f', id]), `Untagged: local/dup:v1\nUntagged: local/dup:v2\nDeleted: ${manifest.config.digest}\n`);
  assert.equal((await ok(['images', '-q', 'local/dup'])).trim(), '');
});
