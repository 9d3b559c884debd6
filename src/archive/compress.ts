/**
 * Layer compression: detection by magic number and decompression as a stream.
 *
 * gzip is in Node's zlib. zstd is not in Node 20's zlib (it arrived in Node 22.15/23.8), so zstd
 * layers go through Debian's `zstd` command (package zstd) as a child process: a stream in, a
 * stream out, nothing held in memory. The format is detected from the first bytes rather than
 * trusted from the media type, because docker-archive tarballs carry no media types and some
 * registries label gzip layers as plain tar.
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { PassThrough, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { BerthError, errnoCode } from '../util/errors.js';

/** How a layer blob is compressed. */
export type Compression = 'gzip' | 'zstd' | 'none';

/** The compression of a blob whose first bytes are `head` (4 bytes suffice). */
export function detectCompression(head: Buffer): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

/** Decompresses with the `zstd` command; its failure (or absence) fails the returned stream. */
function zstdStream(input: Readable, what: string): Readable {
  const child = spawn('zstd', ['-d', '-c', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out = new PassThrough();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { if (stderr.length < 4096) stderr += d.toString(); });
  child.on('error', (err) => {
    out.destroy(errnoCode(err) === 'ENOENT'
      ? new BerthError('EUNSUPPORTED', `${what} is zstd-compressed and the zstd command is missing: apt-get install zstd`)
      : err);
  });
  child.stdin.on('error', () => { /* zstd exited early; its status says why */ });
  input.on('error', (err) => { child.kill('SIGKILL'); out.destroy(err); });
  input.pipe(child.stdin);
  child.stdout.pipe(out, { end: false });
  // 'close' fires after stdout has been fully read, so the end of `out` follows all the data
  child.on('close', (code, signal) => {
    if (code === 0) out.end();
    else if (!out.destroyed) out.destroy(new BerthError('ETAR', `${what}: zstd failed (${signal ?? `exit ${code}`}): ${stderr.trim().split('\n')[0] ?? ''}`));
  });
  out.on('close', () => { if (child.exitCode === null) child.kill('SIGKILL'); });
  return out;
}

/**
 * A decompressed stream of `input` (a Readable over the blob) compressed as `compression`.
 * `what` names the blob in errors.
 */
export function decompress(input: Readable, compression: Compression, what: string): Readable {
  if (compression === 'none') return input;
  if (compression === 'zstd') return zstdStream(input, what);
  // 256 KiB output chunks instead of zlib's 16 KiB: each chunk is a round trip to the thread
  // pool, and a well-compressed layer inflates to thousands of them
  const gunzip = createGunzip({ chunkSize: 256 * 1024 });
  input.on('error', (err) => gunzip.destroy(err));
  gunzip.on('error', () => { input.destroy(); });
  return input.pipe(gunzip);
}

/**
 * Opens a layer blob file and returns its uncompressed tar stream, detecting the compression
 * from its first bytes.
 */
export async function openLayerTar(path: string, what: string): Promise<{ stream: Readable; compression: Compression }> {
  const fh = await open(path, 'r');
  const head = Buffer.alloc(4);
  try { await fh.read(head, 0, 4, 0); } finally { await fh.close(); }
  const compression = detectCompression(head);
  return { stream: decompress(createReadStream(path, { highWaterMark: 256 * 1024 }), compression, what), compression };
}
