/**
 * `berth pull`: manifest (an index resolved to this platform's manifest), config and layers
 * from a registry into the blob store, every blob verified against its digest and size, layers
 * downloaded concurrently (three at a time, like Docker) and each retried whole when its
 * transfer fails (retry.ts has the policy).
 * The image is recorded — its name made to point at it — only after every blob is stored and
 * every layer unpacked, so an interrupted pull leaves no image and a second pull reuses the blobs
 * the first one completed.
 */
import { berthCode, BerthError } from '../../util/errors.js';
import type { BlobStore } from '../blobs.js';
import { sha256, verifyBuffer, type Digest } from '../../archive/digest.js';
import { MT, hostPlatform, parseManifestOrIndex, selectPlatform, type Descriptor, type Manifest, type Platform } from '../manifest.js';
import type { ProgressFn } from '../progress.js';
import { formatReference, type ImageRef } from '../reference.js';
import type { RegistryClient } from './client.js';
import { TransientError, isTransient, withRetries } from './retry.js';

const ACCEPT = [MT.ociIndex, MT.ociManifest, MT.dockerList, MT.dockerManifest].join(', ');
/** Largest manifest accepted (the distribution spec suggests registries cap them at 4 MiB). */
const MAX_MANIFEST = 4 << 20;

/** What a pull fetched. */
export interface Pulled {
  /**
   * The digest of the index (or manifest list) the reference named, when it named one: what
   * Docker prints as "Digest:" and records as the repo digest of a multi-platform image.
   */
  indexDigest?: Digest;
  manifestDigest: Digest;
  manifest: Manifest;
  mediaType: string;
}

/** Reads a response body whole; a connection lost meanwhile is a TransientError. */
async function readAll(res: Response, what: string): Promise<Buffer> {
  try {
    return Buffer.from(await res.arrayBuffer());
  } catch (err) {
    throw new TransientError(`${what}: connection lost while reading (${String((err as Error).cause ?? (err as Error).message)})`, { cause: err });
  }
}

async function fetchManifest(client: RegistryClient, reference: string, expected?: Descriptor | Digest): Promise<{ data: Buffer; mediaType?: string; digest: Digest }> {
  const path = `manifests/${reference}`;
  return withRetries(client.policy, { method: 'GET', url: client.url(path) }, async () => {
    const res = await client.request('GET', path, { headers: { accept: ACCEPT } });
    if (res.status === 404) {
      await res.body?.cancel();
      throw new BerthError('ENOT_FOUND', `manifest ${client.registry}/${client.repository}:${reference} not found`);
    }
    const data = await readAll(res, `manifest ${reference}`);
    if (data.length > MAX_MANIFEST) throw new BerthError('EREGISTRY', `manifest ${reference} is larger than 4 MiB`);
    const want = typeof expected === 'string' ? expected : expected?.digest;
    if (want) verifyBuffer(data, want, typeof expected === 'object' ? expected.size : undefined, 'manifest');
    const digest = sha256(data);
    const header = res.headers.get('docker-content-digest');
    if (!want && header && header !== digest) throw new BerthError('EDIGEST_MISMATCH', `manifest ${reference}: registry says ${header}, content has digest ${digest}`);
    const ct = res.headers.get('content-type')?.split(';')[0]?.trim();
    return { data, digest, ...(ct ? { mediaType: ct } : {}) };
  });
}

/**
 * Downloads one blob into the store unless present. The request itself is retried on 5xx, 429
 * and connection errors; a body cut short (reset, or ended before the descriptor's size) repeats
 * the whole download with backoff, up to the policy's attempts; a body with the wrong digest is
 * downloaded once more, then fails (see retry.ts). The store keeps only verified blobs, so a
 * failed attempt leaves nothing behind.
 */
async function fetchBlob(client: RegistryClient, blobs: BlobStore, d: Descriptor, progress?: ProgressFn): Promise<void> {
  const id = d.digest.slice(7, 19);
  if (await blobs.has(d.digest, d.size)) { progress?.({ id, action: 'exists' }); return; }
  const path = `blobs/${d.digest}`;
  let mismatches = 0;
  const retryable = (err: unknown): boolean => isTransient(err) || (berthCode(err) === 'EDIGEST_MISMATCH' && ++mismatches < 2);
  await withRetries(client.policy, { method: 'GET', url: client.url(path) }, async () => {
    const res = await client.request('GET', path);
    if (res.status === 404 || !res.body) {
      await res.body?.cancel();
      throw new BerthError('ENOT_FOUND', `blob ${d.digest} not found in ${client.registry}/${client.repository}`);
    }
    // the web stream itself, not Readable.fromWeb: a Node Readable over it would emit 'error'
    // (unhandled, fatal) if the connection broke before ingest began reading it
    const body = res.body as unknown as AsyncIterable<Uint8Array>;
    async function* counted(): AsyncGenerator<Buffer> {
      let current = 0;
      try {
        for await (const c of body) {
          current += c.byteLength;
          progress?.({ id, action: 'downloading', current, total: d.size });
          yield Buffer.from(c.buffer, c.byteOffset, c.byteLength);
        }
      } catch (err) {
        throw new TransientError(`blob ${d.digest}: connection lost after ${current} of ${d.size} bytes (${String((err as Error).cause ?? (err as Error).message)})`, { cause: err });
      }
      if (current < d.size) throw new TransientError(`blob ${d.digest}: the registry sent ${current} of its ${d.size} bytes`);
    }
    try {
      await blobs.ingest(counted(), { digest: d.digest, size: d.size }, 'blob');
    } catch (err) {
      // when ingest failed before reading, the connection would stay open until collected
      await res.body.cancel().catch(() => undefined);
      throw err;
    }
  }, retryable, () => progress?.({ id, action: 'retrying' }));
  progress?.({ id, action: 'downloaded' });
}

/**
 * Runs `fn` on every item with at most `limit` running at once. After an error no further item
 * is started, and the first error is thrown once those running have finished — so nothing keeps
 * downloading or uploading in the background after the caller has been told of the failure.
 */
export async function eachLimit<T>(items: T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const bad = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (bad) throw bad.reason;
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
  let indexDigest: Digest | undefined;
  if (parsed.kind === 'index') {
    indexDigest = m.digest;
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
  return { ...(indexDigest ? { indexDigest } : {}), manifestDigest: m.digest, manifest, mediaType: manifest.mediaType };
}
