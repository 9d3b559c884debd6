/** Digest parsing and verification of buffers and of blob-store ingest. */
import * as assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { BlobStore } from '../../../src/image/blobs.js';
import { parseDigest, sha256, verifyBuffer } from '../../../src/archive/digest.js';

const data = Buffer.from('hello berth\n');
const d = sha256(data);

test('parseDigest accepts sha256 only and names the field', () => {
  assert.equal(parseDigest(d), d);
  assert.throws(() => parseDigest('sha512:abc', 'layers[1].digest'), /layers\[1\]\.digest "sha512:abc" is not a digest/);
  assert.throws(() => parseDigest(`sha256:${'A'.repeat(64)}`), /not a digest/);
});

test('verifyBuffer checks size and content', () => {
  verifyBuffer(data, d, data.length);
  assert.throws(() => verifyBuffer(data, d, 5), /size is 12 bytes, descriptor says 5/);
  assert.throws(() => verifyBuffer(Buffer.from('x'), d), /content has digest sha256:/);
});

test('the blob store keeps only verified blobs, leaving nothing behind on a mismatch', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-test-blobs-'));
  try {
    const blobs = new BlobStore(root);
    await assert.rejects(blobs.put(Buffer.from('evil'), { digest: d, size: 4 }), /content has digest/);
    await assert.rejects(blobs.ingest(Readable.from([Buffer.from('evil!!'), Buffer.from('evil!!')]), { digest: d, size: 12 }), /content has digest/);
    assert.deepEqual(await readdir(blobs.dir), []);
    const ref = await blobs.put(data, { digest: d, size: data.length });
    assert.deepEqual(ref, { digest: d, size: 12 });
    assert.deepEqual(await blobs.get(d), data);
    assert.deepEqual(await blobs.list(), [d]);
    await blobs.put(data); // idempotent
    assert.deepEqual(await readdir(blobs.dir), [d.slice(7)]);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
