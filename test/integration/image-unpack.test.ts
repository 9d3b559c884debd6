/**
 * Safe unpacking (root: ownership, device nodes, trusted.* xattrs) and container root
 * filesystems from a three-layer image: whiteouts, opaque dirs, escapes rejected with nothing
 * written, overlay and copy drivers giving exactly the same tree.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Readable } from 'node:stream';
import { LayerStore } from '../../src/storage/layers.js';
import { unpackTar } from '../../src/storage/unpack.js';
import { tarBuffer, type MemoryEntry } from '../../src/archive/tar/writer.js';
import { load, resolveImage, prune, removeImage, resolveUser } from '../../src/image/index.js';
import { prepareRootfs } from '../../src/image/rootfs.js';
import { assertNoLeaks, processTag, whyNotRoot } from '../support/bundle.js';
import { EXPECTED_ABSENT, EXPECTED_EXTRA, LAYER2, LAYER3, writeThreeLayerImage } from '../fixtures/image/build.js';

const skip = whyNotRoot();

/** Every path below `dir`, sorted ("a", "a/b" …). */
function tree(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const n of readdirSync(join(dir, prefix)).sort()) {
    const p = prefix ? `${prefix}/${n}` : n;
    out.push(p);
    if (lstatSync(join(dir, p)).isDirectory()) out.push(...tree(dir, p));
  }
  return out;
}

describe('layer unpacking', { skip }, () => {
  let work: string;
  before(async () => { work = await mkdtemp(join(tmpdir(), `${processTag()}-unpack-`)); });
  after(async () => { await rm(work, { recursive: true, force: true }); });

  test('layer mode writes overlayfs whiteouts and opaque markers, keeps owners, modes, times, links', async () => {
    const dest = join(work, 'l2');
    await LayerStore.unpackStaged(Readable.from([tarBuffer(LAYER2)]), dest, 'layer2');
    const motd = statSync(join(dest, 'etc/motd'));
    assert.equal(motd.mode & 0o7777, 0o600);
    assert.equal(motd.uid, 1000);
    assert.equal(motd.mtimeMs, 1_000_000_000_000);
    assert.equal(readlinkSync(join(dest, 'data/link')), 'keep');
    assert.equal(statSync(join(dest, 'data/hard')).ino, statSync(join(dest, 'data/keep')).ino);
    assert.equal(statSync(join(dest, 'opq')).mode & 0o777, 0o750);
    const d3 = join(work, 'l3');
    await LayerStore.unpackStaged(Readable.from([tarBuffer(LAYER3)]), d3, 'layer3');
    const wh = lstatSync(join(d3, 'data/gone.txt'));
    assert.ok(wh.isCharacterDevice() && wh.rdev === 0, 'whiteout is a 0:0 char device');
    assert.ok(lstatSync(join(d3, 'olddir')).isCharacterDevice());
    assert.equal(execFileSync('getfattr', ['--only-values', '-n', 'trusted.overlay.opaque', join(d3, 'opq')]).toString(), 'y');
    assert.deepEqual(tree(d3), ['data', 'data/gone.txt', 'data/new', 'olddir', 'opq', 'opq/new1']);
  });

  test('device nodes, fifos, setuid bits and xattrs (trusted.overlay.* from a layer is dropped)', async () => {
    const dest = join(work, 'dev');
    await LayerStore.unpackStaged(Readable.from([tarBuffer([
      { name: 'dev/', type: 'dir' },
      { name: 'dev/null', type: 'chardev', devmajor: 1, devminor: 3, mode: 0o666 },
      { name: 'dev/loop9', type: 'blockdev', devmajor: 7, devminor: 9, mode: 0o660, gid: 6 },
      { name: 'fifo', type: 'fifo', mode: 0o644 },
      { name: 'su', type: 'file', data: 'x', mode: 0o4755 },
      { name: 'x', type: 'file', data: 'x', xattrs: new Map([['user.note', Buffer.from('hi')], ['trusted.overlay.redirect', Buffer.from('/etc')]]) },
    ])]), dest, 'devices');
    const n = lstatSync(join(dest, 'dev/null'));
    assert.ok(n.isCharacterDevice());
    assert.equal(n.rdev, (1 << 8) | 3);
    assert.ok(lstatSync(join(dest, 'dev/loop9')).isBlockDevice());
    assert.equal(lstatSync(join(dest, 'dev/loop9')).gid, 6);
    assert.ok(lstatSync(join(dest, 'fifo')).isFIFO());
    assert.equal(statSync(join(dest, 'su')).mode & 0o7777, 0o4755);
    assert.equal(execFileSync('getfattr', ['--only-values', '-n', 'user.note', join(dest, 'x')]).toString(), 'hi');
    assert.throws(() => execFileSync('getfattr', ['-n', 'trusted.overlay.redirect', join(dest, 'x')], { stdio: 'pipe' }));
  });

  const escapes: [string, MemoryEntry[], RegExp][] = [
    ['dot-dot', [{ name: 'ok', type: 'file', data: 'x' }, { name: '../escape', type: 'file', data: 'x' }], /layer entry "..\/escape": path contains '..'/],
    ['absolute', [{ name: 'ok', type: 'file' }, { name: '/tmp/escape', type: 'file' }], /layer entry "\/tmp\/escape": absolute path/],
    ['symlinked parent', [{ name: 'ok', type: 'file' }, { name: 'a', type: 'symlink', linkname: '/tmp' }, { name: 'a/escape', type: 'file' }], /layer entry "a\/escape": parent "a" is a symlink in this layer/],
    ['symlinked parent via relative link', [{ name: 'a', type: 'symlink', linkname: '../../..' }, { name: 'a/b/escape', type: 'file' }], /layer entry "a\/b\/escape": parent "a" is a symlink/],
    ['hardlink outside', [{ name: 'ok', type: 'file' }, { name: 'h', type: 'hardlink', linkname: '../../etc/passwd' }], /layer entry "h": path contains '..'/],
    ['hardlink absolute', [{ name: 'h', type: 'hardlink', linkname: '/etc/passwd' }], /layer entry "h": absolute path/],
    ['hardlink to a file not in the layer', [{ name: 'h', type: 'hardlink', linkname: 'etc/shadow' }], /layer entry "h": hardlink target "etc\/shadow" (is not in this layer|does not exist)/],
    ['hardlink through a symlink', [{ name: 'l', type: 'symlink', linkname: '/etc' }, { name: 'h', type: 'hardlink', linkname: 'l/passwd' }], /layer entry "h": hardlink target "l\/passwd" is below a symlink/],
    ['whiteout through a symlink', [{ name: 'l', type: 'symlink', linkname: '/etc' }, { name: 'l/.wh.passwd', type: 'file' }], /layer entry "l\/.wh.passwd": parent "l" is a symlink/],
  ];
  for (const [label, entries, re] of escapes) {
    test(`rejects a layer with an escape: ${label}; nothing is written`, async () => {
      const base = await mkdtemp(join(work, 'evil-'));
      const dest = join(base, 'layer');
      const canary = join(base, 'escape');
      await assert.rejects(LayerStore.unpackStaged(Readable.from([tarBuffer(entries)]), dest, label), re);
      assert.deepEqual(await readdir(base), [], 'no layer, no staging dir, nothing beside it');
      assert.equal(existsSync(canary), false);
      assert.equal(existsSync('/tmp/escape'), false);
      // apply mode refuses the same names and never writes through a symlink either
      const tgt = join(base, 'apply');
      await mkdir(tgt);
      await assert.rejects(unpackTar(Readable.from([tarBuffer(entries)]), tgt, { mode: 'apply' }), re);
      assert.equal(existsSync('/tmp/escape'), false);
      await rm(tgt, { recursive: true });
    });
  }

  test('apply mode replaces a lower-layer symlink parent with a directory instead of following it', async () => {
    const tgt = await mkdtemp(join(work, 'apply-'));
    const outside = await mkdtemp(join(work, 'outside-'));
    await unpackTar(Readable.from([tarBuffer([{ name: 'lnk', type: 'symlink', linkname: outside }])]), tgt, { mode: 'apply' });
    await unpackTar(Readable.from([tarBuffer([{ name: 'lnk/file', type: 'file', data: 'x' }, { name: 'lnk/.wh.y', type: 'file' }])]), tgt, { mode: 'apply' });
    assert.deepEqual(await readdir(outside), []);
    assert.ok(lstatSync(join(tgt, 'lnk')).isDirectory());
  });

  test('a wrong DiffID rejects the layer', async () => {
    const dest = join(work, 'diffid');
    await assert.rejects(LayerStore.unpackStaged(Readable.from([tarBuffer(LAYER2)]), dest, 'l2', `sha256:${'0'.repeat(64)}`), /uncompressed content has digest sha256:[0-9a-f]{64}, the image config says sha256:0000/);
    assert.equal(existsSync(dest), false);
  });
});

describe('root filesystems from a three-layer image', { skip }, () => {
  let work: string;
  let root: string;
  const name = '127.0.0.1:5000/berth-test/three:v1';
  before(async () => {
    work = await mkdtemp(join(tmpdir(), `${processTag()}-rootfs-`));
    root = join(work, 'data');
    await writeThreeLayerImage(join(work, 'layout'), name);
    await load(join(work, 'layout'), { root });
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
    await assertNoLeaks(processTag());
  });

  test('resolveImage returns the container defaults and three layers', async () => {
    const img = await resolveImage(name, { root });
    assert.equal(img.layers.length, 3);
    assert.deepEqual(img.config.entrypoint, ['/bin/sh', '-c']);
    assert.deepEqual(img.config.cmd, ['cat /etc/motd']);
    assert.equal(img.config.user, 'berth');
    assert.equal(img.config.workingDir, '/data');
    assert.deepEqual(img.config.exposedPorts, ['8080/tcp']);
    assert.equal(img.config.stopSignal, 'SIGQUIT');
    assert.deepEqual(img.config.volumes, ['/vol']);
    assert.deepEqual(img.config.labels, { a: 'b' });
    assert.equal((await resolveImage(img.id.slice(7, 19), { root })).manifest, img.manifest);
  });

  for (const driver of ['overlay', 'copy'] as const) {
    test(`${driver}: exactly the expected files, whiteouts applied, user resolved`, async () => {
      const img = await resolveImage(name, { root });
      const fs = await prepareRootfs(`${processTag()}-${driver}`, img, { root, driver });
      try {
        assert.equal(fs.driver, driver);
        for (const [p, content] of Object.entries(EXPECTED_EXTRA)) assert.equal(readFileSync(join(fs.path, p), 'utf8'), content, p);
        for (const p of EXPECTED_ABSENT) assert.equal(existsSync(join(fs.path, p)), false, `${p} must be gone`);
        assert.deepEqual(readdirSync(join(fs.path, 'opq')), ['new1']);
        assert.deepEqual(readdirSync(join(fs.path, 'data')).sort(), ['hard', 'keep', 'link', 'new']);
        assert.ok(statSync(join(fs.path, 'bin/busybox')).isFile());
        assert.equal(readlinkSync(join(fs.path, 'bin/sh')), 'busybox');
        assert.deepEqual(await resolveUser(fs.path, img.config.user), { uid: 1000, gid: 1000, additionalGids: [100], home: '/home/berth' });
        // the container writes to its own upper dir / copy, never to the shared layers
        await writeFile(join(fs.path, 'data/keep'), 'changed');
        const other = await prepareRootfs(`${processTag()}-${driver}-2`, img, { root, driver });
        try { assert.equal(readFileSync(join(other.path, 'data/keep'), 'utf8'), 'keep\n'); } finally { await other.cleanup(); }
      } finally {
        await fs.cleanup();
      }
      assert.equal(existsSync(join(root, 'rootfs', `${processTag()}-${driver}`)), false);
      await fs.cleanup(); // idempotent
    });
  }

  test('prune keeps what images use; rmi then prune frees blobs and layers', async () => {
    assert.deepEqual(await prune({ root }), { blobs: [], layers: [] });
    const r = await removeImage(name, { root });
    assert.deepEqual(r.untagged, [`${name}`]);
    const p = await prune({ root });
    assert.equal(p.layers.length, 3);
    assert.equal(p.blobs.length, 5); // manifest, config, three layers
    assert.deepEqual(await readdir(join(root, 'blobs', 'sha256')), []);
  });
});
