/**
 * Layers unpacked at the same time: the second goes to a worker thread (src/storage/
 * unpack-worker.ts). Both must come out as when unpacked alone, and a layer the worker rejects
 * must fail with the same code and message as on the main thread, leaving no staging directory.
 * `ensureAny` (a blob whose DiffID is not known yet) names the layer by the DiffID it computes.
 */
import * as assert from 'node:assert/strict';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { LayerStore } from '../../src/storage/layers.js';
import { sha256 } from '../../src/archive/digest.js';
import { tarBuffer, type MemoryEntry } from '../../src/archive/tar/writer.js';
import { processTag, whyNotRoot } from '../support/bundle.js';

const skip = whyNotRoot();

/** A layer of `n` files below `top/`, a symlink and a hardlink. */
function layer(top: string, n: number): MemoryEntry[] {
  const entries: MemoryEntry[] = [{ name: `${top}/`, type: 'dir', mode: 0o755 }];
  for (let i = 0; i < n; i++) entries.push({ name: `${top}/f${i}`, type: 'file', data: Buffer.from(`${top} ${i}\n`.repeat(i + 1)), mode: 0o644 });
  entries.push({ name: `${top}/link`, type: 'symlink', linkname: 'f0' });
  entries.push({ name: `${top}/hard`, type: 'hardlink', linkname: `${top}/f1` });
  return entries;
}

describe('concurrent layer unpacking (worker thread)', { skip }, () => {
  let work: string;
  before(async () => { work = await mkdtemp(join(tmpdir(), `${processTag()}-unpack-worker-`)); });
  after(async () => { await rm(work, { recursive: true, force: true }); });

  test('two layers unpacked at once both come out whole', async () => {
    const store = new LayerStore(join(work, 'ok'));
    const tars = [tarBuffer(layer('a', 300)), tarBuffer(layer('b', 200))];
    const blobs = await Promise.all(tars.map(async (t, i) => {
      const p = join(work, `ok-blob-${i}`);
      await writeFile(p, gzipSync(t));
      return p;
    }));
    const dirs = await Promise.all(tars.map((t, i) => store.ensure(blobs[i]!, sha256(t), `layer ${i}`)));
    for (const [i, top, n] of [[0, 'a', 300], [1, 'b', 200]] as const) {
      const d = dirs[i]!;
      assert.equal(readdirSync(join(d, top)).length, n + 2);
      assert.equal(readFileSync(join(d, top, `f${n - 1}`), 'utf8'), `${top} ${n - 1}\n`.repeat(n));
      assert.equal(readlinkSync(join(d, top, 'link')), 'f0');
      assert.equal(lstatSync(join(d, top, 'hard')).ino, lstatSync(join(d, top, 'f1')).ino);
    }
  });

  test('a layer rejected on the worker fails with its code and message; nothing is left', async () => {
    const store = new LayerStore(join(work, 'bad'));
    const good = tarBuffer(layer('a', 300));
    const evil = tarBuffer([{ name: 'l', type: 'symlink', linkname: '/etc' }, { name: 'l/passwd', type: 'file' }]);
    const gp = join(work, 'bad-blob-good');
    const ep = join(work, 'bad-blob-evil');
    await writeFile(gp, gzipSync(good));
    await writeFile(ep, gzipSync(evil));
    const first = store.ensure(gp, sha256(good), 'good'); // on the main thread
    const second = store.ensure(ep, sha256(evil), 'evil'); // starts while the first runs: worker
    await assert.rejects(second, (err: { code?: string; message?: string }) => {
      assert.equal(err.code, 'EUNSAFE_LAYER');
      assert.match(err.message ?? '', /layer entry "l\/passwd": parent "l" is a symlink/);
      return true;
    });
    await first;
    assert.deepEqual(await readdir(join(work, 'bad', 'layers')), [sha256(good).slice(7)]);
  });

  test('ensureAny names a layer by the DiffID it computes; a blob that is not a layer leaves nothing', async () => {
    const store = new LayerStore(join(work, 'any'));
    const t = tarBuffer(layer('c', 10));
    const p = join(work, 'any-blob');
    await writeFile(p, gzipSync(t));
    assert.equal(await store.ensureAny(p, 'c'), sha256(t));
    assert.equal(readFileSync(join(store.path(sha256(t)), 'c/f2'), 'utf8'), 'c 2\n'.repeat(3));
    assert.equal(await store.ensureAny(p, 'c'), sha256(t)); // again: already there
    const junk = join(work, 'any-junk');
    await writeFile(junk, Buffer.alloc(4096, 7));
    await assert.rejects(store.ensureAny(junk, 'junk'), (err: { code?: string }) => err.code === 'ETAR');
    assert.deepEqual(await readdir(join(work, 'any', 'layers')), [sha256(t).slice(7)]);
  });
});
