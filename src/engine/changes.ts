/**
 * `diff` and `export`: what a container changed in its root file system, and that file system as
 * a tar (Docker's GET /containers/{id}/changes and /export).
 *
 * Changes come from the overlay's upper directory, walked next to the image's layers: an entry
 * of the upper directory is added (A) when no layer has it, changed (C) when one does, and a
 * whiteout (a 0:0 character device) is a deletion (D), and so is what the layers have in a
 * directory that was removed and made again (opaque: the merged view lacks it); a directory that
 * holds a change is itself changed, as Docker lists it. The upper directory is written by the container, so it is walked
 * as a hostile tree (archive/scoped-fs.ts), and so are the layers (they come from images).
 * Containers whose root is not an overlay (the copy driver, `host` containers, --rootfs) have no
 * record of what changed: diff says so rather than compare whole trees.
 *
 * Export is the container's root file system without its volumes and binds (Docker's rule):
 * the overlay's merged view, or the directory that is the root.
 */
import { closeSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { at, ScopedFs, type ScopedDir } from '../archive/scoped-fs.js';
import { packTree } from '../archive/tree-tar.js';
import { resolveImage, stores } from '../image/index.js';
import { BerthError, errnoCode } from '../util/errors.js';
import type { EnginePaths, EngineRecord } from './store.js';

/** Docker's change kinds, as the API numbers them. */
export const CHANGE_KIND = { C: 0, A: 1, D: 2 } as const;

export interface Change {
  Path: string;
  Kind: 0 | 1 | 2;
}

/** Container `rec`'s changes to its image, sorted by path. */
export async function containerChanges(paths: EnginePaths, rec: EngineRecord): Promise<Change[]> {
  if (rec.StorageDriver !== 'overlay' || !rec.ImageId) {
    const what = rec.UserRootfs ? 'a --rootfs directory' : rec.StorageDriver === 'copy' ? 'a copied image (the copy storage driver)' : 'the host\'s directories (image host)';
    throw new BerthError('EUNSUPPORTED', `container ${rec.Name} runs on ${what}, which keeps no record of its changes: diff needs an image on the overlay driver`);
  }
  const image = await resolveImage(rec.ImageId, { root: paths.dataRoot });
  const layers = stores(paths.dataRoot).layers;
  // top layer first: the first one that has a path decides
  const lowers = [...image.layers].reverse().map((l) => ScopedFs.open(layers.path(l.diffId)));
  const upper = ScopedFs.open(join(paths.dataRoot, 'rootfs', rec.Id, 'upper'));
  const merged = ScopedFs.open(rec.RootPath);
  const out: Change[] = [];
  try {
    walk(upper, upper.rootDir, { fs: merged, dir: merged.rootDir }, lowers.map((fs) => ({ fs, dir: fs.rootDir as ScopedDir | undefined })), '', out);
  } finally {
    upper.close();
    merged.close();
    for (const fs of lowers) fs.close();
  }
  return out.sort((a, b) => (a.Path < b.Path ? -1 : a.Path > b.Path ? 1 : 0));
}

/** An overlay whiteout: a 0:0 character device. */
const isWhiteout = (st: { isCharacterDevice(): boolean; rdev: number }): boolean => st.isCharacterDevice() && st.rdev === 0;

function walk(upper: ScopedFs, dir: ScopedDir, merged: { fs: ScopedFs; dir: ScopedDir }, lowers: { fs: ScopedFs; dir: ScopedDir | undefined }[], prefix: string, out: Change[]): void {
  const names = readdirSync(at(dir.fd, ''));
  for (const name of names) {
    let st;
    try { st = upper.lstat(dir, name); } catch (err) { if (errnoCode(err) === 'ENOENT') continue; throw err; }
    const path = `${prefix}/${name}`;
    const inLower = lowers.map((l) => {
      if (!l.dir) return undefined;
      try { return l.fs.lstat(l.dir, name); } catch { return undefined; }
    });
    // top layer first: the first that has the name decides, and a whiteout there means "deleted"
    const first = inLower.find((s) => s !== undefined);
    const existed = first !== undefined && !isWhiteout(first);
    if (isWhiteout(st)) {
      if (existed) out.push({ Path: path, Kind: CHANGE_KIND.D });
      continue;
    }
    out.push({ Path: path, Kind: existed ? CHANGE_KIND.C : CHANGE_KIND.A });
    if (!st.isDirectory()) continue;
    const sub = upper.openDir(dir, name);
    let subMerged: ScopedDir | undefined;
    try { subMerged = merged.fs.openDir(merged.dir, name); } catch { /* gone meanwhile */ }
    const subLowers = lowers.map((l, i) => {
      if (!l.dir || !inLower[i]?.isDirectory()) return { fs: l.fs, dir: undefined };
      try { return { fs: l.fs, dir: l.fs.openDir(l.dir, name) }; } catch { return { fs: l.fs, dir: undefined }; }
    });
    try {
      if (subMerged) {
        walk(upper, sub, { fs: merged.fs, dir: subMerged }, subLowers, path, out);
        // An opaque directory (removed and made again) hides the layers' entries without a
        // whiteout each: what the layers have and the merged view lacks was deleted.
        const now = new Set(readdirSync(at(subMerged.fd, '')));
        const seen = new Set<string>();
        for (const l of subLowers) {
          if (!l.dir) continue;
          for (const child of readdirSync(at(l.dir.fd, ''))) {
            if (seen.has(child)) continue;
            seen.add(child); // a lower layer's entry of that name is hidden by this one, whatever it is
            let cst;
            try { cst = l.fs.lstat(l.dir, child); } catch { continue; }
            if (now.has(child) || isWhiteout(cst)) continue;
            if (!out.some((c) => c.Path === `${path}/${child}`)) out.push({ Path: `${path}/${child}`, Kind: CHANGE_KIND.D });
          }
        }
      }
    } finally {
      closeSync(sub.fd);
      if (subMerged) closeSync(subMerged.fd);
      for (const l of subLowers) if (l.dir) closeSync(l.dir.fd);
    }
  }
}

/** Container `rec`'s root file system as a tar stream (without its volumes and binds). */
export function exportContainer(rec: EngineRecord): { stream: AsyncGenerator<Buffer>; close: () => void } {
  const fs = ScopedFs.open(rec.RootPath);
  const stream = packTree(fs, '/', { rebase: '' });
  return { stream, close: () => fs.close() };
}
