/**
 * `berth load` of a docker-archive unpacks each large layer while reading it from the archive
 * and writing its blob (one pass, util/tee.ts). The layers come out whole whatever their
 * compression; a layer whose DiffID does not match the image config, or an unsafe one, is
 * refused and leaves nothing: no image, no layer directory, no staging directory.
 */
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { sha256 } from '../../src/archive/digest.js';
import { load, stores } from '../../src/image/index.js';
import { hostPlatform } from '../../src/image/manifest.js';
import { tarBuffer, type MemoryEntry } from '../../src/archive/tar/writer.js';
import { processTag, whyNotRoot } from '../support/bundle.js';

const skip = whyNotRoot();

const big = randomBytes(1200 * 1024); // incompressible: a member over 1 MiB even gzipped
const layerA = tarBuffer([{ name: 'a/', type: 'dir', mode: 0o755 }, { name: 'a/big', type: 'file', data: big, mode: 0o644 }, { name: 'a/small', type: 'file', data: 'a\n', mode: 0o644 }]);
const layerB = tarBuffer([{ name: 'b/', type: 'dir', mode: 0o755 }, { name: 'b/big', type: 'file', data: big.subarray(0, 1100 * 1024), mode: 0o600 }, { name: 'a/.wh.small', type: 'file' }]);
const layerC = tarBuffer([{ name: 'c', type: 'file', data: 'small layer\n', mode: 0o644 }]);

/** A docker-archive (as `docker save` writes it) of layers A (plain), B (gzip) and C (plain, small). */
function dockerArchive(opts: { diffIds?: string[]; layers?: Buffer[] } = {}): Buffer {
  const tars = opts.layers ?? [layerA, layerB, layerC];
  const blobs = [tars[0]!, gzipSync(tars[1]!, { level: 1 }), tars[2]!];
  const p = hostPlatform();
  const config = Buffer.from(JSON.stringify({
    architecture: p.architecture, os: p.os, config: { Cmd: ['sh'] },
    rootfs: { type: 'layers', diff_ids: opts.diffIds ?? tars.map((t) => sha256(t)) },
  }));
  const cfgName = `${sha256(config).slice(7)}.json`;
  const names = blobs.map((b, i) => `l${i}/layer.tar`);
  const entries: MemoryEntry[] = [
    { name: 'manifest.json', type: 'file', data: JSON.stringify([{ Config: cfgName, RepoTags: ['berth-test/tee:v1'], Layers: names }]) },
    { name: cfgName, type: 'file', data: config },
  ];
  blobs.forEach((b, i) => entries.push({ name: `l${i}/`, type: 'dir' }, { name: names[i]!, type: 'file', data: b }));
  return tarBuffer(entries);
}

describe('berth load unpacks layers in the same pass', { skip }, () => {
  let work = '';
  before(async () => { work = await mkdtemp(join(tmpdir(), `${processTag()}-load-tee-`)); });
  after(async () => { if (work) await rm(work, { recursive: true, force: true }); });

  /** Loads `archive` into a fresh store; returns the store root. */
  async function loadInto(name: string, archive: Buffer): Promise<{ root: string; result: Promise<unknown> }> {
    const root = join(work, name);
    const file = join(work, `${name}.tar`);
    await writeFile(file, archive);
    return { root, result: load(file, { root }) };
  }
  const layerDirs = (root: string): string[] => (existsSync(join(root, 'layers')) ? readdirSync(join(root, 'layers')).filter((n) => n !== 'l') : []);

  test('plain, gzip and small layers come out whole, verified against the config', async () => {
    const { root, result } = await loadInto('ok', dockerArchive());
    await result;
    const s = stores(root);
    const [img] = await s.db.list();
    assert.deepEqual(img?.names, ['docker.io/berth-test/tee:v1']);
    assert.deepEqual(layerDirs(root).sort(), [layerA, layerB, layerC].map((t) => sha256(t).slice(7)).sort());
    assert.deepEqual(readFileSync(join(s.layers.path(sha256(layerA)), 'a/big')), big);
    assert.deepEqual(readFileSync(join(s.layers.path(sha256(layerB)), 'b/big')), big.subarray(0, 1100 * 1024));
    assert.equal(readFileSync(join(s.layers.path(sha256(layerC)), 'c'), 'utf8'), 'small layer\n');
    assert.deepEqual(readdirSync(join(root, 'tmp')), []);
  });

  test('a layer whose DiffID differs from the config is refused, leaving nothing', async () => {
    const diffIds = [sha256(layerA), sha256(Buffer.from('something else')), sha256(layerC)];
    const { root, result } = await loadInto('mismatch', dockerArchive({ diffIds }));
    await assert.rejects(result, (err: { code?: string; message?: string }) => {
      assert.equal(err.code, 'EDIGEST_MISMATCH');
      assert.match(err.message ?? '', new RegExp(`uncompressed content has digest ${sha256(layerB)}, the image config says ${diffIds[1]}`));
      return true;
    });
    assert.deepEqual(await stores(root).db.list(), []);
    assert.deepEqual(layerDirs(root), []);
    assert.deepEqual(readdirSync(join(root, 'tmp')), []);
  });

  test('an unsafe layer is refused with its reason, leaving nothing', async () => {
    const evil = tarBuffer([{ name: 'pad', type: 'file', data: big }, { name: 'l', type: 'symlink', linkname: '/etc' }, { name: 'l/passwd', type: 'file', data: 'x' }]);
    const { root, result } = await loadInto('unsafe', dockerArchive({ layers: [layerA, evil, layerC] }));
    await assert.rejects(result, (err: { code?: string; message?: string }) => {
      assert.equal(err.code, 'EUNSAFE_LAYER');
      assert.match(err.message ?? '', /layer entry "l\/passwd": parent "l" is a symlink/);
      return true;
    });
    assert.deepEqual(await stores(root).db.list(), []);
    assert.deepEqual(layerDirs(root), []);
  });
});
