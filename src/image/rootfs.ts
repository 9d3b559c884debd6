/**
 * A container's root filesystem from an image's layers, for the engine: the image's layers made
 * sure of (index.ts `ensureLayers`), then the root made by storage/rootfs.ts.
 * @example
 * const img = await resolveImage('busybox');
 * const fs = await prepareRootfs(containerId, img);   // fs.path -> spec.root.path
 * ... await fs.cleanup();                              // with the container
 */
import { ensureLayers, stores, type ImageOptions } from './index.js';
import { createRootfs, removeRootfs as remove, type Driver, type LayerRef, type Rootfs } from '../storage/rootfs.js';
import type { RootfsIdmap } from '../storage/idmap-layers.js';

export type { RootfsIdmap } from '../storage/idmap-layers.js';

export { removeRootfsSync, rootfsDir } from '../storage/rootfs.js';

export type { Driver, LayerRef, Rootfs } from '../storage/rootfs.js';

/** Options for `prepareRootfs`. */
export interface RootfsOptions extends ImageOptions {
  /** `auto` (default, or $BERTH_STORAGE_DRIVER): overlay, falling back to copying. */
  driver?: Driver;
  /** The container's user namespace mappings: id-mapped lower layers (idmap-layers.ts). */
  idmap?: RootfsIdmap;
}

/**
 * Creates container `containerId`'s root filesystem from `image` (as `resolveImage` returns it):
 * an overlay mount over the shared unpacked layers with a private upper dir, or a private copy.
 * Throws EEXISTS when one exists for that id (call `removeRootfs` first after a crash).
 */
export async function prepareRootfs(containerId: string, image: { layers: LayerRef[] }, opts: RootfsOptions = {}): Promise<Rootfs> {
  const s = stores(opts.root);
  const driver = opts.driver ?? 'auto';
  if (driver !== 'copy') await ensureLayers(image, opts);
  return createRootfs(s.root, containerId, image.layers, s, driver, opts.idmap);
}

/** Removes a container's root filesystem (unmount + delete); harmless when there is none. */
export async function removeRootfs(containerId: string, opts: { root?: string } = {}): Promise<void> {
  await remove(stores(opts.root).root, containerId);
}
