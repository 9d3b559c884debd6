/**
 * `berth pull`: manifest (an index resolved to this platform's manifest), config and layers
 * from a registry into the blob store, every blob verified against its digest and size, layers
 * downloaded concurrently (three at a time, like Docker) and each retried whole on failure.
 * The image is recorded — its name made to point at it — only after every blob is stored and
 * every layer unpacked, so an interrupted pull leaves no image and a second pull reuses the blobs
 * the first one completed.
 */
import { Readable } from 'node:stream';
import { BerthError } from '../../util/errors.js';
import type { BlobStore } from '../blobs.js';
import { sha256, verifyBuffer, type Digest } from '../digest.js';
import { MT, hostPlatform, parseManifestOrIndex, selectPlatform, type Descriptor, type Manifest, type Platform } from '../manifest.js';
import type { ProgressFn } from '../progress.js';
import { formatReference, type ImageRef } from '../reference.js';
import type { RegistryClient } from './client.js';

const ACCEPT = [MT.ociIndex, MT.ociManifest, MT.dockerList, MT.dockerManifest].join(', ');
/** Largest manifest accepted (the distribution spec suggests registries cap them at 4 MiB). */
const MAX_MANIFEST = 4 << 20;

/** What a pull fetched. */
export interface Pulled {
  manifestDigest: Digest;
  manifest: Manifest;
  mediaType: string;
}

async function fetchManifest(client: RegistryClient, reference: string, expected?: Descriptor | Digest): Promise<{ data: Buffer; mediaType?: string; digest: Digest }> {
  const res = await client.request('GET', `manifests/${reference}`, { headers: { accept: ACCEPT } });
  if (res.status === 404) {
    await res.body?.cancel();
    throw new BerthError('ENOT_FOUND', `manifest ${client.registry}/${client.repository}:${reference} not found`);
  }
  const data = Buffer.from(await res.arrayBuffer());
  if (data.length > MAX_MANIFEST) throw new BerthError('EREGISTRY', `manifest ${reference} is larger than 4 MiB`);
  const want = typeof expected === 'string' ? expected : expected?.digest;
  if (want) verifyBuffer(data, want, typeof expected === 'object' ? expected.size : undefined, 'manifest');
  const digest = sha256(data);
  const header = res.headers.get('docker-content-digest');
  if (!want && header && header !== digest) throw new BerthError('EDIGEST_MISMATCH', `manifest ${reference}: registry says ${header}, content has digest ${digest}`);
  const ct = res.headers.get('content-type')?.split(';')[0]?.trim();
  return { data, digest, ...(ct ? { mediaType: ct } : {}) };
}

/** Downloads one blob into the store unless present, retrying the whole blob on failure. */
async function fetchBlob(client: RegistryClient, blobs: BlobStore, d: Descriptor, progress?: ProgressFn): Promise<void> {
  const id = d.digest.slice(7, 19);
  if (await blobs.has(d.digest, d.size)) { progress?.({ id, action: 'exists' }); return; }
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await client.request('GET', `blobs/${d.digest}`);
      if (res.status === 404 || !res.body) {
        await res.body?.cancel();
        throw new BerthError('ENOT_FOUND', `blob ${d.digest} not found in ${client.registry}/${client.repository}`);
      }
      const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
      async function* counted(): AsyncGenerator<Buffer> {
        let current = 0;
        for await (const c of body) {
          current += (c as Buffer).length;
          progress?.({ id, action: 'downloading', current, total: d.size });
          yield c as Buffer;
        }
      }
      await blobs.ingest(counted(), { digest: d.digest, size: d.size }, 'blob');
      progress?.({ id, action: 'downloaded' });
      return;
    } catch (err) {
      const code = (err as { code?: string }).code;
      // a wrong digest may be a corrupted transfer: retry; a missing blob or bad auth will not heal
      if (attempt >= 3 || code === 'ENOT_FOUND' || code === 'EAUTH') throw err;
      progress?.({ id, action: 'retrying' });
    }
  }
}

/** Runs `fn` on every item with at most `limit` running at once; fails on the first error. */
export async function eachLimit<T>(items: T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Fetches `ref` from its registry into `blobs` and returns the manifest. With an index, the
 * entry for `platform` (default: this host) is chosen; the index itself is not stored.
 */
export async function pullBlobs(client: RegistryClient, ref: ImageRef, blobs: BlobStore, opts: {
  platform?: Platform; progress?: ProgressFn; concurrency?: number;
  /** Called as each layer is stored (config stored already), so unpacking can overlap downloads. */
  onLayer?: (layer: Descriptor, index: number, manifest: Manifest) => void;
} = {}): Promise<Pulled> {
  await blobs.cleanTemp();
  const name = formatReference(ref);
  let m = await fetchManifest(client, ref.digest ?? ref.tag ?? 'latest', ref.digest);
  let parsed = parseManifestOrIndex(m.data, `manifest of ${name}`, m.mediaType);
  if (parsed.kind === 'index') {
    const desc = selectPlatform(parsed.index, opts.platform ?? hostPlatform(), name);
    m = await fetchManifest(client, desc.digest, desc);
    parsed = parseManifestOrIndex(m.data, `manifest ${desc.digest} of ${name}`, desc.mediaType);
    if (parsed.kind !== 'manifest') throw new BerthError('EINVALID_IMAGE', `${name}: an index inside an index is not supported`);
  }
  const manifest = parsed.manifest;
  for (const l of manifest.layers) {
    if (l.urls?.length && !(await blobs.has(l.digest))) {
      // foreign (Windows) layers live elsewhere; Linux images do not have them
      throw new BerthError('EUNSUPPORTED', `${name}: layer ${l.digest} is a foreign layer at ${l.urls[0]}`);
    }
  }
  await fetchBlob(client, blobs, manifest.config);
  await eachLimit(manifest.layers.map((l, i) => ({ l, i })), opts.concurrency ?? 3, async ({ l, i }) => {
    await fetchBlob(client, blobs, l, opts.progress);
    opts.onLayer?.(l, i, manifest);
  });
  await blobs.put(m.data, { digest: m.digest, size: m.data.length }, 'manifest');
  return { manifestDigest: m.digest, manifest, mediaType: manifest.mediaType };
}
