/**
 * Pull from a real registry (Debian's docker-registry on loopback) of an image Berth wrote as an
 * OCI layout and skopeo pushed; save/load round trips through oci-archive and docker-archive;
 * tampered blobs rejected with no image recorded; an interrupted pull resumed.
 */
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { listImages, load, pull, resolveImage, save, tagImage, inspectImage, removeImage, prune, importRootfs } from '../../src/image/index.js';
import { prepareRootfs } from '../../src/image/rootfs.js';
import { getCredentials, saveCredentials } from '../../src/image/registry/credentials.js';
import { processTag, whyNotRoot } from '../support/bundle.js';
import { startRegistry, whyNoRegistry, type TestRegistry } from '../support/registry.js';
import { EXPECTED_ABSENT, EXPECTED_EXTRA, busyboxTar, writeThreeLayerImage } from '../fixtures/image/build.js';

const run = promisify(execFile);
const skip = whyNotRoot() ?? whyNoRegistry() ?? (existsSync('/usr/bin/skopeo') ? undefined : 'skopeo not installed (apt-get install skopeo)');

describe('registry pull, save and load', { skip }, () => {
  let reg: TestRegistry;
  let work: string;
  let ref: string;
  const root = (): string => join(work, 'data');

  before(async () => {
    reg = await startRegistry();
    work = await mkdtemp(join(tmpdir(), `${processTag()}-images-`));
    ref = `${reg.host}/berth-test/three:v1`;
    await writeThreeLayerImage(join(work, 'layout'), ref);
    await run('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${join(work, 'layout')}:v1`, `docker://${ref}`]);
  });
  after(async () => {
    await reg?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('pull gives the image with its config, and a rootfs with exactly the expected files', async () => {
    const events: string[] = [];
    const img = await pull(ref, { root: root(), progress: (e) => events.push(`${e.id}:${e.action}`) });
    assert.equal(img.layers.length, 3);
    assert.ok(events.filter((e) => e.endsWith(':downloaded')).length >= 3, events.join(' '));
    assert.deepEqual(img.config.cmd, ['cat /etc/motd']);
    assert.deepEqual(img.names, [ref]);
    const fs = await prepareRootfs(`${processTag()}-pulled`, img, { root: root() });
    try {
      for (const [p, c] of Object.entries(EXPECTED_EXTRA)) assert.equal(readFileSync(join(fs.path, p), 'utf8'), c);
      for (const p of EXPECTED_ABSENT) assert.equal(existsSync(join(fs.path, p)), false, p);
      assert.deepEqual(readdirSync(join(fs.path, 'opq')), ['new1']);
    } finally {
      await fs.cleanup();
    }
    // a second pull finds every blob present
    const again: string[] = [];
    await pull(ref, { root: root(), progress: (e) => again.push(e.action) });
    assert.ok(!again.includes('downloaded'), again.join(' '));
    // by digest
    const byDigest = await pull(`${reg.host}/berth-test/three@${img.manifest}`, { root: root() });
    assert.equal(byDigest.id, img.id);
  });

  test('tag, history, inspect, list, rmi', async () => {
    await tagImage(ref, 'localhost/other:x', { root: root() });
    const img = await resolveImage('localhost/other:x', { root: root() });
    assert.deepEqual(img.names.sort(), ['localhost/other:x', ref].sort());
    assert.deepEqual([...(img.raw.history ?? [])].reverse().map((h) => h.created_by), ['layer 2', 'layer 1', 'layer 0']);
    assert.equal((await inspectImage(ref, { root: root() })).Id, img.id);
    assert.equal((await listImages({ root: root() })).length, 1);
    assert.deepEqual((await removeImage('localhost/other:x', { root: root() })).untagged, ['localhost/other:x:x'.replace(':x:x', ':x')]);
    await assert.rejects(resolveImage('localhost/other:x', { root: root() }), /no image "localhost\/other:x" in the local store/);
  });

  test('save writes an archive that load, skopeo oci-archive and docker-archive all read', async () => {
    const tarball = join(work, 'saved.tar');
    await save([ref], tarball, { root: root() });
    const other = join(work, 'data2');
    const loaded = await load(tarball, { root: other });
    assert.deepEqual(loaded[0]?.names, [ref]);
    // skopeo reads it both ways; its docker-archive output (old docker layout) loads back too
    await run('skopeo', ['inspect', `oci-archive:${tarball}`]);
    const dockerTar = join(work, 'docker.tar');
    await run('skopeo', ['copy', '--quiet', `docker-archive:${tarball}`, `docker-archive:${dockerTar}:berth-test/fromdocker:1`]);
    const d = await load(dockerTar, { root: join(work, 'data3') });
    assert.deepEqual(d[0]?.names, ['docker.io/berth-test/fromdocker:1']);
    const img = await resolveImage('berth-test/fromdocker:1', { root: join(work, 'data3') });
    const fs = await prepareRootfs(`${processTag()}-docker`, img, { root: join(work, 'data3') });
    try { assert.equal(readFileSync(join(fs.path, 'data/new'), 'utf8'), 'new\n'); } finally { await fs.cleanup(); }
  });

  test('a tampered blob in the registry fails the pull and records no image', async () => {
    const r = join(work, 'data-tamper');
    const img = await resolveImage(ref, { root: root() });
    const layer = img.layers[1];
    assert.ok(layer);
    const found = (await run('find', [reg.dir, '-path', `*/blobs/sha256/*/${layer.digest.slice(7)}/data`])).stdout.trim();
    assert.ok(found, 'blob file in registry storage');
    const original = readFileSync(found);
    const bad = Buffer.from(original);
    bad[bad.length - 20] = (bad[bad.length - 20] ?? 0) ^ 0xff;
    await writeFile(found, bad);
    try {
      await assert.rejects(pull(ref, { root: r }), /EDIGEST|content has digest/);
      assert.deepEqual(await listImages({ root: r }), []);
      assert.deepEqual((await readdir(join(r, 'blobs', 'sha256'))).filter((n) => n.startsWith('.tmp')), []);
      assert.equal(existsSync(join(r, 'blobs', 'sha256', layer.digest.slice(7))), false);
    } finally {
      await writeFile(found, original);
    }
    // the interrupted pull restarts cleanly, reusing what it had verified
    const before = (await readdir(join(r, 'blobs', 'sha256'))).length;
    assert.ok(before >= 1);
    await writeFile(join(r, 'blobs', 'sha256', '.tmp-999999-dead-blob'), 'partial'); // a killed pull's leftover
    const ok = await pull(ref, { root: r });
    assert.equal(ok.id, img.id);
    assert.equal(existsSync(join(r, 'blobs', 'sha256', '.tmp-999999-dead-blob')), false);
  });

  test('import of a rootfs tarball makes a one-layer image', async () => {
    const tarPath = join(work, 'rootfs.tar');
    await writeFile(tarPath, await busyboxTar());
    const img = await importRootfs(tarPath, 'localhost/imported:1', { root: join(work, 'data4') });
    assert.equal(img.layers.length, 1);
    const fs = await prepareRootfs(`${processTag()}-imported`, img, { root: join(work, 'data4') });
    try { assert.ok(existsSync(join(fs.path, 'bin/busybox'))); } finally { await fs.cleanup(); }
    await removeImage('localhost/imported:1', { root: join(work, 'data4') });
    assert.equal((await prune({ root: join(work, 'data4') })).layers.length, 1);
  });

  test('credentials are stored in the Docker config.json format', async () => {
    const dir = join(work, 'cfg');
    await saveCredentials(reg.host, { username: 'u', password: 'p:w' }, dir);
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    assert.equal(cfg.auths[reg.host].auth, Buffer.from('u:p:w').toString('base64'));
    assert.deepEqual(await getCredentials(reg.host, dir), { username: 'u', password: 'p:w' });
  });

  test('plain HTTP is refused for a non-loopback registry not marked insecure', async () => {
    const { RegistryClient } = await import('../../src/image/registry/client.js');
    assert.equal(new RegistryClient('example.com:5000', 'a').base, 'https://example.com:5000');
    assert.equal(new RegistryClient('example.com:5000', 'a', { insecure: ['example.com:5000'] }).base, 'http://example.com:5000');
    assert.equal(new RegistryClient(reg.host, 'a').base, `http://${reg.host}`);
  });
});
