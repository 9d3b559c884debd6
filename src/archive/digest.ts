/**
 * Content digests (`sha256:<64 hex>`), as the OCI image spec defines them, and a stream that
 * verifies a blob's digest and size while it passes through.
 *
 * A digest names content, so anything read from a registry, an archive or the disk is checked
 * against the digest that named it before it is trusted. Only sha256 is accepted: the spec also
 * registers sha512, but no registry or tool in use produces it, and refusing it keeps one code
 * path (a digest Berth cannot verify is an error, never a pass).
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
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

/**
 * A pass-through stream that hashes what flows through it. With `expected`, it fails the stream
 * (EDIGEST_MISMATCH) at the end when the digest differs, and as soon as more than `size` bytes
 * arrive or, at the end, when fewer did — so a truncated or padded download never looks complete.
 * Without `expected`, read `digest` and `bytes` after the end.
 */
export class DigestStream extends Transform {
  private readonly hash: Hash = createHash('sha256');
  /** Bytes seen so far. */
  bytes = 0;
  /** The digest of everything seen, set at the end of the stream. */
  digest: Digest | undefined;

  constructor(private readonly expected?: Digest, private readonly size?: number, private readonly what = 'blob') {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.size !== undefined && this.bytes > this.size) {
      cb(new BerthError('EDIGEST_MISMATCH', `${this.what} ${this.expected ?? ''}: more than the ${this.size} bytes its descriptor says`.replace('  ', ' ')));
      return;
    }
    this.hash.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.digest = `sha256:${this.hash.digest('hex')}`;
    if (this.size !== undefined && this.bytes !== this.size) {
      cb(new BerthError('EDIGEST_MISMATCH', `${this.what} ${this.expected ?? ''}: size is ${this.bytes} bytes, descriptor says ${this.size}`.replace('  ', ' ')));
      return;
    }
    if (this.expected && this.digest !== this.expected) {
      cb(new BerthError('EDIGEST_MISMATCH', `${this.what} ${this.expected}: content has digest ${this.digest}`));
      return;
    }
    cb();
  }
}
