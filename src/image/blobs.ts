/**
 * The content-addressed blob store: `<root>/blobs/sha256/<hex>`, the same layout as an OCI image
 * layout's blobs directory. Every blob (layer, config, manifest, index) is stored once, whatever
 * number of images refer to it; what refers to what is computed from the manifests (see
 * images.ts `references`), so there is no counter to get out of step after a crash.
 *
 * A blob enters only through `ingest`: streamed to a temporary file in the same directory,
 * digest and size verified on the way, fsynced, then renamed into place. A blob file therefore
 * exists only complete and verified; a pull killed half-way leaves a `.tmp-<pid>-…` file that
 * `cleanTemp` removes once its process is gone.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { BerthError, errnoCode } from '../util/errors.js';
import { isStaleTemp, syncDir, tempNameFor } from '../util/atomic.js';
import { digestHex, isDigest, verifyBuffer, type Digest } from '../archive/digest.js';

/** Bytes written to a blob between two early flushes (see `ingest`). */
const FLUSH_EVERY = 4 << 20;

/** A blob's digest and size (the core of an OCI descriptor). */
export interface BlobRef {
  digest: Digest;
  size: number;
}

/** The blob store below `root` (Berth's data directory). */
export class BlobStore {
  readonly dir: string;

  constructor(root: string) {
    this.dir = join(root, 'blobs', 'sha256');
  }

  /** The file of blob `d` (which may not exist). */
  path(d: Digest): string {
    return join(this.dir, digestHex(d));
  }

  /** True when the blob is stored (and, with `size`, has that size). */
  async has(d: Digest, size?: number): Promise<boolean> {
    try {
      const st = await stat(this.path(d));
      return size === undefined || st.size === size;
    } catch {
      return false;
    }
  }

  /**
   * Stores a stream, verifying it against `expected` digest and `size` when given, and returns
   * its digest and size. On any failure the temporary file is removed and nothing is stored.
   * `tap` sees every chunk too, while it is written (`berth load` unpacks a layer on the way).
   */
  async ingest(input: Readable | AsyncIterable<Buffer>, expected?: BlobRef, what = 'blob', tap?: (chunk: Buffer) => Promise<void>): Promise<BlobRef> {
    await mkdir(this.dir, { recursive: true });
    const tmp = tempNameFor(join(this.dir, 'blob'));
    const hash = createHash('sha256');
    let bytes = 0;
    try {
      const fh = await open(tmp, 'wx', 0o644);
      // A large blob is flushed to disk as it is written (an fdatasync every FLUSH_EVERY bytes,
      // on the thread pool while the next chunks are written), so that the fsync at the end,
      // which everything after waits for, has only the tail left to write.
      let flushing: Promise<void> | undefined;
      let unflushed = 0;
      try {
        for await (const chunk of input as AsyncIterable<Buffer>) {
          bytes += chunk.length;
          if (expected && bytes > expected.size) {
            throw new BerthError('EDIGEST_MISMATCH', `${what} ${expected.digest}: more than the ${expected.size} bytes its descriptor says`);
          }
          hash.update(chunk);
          const tapped = tap?.(chunk); // runs while the write below waits on the thread pool
          let off = 0;
          while (off < chunk.length) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
          await tapped;
          unflushed += chunk.length;
          if (unflushed >= FLUSH_EVERY && !flushing) {
            unflushed = 0;
            flushing = fh.datasync().finally(() => { flushing = undefined; });
            flushing.catch(() => undefined); // its error is the final sync's to report
          }
        }
        await flushing?.catch(() => undefined);
        await fh.sync();
      } finally {
        await fh.close();
      }
      const digest: Digest = `sha256:${hash.digest('hex')}`;
      if (expected && bytes !== expected.size) {
        throw new BerthError('EDIGEST_MISMATCH', `${what} ${expected.digest}: size is ${bytes} bytes, descriptor says ${expected.size}`);
      }
      if (expected && digest !== expected.digest) {
        throw new BerthError('EDIGEST_MISMATCH', `${what} ${expected.digest}: content has digest ${digest}`);
      }
      await rename(tmp, this.path(digest));
      await syncDir(this.dir);
      return { digest, size: bytes };
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  /** Stores a buffer (verified against `expected` when given). */
  async put(data: Buffer, expected?: BlobRef, what = 'blob'): Promise<BlobRef> {
    if (expected) verifyBuffer(data, expected.digest, expected.size, what);
    return this.ingest((async function* () { yield data; })(), expected, what);
  }

  /** The bytes of a stored blob, verified (used for manifests and configs, which are small). */
  async get(d: Digest, what = 'blob'): Promise<Buffer> {
    let data: Buffer;
    try {
      data = await readFile(this.path(d));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw new BerthError('ENOT_FOUND', `${what} ${d} is not in the blob store`);
      throw err;
    }
    verifyBuffer(data, d, undefined, `${what} in the store`);
    return data;
  }

  /** A read stream over a stored blob. */
  stream(d: Digest): Readable {
    return createReadStream(this.path(d));
  }

  /** Every stored digest. */
  async list(): Promise<Digest[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    return names.map((n) => `sha256:${n}`).filter(isDigest);
  }

  /** Removes a blob (no error when absent). */
  async remove(d: Digest): Promise<void> {
    await rm(this.path(d), { force: true });
  }

  /** Removes temporary files left by processes that died mid-write. */
  async cleanTemp(): Promise<void> {
    for (const n of await readdir(this.dir).catch(() => [] as string[])) {
      if (isStaleTemp(n)) await rm(join(this.dir, n), { force: true });
    }
  }
}
