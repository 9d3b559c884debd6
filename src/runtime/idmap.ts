/**
 * Id-mapped mounts (OCI mount options `idmap`/`ridmap`, or a mount's `uidMappings`/
 * `gidMappings`): which mounts are id-mapped, with which mapping, and the `idmap-tree` parent ops
 * that make them (native/idmap.c, native/PROTOCOL.md).
 *
 * The kernel only id-maps a detached tree, and only for a caller privileged over the file
 * system's user namespace (the host's): the container's init, in its own user namespace, cannot.
 * So the helper makes each tree before the clone, from the host, with a user namespace made for
 * the purpose (the mount keeps a copy of its mapping, so one made with the container's mapping
 * is as good as the container's own), and the child attaches it with move_mount(2). This is why
 * the ops go before any `setns`: after `setns user` the helper has no host privileges left.
 * A consequence worth knowing: the source of an id-mapped mount is looked up in the runtime's
 * mount namespace even when the container joins another one by path (runc does the same).
 *
 * The mapping means what it means in a user namespace's uid_map: `containerID` is the id stored
 * in the source file system, `hostID` the (host) id it appears as through the mount. With the
 * container's own mapping (no mount mappings given), a file owned by 0 on disk looks owned by
 * the container's root, and what the container's root creates is stored as 0.
 */
import type { IDMapping, Mount, Spec } from '../oci/spec.js';
import { parseMountOptions } from '../oci/mountopts.js';
import { BerthError } from '../util/errors.js';
import type { Op } from '../native/ops.js';

/** How one mount is id-mapped. */
export interface IdmapMount {
  /** The helper's slot for the tree (the order of the `idmap-tree` ops). */
  slot: number;
  /** Copy the mounts below the source too (rbind or ridmap). */
  recursiveClone: boolean;
  /** Id-map every mount of the copied tree (ridmap), not only its top. */
  recursiveAttr: boolean;
}

/** True when the mount asks for an id-mapped mount (an option, or its own mappings). */
export function isIdmapped(m: Mount): boolean {
  const ext = parseMountOptions(m.options ?? []).extensions;
  return ext.includes('idmap') || ext.includes('ridmap') || !!m.uidMappings?.length || !!m.gidMappings?.length;
}

/** A mapping list as the text of a uid_map/gid_map file. */
export function mapText(maps: readonly IDMapping[] | undefined): string {
  return (maps ?? []).map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

/**
 * The `idmap-tree` ops for the spec's id-mapped mounts, and each such mount's slot. `sources`
 * gives each mount's resolved source (relative binds resolved against the bundle).
 * The validator (oci/validate.ts) has already made sure each is a bind mount in a user namespace.
 */
export function idmapOps(spec: Spec, source: (m: Mount) => string): { ops: Op[]; mounts: Map<Mount, IdmapMount> } {
  const ops: Op[] = [];
  const mounts = new Map<Mount, IdmapMount>();
  const userns = spec.linux?.namespaces?.find((n) => n.type === 'user');
  for (const m of spec.mounts ?? []) {
    if (!isIdmapped(m)) continue;
    const parsed = parseMountOptions(m.options ?? []);
    if (!userns) {
      throw new BerthError('EINVALID_CONFIG', `config.json: mount ${m.destination}: an id-mapped mount needs a user namespace; add {"type": "user"} to linux.namespaces`);
    }
    const own = !!m.uidMappings?.length;
    let uid = '';
    let gid = '';
    let path = '';
    if (own) {
      uid = mapText(m.uidMappings);
      gid = mapText(m.gidMappings);
    } else if (userns.path) {
      // The namespace the container joins: its mapping is whatever it already has.
      path = userns.path;
    } else {
      uid = mapText(spec.linux?.uidMappings);
      gid = mapText(spec.linux?.gidMappings);
      if (!uid || !gid) {
        throw new BerthError('EINVALID_CONFIG', `config.json: mount ${m.destination}: option idmap without mount mappings needs linux.uidMappings and linux.gidMappings`);
      }
    }
    const entry: IdmapMount = {
      slot: mounts.size,
      recursiveClone: parsed.isRecursiveBind || parsed.extensions.includes('ridmap'),
      recursiveAttr: parsed.extensions.includes('ridmap'),
    };
    mounts.set(m, entry);
    ops.push({ op: 'idmap-tree', slot: entry.slot, source: source(m), recursiveClone: entry.recursiveClone,
      recursiveIdmap: entry.recursiveAttr, uidMap: uid, gidMap: gid, userns: path });
  }
  return { ops, mounts };
}
