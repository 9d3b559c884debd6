/**
 * Disk usage and pruning across the engine's objects: `system df` and GET /system/df (Docker's
 * DiskUsage), `image prune` and `system prune`.
 *
 * Sizes, as Docker counts them: an image's size is its layers' (compressed, as stored), a layer
 * shared by several images counted once in the total; an image is active when a container uses
 * it, and reclaimable when none does. A container's size is its writable layer (the overlay's
 * upper directory, a copied root, or a host container's own directory). A volume's size is its
 * files'; it is active (and not reclaimable) while a container lists it.
 */
import { lstatSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { listImages, prune as pruneBlobs, removeImage, stores, type EngineImage, type ImageOptions } from '../image/index.js';
import { pruneContainers } from './control.js';
import { imagesInUse } from './image-rootfs.js';
import { pruneNetworks } from './networks.js';
import { EngineStore, type EnginePaths, type EngineRecord } from './store.js';
import { pruneVolumes, volumeUsage, type Volume } from './volumes.js';

/** Bytes used by the files below `dir` (st_blocks; not following symlinks, not crossing into other file systems). */
export function duBytes(dir: string, dev?: number): number {
  let st;
  try { st = lstatSync(dir); } catch { return 0; }
  if (dev !== undefined && st.dev !== dev) return 0;
  if (!st.isDirectory()) return st.blocks * 512;
  let total = 0;
  let names: string[] = [];
  try { names = readdirSync(dir); } catch { return total; }
  for (const n of names) total += duBytes(join(dir, n), st.dev);
  return total;
}

/** A container's writable layer on disk. */
export function writableLayerSize(paths: EnginePaths, rec: EngineRecord): number {
  if (rec.StorageDriver === 'overlay') return duBytes(join(paths.dataRoot, 'rootfs', rec.Id, 'upper'));
  if (rec.StorageDriver === 'copy') return duBytes(join(paths.dataRoot, 'rootfs', rec.Id, 'merged'));
  if (rec.UserRootfs) return 0; // the user's directory, not the engine's
  return duBytes(join(new EngineStore(paths).dir(rec.Id), 'rootfs'));
}

export interface ImageUsage {
  image: EngineImage;
  /** Containers using it. */
  containers: number;
  /** Its layers' bytes. */
  size: number;
  /** Bytes of its layers other images use too. */
  sharedSize: number;
}

export interface DiskUsage {
  images: ImageUsage[];
  /** Every layer once. */
  layersSize: number;
  /** Bytes of layers that only unused images have. */
  imagesReclaimable: number;
  containers: { record: EngineRecord; size: number }[];
  volumes: { volume: Volume; refCount: number; size: number }[];
}

/** What the engine's objects take on disk. */
export async function diskUsage(paths: EnginePaths, opts: ImageOptions): Promise<DiskUsage> {
  const records = new EngineStore(paths).all();
  const images = await listImages(opts);
  const users = new Map<string, number>();
  for (const r of records) if (r.ImageId) users.set(r.ImageId, (users.get(r.ImageId) ?? 0) + 1);
  const layerImages = new Map<string, number>();
  const layerSize = new Map<string, number>();
  for (const img of images) {
    for (const l of new Map(img.layers.map((x) => [x.digest, x])).values()) {
      layerImages.set(l.digest, (layerImages.get(l.digest) ?? 0) + 1);
      layerSize.set(l.digest, l.size);
    }
  }
  const usedLayers = new Set<string>(images.filter((i) => users.has(i.id)).flatMap((i) => i.layers.map((l) => l.digest)));
  let reclaimable = 0;
  for (const [d, size] of layerSize) if (!usedLayers.has(d)) reclaimable += size;
  return {
    images: images.map((image) => {
      const unique = new Map(image.layers.map((l) => [l.digest, l.size]));
      const size = [...unique.values()].reduce((n, s) => n + s, 0);
      const sharedSize = [...unique].filter(([d]) => (layerImages.get(d) ?? 0) > 1).reduce((n, [, s]) => n + s, 0);
      return { image, containers: users.get(image.id) ?? 0, size, sharedSize };
    }),
    layersSize: [...layerSize.values()].reduce((n, s) => n + s, 0),
    imagesReclaimable: reclaimable,
    containers: records.map((record) => ({ record, size: writableLayerSize(paths, record) })),
    volumes: await volumeUsage(paths),
  };
}

/**
 * `image prune`: dangling images (no name, used by no container; with `all`, every image no
 * container uses), then the blobs no image refers to and the unpacked layers nothing uses.
 * Returns Docker's "untagged: …"/"deleted: …" lines, the layers removed and the bytes freed.
 */
export async function pruneImages(paths: EnginePaths, opts: ImageOptions, all: boolean): Promise<{ deleted: string[]; layers: string[]; bytes: number }> {
  const inUse = imagesInUse(new EngineStore(paths).all());
  const deleted: string[] = [];
  for (const img of await listImages(opts)) {
    if (inUse.has(img.id) || (img.names.length && !all)) continue;
    const r = await removeImage(img.manifest, { ...opts, inUse });
    deleted.push(...r.untagged.map((n) => `untagged: ${n}`), ...r.deleted.map((d) => `deleted: ${d}`));
  }
  const s = stores(paths.dataRoot);
  const sizes = new Map((await s.blobs.list()).map((d) => [d, (() => { try { return statSync(s.blobs.path(d)).size; } catch { return 0; } })()]));
  const gone = await pruneBlobs(opts);
  return { deleted, layers: gone.layers, bytes: gone.blobs.reduce((n, d) => n + (sizes.get(d) ?? 0), 0) };
}

/** What `system prune` removed. */
export interface SystemPruned {
  containers: string[];
  networks: string[];
  images: string[];
  volumes: string[];
  bytes: number;
}

/**
 * `system prune`: stopped containers, unused networks, dangling images (every unused one with
 * `all`) and, with `volumes`, unused anonymous volumes (never named ones: today's docker CLI
 * keeps them even with --all; `volume prune --all` removes them). `labels` filter the networks
 * and volumes.
 */
export async function pruneSystem(paths: EnginePaths, opts: ImageOptions, o: { all?: boolean; volumes?: boolean; labels?: string[] } = {}): Promise<SystemPruned> {
  const store = new EngineStore(paths);
  const before = new Map(store.all().map((r) => [r.Id, writableLayerSize(paths, r)]));
  const containers = await pruneContainers(paths);
  let bytes = containers.reduce((n, id) => n + (before.get(id) ?? 0), 0);
  const networks = await pruneNetworks(paths, o.labels ?? []);
  const images = await pruneImages(paths, opts, o.all ?? false);
  bytes += images.bytes;
  let volumes: string[] = [];
  if (o.volumes) {
    const v = await pruneVolumes(paths, { labels: o.labels ?? [], anonymousOnly: true });
    volumes = v.names;
    bytes += v.bytes;
  }
  return { containers, networks, images: images.deleted, volumes, bytes };
}
