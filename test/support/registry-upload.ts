/**
 * Writes images straight into a test registry with plain HTTP requests of the distribution API
 * (monolithic blob upload: POST /blobs/uploads/ then PUT ?digest=; PUT /manifests/REF), so tests
 * can build what Berth's own push does not make: a multi-platform OCI image index or Docker
 * manifest list whose entries are small images of several architectures.
 */
import { gzipSync } from 'node:zlib';
import { sha256 } from '../../src/archive/digest.js';
import { MT, type Platform } from '../../src/image/manifest.js';
import { tarBuffer, type MemoryEntry } from '../../src/archive/tar/writer.js';

/** A descriptor as written into a manifest or index. */
export interface Desc { mediaType: string; digest: string; size: number; platform?: Platform }

/** Uploads `data` as a blob of `repo` (host:port of a plain-HTTP registry) and returns its digest. */
export async function uploadBlob(host: string, repo: string, data: Buffer): Promise<string> {
  const digest = sha256(data);
  const start = await fetch(`http://${host}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers: { 'content-length': '0' } });
  await start.body?.cancel();
  if (start.status !== 202) throw new Error(`POST blobs/uploads/ of ${repo}: ${start.status}`);
  const u = new URL(start.headers.get('location') ?? '', `http://${host}`);
  u.searchParams.set('digest', digest);
  const put = await fetch(u, { method: 'PUT', body: new Uint8Array(data), headers: { 'content-type': 'application/octet-stream' } });
  await put.body?.cancel();
  if (put.status !== 201) throw new Error(`PUT blob ${digest} of ${repo}: ${put.status}`);
  return digest;
}

/** Puts a manifest or index under `ref` (tag or digest) and returns its descriptor. */
export async function putManifest(host: string, repo: string, ref: string, doc: object, mediaType: string): Promise<Desc> {
  const data = Buffer.from(JSON.stringify(doc));
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${ref}`, { method: 'PUT', body: new Uint8Array(data), headers: { 'content-type': mediaType } });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`PUT manifest ${repo}:${ref}: ${res.status} ${text}`);
  return { mediaType, digest: sha256(data), size: data.length };
}

/** One platform's image for `pushPlatformImage`: uncompressed layer tars and the config's Cmd. */
export interface PlatformImage {
  platform: Platform;
  layers: Buffer[];
  cmd: string[];
}

/** Media types of the two flavours of a multi-platform image. */
const FLAVOURS = {
  oci: { index: MT.ociIndex, manifest: MT.ociManifest, config: MT.ociConfig, layer: MT.ociLayerGzip },
  docker: { index: MT.dockerList, manifest: MT.dockerManifest, config: MT.dockerConfig, layer: MT.dockerLayerGzip },
} as const;

/**
 * Pushes one image per entry of `images` (by digest) and an index (OCI) or manifest list
 * (Docker) naming them all, tagged `tag`. Returns the index's descriptor and each image's
 * manifest descriptor, in the order given.
 */
export async function pushPlatformIndex(host: string, repo: string, tag: string, images: PlatformImage[], flavour: 'oci' | 'docker'): Promise<{ index: Desc; manifests: Desc[] }> {
  const mt = FLAVOURS[flavour];
  const manifests: Desc[] = [];
  for (const img of images) {
    const layers: Desc[] = [];
    for (const tar of img.layers) {
      const gz = gzipSync(tar);
      layers.push({ mediaType: mt.layer, digest: await uploadBlob(host, repo, gz), size: gz.length });
    }
    const cfg = Buffer.from(JSON.stringify({
      architecture: img.platform.architecture, os: img.platform.os, ...(img.platform.variant ? { variant: img.platform.variant } : {}),
      created: '2024-01-01T00:00:00Z', config: { Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: img.cmd },
      rootfs: { type: 'layers', diff_ids: img.layers.map((t) => sha256(t)) },
    }));
    const config = { mediaType: mt.config, digest: await uploadBlob(host, repo, cfg), size: cfg.length };
    const m = await putManifest(host, repo, sha256(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: mt.manifest, config, layers }))), { schemaVersion: 2, mediaType: mt.manifest, config, layers }, mt.manifest);
    manifests.push({ ...m, platform: img.platform });
  }
  const index = await putManifest(host, repo, tag, { schemaVersion: 2, mediaType: mt.index, manifests }, mt.index);
  return { index, manifests };
}

/** A one-file layer (a marker saying which platform's image this is). */
export function markerLayer(name: string, text: string): Buffer {
  const entries: MemoryEntry[] = [{ name: 'etc/', type: 'dir' }, { name: `etc/${name}`, type: 'file', data: text }];
  return tarBuffer(entries);
}
