/**
 * Per-container root filesystems in `<root>/rootfs/<container id>/`.
 *
 * overlay: the image's unpacked layers are the lower dirs (topmost first), `upper/` and `work/`
 * belong to the container alone, and `merged/` is the overlay mount the container uses as its
 * root. copy: where overlayfs is missing or refuses the backing filesystem (overlay on overlay,
 * some FUSE, unprivileged without a user namespace), the layers are applied one after another
 * into `merged/`, whiteouts deleting.
 *
 * Crash safety: `meta.json` (driver and layers) is written before anything is created, so
 * `removeRootfs` can undo a half-made root filesystem after a crash, and running it twice is
 * harmless.
 */
import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, readFile, rm, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeFileAtomic } from '../util/atomic.js';
import { openLayerTar } from '../archive/compress.js';
import type { Digest } from '../archive/digest.js';
import { BerthError } from '../util/errors.js';
import type { LayerStore } from './layers.js';
import { unpackTar } from './unpack.js';
import { rootfsDir } from './remove.js';
import { mountIdmappedOverlay, rootOwner, type RootfsIdmap } from './idmap-layers.js';

export { removeRootfsSync, rootfsDir } from './remove.js';

const run = promisify(execFile);

/** A layer of an image: its blob and its DiffID. */
export interface LayerRef {
  digest: Digest;
  diffId: Digest;
  mediaType: string;
  size: number;
}

/** How container root filesystems are built. `auto` tries overlay, then copies. */
export type Driver = 'overlay' | 'copy' | 'auto';

/** A prepared root filesystem. */
export interface Rootfs {
  /** The directory to use as the container's root. */
  path: string;
  driver: 'overlay' | 'copy';
  /** Unmounts and removes it (idempotent). */
  cleanup(): Promise<void>;
}

interface Meta { driver: 'overlay' | 'copy'; layers: Digest[] }


async function isMounted(path: string): Promise<boolean> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text.split('\n').some((l) => l.split(' ')[4]?.replace(/\\040/g, ' ') === path);
}

/** overlayfs's limit of lower layers (OVL_MAX_STACK). */
const MAX_LOWERS = 500;
/** The mount(2) option string is copied into one page, with its terminating NUL. */
const MAX_OPTIONS = 4095;

/**
 * Mounts the overlay, naming the lower dirs through the layer store's short links (`l/<12 hex>`,
 * 13 bytes a layer) relative to that directory, the `mount` command's cwd: the option string of
 * mount(2) is limited to one page, which full paths exceed past ~40 layers and 65-byte relative
 * names past ~60. This is Docker's overlay2 way, and it works on any kernel; short links give
 * about 290 layers, more than Docker's 128. (Linux ≥ 6.8 also takes lower dirs one at a time with
 * fsconfig "lowerdir+", without the page limit, but only through the new mount API, which the
 * `mount` command of Debian 12 does not use, and older kernels would still need this.)
 * Node has no mount(2): the `mount` command costs 4.3 ms a mount here, a helper process doing
 * the same would cost ~2.7 ms (a static binary's spawn), not worth a new helper mode.
 */
async function mountOverlay(layers: LayerStore, lowers: Digest[], dir: string, idmap?: RootfsIdmap): Promise<void> {
  if (lowers.length > MAX_LOWERS) throw new BerthError('EUNSUPPORTED', `image has ${lowers.length} layers; overlayfs stacks at most ${MAX_LOWERS}; use the copy driver`);
  // Id-mapped: the helper mounts from inside a detached id-mapped copy of the layer store, where
  // the layers are named by their own directories (65 bytes a layer: about 60 layers).
  const names = idmap ? [...lowers].reverse().map((d) => d.slice(7)) : await Promise.all([...lowers].reverse().map((d) => layers.shortLink(d)));
  const opts = `lowerdir=${names.join(':')},upperdir=${join(dir, 'upper')},workdir=${join(dir, 'work')}`;
  if (Buffer.byteLength(opts) > MAX_OPTIONS) throw new BerthError('EUNSUPPORTED', `image has ${lowers.length} layers, too many for one overlay mount (options of ${Buffer.byteLength(opts)} bytes, at most ${MAX_OPTIONS}); use the copy driver`);
  if (idmap) return mountIdmappedOverlay(layers.dir, opts, join(dir, 'merged'), idmap);
  try {
    await run('mount', ['-t', 'overlay', 'overlay', '-o', opts, join(dir, 'merged')], { cwd: layers.linkDir });
  } catch (err) {
    const msg = (err as { stderr?: string }).stderr?.trim() || String(err);
    throw new BerthError('EUNSUPPORTED', `overlay mount at ${join(dir, 'merged')} failed: ${msg}`);
  }
}

/** Where the blob of a digest is (image/blobs.ts BlobStore): what the copy driver reads. */
export interface BlobFiles {
  path(digest: Digest): string;
}

/**
 * Builds the root filesystem of container `id` from `layers` (bottom first). With `auto`, an
 * overlay mount failure falls back to copying. The layers must already be in the layer store
 * for overlay (see image/index.ts `ensureLayers`); the copy driver reads the blobs.
 * With `idmap` (a container in a user namespace) the lower layers are id-mapped and the upper
 * dir belongs to the container's root (idmap-layers.ts); there is no copy fallback then.
 */
export async function createRootfs(root: string, id: string, layerRefs: LayerRef[], stores: { blobs: BlobFiles; layers: LayerStore }, driver: Driver = 'auto', idmap?: RootfsIdmap): Promise<Rootfs> {
  if (idmap && driver === 'copy') {
    throw new BerthError('EUNSUPPORTED', 'a root filesystem for a user namespace needs the overlay driver (id-mapped layers), not copy');
  }
  const dir = rootfsDir(root, id);
  await mkdir(join(root, 'rootfs'), { recursive: true });
  try {
    await mkdir(dir, { mode: 0o700 });
  } catch {
    throw new BerthError('EEXISTS', `a root filesystem for ${id} exists already at ${dir}`);
  }
  const write = (m: Meta): Promise<void> => writeFileAtomic(join(dir, 'meta.json'), JSON.stringify(m) + '\n');
  const diffIds = layerRefs.map((l) => l.diffId);
  const done = (d: 'overlay' | 'copy'): Rootfs => ({ path: join(dir, 'merged'), driver: d, cleanup: () => removeRootfs(root, id) });
  try {
    if (idmap) {
      // The container's root mounts the root from inside its user namespace, so it must search
      // this directory: group-searchable by its gid only (Docker's remapped layout, 0710).
      await chown(dir, 0, rootOwner(idmap).gid);
      await chmod(dir, 0o710);
    }
    if (driver !== 'copy') {
      await write({ driver: 'overlay', layers: diffIds });
      for (const sub of ['upper', 'work', 'merged']) await mkdir(join(dir, sub), { mode: 0o755 });
      // The overlay's root directory is the upper dir's: the container's root must own it.
      if (idmap) await chown(join(dir, 'upper'), rootOwner(idmap).uid, rootOwner(idmap).gid);
      let lowers = diffIds;
      if (lowers.length === 0) {
        await mkdir(join(dir, 'empty'), { mode: 0o755 });
        lowers = [];
      }
      try {
        if (lowers.length === 0) {
          await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${join(dir, 'empty')},upperdir=${join(dir, 'upper')},workdir=${join(dir, 'work')}`, join(dir, 'merged')]);
        } else {
          await mountOverlay(stores.layers, lowers, dir, idmap);
        }
        return done('overlay');
      } catch (err) {
        if (driver === 'overlay' || idmap) throw err;
        for (const sub of ['upper', 'work', 'merged', 'empty']) await rm(join(dir, sub), { recursive: true, force: true });
      }
    }
    await write({ driver: 'copy', layers: diffIds });
    const merged = join(dir, 'merged');
    await mkdir(merged, { mode: 0o755 });
    for (const l of layerRefs) {
      const { stream } = await openLayerTar(stores.blobs.path(l.digest), `layer ${l.digest}`);
      await unpackTar(stream, merged, { mode: 'apply', diffId: l.diffId, what: l.digest });
    }
    return done('copy');
  } catch (err) {
    await removeRootfs(root, id);
    throw err;
  }
}

/**
 * Removes container `id`'s root filesystem: unmounts `merged/` if mounted, then deletes the
 * directory without crossing into other file systems. No error when there is nothing to remove.
 */
export async function removeRootfs(root: string, id: string): Promise<void> {
  const dir = rootfsDir(root, id);
  const merged = join(dir, 'merged');
  if (await isMounted(merged)) {
    await run('umount', [merged]).catch(async () => { await run('umount', ['-l', merged]); });
  }
  await run('rm', ['-rf', '--one-file-system', dir]);
}

/** The DiffIDs used by every container root filesystem (kept by prune). */
export async function layersInUse(root: string): Promise<Set<Digest>> {
  const used = new Set<Digest>();
  for (const id of await readdir(join(root, 'rootfs')).catch(() => [] as string[])) {
    try {
      const meta = JSON.parse(await readFile(join(root, 'rootfs', id, 'meta.json'), 'utf8')) as Meta;
      for (const d of meta.layers) used.add(d);
    } catch { /* no meta yet: nothing mounted from the store */ }
  }
  return used;
}
