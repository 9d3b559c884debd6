/**
 * The framing of the helper protocol (native/PROTOCOL.md): every message is a `u32le` body
 * length followed by the body; the body is a sequence of fields, each a `u32le` length followed
 * by that many bytes. The first field is the message type (ASCII).
 *
 * @example
 *   sock.write(encodeMessage(['mount', 'proc', '/proc', 'proc', '14', '', 'dir', '0']));
 *   for await (const [type, ...fields] of readMessages(sock)) console.log(type.toString());
 */
import type { Readable } from 'node:stream';

/** One field of a message: a string (sent as UTF-8) or raw bytes. */
export type Field = string | Buffer;

/** Largest body the decoder accepts; the helper uses the same bound. */
export const MAX_BODY = 64 * 1024 * 1024;

/** Encode one message (type first) into a framed Buffer. */
export function encodeMessage(fields: readonly Field[]): Buffer {
  const bufs = fields.map((f) => (typeof f === 'string' ? Buffer.from(f, 'utf8') : f));
  const body = bufs.reduce((n, b) => n + 4 + b.length, 0);
  const out = Buffer.allocUnsafe(4 + body);
  out.writeUInt32LE(body, 0);
  let off = 4;
  for (const b of bufs) {
    out.writeUInt32LE(b.length, off);
    b.copy(out, off + 4);
    off += 4 + b.length;
  }
  return out;
}

/**
 * Incremental decoder: `push` whatever chunks the socket delivers (a message may arrive split or
 * several at once) and get back the complete messages, each as its fields.
 */
export class MessageDecoder {
  private buf: Buffer = Buffer.alloc(0);

  /** Add a chunk; returns every message completed by it, in order. Throws on a malformed frame. */
  push(chunk: Buffer): Buffer[][] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Buffer[][] = [];
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32LE(0);
      if (len > MAX_BODY) throw new Error(`helper protocol: message of ${len} bytes exceeds ${MAX_BODY}`);
      if (this.buf.length < 4 + len) break;
      out.push(decodeBody(this.buf.subarray(4, 4 + len)));
      this.buf = this.buf.subarray(4 + len);
    }
    return out;
  }

  /** Bytes of an incomplete message still held (non-zero at EOF means a truncated message). */
  get pending(): number {
    return this.buf.length;
  }
}

/** Split a message body into its fields. */
function decodeBody(body: Buffer): Buffer[] {
  const fields: Buffer[] = [];
  let off = 0;
  while (off < body.length) {
    if (body.length - off < 4) throw new Error('helper protocol: truncated field length');
    const len = body.readUInt32LE(off);
    if (len > body.length - off - 4) throw new Error('helper protocol: field overruns its message');
    fields.push(Buffer.from(body.subarray(off + 4, off + 4 + len)));
    off += 4 + len;
  }
  if (fields.length === 0) throw new Error('helper protocol: empty message');
  return fields;
}

/** Yield the messages read from a stream (e.g. the helper's sync socket) until it ends. */
export async function* readMessages(stream: Readable): AsyncGenerator<Buffer[]> {
  const dec = new MessageDecoder();
  for await (const chunk of stream) {
    for (const m of dec.push(chunk as Buffer)) yield m;
  }
  if (dec.pending) throw new Error(`helper protocol: stream ended inside a message (${dec.pending} bytes)`);
}
