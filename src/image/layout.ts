/**
 * OCI image layouts (a directory with `oci-layout`, `index.json` and `blobs/sha256/`): reading
 * one into the store and writing images out as one. An image's name travels in the index
 * entry's annotations: `io.containerd.image.name` (the full name, as containerd, Docker 25 and
 * Berth write it) and `org.opencontainers.image.ref.name` (often only a tag, as skopeo writes it).
 */
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import type { BlobStore } from './blobs.js';
import { digestHex, type Digest } from '../archive/digest.js';
import type { ImageDb } from './images.js';
import { MT, hostPlatform, parseConfig, parseJson, parseManifestOrIndex, selectPlatform, type Descriptor, type Platform } from './manifest.js';
import { formatReference, parseReference, type ImageRef } from './reference.js';

export const NAME_ANNOTATION = 'io.containerd.image.name';
export const REF_ANNOTATION = 'org.opencontainers.image.ref.name';

/** A loaded image: its manifest digest and the names it was given. */
export interface Loaded { manifest: Digest; id: Digest; names: string[] }

/** Copies one blob from a layout into the store, verified. */
async function importBlob(dir: string, blobs: BlobStore, d: Descriptor, what: string): Promise<void> {
  if (await blobs.has(d.digest, d.size)) return;
  const file = join(dir, 'blobs', 'sha256', digestHex(d.digest));
  await stat(file).catch(() => { throw new BerthError('EINVALID_IMAGE', `${what} ${d.digest} is missing from ${dir}`); });
  await blobs.ingest(createReadStream(file), { digest: d.digest, size: d.size }, what);
}

/** The name to record for an index entry: full-name annotation, else ref.name, else `fallback`. */
function nameFor(d: Descriptor, fallback?: ImageRef): string | undefined {
  const full = d.annotations?.[NAME_ANNOTATION];
  if (full) return formatReference(parseReference(full));
  const ref = d.annotations?.[REF_ANNOTATION];
  if (ref && /^[\w][\w.-]{0,127}$/.test(ref) && fallback) return formatReference({ ...fallback, tag: ref });
  if (ref) { try { return formatReference(parseReference(ref)); } catch { /* a bare tag with no name to attach it to */ } }
  return fallback ? formatReference(fallback) : undefined;
}

/**
 * Loads every image of the OCI layout `dir` (an index entry that is itself an index resolves to
 * `platform`). `name` names the images (required when the layout's annotations hold only tags).
 */
export async function loadLayout(dir: string, blobs: BlobStore, db: ImageDb, opts: {
  name?: string;
  platform?: Platform;
  /** Called for each image before it is recorded (its layers unpacked and verified, or a throw). */
  prepare?: (layers: { digest: Digest; diffId: Digest }[]) => Promise<void>;
} = {}): Promise<Loaded[]> {
  const layoutFile = await readFile(join(dir, 'oci-layout'), 'utf8').catch(() => undefined);
  if (!layoutFile) throw new BerthError('EINVALID_IMAGE', `${dir} is not an OCI image layout (no oci-layout file)`);
  const version = parseJson(layoutFile, `${dir}/oci-layout`).imageLayoutVersion;
  if (typeof version !== 'string' || !version.startsWith('1.')) throw new BerthError('EINVALID_IMAGE', `${dir}/oci-layout: imageLayoutVersion ${JSON.stringify(version)} is not supported (want 1.x)`);
  const index = parseManifestOrIndex(await readFile(join(dir, 'index.json')), `${dir}/index.json`, MT.ociIndex);
  if (index.kind !== 'index') throw new BerthError('EINVALID_IMAGE', `${dir}/index.json is not an image index`);
  const fallback = opts.name ? parseReference(opts.name) : undefined;
  const out: Loaded[] = [];
  for (let desc of index.index.manifests) {
    const name = nameFor(desc, fallback);
    await importBlob(dir, blobs, desc, 'manifest');
    let parsed = parseManifestOrIndex(await blobs.get(desc.digest, 'manifest'), `manifest ${desc.digest}`, desc.mediaType);
    if (parsed.kind === 'index') {
      desc = selectPlatform(parsed.index, opts.platform ?? hostPlatform(), `${dir} index entry ${desc.digest}`);
      await importBlob(dir, blobs, desc, 'manifest');
      parsed = parseManifestOrIndex(await blobs.get(desc.digest, 'manifest'), `manifest ${desc.digest}`, desc.mediaType);
      if (parsed.kind !== 'manifest') throw new BerthError('EINVALID_IMAGE', `${dir}: nested index ${desc.digest}`);
    }
    const m = parsed.manifest;
    await importBlob(dir, blobs, m.config, 'config');
    const config = parseConfig(await blobs.get(m.config.digest, 'config'), `config ${m.config.digest}`);
    if (config.rootfs.diff_ids.length !== m.layers.length) {
      throw new BerthError('EINVALID_IMAGE', `manifest ${desc.digest}: ${m.layers.length} layers but the config lists ${config.rootfs.diff_ids.length} diff_ids`);
    }
    for (const l of m.layers) await importBlob(dir, blobs, l, 'layer');
    await opts.prepare?.(m.layers.map((l, i) => ({ digest: l.digest, diffId: config.rootfs.diff_ids[i] as Digest })));
    const names = name ? [name] : [];
    await db.add(desc.digest, m.mediaType, m.config.digest, names);
    out.push({ manifest: desc.digest, id: m.config.digest, names });
  }
  return out;
}

/** An image to write into a layout: its manifest descriptor and name. */
export interface LayoutImage { manifest: Descriptor; name?: string }

/**
 * Writes an OCI layout at `dir` (created if missing; existing blobs are kept) holding `images`
 * and every blob they use. The index entry carries both name annotations.
 */
export async function writeLayout(dir: string, blobs: BlobStore, images: LayoutImage[]): Promise<void> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  const copy = async (d: Digest): Promise<void> => {
    const dest = join(dir, 'blobs', 'sha256', digestHex(d));
    if (!(await stat(dest).then(() => true, () => false))) await copyFile(blobs.path(d), dest);
  };
  const entries: Descriptor[] = [];
  for (const img of images) {
    const parsed = parseManifestOrIndex(await blobs.get(img.manifest.digest, 'manifest'), `manifest ${img.manifest.digest}`, img.manifest.mediaType);
    if (parsed.kind !== 'manifest') throw new BerthError('EINVALID_IMAGE', `${img.manifest.digest} is not a manifest`);
    for (const d of [img.manifest.digest, parsed.manifest.config.digest, ...parsed.manifest.layers.map((l) => l.digest)]) await copy(d);
    const annotations: Record<string, string> = {};
    if (img.name) {
      const r = parseReference(img.name);
      annotations[NAME_ANNOTATION] = formatReference(r);
      if (r.tag) annotations[REF_ANNOTATION] = r.tag;
    }
    entries.push({ mediaType: img.manifest.mediaType, digest: img.manifest.digest, size: img.manifest.size, ...(img.name ? { annotations } : {}) });
  }
  await writeFileAtomic(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }) + '\n');
  await writeFileAtomic(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: MT.ociIndex, manifests: entries }) + '\n');
}
