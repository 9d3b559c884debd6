/**
 * Content digests (`sha256:<64 hex>`), as the OCI image spec defines them. (A blob's digest and
 * size are verified while it streams in by the blob store's ingest, blobs.ts.)
 *
 * A digest names content, so anything read from a registry, an archive or the disk is checked
 * against the digest that named it before it is trusted. Only sha256 is accepted: the spec also
 * registers sha512, but no registry or tool in use produces it, and refusing it keeps one code
 * path (a digest Berth cannot verify is an error, never a pass).
 */
import { createHash } from 'node:crypto';
import { BerthError } from '../util/errors.js';

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

/** A validated `sha256:<hex>` string. */
export type Digest = `sha256:${string}`;

/** True when `s` is a well-formed sha256 digest. */
export function isDigest(s: unknown): s is Digest {
  return typeof s === 'string' && DIGEST_RE.test(s);
}

/**
 * Returns `s` as a Digest, or throws EINVALID_DIGEST naming `what` (e.g. "manifest layers[2].digest").
 * @example parseDigest(desc.digest, 'config.digest')
 */
export function parseDigest(s: unknown, what = 'digest'): Digest {
  if (!isDigest(s)) {
    throw new BerthError('EINVALID_DIGEST', `${what} ${JSON.stringify(s)} is not a digest: want sha256: and 64 lower-case hex digits`);
  }
  return s;
}

/** The 64 hex digits of a digest (its file name in a blob store). */
export function digestHex(d: Digest): string {
  return d.slice('sha256:'.length);
}

/** The sha256 digest of a buffer or string. */
export function sha256(data: Buffer | string): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Throws EDIGEST_MISMATCH when `data` does not have `expected` digest (and size, when given). */
export function verifyBuffer(data: Buffer, expected: Digest, size?: number, what = 'blob'): void {
  if (size !== undefined && data.length !== size) {
    throw new BerthError('EDIGEST_MISMATCH', `${what} ${expected}: size is ${data.length} bytes, descriptor says ${size}`);
  }
  const got = sha256(data);
  if (got !== expected) throw new BerthError('EDIGEST_MISMATCH', `${what} ${expected}: content has digest ${got}`);
}
