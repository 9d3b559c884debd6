/**
 * Checks on the paths inside a layer, before anything is written.
 *
 * A layer is untrusted input that will be written as root. The classic escapes (CVE-2018-15664
 * style symlink races aside, which cannot happen in a directory no one else writes to) are:
 * an absolute name, a `..` component, a name below an entry that is a symlink ("a" -> "/etc",
 * then "a/passwd"), and a hardlink whose target is outside the layer. Names are checked lexically
 * here; the unpacker additionally never follows a symlink on disk (see unpack.ts).
 */
import { BerthError } from '../util/errors.js';

/** Where a layer entry was rejected: the error names the entry and the reason. */
export function rejectEntry(name: string, reason: string): BerthError {
  return new BerthError('EUNSAFE_LAYER', `layer entry ${JSON.stringify(name)}: ${reason}; layer rejected`);
}

/**
 * The entry's path relative to the layer root, normalised: "./a//b/" -> "a/b", "./" -> "".
 * Throws EUNSAFE_LAYER for an absolute path, a `..` component or a NUL byte. Any `..` is refused,
 * even one that stays inside ("a/../b"): no tool writes such names, and refusing them means no
 * path is ever resolved through a component that might be a symlink.
 */
export function normalizeEntryPath(name: string, what = name): string {
  if (name.includes('\0')) throw rejectEntry(what, 'name contains a NUL byte');
  if (name.startsWith('/')) throw rejectEntry(what, 'absolute path');
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw rejectEntry(what, "path contains '..'");
  return parts.join('/');
}

/** The ancestors of a normalised path, outermost first: "a/b/c" -> ["a", "a/b"]. */
export function ancestors(path: string): string[] {
  const parts = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join('/'));
  return out;
}

/** Whiteout prefix (AUFS convention, adopted by the OCI image spec). */
export const WHITEOUT_PREFIX = '.wh.';
/** The name of the opaque-directory marker. */
export const OPAQUE_MARKER = '.wh..wh..opq';

/** What a layer entry's name means under the OCI whiteout convention. */
export type WhiteoutKind =
  | { kind: 'none' }
  | { kind: 'whiteout'; target: string }
  | { kind: 'opaque'; dir: string }
  | { kind: 'meta' };

/**
 * Classifies a normalised entry path: `.wh..wh..opq` makes its directory opaque (lower layers'
 * contents hidden), `.wh.NAME` deletes NAME from lower layers, other `.wh..wh.*` names are AUFS
 * bookkeeping (hardlink dirs) and are ignored.
 */
export function classifyWhiteout(path: string, what = path): WhiteoutKind {
  const slash = path.lastIndexOf('/');
  const dir = slash < 0 ? '' : path.slice(0, slash);
  const base = path.slice(slash + 1);
  if (!base.startsWith(WHITEOUT_PREFIX)) return { kind: 'none' };
  if (base === OPAQUE_MARKER) return { kind: 'opaque', dir };
  if (base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) return { kind: 'meta' };
  const name = base.slice(WHITEOUT_PREFIX.length);
  if (name === '' || name === '.' || name === '..') throw rejectEntry(what, 'whiteout of an invalid name');
  return { kind: 'whiteout', target: dir ? `${dir}/${name}` : name };
}
