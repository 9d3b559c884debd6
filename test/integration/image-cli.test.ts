/**
 * Images through the berth CLI as a user types it, end to end against a real registry: the
 * three-layer test image (deleted file, deleted directory, opaque directory) loaded, pushed with
 * `berth push`, then `berth run IMAGE` pulling it because it is missing and showing exactly the
 * expected files; the image's Entrypoint, Cmd, Env, WorkingDir, User, StopSignal, Labels,
 * ExposedPorts and Volumes applied and overridden by flags as Docker does; `images`, `rmi`
 * (refused while a container uses the image), `save`/`load` and `image prune`; a pull killed
 * half-way and pulled again. Nothing is left behind: no mounts, no root filesystems, no cgroups.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertNoLeaks, processTag, repoRoot, testCgroupParent, whyNotRoot } from '../support/bundle.js';
import { startRegistry, whyNoRegistry, type TestRegistry } from '../support/registry.js';
import { writeThreeLayerImage } from '../fixtures/image/build.js';

const skip = whyNotRoot() ?? whyNoRegistry();
const bin = join(repoRoot, 'bin/berth.js');
const cg = ['--cgroup-parent', testCgroupParent()];

interface Result { code: number; stdout: string; stderr: string }

describe('images through the berth CLI', { skip }, () => {
  let reg: TestRegistry;
  let work: string;
  let image: string;
  const data = (n: string): string => join(work, `data-${n}`);

  /** Runs berth with data root `d`; `killOn` kills it (SIGKILL) when its stdout matches. */
  function berth(d: string, args: string[], killOn?: RegExp): Promise<Result> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [bin, '--data-root', d, '--root', join(d, 'run'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); if (killOn?.test(stdout) && child.pid) child.kill('SIGKILL'); });
      child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
      const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`berth ${args.join(' ')} timed out: ${stderr}`)); }, 60_000);
      child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code: code ?? (signal ? 128 + 9 : -1), stdout, stderr }); });
    });
  }
  const ok = async (d: string, args: string[]): Promise<string> => {
    const r = await berth(d, args);
    assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const sh = (d: string, flags: string[], script: string): Promise<string> => ok(d, ['run', '--rm', ...cg, ...flags, image, script]);

  before(async () => {
    reg = await startRegistry();
    work = await mkdtemp(join(tmpdir(), `${processTag()}-imgcli-`));
    image = `${reg.host}/berth-test/three:v1`;
    await writeThreeLayerImage(join(work, 'layout'), image);
    assert.match(await ok(data('src'), ['load', '-i', join(work, 'layout')]), new RegExp(`Loaded image: ${image}`));
    const pushed = await ok(data('src'), ['push', image]);
    assert.match(pushed, /^The push refers to repository \[.*\/berth-test\/three\]\n[\s\S]*v1: digest: sha256:[a-f0-9]{64} size: \d+\n$/);
  });
  after(async () => {
    for (const d of ['src', 'run', 'load', 'killed']) {
      const dir = join(data(d), 'containers');
      for (const id of existsSync(dir) ? readdirSync(dir) : []) await berth(data(d), ['rm', '-f', '-v', id]);
    }
    await reg?.stop();
    if (work) await rm(work, { recursive: true, force: true });
    await assertNoLeaks(processTag());
  });

  test('run pulls a missing image and shows exactly its files', async () => {
    const r = await berth(data('run'), ['run', '--rm', ...cg, image]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello from layer 2\n'); // Entrypoint ["/bin/sh","-c"] + Cmd ["cat /etc/motd"]
    assert.match(r.stderr, /Unable to find image '.*three:v1' locally[\s\S]*Status: Downloaded newer image for/);
    const files = await sh(data('run'), ['-u', '0'], 'ls -A /data; echo --; ls -A /opq; echo --; for p in /data/gone.txt /olddir /opq/old1 /opq/sub; do test -e $p && echo $p; done; cat /data/hard /data/link');
    assert.equal(files, 'hard\nkeep\nlink\nnew\n--\nnew1\n--\nkeep\nkeep\n');
    assert.deepEqual(readdirSync(join(data('run'), 'rootfs')), []);
  });

  test('the image config applies, and flags override it as in Docker', async () => {
    assert.equal(await sh(data('run'), [], 'id -u; id -g; id -G; pwd; echo $PATH; echo $HOME'), '1000\n1000\n1000 100\n/data\n/usr/sbin:/usr/bin:/sbin:/bin\n/home/berth\n');
    assert.equal(await sh(data('run'), ['-u', '0:0', '-w', '/tmp', '-e', 'PATH=/bin', '-e', 'X=1'], 'id -u; id -g; pwd; echo $PATH $X'), '0\n0\n/tmp\n/bin 1\n');
    assert.equal(await sh(data('run'), ['-u', 'nobody'], 'id -un'), 'nobody\n');
    // --entrypoint drops the image's Cmd; '' clears the entrypoint
    assert.equal(await ok(data('run'), ['run', '--rm', ...cg, '--entrypoint', '/bin/echo', image, 'a', 'b']), 'a b\n');
    assert.equal(await ok(data('run'), ['run', '--rm', ...cg, '--entrypoint', '/bin/echo', image]), '\n');
    assert.equal(await ok(data('run'), ['run', '--rm', ...cg, '--entrypoint', '', image, 'cat', '/etc/motd']), 'hello from layer 2\n');
    const bad = await berth(data('run'), ['run', '--rm', ...cg, '-u', 'nosuchuser', image]);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /unable to find user nosuchuser/);
    assert.deepEqual(readdirSync(join(data('run'), 'rootfs')), []);
  });

  test('create records the image config for inspect; the volume lives until rm -v; rmi refuses', async () => {
    const id = (await ok(data('run'), ['create', ...cg, '--name', 'imgcfg', '--stop-signal', 'SIGUSR1', '-l', 'c=d', image])).trim();
    const doc = JSON.parse(await ok(data('run'), ['inspect', id]))[0];
    assert.match(doc.Image, /^sha256:[a-f0-9]{64}$/);
    assert.equal(doc.Config.Image, image);
    assert.deepEqual([doc.Config.Entrypoint, doc.Config.Cmd, doc.Config.User, doc.Config.WorkingDir], [['/bin/sh', '-c'], ['cat /etc/motd'], 'berth', '/data']);
    assert.equal(doc.Config.StopSignal, 'SIGUSR1');
    assert.deepEqual(doc.Config.Labels, { a: 'b', c: 'd' });
    assert.deepEqual(doc.Config.ExposedPorts, { '8080/tcp': {} });
    assert.deepEqual(doc.Config.Volumes, { '/vol': {} });
    const vol = doc.Mounts.find((m: { Destination: string }) => m.Destination === '/vol');
    assert.equal(vol.Type, 'volume');
    assert.ok(existsSync(vol.Source));
    const rmi = await berth(data('run'), ['rmi', image]);
    assert.notEqual(rmi.code, 0);
    assert.match(rmi.stderr, /used by a container/);
    await ok(data('run'), ['rm', '-v', 'imgcfg']);
    assert.equal(existsSync(join(vol.Source, '..')), false);
    assert.deepEqual(readdirSync(join(data('run'), 'rootfs')), []);
    // the default stop signal comes from the image
    const id2 = (await ok(data('run'), ['create', ...cg, image])).trim();
    assert.equal(JSON.parse(await ok(data('run'), ['inspect', id2]))[0].Config.StopSignal, 'SIGQUIT');
    await ok(data('run'), ['rm', id2]);
  });

  test('a create killed half-way leaves what the next create sweeps away', async () => {
    const d = data('run');
    const id = (await ok(d, ['create', ...cg, image])).trim();
    const merged = join(d, 'rootfs', id, 'merged');
    assert.ok(readFileSync('/proc/self/mountinfo', 'utf8').includes(merged));
    // what a SIGKILL between the root filesystem and the record leaves: no container.json, a dead creator
    await rm(join(d, 'containers', id, 'container.json'));
    await writeFile(join(d, 'containers', id, 'creating'), '999999999 1\n');
    const next = (await ok(d, ['create', ...cg, image])).trim();
    assert.equal(existsSync(join(d, 'containers', id)), false);
    assert.equal(existsSync(join(d, 'rootfs', id)), false);
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(merged), 'the orphan overlay is still mounted');
    await ok(d, ['rm', '-v', next]);
  });

  test('images, save and load round trip, rmi, image prune', async () => {
    const table = await ok(data('run'), ['images']);
    const [header, row] = table.trim().split('\n');
    assert.match(header ?? '', /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    assert.match(row ?? '', new RegExp(`^${reg.host}/berth-test/three\\s+v1\\s+[a-f0-9]{12}\\s+.+ ago\\s+[\\d.]+[kM]B$`));
    const id = (await ok(data('run'), ['images', '-q'])).trim();
    const json = JSON.parse((await ok(data('run'), ['images', '--format', 'json'])).trim());
    assert.deepEqual([json.Repository, json.Tag, json.ID], [`${reg.host}/berth-test/three`, 'v1', id]);
    assert.match(await ok(data('run'), ['history', image]), /IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT\n[a-f0-9]{12}\s+.*layer 2/);
    assert.equal(JSON.parse(await ok(data('run'), ['image', 'inspect', image]))[0].Id.slice(7, 19), id);

    const tarball = join(work, 'saved.tar');
    await ok(data('run'), ['save', '-o', tarball, image]);
    await ok(data('run'), ['tag', image, 'localhost/other:1']);
    assert.equal(await ok(data('run'), ['rmi', 'localhost/other:1']), 'Untagged: localhost/other:1\n');
    assert.match(await ok(data('run'), ['rmi', image]), new RegExp(`^Untagged: ${image}\nDeleted: sha256:${id}`));
    assert.equal(await ok(data('run'), ['images', '-q']), '');
    assert.match(await ok(data('run'), ['image', 'prune', '-f']), /Deleted Layers:[\s\S]*Total reclaimed space: [\d.]+[kM]B/);
    assert.deepEqual(readdirSync(join(data('run'), 'blobs', 'sha256')), []);

    assert.equal(await ok(data('load'), ['load', '-i', tarball]), `Loaded image: ${image}\n`);
    assert.equal(await ok(data('load'), ['run', '--rm', ...cg, '--entrypoint', '', image, 'cat', '/data/new']), 'new\n');
  });

  test('a pull killed half-way leaves no image, and pulling again works', async (t) => {
    const d = data('killed');
    const killed = await berth(d, ['pull', image], /: downloaded\n/);
    t.diagnostic(`the first pull ${killed.code === 0 ? 'finished before the kill' : 'was killed'} after: ${killed.stdout.replace(/\n/g, ' | ')}`);
    // an image is recorded only once complete: either none, or one that runs (checked below)
    const listed = await ok(d, ['images', '-q']);
    t.diagnostic(`images after the kill: ${listed.trim() || 'none'}`);
    // every line the pull printed before dying arrives; fewer than 3 layers fetched means it cannot have recorded one
    if ((killed.stdout.match(/: downloaded\n/g) ?? []).length < 3) assert.equal(listed, '', 'a pull killed before its last layer recorded an image');
    const again = await ok(d, ['pull', image]);
    assert.match(again, /Status: Downloaded newer image for/);
    assert.deepEqual(readdirSync(join(d, 'blobs', 'sha256')).filter((n) => n.startsWith('.tmp')), []);
    assert.deepEqual(readdirSync(join(d, 'layers')).filter((n) => n.startsWith('.tmp')), []);
    assert.equal(await ok(d, ['run', '--rm', ...cg, image]), 'hello from layer 2\n');
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(work), 'a mount is left');
  });
});
