/**
 * Root filesystems for containers in a user namespace (`berth run --userns 0:100000:65536 IMAGE`),
 * made with id-mapped lower layers instead of chowned copies — what Podman does when the kernel
 * can (containers/storage's "idmapped lower layers").
 *
 * The image's layers are unpacked once, owned by the ids the image says (0 for most files), and
 * shared by every container. For a container whose root is host uid 100000 the overlay is
 * mounted with each lower layer seen through an id-mapped mount using the container's mapping:
 * a file owned by 0 on disk looks owned by 100000, which the container sees as its root. The
 * upper dir is NOT id-mapped: what the container writes (or copies up) is stored with the ids it
 * writes as, 100000 on the host — so the host's view of the upper dir is the truth, and another
 * container with another mapping cannot be confused by it.
 *
 * Why not id-map the finished overlay mount as a whole (the runtime could, with the same
 * `idmap-tree` op as for bind mounts): files the container creates would then be stored as 0,
 * host root, in the upper dir, which any host tool reading it would take for root's files.
 *
 * The id-mapped view of the layer store is never attached to a path: the helper makes it
 * detached, chdirs into it and mounts the overlay with relative lowerdirs (native/idmap.c,
 * `idmapped-overlay`); overlayfs keeps private clones of its layers. Nothing can reach the layers
 * through the id-mapped view afterwards, and a crash leaves nothing to unmount — in particular no
 * bind of the layer store inside the container's directory that `rm -rf --one-file-system`
 * (same device) would descend into.
 */
import { idmappedOverlay } from '../native/one-shot.js';
import type { IDMapping } from '../oci/spec.js';
import { BerthError } from '../util/errors.js';

/** The user namespace mappings of the container a root filesystem is made for. */
export interface RootfsIdmap {
  uidMappings: IDMapping[];
  gidMappings: IDMapping[];
}

/** The host uid and gid of the container's root (id 0 inside), which owns the upper dir. */
export function rootOwner(idmap: RootfsIdmap): { uid: number; gid: number } {
  const host = (maps: IDMapping[], what: string): number => {
    const m = maps.find((x) => x.containerID === 0);
    if (!m) throw new BerthError('EINVALID_ARG', `the ${what} mapping does not map id 0 (the container's root)`);
    return m.hostID;
  };
  return { uid: host(idmap.uidMappings, 'uid'), gid: host(idmap.gidMappings, 'gid') };
}

/**
 * Mounts an overlay at `target` with `options` (lowerdir entries relative to `layersDir`),
 * the lower layers id-mapped with `idmap`. Needs Linux 6.15 (overlayfs layers on a detached
 * mount); older kernels fail with EINVAL, reported with the helper's message.
 */
export async function mountIdmappedOverlay(layersDir: string, options: string, target: string, idmap: RootfsIdmap): Promise<void> {
  try {
    await idmappedOverlay(layersDir, options, target, idmap.uidMappings, idmap.gidMappings);
  } catch (err) {
    throw new BerthError('EUNSUPPORTED', `id-mapped overlay at ${target} failed: ${(err as Error).message}`);
  }
}
