/**
 * `berth push`: an image's blobs and manifest to a registry over the OCI distribution API.
 *
 * For each blob (layers, then the config): HEAD says whether the registry has it already; if
 * not, and a repository on the same registry is known to hold it, a cross-repository mount
 * (`POST /blobs/uploads/?mount=D&from=REPO`) asks the registry to link it without a transfer
 * (it answers 201 when it did, 202 with an upload session when it would not); otherwise an upload
 * session is opened (`POST /blobs/uploads/`) and the blob is sent either whole with the closing
 * `PUT ?digest=` (monolithic) or, when larger than the chunk size, in `PATCH` requests carrying
 * a Content-Range each, then closed with an empty `PUT ?digest=`. The registry checks the digest
 * itself. The manifest goes last, with `PUT /manifests/<tag>`, in the exact bytes stored — its
 * digest is the image's identity, so it must not be re-serialised.
 *
 * Every request body is a Buffer (a chunk of at most `chunkSize` bytes read from the blob file),
 * so the client can repeat it after a 401 challenge. HEAD and the manifest PUT are repeated as
 * they are on a retryable failure; an upload session is started over (see `pushBlob`).
 */
import { open } from 'node:fs/promises';
import { BerthError } from '../../util/errors.js';
import type { BlobStore } from '../blobs.js';
import type { Digest } from '../../archive/digest.js';
import type { Descriptor } from '../manifest.js';
import type { ProgressFn } from '../progress.js';
import { eachLimit } from './pull.js';
import type { RegistryClient } from './client.js';
import { isTransient, withRetries } from './retry.js';

/** Options of `pushImage`. */
export interface PushOptions {
  progress?: ProgressFn;
  /** Blobs up to this size go in one PUT; larger ones in PATCH chunks of this size (default 16 MiB). */
  chunkSize?: number;
  /** A repository on the same registry that holds the blobs (tried as a cross-repository mount). */
  mountFrom?: string;
  /** Blobs uploaded at once (default 3, like Docker). */
  concurrency?: number;
}

/** What a push did. */
export interface Pushed {
  /** The manifest digest the registry reports (equal to the local one). */
  digest: Digest;
  uploaded: Digest[];
  existed: Digest[];
  mounted: Digest[];
}

async function readChunk(path: string, start: number, length: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    let off = 0;
    while (off < length) {
      const { bytesRead } = await fh.read(buf, off, length - off, start + off);
      if (bytesRead === 0) throw new BerthError('ESTORE', `blob file ${path} is shorter than its descriptor says`);
      off += bytesRead;
    }
    return buf;
  } finally {
    await fh.close();
  }
}

/** The upload URL of a 202 answer (its Location), or an error naming the request. */
function location(res: Response, what: string): string {
  const loc = res.headers.get('location');
  if (!loc) throw new BerthError('EREGISTRY', `${what}: the registry answered ${res.status} without a Location`);
  return loc;
}

/** `url` with `key=value` added to its query (the Location may carry its own query, e.g. _state). */
function withParam(client: RegistryClient, url: string, key: string, value: string): string {
  const u = new URL(client.url(url));
  u.searchParams.set(key, value);
  return u.toString();
}

async function expect(res: Response, ok: number[], what: string): Promise<void> {
  if (ok.includes(res.status)) return;
  const text = (await res.text().catch(() => '')).slice(0, 200);
  throw new BerthError('EREGISTRY', `${what}: the registry answered ${res.status} ${text}`.trim());
}

/**
 * Sends one blob unless the registry has it; says what it did. A failure worth repeating in the
 * upload session (connection error, 429, 5xx on the POST, a PATCH or the closing PUT) starts the
 * blob over — HEAD first, since the registry may have stored it after all — with backoff: a
 * registry may drop an upload session when it fails, so the same PATCH or PUT is not repeated.
 */
async function pushBlob(client: RegistryClient, blobs: BlobStore, d: Descriptor, opts: PushOptions): Promise<'exists' | 'mounted' | 'uploaded'> {
  return withRetries(client.policy, { method: 'PUT', url: client.url(`blobs/${d.digest}`) }, () => pushBlobOnce(client, blobs, d, opts), isTransient,
    () => opts.progress?.({ id: d.digest.slice(7, 19), action: 'retrying' }));
}

async function pushBlobOnce(client: RegistryClient, blobs: BlobStore, d: Descriptor, opts: PushOptions): Promise<'exists' | 'mounted' | 'uploaded'> {
  const id = d.digest.slice(7, 19);
  const head = await client.request('HEAD', `blobs/${d.digest}`, { push: true });
  await head.body?.cancel();
  if (head.status === 200) { opts.progress?.({ id, action: 'exists' }); return 'exists'; }
  let start: Response;
  if (opts.mountFrom && opts.mountFrom !== client.repository) {
    start = await client.request('POST', `blobs/uploads/?mount=${d.digest}&from=${encodeURIComponent(opts.mountFrom)}`, { push: true, retry: false });
    await start.body?.cancel();
    if (start.status === 201) { opts.progress?.({ id, action: 'exists' }); return 'mounted'; }
  } else {
    start = await client.request('POST', 'blobs/uploads/', { push: true, retry: false, headers: { 'content-length': '0' } });
    await start.body?.cancel();
  }
  if (start.status !== 202) throw new BerthError('EREGISTRY', `upload of blob ${d.digest} to ${client.registry}/${client.repository}: the registry answered ${start.status} to POST blobs/uploads/`);
  let url = location(start, `upload of blob ${d.digest}`);
  const chunk = opts.chunkSize ?? 16 << 20;
  const path = blobs.path(d.digest);
  opts.progress?.({ id, action: 'uploading', current: 0, total: d.size });
  if (d.size <= chunk) {
    const body = await readChunk(path, 0, d.size);
    const res = await client.request('PUT', withParam(client, url, 'digest', d.digest), { push: true, retry: false, body, headers: { 'content-type': 'application/octet-stream' } });
    await expect(res, [201, 204], `PUT of blob ${d.digest}`);
    await res.body?.cancel();
  } else {
    for (let off = 0; off < d.size; off += chunk) {
      const n = Math.min(chunk, d.size - off);
      const body = await readChunk(path, off, n);
      const res = await client.request('PATCH', url, {
        push: true, retry: false, body, headers: { 'content-type': 'application/octet-stream', 'content-range': `${off}-${off + n - 1}` },
      });
      await expect(res, [202, 204], `PATCH of blob ${d.digest} bytes ${off}-${off + n - 1}`);
      await res.body?.cancel();
      url = location(res, `PATCH of blob ${d.digest}`);
      opts.progress?.({ id, action: 'uploading', current: off + n, total: d.size });
    }
    const res = await client.request('PUT', withParam(client, url, 'digest', d.digest), { push: true, retry: false, body: Buffer.alloc(0) });
    await expect(res, [201, 204], `closing PUT of blob ${d.digest}`);
    await res.body?.cancel();
  }
  opts.progress?.({ id, action: 'uploaded' });
  return 'uploaded';
}

/**
 * Pushes the image whose manifest (stored bytes `manifestData`, media type `mediaType`) lists
 * `config` and `layers`, tagging it `tag` (or by digest when no tag) in the client's repository.
 */
export async function pushImage(client: RegistryClient, blobs: BlobStore, image: { manifestData: Buffer; mediaType: string; config: Descriptor; layers: Descriptor[]; digest: Digest }, tag: string | undefined, opts: PushOptions = {}): Promise<Pushed> {
  const out: Pushed = { digest: image.digest, uploaded: [], existed: [], mounted: [] };
  const note = (d: Digest, what: 'exists' | 'mounted' | 'uploaded'): void => { (what === 'exists' ? out.existed : what === 'mounted' ? out.mounted : out.uploaded).push(d); };
  for (const l of image.layers) {
    if (!(await blobs.has(l.digest, l.size))) throw new BerthError('ESTORE', `layer ${l.digest} of the image is missing from the blob store; pull or load the image again`);
  }
  await eachLimit(image.layers, opts.concurrency ?? 3, async (l) => note(l.digest, await pushBlob(client, blobs, l, opts)));
  note(image.config.digest, await pushBlob(client, blobs, image.config, { ...opts, progress: undefined }));
  const ref = tag ?? image.digest;
  const res = await client.request('PUT', `manifests/${ref}`, { push: true, body: image.manifestData, headers: { 'content-type': image.mediaType } });
  await expect(res, [201, 200], `PUT of manifest ${ref}`);
  await res.body?.cancel();
  const said = res.headers.get('docker-content-digest');
  if (said && said !== image.digest) throw new BerthError('EDIGEST_MISMATCH', `manifest ${ref}: the registry stored digest ${said}, the image's is ${image.digest}`);
  return out;
}
