/**
 * The unpacked-layer store: `<root>/layers/<diffid hex>/`, one directory per distinct layer in
 * overlayfs lower-dir form (see unpack.ts). A layer is unpacked once and shared by every image
 * and container that uses it. It is keyed by DiffID, not ChainID, because each layer is unpacked
 * into an empty directory, independent of the layers below it.
 *
 * Unpacking goes to a staging directory `.tmp-<pid>-…` that is renamed into place only when the
 * whole layer was accepted and its DiffID verified: a rejected layer, or a process killed
 * half-way, leaves no layer directory (`cleanTemp` removes stale staging directories).
 *
 * `<root>/layers/l/<12 hex digits>` are short symbolic links `../<diffid hex>` to the layers,
 * made when a container first mounts them: an overlay mount names its lower dirs through them
 * (rootfs.ts) because the mount's option string is limited to one page.
 */
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readlink, rename, rm, stat, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { isStaleTemp, syncDir, tempNameFor } from '../util/atomic.js';
import { decompress, detectCompression } from '../archive/compress.js';
import { digestHex, isDigest, type Digest } from '../archive/digest.js';
import { BerthError, errnoCode } from '../util/errors.js';
import { unpackTar, type UnpackResult } from './unpack.js';
import { unpackLayerFile } from './unpack-worker.js';

/** The layer store below Berth's data directory `root`. */
export class LayerStore {
  readonly dir: string;

  constructor(root: string) {
    this.dir = join(root, 'layers');
  }

  /** The directory of an unpacked layer (which may not exist). */
  path(diffId: Digest): string {
    return join(this.dir, digestHex(diffId));
  }

  /** The directory of the short links to the layers (see `shortLink`). */
  get linkDir(): string {
    return join(this.dir, 'l');
  }

  /**
   * The name in `linkDir` of a symbolic link to the layer, made if missing: the first 12 hex
   * digits of its DiffID (13 bytes a layer in a lowerdir list instead of 65), or all 64 if
   * another layer holds that prefix (48 bits: it will not happen, but it must not mix layers up).
   * Idempotent and safe against a concurrent caller making the same link.
   */
  async shortLink(diffId: Digest): Promise<string> {
    const hex = digestHex(diffId);
    const target = `../${hex}`;
    await mkdir(this.linkDir, { recursive: true });
    for (const name of [hex.slice(0, 12), hex]) {
      const p = join(this.linkDir, name);
      for (;;) {
        const cur = await readlink(p).catch((err) => { if (errnoCode(err) === 'ENOENT') return undefined; throw err; });
        if (cur === target) return name;
        if (cur !== undefined) break; // another layer's prefix
        try {
          await symlink(target, p);
          return name;
        } catch (err) {
          if (errnoCode(err) !== 'EEXIST') throw err; // else made meanwhile: read it again
        }
      }
    }
    throw new BerthError('EBAD_STATE', `layer link ${join(this.linkDir, hex)} points somewhere else than ${target}; remove it`);
  }

  /** True when the layer is unpacked. */
  async has(diffId: Digest): Promise<boolean> {
    return stat(this.path(diffId)).then((s) => s.isDirectory(), () => false);
  }

  /**
   * Unpacks the layer blob file `blobPath` (gzip, zstd or plain tar) unless it is there already,
   * verifying its DiffID. Returns the layer directory.
   */
  async ensure(blobPath: string, diffId: Digest, what: string): Promise<string> {
    const dest = this.path(diffId);
    if (await this.has(diffId)) return dest;
    await mkdir(this.dir, { recursive: true });
    const stage = tempNameFor(dest);
    await mkdir(stage, { mode: 0o755 });
    try {
      await unpackLayerFile(blobPath, stage, { mode: 'layer', diffId, what });
      await syncDir(this.dir);
      try {
        await rename(stage, dest);
      } catch (err) {
        // another process unpacked the same layer meanwhile: theirs is as good as ours
        if (errnoCode(err) !== 'ENOTEMPTY' && errnoCode(err) !== 'EEXIST') throw err;
        await rm(stage, { recursive: true, force: true });
      }
      await syncDir(this.dir);
      return dest;
    } catch (err) {
      await rm(stage, { recursive: true, force: true });
      throw err;
    }
  }

  /**
   * Unpacks a blob that may be a layer before anything says which DiffID it has (see
   * `ensureAnyFrom`, which this does for a blob file, on this thread). The DiffID computed on
   * the way names the directory, so the result is as verified as `ensure`'s. Returns that
   * DiffID; throws (leaving nothing) when the blob is not a valid layer.
   */
  async ensureAny(blobPath: string, what: string): Promise<Digest> {
    return (await this.ensureAnyFrom(createReadStream(blobPath, { highWaterMark: 256 * 1024 }), what)).diffId;
  }

  /**
   * `ensureAny` for a layer read from a stream (any compression, detected from its first bytes),
   * on this thread: `berth load` unpacks each layer while it is being read from the archive and
   * written to the blob store (util/tee.ts). `created`: whether this call made the layer
   * directory (the caller removes it when no image turns out to use it).
   */
  async ensureAnyFrom(source: AsyncIterable<Buffer>, what: string): Promise<{ diffId: Digest; created: boolean }> {
    await mkdir(this.dir, { recursive: true });
    const stage = tempNameFor(join(this.dir, 'layer'));
    await mkdir(stage, { mode: 0o755 });
    const it = source[Symbol.asyncIterator]();
    try {
      // at least the 4 bytes that tell the compression (a chunk may be shorter)
      const firsts: Buffer[] = [];
      for (let n = 0; n < 4;) { const r = await it.next(); if (r.done) break; firsts.push(r.value); n += r.value.length; }
      const head = Buffer.concat(firsts);
      // those bytes again, then the rest; return() reaches the source (unpackTar's, on error)
      const whole: AsyncIterable<Buffer> = {
        [Symbol.asyncIterator]: () => {
          let pending: IteratorResult<Buffer> | undefined = { done: false, value: head };
          return {
            next: async () => { const r = pending ?? await it.next(); pending = undefined; return r; },
            return: async () => (await it.return?.()) ?? { done: true, value: undefined },
          };
        },
      };
      const compression = detectCompression(head);
      const tar = compression === 'none' ? whole : decompress(Readable.from(whole), compression, what);
      const { diffId } = await unpackTar(tar, stage, { mode: 'layer', what });
      if (await this.has(diffId)) {
        await rm(stage, { recursive: true, force: true });
        return { diffId, created: false };
      }
      await syncDir(this.dir);
      try {
        await rename(stage, this.path(diffId));
      } catch (err) {
        if (errnoCode(err) !== 'ENOTEMPTY' && errnoCode(err) !== 'EEXIST') throw err;
        await rm(stage, { recursive: true, force: true });
        return { diffId, created: false };
      }
      await syncDir(this.dir);
      return { diffId, created: true };
    } catch (err) {
      await it.return?.();
      await rm(stage, { recursive: true, force: true });
      throw err;
    }
  }

  /** Unpacks into a fresh staging dir and moves it to `dest` (tests and tools; see `ensure`). */
  static async unpackStaged(source: AsyncIterable<Buffer>, dest: string, what: string, diffId?: Digest): Promise<UnpackResult> {
    const stage = tempNameFor(dest);
    await mkdir(stage, { mode: 0o755 });
    try {
      const r = await unpackTar(source, stage, { mode: 'layer', what, ...(diffId ? { diffId } : {}) });
      await rename(stage, dest);
      return r;
    } catch (err) {
      await rm(stage, { recursive: true, force: true });
      throw err;
    }
  }

  /** Every unpacked layer's DiffID. */
  async list(): Promise<Digest[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    return names.map((n) => `sha256:${n}`).filter(isDigest);
  }

  /** Removes an unpacked layer and its short link. */
  async remove(diffId: Digest): Promise<void> {
    const hex = digestHex(diffId);
    for (const name of [hex.slice(0, 12), hex]) {
      const p = join(this.linkDir, name);
      if (await readlink(p).then((t) => t === `../${hex}`, () => false)) await unlink(p).catch(() => undefined);
    }
    await rm(this.path(diffId), { recursive: true, force: true });
  }

  /** Removes staging directories left by processes that died mid-unpack. */
  async cleanTemp(): Promise<void> {
    for (const n of await readdir(this.dir).catch(() => [] as string[])) {
      if (isStaleTemp(n)) await rm(join(this.dir, n), { recursive: true, force: true });
    }
  }
}
