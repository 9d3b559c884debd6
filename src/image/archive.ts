/**
 * Image tarballs: `berth load -i` reads an oci-archive (a tarred OCI layout) or a docker-archive
 * (`docker save`: manifest.json, a config file and layer tars per image); `berth save -o` writes
 * the format Docker 25 writes, an OCI layout that also carries manifest.json, which both
 * `docker load` and OCI tools (skopeo's oci-archive:, podman) read.
 *
 * A tarball is extracted to a staging directory with the same path checks as layers (it is just
 * as untrusted) and then read as a directory.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, mkdtemp, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { BerthError } from '../util/errors.js';
import { normalizeEntryPath, rejectEntry } from '../archive/entry-path.js';
import { Tee } from '../util/tee.js';
import { tempNameFor } from '../util/atomic.js';
import type { BlobRef, BlobStore } from './blobs.js';
import { detectCompression } from '../archive/compress.js';
import { digestHex, type Digest } from '../archive/digest.js';
import type { ImageDb } from './images.js';
import { loadLayout, writeLayout, type LayoutImage, type Loaded } from './layout.js';
import { MT, parseConfig, type Manifest } from './manifest.js';
import { readTar } from '../archive/tar/reader.js';
import { endOfArchive, headerBlocks, pad } from '../archive/tar/writer.js';
import { decompress } from '../archive/compress.js';
import { familiarName, formatReference, parseReference } from './reference.js';

/** Files at least this big are streamed straight into the blob store while extracting. */
const INGEST_MIN = 1 << 20;

/** Unpacks a layer from its bytes as they are read; resolves to its DiffID. */
export type UnpackFn = (stream: AsyncIterable<Buffer>, what: string) => Promise<Digest>;
/** Called for each image before it is recorded: its layers' blob digests and DiffIDs, verified. */
export type PrepareFn = (layers: { digest: Digest; diffId: Digest }[]) => Promise<void>;

/** What `extract` stored: blobs by inode of their link in the staging dir, early unpacks by blob. */
interface Extracted { stored: Map<number, BlobRef>; early: Map<Digest, Promise<Digest>> }

/**
 * Extracts regular files of a tarball (gzip allowed) under `dest`; symlinks become hardlinks.
 * Large files (layers, in any archive format) go straight into the blob store — hashed on the
 * way — and are hardlinked into `dest`, so a layer is written once, not once to the staging
 * directory and again to the store. With `unpack`, each is also unpacked in the same pass
 * (util/tee.ts): its bytes are read from the archive once, not written and read back.
 */
async function extract(file: string, dest: string, blobs: BlobStore, unpack?: UnpackFn): Promise<Extracted> {
  const stored = new Map<number, BlobRef>();
  const early = new Map<Digest, Promise<Digest>>();
  const fh = await open(file, 'r');
  const head = Buffer.alloc(4);
  try { await fh.read(head, 0, 4, 0); } finally { await fh.close(); }
  const links: [string, string][] = [];
  for await (const e of readTar(decompress(createReadStream(file, { highWaterMark: 256 * 1024 }), detectCompression(head), file))) {
    const p = normalizeEntryPath(e.header.name);
    if (p === '') continue;
    if (e.header.type === 'dir') { await mkdir(join(dest, p), { recursive: true }); continue; }
    if (e.header.type === 'symlink' || e.header.type === 'hardlink') {
      const target = e.header.type === 'symlink' ? join(dirname(p), e.header.linkname) : e.header.linkname;
      links.push([p, normalizeEntryPath(target.replace(/^\/+/, '/'), e.header.name)]);
      continue;
    }
    if (e.header.type !== 'file') throw rejectEntry(e.header.name, `an image archive holds only files, not a ${e.header.type}`);
    await mkdir(join(dest, dirname(p)), { recursive: true });
    if (e.header.size >= INGEST_MIN) {
      const what = `${file} entry ${p}`;
      const tee = unpack ? new Tee() : undefined;
      const unpacked = tee && unpack?.(tee, what);
      unpacked?.catch(() => undefined); // looked at by the caller's PrepareFn, or not at all
      let ref: BlobRef;
      try {
        ref = await blobs.ingest(e.chunks(), undefined, what, tee && ((c) => tee.push(c)));
      } catch (err) {
        tee?.end(err as Error);
        throw err;
      }
      tee?.end();
      if (unpacked) early.set(ref.digest, unpacked);
      await link(blobs.path(ref.digest), join(dest, p));
      stored.set((await stat(join(dest, p))).ino, ref);
      continue;
    }
    await pipeline(e.chunks(), createWriteStream(join(dest, p), { flags: 'wx' }));
  }
  for (const [p, target] of links) {
    await mkdir(join(dest, dirname(p)), { recursive: true });
    await link(join(dest, target), join(dest, p)).catch(() => { throw rejectEntry(p, `link target ${target} is not a file in the archive`); });
  }
  return { stored, early };
}

interface DockerManifestEntry { Config: string; RepoTags?: string[] | null; Layers: string[] }

/** Loads a docker-archive directory (manifest.json) by building an OCI manifest per image. */
async function loadDockerDir(dir: string, blobs: BlobStore, db: ImageDb, stored = new Map<number, BlobRef>(), prepare?: PrepareFn): Promise<Loaded[]> {
  let entries: DockerManifestEntry[];
  try { entries = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as DockerManifestEntry[]; } catch (err) {
    throw new BerthError('EINVALID_IMAGE', `manifest.json of the docker archive is unreadable: ${(err as Error).message}`);
  }
  if (!Array.isArray(entries)) throw new BerthError('EINVALID_IMAGE', 'manifest.json of the docker archive is not a list');
  const out: Loaded[] = [];
  for (const [i, e] of entries.entries()) {
    const path = (p: unknown, what: string): string => {
      if (typeof p !== 'string') throw new BerthError('EINVALID_IMAGE', `manifest.json[${i}].${what} is missing`);
      return join(dir, normalizeEntryPath(p, `manifest.json[${i}].${what}`));
    };
    const configData = await readFile(path(e.Config, 'Config'));
    const config = parseConfig(configData, `config of image ${i} in the archive`);
    const cfgRef = await blobs.put(configData);
    const layers = [];
    for (const [j, l] of (e.Layers ?? []).entries()) {
      const file = path(l, `Layers[${j}]`);
      const fh = await open(file, 'r');
      const head = Buffer.alloc(4);
      try { await fh.read(head, 0, 4, 0); } finally { await fh.close(); }
      const ref = stored.get((await stat(file)).ino) ?? await blobs.ingest(createReadStream(file), undefined, `layer ${l}`);
      const c = detectCompression(head);
      layers.push({ mediaType: c === 'gzip' ? MT.ociLayerGzip : c === 'zstd' ? MT.ociLayerZstd : MT.ociLayer, ...ref });
    }
    if (layers.length !== config.rootfs.diff_ids.length) throw new BerthError('EINVALID_IMAGE', `image ${i} in the archive: ${layers.length} layers but ${config.rootfs.diff_ids.length} diff_ids`);
    await prepare?.(layers.map((l, k) => ({ digest: l.digest, diffId: config.rootfs.diff_ids[k] as Digest })));
    const manifest: Manifest = { schemaVersion: 2, mediaType: MT.ociManifest, config: { mediaType: MT.ociConfig, ...cfgRef }, layers };
    const data = Buffer.from(JSON.stringify(manifest));
    const mref = await blobs.put(data);
    const names = (e.RepoTags ?? []).map((t) => formatReference(parseReference(t)));
    await db.add(mref.digest, MT.ociManifest, cfgRef.digest, names);
    out.push({ manifest: mref.digest, id: cfgRef.digest, names });
  }
  return out;
}

/**
 * Loads an image tarball or directory: an OCI layout (directory or oci-archive) or a
 * docker-archive. `scratch` is where tarballs are extracted (removed afterwards).
 */
export async function loadImages(input: string, blobs: BlobStore, db: ImageDb, scratch: string, opts: {
  name?: string;
  /** Unpacks each large archive member (a layer, nearly always) while it is read and stored. */
  unpack?: UnpackFn;
  /**
   * Called for each image before it is recorded, with its layers and DiffIDs: unpacks and
   * verifies them (or throws, and the image is not recorded). Gets the early unpacks of `unpack`.
   */
  prepare?: (layers: { digest: Digest; diffId: Digest }[], early: Map<Digest, Promise<Digest>>) => Promise<void>;
} = {}): Promise<Loaded[]> {
  const st = await stat(input).catch(() => { throw new BerthError('ENOT_FOUND', `${input}: no such file or directory`); });
  let dir = input;
  let tmp: string | undefined;
  if (!st.isDirectory()) {
    await mkdir(scratch, { recursive: true });
    tmp = await mkdtemp(join(scratch, `.tmp-${process.pid}-load-`));
    dir = tmp;
  }
  try {
    const ex = tmp ? await extract(input, tmp, blobs, opts.unpack) : undefined;
    const early = ex?.early ?? new Map<Digest, Promise<Digest>>();
    const prepare = opts.prepare && ((layers: { digest: Digest; diffId: Digest }[]) => opts.prepare!(layers, early));
    // an OCI layout first: Docker 25's archives are both, and the layout keeps media types
    if (await stat(join(dir, 'oci-layout')).then(() => true, () => false)) return await loadLayout(dir, blobs, db, { ...(opts.name ? { name: opts.name } : {}), ...(prepare ? { prepare } : {}) });
    if (await stat(join(dir, 'manifest.json')).then(() => true, () => false)) return await loadDockerDir(dir, blobs, db, ex?.stored, prepare);
    throw new BerthError('EINVALID_IMAGE', `${input} is neither an OCI layout nor a docker archive (no oci-layout or manifest.json)`);
  } finally {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * Writes `images` to the tarball `output` (atomically: a temporary file renamed at the end):
 * an OCI layout with a docker-archive manifest.json beside it.
 */
export async function saveImages(output: string, blobs: BlobStore, images: (LayoutImage & { manifestDoc: Manifest })[], scratch: string): Promise<void> {
  await mkdir(scratch, { recursive: true });
  const layoutDir = await mkdtemp(join(scratch, `.tmp-${process.pid}-save-`));
  const tmp = tempNameFor(output);
  try {
    // writeLayout copies the blobs; the tarball then streams them
    await writeLayout(layoutDir, blobs, images);
    const dockerManifest = images.map((i) => ({
      Config: `blobs/sha256/${digestHex(i.manifestDoc.config.digest)}`,
      RepoTags: i.name ? [familiarName(parseReference(i.name))] : [],
      Layers: i.manifestDoc.layers.map((l) => `blobs/sha256/${digestHex(l.digest)}`),
    }));
    const out = createWriteStream(tmp, { flags: 'wx' });
    const files = new Set<string>();
    for (const i of images) for (const d of [i.manifest.digest, i.manifestDoc.config.digest, ...i.manifestDoc.layers.map((l) => l.digest)]) files.add(`blobs/sha256/${digestHex(d)}`);
    async function* gen(): AsyncGenerator<Buffer> {
      const small = (name: string, data: string): Buffer[] => [headerBlocks({ name, type: 'file', size: Buffer.byteLength(data) }), Buffer.from(data), pad(Buffer.byteLength(data))];
      yield* small('oci-layout', await readFile(join(layoutDir, 'oci-layout'), 'utf8'));
      yield* small('index.json', await readFile(join(layoutDir, 'index.json'), 'utf8'));
      yield* small('manifest.json', JSON.stringify(dockerManifest) + '\n');
      for (const d of ['blobs/', 'blobs/sha256/']) yield headerBlocks({ name: d, type: 'dir' });
      for (const f of [...files].sort()) {
        const size = (await stat(join(layoutDir, f))).size;
        yield headerBlocks({ name: f, type: 'file', size });
        for await (const c of createReadStream(join(layoutDir, f))) yield c as Buffer;
        yield pad(size);
      }
      yield endOfArchive();
    }
    await pipeline(gen(), out);
    await rename(tmp, output);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  } finally {
    await rm(layoutDir, { recursive: true, force: true });
  }
}
