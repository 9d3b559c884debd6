/**
 * Berth's image API, what the engine and the CLI call: pull, load, save, import, list, tag,
 * remove, history, inspect, prune, login — and `resolveImage`, which gives the engine an image's
 * container defaults and layers. All state is below the data root (`dataRoot()`: $BERTH_DATA_ROOT,
 * else /var/lib/berth); every function takes `{ root }` so tests use their own directory.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { BerthError } from '../util/errors.js';
import { LayerStore } from '../storage/layers.js';
import { layersInUse, type LayerRef } from '../storage/rootfs.js';
import { loadImages, saveImages } from './archive.js';
import { BlobStore } from './blobs.js';
import { decompress, detectCompression } from '../archive/compress.js';
import type { Digest } from '../archive/digest.js';
import { ImageDb, type ResolvedImage } from './images.js';
import type { Loaded } from './layout.js';
import { containerDefaults, type ContainerDefaults } from './config.js';
import { MT, hostPlatform, parseConfig, type ImageConfigFile, type Manifest, type Platform } from './manifest.js';
import type { ProgressFn } from './progress.js';
import { familiarName, formatReference, parseReference } from './reference.js';
import { RegistryClient } from './registry/client.js';
import type { RetryPolicy } from './registry/retry.js';
import { getCredentials, removeCredentials, saveCredentials } from './registry/credentials.js';
import { eachLimit, pullBlobs } from './registry/pull.js';
import { pushImage, type PushOptions, type Pushed } from './registry/push.js';

export { containerDefaults, resolveUser, type ContainerDefaults, type ResolvedUser } from './config.js';
export type { LayerRef } from '../storage/rootfs.js';

/** Berth's data directory, the engine's: $BERTH_DATA_ROOT (or the older $BERTH_DATA) of the caller's environment `env`, else /var/lib/berth. */
export function dataRoot(env: Readonly<Record<string, string | undefined>> = {}): string {
  return env.BERTH_DATA_ROOT || env.BERTH_DATA || '/var/lib/berth';
}

/** Options shared by the image functions. */
export interface ImageOptions {
  /** Data root (default `dataRoot()`). */
  root?: string;
  /** Registries allowed over plain HTTP besides loopback ones. */
  insecure?: string[];
  /** Where config.json with credentials lives (default: see credentials.ts). */
  configDir?: string;
  /** How registry requests are retried (default: retry.ts's; the CLI's from BERTH_REGISTRY_*). */
  retry?: RetryPolicy;
  platform?: Platform;
  progress?: ProgressFn;
  /**
   * Credentials for this one pull or push, instead of the stored ones (the Engine API's
   * X-Registry-Auth: the client's, not the server's).
   */
  credentials?: { username: string; password: string };
}

/** The stores below a data root. */
export function stores(root = dataRoot()): { root: string; blobs: BlobStore; db: ImageDb; layers: LayerStore } {
  const blobs = new BlobStore(root);
  return { root, blobs, db: new ImageDb(root, blobs), layers: new LayerStore(root) };
}

/** An image as the engine needs it. */
export interface EngineImage {
  /** The image id (config digest). */
  id: Digest;
  manifest: Digest;
  names: string[];
  config: ContainerDefaults;
  /** Layers bottom first, with their DiffIDs (for storage's prepareRootfs). */
  layers: LayerRef[];
  /** The raw image config document. */
  raw: ImageConfigFile;
  /** After a pull: the digest the registry named the image by (the index's, for a multi-platform image), Docker's "Digest:". */
  pulledDigest?: Digest;
}

function layerRefs(m: Manifest, c: ImageConfigFile): LayerRef[] {
  if (m.layers.length !== c.rootfs.diff_ids.length) throw new BerthError('EINVALID_IMAGE', `image ${m.config.digest}: ${m.layers.length} layers but ${c.rootfs.diff_ids.length} diff_ids`);
  return m.layers.map((l, i) => ({ digest: l.digest, diffId: c.rootfs.diff_ids[i] as Digest, mediaType: l.mediaType, size: l.size }));
}

const toEngine = (r: ResolvedImage): EngineImage => ({
  id: r.record.id, manifest: r.record.manifest, names: r.names, config: containerDefaults(r.config), layers: layerRefs(r.manifest, r.config), raw: r.config,
});

/**
 * Finds a local image by name, id or digest and returns its container defaults and layers.
 * @example const img = await resolveImage('busybox'); img.config.cmd // ['sh']
 */
export async function resolveImage(ref: string, opts: ImageOptions = {}): Promise<EngineImage> {
  return toEngine(await stores(opts.root).db.resolve(ref));
}

/**
 * Unpacks every layer of `image` into the layer store (verifying DiffIDs); idempotent. Layers
 * unpack into separate directories, so up to three go at once (one core waits on the disk while
 * another inflates).
 */
export async function ensureLayers(image: { layers: LayerRef[] }, opts: ImageOptions = {}): Promise<void> {
  const s = stores(opts.root);
  await s.layers.cleanTemp();
  await eachLimit(image.layers, 3, async (l) => {
    if (await s.layers.has(l.diffId)) return;
    opts.progress?.({ id: l.digest.slice(7, 19), action: 'unpacking' });
    await s.layers.ensure(s.blobs.path(l.digest), l.diffId, l.digest);
  });
}

/** Pulls `ref` from its registry, unpacks its layers and names it. Returns the image. */
export async function pull(ref: string, opts: ImageOptions = {}): Promise<EngineImage> {
  const s = stores(opts.root);
  const r = parseReference(ref);
  const credentials = opts.credentials ?? await getCredentials(r.registry, opts.configDir);
  const client = new RegistryClient(r.registry, r.repository, { ...(credentials ? { credentials } : {}), ...(opts.insecure ? { insecure: opts.insecure } : {}), ...(opts.retry ? { retry: opts.retry } : {}) });
  // each layer is unpacked as soon as it is stored, while the others still download
  const unpacks: Promise<unknown>[] = [];
  let configDoc: Promise<ImageConfigFile> | undefined;
  const onLayer = (l: LayerRef | Manifest['layers'][number], i: number, m: Manifest): void => {
    configDoc ??= s.blobs.get(m.config.digest, 'config').then((b) => parseConfig(b, `config ${m.config.digest}`));
    const p = configDoc.then(async (c) => {
      const diffId = c.rootfs.diff_ids[i];
      if (!diffId || await s.layers.has(diffId)) return;
      opts.progress?.({ id: l.digest.slice(7, 19), action: 'unpacking' });
      await s.layers.ensure(s.blobs.path(l.digest), diffId, l.digest);
    });
    p.catch(() => undefined); // awaited below; this only keeps it from counting as unhandled
    unpacks.push(p);
  };
  let pulled;
  try {
    await s.layers.cleanTemp();
    pulled = await pullBlobs(client, r, s.blobs, { onLayer, ...(opts.platform ? { platform: opts.platform } : {}), ...(opts.progress ? { progress: opts.progress } : {}) });
  } finally {
    await Promise.allSettled(unpacks);
  }
  for (const u of unpacks) await u; // the first unpack error, if any
  const config = (await s.db.load({ version: 1, images: { [pulled.manifestDigest]: { id: pulled.manifest.config.digest, manifest: pulled.manifestDigest, mediaType: pulled.mediaType, added: '' } }, tags: {} }, pulled.manifestDigest)).config;
  await ensureLayers({ layers: layerRefs(pulled.manifest, config) }, opts);
  const names = r.tag ? [formatReference({ registry: r.registry, repository: r.repository, tag: r.tag })] : [];
  await s.db.add(pulled.manifestDigest, pulled.mediaType, pulled.manifest.config.digest, names, pulled.indexDigest);
  return { ...(await resolveImage(pulled.manifestDigest, opts)), pulledDigest: pulled.indexDigest ?? pulled.manifestDigest };
}

/**
 * Pushes the local image `ref` (a name: its registry, repository and tag say where to) to its
 * registry (`berth push`). `as` pushes it under another name instead, as `docker tag` + push.
 */
export async function push(ref: string, opts: ImageOptions & Omit<PushOptions, 'progress'> & { as?: string } = {}): Promise<Pushed> {
  const s = stores(opts.root);
  const img = await s.db.resolve(ref);
  const target = parseReference(opts.as ?? ref);
  const credentials = opts.credentials ?? await getCredentials(target.registry, opts.configDir);
  const client = new RegistryClient(target.registry, target.repository, { ...(credentials ? { credentials } : {}), ...(opts.insecure ? { insecure: opts.insecure } : {}), ...(opts.retry ? { retry: opts.retry } : {}) });
  const manifestData = await s.blobs.get(img.record.manifest, 'manifest');
  return pushImage(client, s.blobs, { manifestData, mediaType: img.record.mediaType, config: img.manifest.config, layers: img.manifest.layers, digest: img.record.manifest }, target.digest ? undefined : target.tag, {
    ...(opts.progress ? { progress: opts.progress } : {}), ...(opts.chunkSize ? { chunkSize: opts.chunkSize } : {}), ...(opts.mountFrom ? { mountFrom: opts.mountFrom } : {}),
  });
}

/** Checks credentials against a registry (the Engine API's /auth); throws when it refuses them. */
export async function checkLogin(registry: string, username: string, password: string, opts: ImageOptions = {}): Promise<void> {
  const client = new RegistryClient(registry, 'library/x', { credentials: { username, password }, ...(opts.insecure ? { insecure: opts.insecure } : {}), ...(opts.retry ? { retry: opts.retry } : {}) });
  await client.ping();
}

/** Checks credentials against a registry and stores them (`berth login`). */
export async function login(registry: string, username: string, password: string, opts: ImageOptions = {}): Promise<void> {
  await checkLogin(registry, username, password, opts);
  await saveCredentials(registry, { username, password }, opts.configDir);
}

/** Forgets the stored credentials for `registry` (`berth logout`); returns whether there were any. */
export async function logout(registry: string, opts: ImageOptions = {}): Promise<boolean> {
  return removeCredentials(registry, opts.configDir);
}

/**
 * Loads an OCI layout directory, oci-archive or docker-archive (`berth load -i`). Each layer of
 * a tarball is unpacked while it is read from the archive and written to the blob store, in one
 * pass (archive.ts, util/tee.ts), named by the DiffID computed on the way. Before an image is
 * recorded its layers' DiffIDs are checked against its config: a layer that does not match is
 * refused, the image is not recorded, and layers this load unpacked that no image uses are
 * removed again (their blobs, verified and content-addressed, go at the next prune).
 */
export async function load(input: string, opts: ImageOptions & { name?: string } = {}): Promise<Loaded[]> {
  const s = stores(opts.root);
  await s.layers.cleanTemp();
  const created: Digest[] = []; // layer directories this load made
  const settled: Promise<unknown>[] = [];
  const unpack = (stream: AsyncIterable<Buffer>, what: string): Promise<Digest> => {
    const p = s.layers.ensureAnyFrom(stream, what).then((r) => { if (r.created) created.push(r.diffId); return r.diffId; });
    settled.push(p.catch(() => undefined));
    return p;
  };
  const verified = new Set<Digest>();
  const prepare = async (layers: { digest: Digest; diffId: Digest }[], early: Map<Digest, Promise<Digest>>): Promise<void> => {
    let failure: unknown;
    await eachLimit(layers, 3, async (l) => {
      try {
        const got = await early.get(l.digest)?.catch(() => undefined);
        if (got !== undefined && got !== l.diffId) {
          throw new BerthError('EDIGEST_MISMATCH', `layer ${l.digest}: uncompressed content has digest ${got}, the image config says ${l.diffId}`);
        }
        // not unpacked on the way (a layout directory, a small member, or it failed there: this
        // unpacks it again from the blob and reports why), verified against the config
        if (got === undefined && !failure && !(await s.layers.has(l.diffId))) {
          opts.progress?.({ id: l.digest.slice(7, 19), action: 'unpacking' });
          await s.layers.ensure(s.blobs.path(l.digest), l.diffId, l.digest);
          created.push(l.diffId);
        }
      } catch (err) {
        failure ??= err; // the others finish first, so that the cleanup below sees all they made
      }
    });
    if (failure) throw failure;
    for (const l of layers) verified.add(l.diffId);
  };
  let ok = false;
  try {
    const loaded = await loadImages(input, s.blobs, s.db, join(s.root, 'tmp'), { ...(opts.name ? { name: opts.name } : {}), unpack, prepare });
    ok = true;
    return loaded;
  } finally {
    await Promise.all(settled);
    const extra = created.filter((d) => !ok || !verified.has(d));
    if (extra.length) {
      const used = await layersInUse(s.root);
      for (const img of await s.db.list()) for (const d of img.config.rootfs.diff_ids) used.add(d);
      for (const d of extra) if (!used.has(d)) await s.layers.remove(d);
    }
  }
}

/** Writes images to a tarball readable by `docker load` and OCI tools (`berth save -o`). */
export async function save(refs: string[], output: string, opts: ImageOptions = {}): Promise<void> {
  const s = stores(opts.root);
  const images = [];
  for (const ref of refs) {
    const img = await s.db.resolve(ref);
    const size = (await s.blobs.get(img.record.manifest)).length;
    let name: string | undefined;
    try { const p = parseReference(ref); if (!p.digest && img.names.includes(formatReference(p))) name = formatReference(p); } catch { /* an id */ }
    images.push({ manifest: { mediaType: img.record.mediaType, digest: img.record.manifest, size }, manifestDoc: img.manifest, ...(name ?? img.names[0] ? { name: name ?? img.names[0] } : {}) });
  }
  await saveImages(output, s.blobs, images, join(s.root, 'tmp'));
}

/**
 * Makes a one-layer image from a root filesystem tarball (`berth import`): the tarball (gzip,
 * zstd or plain) becomes the layer as is, with a minimal config for this host's platform.
 */
export async function importRootfs(tarball: string, name: string | undefined, opts: ImageOptions & { changes?: Partial<NonNullable<ImageConfigFile['config']>> } = {}): Promise<EngineImage> {
  const s = stores(opts.root);
  const fh = await open(tarball, 'r');
  const head = Buffer.alloc(4);
  try { await fh.read(head, 0, 4, 0); } finally { await fh.close(); }
  const compression = detectCompression(head);
  const layer = await s.blobs.ingest(createReadStream(tarball), undefined, `tarball ${tarball}`);
  const hash = createHash('sha256');
  for await (const c of decompress(s.blobs.stream(layer.digest), compression, tarball)) hash.update(c as Buffer);
  const diffId: Digest = `sha256:${hash.digest('hex')}`;
  const p = opts.platform ?? hostPlatform();
  const config: ImageConfigFile = {
    created: new Date().toISOString(), architecture: p.architecture, os: p.os, ...(p.variant ? { variant: p.variant } : {}),
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], ...(opts.changes ?? {}) },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created: new Date().toISOString(), created_by: `berth import ${tarball}` }],
  };
  const cfg = await s.blobs.put(Buffer.from(JSON.stringify(config)));
  const mt = compression === 'gzip' ? MT.ociLayerGzip : compression === 'zstd' ? MT.ociLayerZstd : MT.ociLayer;
  const manifest: Manifest = { schemaVersion: 2, mediaType: MT.ociManifest, config: { mediaType: MT.ociConfig, ...cfg }, layers: [{ mediaType: mt, ...layer }] };
  const data = Buffer.from(JSON.stringify(manifest));
  const m = await s.blobs.put(data);
  await ensureLayers({ layers: [{ digest: layer.digest, diffId, mediaType: mt, size: layer.size }] }, opts);
  await s.db.add(m.digest, MT.ociManifest, cfg.digest, name ? [formatReference(parseReference(name))] : []);
  return resolveImage(m.digest, opts);
}

/**
 * Makes an image from `base` and one more layer (`berth commit`): `layerFile` is the layer as a
 * gzip tar, `diffId` the digest of its uncompressed tar. The config is the base's with `config`
 * as its run config, the layer's DiffID appended and a history entry; the manifest is OCI.
 */
export async function commitImage(base: EngineImage, layerFile: string, diffId: Digest, o: ImageOptions & {
  config: NonNullable<ImageConfigFile['config']>; createdBy: string; comment?: string; author?: string; name?: string;
}): Promise<EngineImage> {
  const s = stores(o.root);
  const layer = await s.blobs.ingest(createReadStream(layerFile), undefined, `the committed layer ${layerFile}`);
  const created = new Date().toISOString();
  const config: ImageConfigFile = {
    ...base.raw, created, ...(o.author ? { author: o.author } : {}), ...(o.comment ? { comment: o.comment } : {}), config: o.config,
    rootfs: { type: 'layers', diff_ids: [...base.raw.rootfs.diff_ids, diffId] },
    history: [...(base.raw.history ?? []), { created, created_by: o.createdBy, ...(o.comment ? { comment: o.comment } : {}), ...(o.author ? { author: o.author } : {}) }],
  };
  const cfg = await s.blobs.put(Buffer.from(JSON.stringify(config)));
  const layers = [...base.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })), { mediaType: MT.ociLayerGzip, ...layer }];
  const manifest: Manifest = { schemaVersion: 2, mediaType: MT.ociManifest, config: { mediaType: MT.ociConfig, ...cfg }, layers };
  const m = await s.blobs.put(Buffer.from(JSON.stringify(manifest)));
  await ensureLayers({ layers: [{ digest: layer.digest, diffId, mediaType: MT.ociLayerGzip, size: layer.size }] }, o);
  await s.db.add(m.digest, MT.ociManifest, cfg.digest, o.name ? [formatReference(parseReference(o.name))] : []);
  return resolveImage(m.digest, o);
}

/** Every local image. */
export async function listImages(opts: ImageOptions = {}): Promise<EngineImage[]> {
  return (await stores(opts.root).db.list()).map(toEngine);
}

/** Points the name `target` at the image `source` (`berth tag`). */
export async function tagImage(source: string, target: string, opts: ImageOptions = {}): Promise<void> {
  const { db } = stores(opts.root);
  const name = formatReference(parseReference(target));
  await db.update((d) => { d.tags[name] = db.findIn(d, source); });
}

/**
 * Removes a name, or an image by id with all its names (`berth rmi`). An image left without
 * names is forgotten unless `inUse` (the engine's list of image ids its containers use) holds
 * it; blobs go at the next `prune`. Returns what was untagged and deleted.
 */
export async function removeImage(ref: string, opts: ImageOptions & { inUse?: Set<string>; force?: boolean } = {}): Promise<{ untagged: string[]; deleted: Digest[] }> {
  const { db } = stores(opts.root);
  const out = await db.update((d) => {
    const m = db.findIn(d, ref);
    let byName: string | undefined;
    try { const p = parseReference(ref); if (d.tags[formatReference(p)] === m) byName = formatReference(p); } catch { /* an id */ }
    const rec = d.images[m];
    // By id, every record of that image goes (a store may hold several manifests of one config).
    const records = byName || !rec ? [m] : Object.values(d.images).filter((r) => r.id === rec.id).map((r) => r.manifest);
    const names = Object.keys(d.tags).filter((n) => records.includes(d.tags[n]!));
    const untag = byName && names.length > 1 ? [byName] : names;
    const deleting = untag.length === names.length;
    if (deleting && rec && opts.inUse?.has(rec.id) && !opts.force) throw new BerthError('EBAD_STATE', `image ${ref} is used by a container; remove the container first or force`);
    // Docker (isSingleReference): by id, an image with more than one tag is deleted with -f only.
    const tags = names.filter((n) => !n.includes('@'));
    if (!byName && tags.length > 1 && !opts.force) {
      throw new BerthError('EBAD_STATE', `unable to delete ${ref} (must be forced): the image is referenced in multiple repositories (${tags.map((n) => familiarName(parseReference(n))).join(', ')})`);
    }
    for (const n of untag) delete d.tags[n];
    const deleted: Digest[] = [];
    if (deleting && rec) {
      for (const r of records) {
        delete d.images[r];
        for (const [index, target] of Object.entries(d.indexes ?? {})) if (target === r) delete d.indexes![index];
      }
      deleted.push(rec.id);
    }
    return { untagged: untag, deleted };
  });
  return out;
}

/** What `berth image inspect` prints: ids, names, manifest and config. */
export async function inspectImage(ref: string, opts: ImageOptions = {}): Promise<Record<string, unknown>> {
  const img = await stores(opts.root).db.resolve(ref);
  return { Id: img.record.id, RepoTags: img.names, ManifestDigest: img.record.manifest, Added: img.record.added, Manifest: img.manifest, Config: img.config };
}

/**
 * Deletes blobs no image refers to and unpacked layers no image and no container root
 * filesystem uses (mark and sweep over the manifests: the reference counts are recomputed, so a
 * crash can never leave them wrong). Returns the digests removed.
 */
export async function prune(opts: ImageOptions = {}): Promise<{ blobs: Digest[]; layers: Digest[] }> {
  const s = stores(opts.root);
  const refs = await s.db.references();
  const images = await s.db.list();
  const keepLayers = await layersInUse(s.root);
  for (const img of images) for (const d of img.config.rootfs.diff_ids) keepLayers.add(d);
  const blobs: Digest[] = [];
  for (const d of await s.blobs.list()) if (!refs.has(d)) { await s.blobs.remove(d); blobs.push(d); }
  const layers: Digest[] = [];
  for (const d of await s.layers.list()) if (!keepLayers.has(d)) { await s.layers.remove(d); layers.push(d); }
  await s.blobs.cleanTemp();
  await s.layers.cleanTemp();
  return { blobs, layers };
}

