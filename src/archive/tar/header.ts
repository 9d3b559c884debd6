/**
 * The tar header: the 512-byte ustar block, its numeric encodings and checksum, and PAX extended
 * header records. Shared by the streaming reader and the writer.
 *
 * Layers in the wild come from GNU tar, Go's archive/tar (Docker, containerd, buildkit), Python's
 * tarfile and libarchive, so the reader accepts ustar, the old GNU format (long names in 'L'/'K'
 * pseudo-entries, base-256 numbers) and POSIX pax (per-entry 'x' and global 'g' records).
 */
import { BerthError } from '../../util/errors.js';

/** The kinds of entries a layer may contain. Sparse and multi-volume GNU entries are refused. */
export type EntryType = 'file' | 'hardlink' | 'symlink' | 'chardev' | 'blockdev' | 'dir' | 'fifo';

/** One tar entry's metadata, with PAX and GNU long-name extensions already applied. */
export interface TarHeader {
  /** The path as stored (not normalised; see `normalizeEntryPath`). */
  name: string;
  type: EntryType;
  /** Permission bits and setuid/setgid/sticky (07777). */
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  size: number;
  /** Modification time in seconds since the epoch (PAX may give a fraction). */
  mtime: number;
  /** The symlink target, or the archive path a hardlink refers to. */
  linkname: string;
  devmajor: number;
  devminor: number;
  /** Extended attributes from PAX `SCHILY.xattr.<name>` records. */
  xattrs: Map<string, Buffer>;
}

/** A tar block. Entries and their data are padded to a multiple of it. */
export const BLOCK = 512;

const TYPES: Record<string, EntryType> = {
  '0': 'file', '\0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink',
  '3': 'chardev', '4': 'blockdev', '5': 'dir', '6': 'fifo',
};
const TYPE_FLAGS: Record<EntryType, string> = {
  file: '0', hardlink: '1', symlink: '2', chardev: '3', blockdev: '4', dir: '5', fifo: '6',
};

/** The raw fields of one header block, before PAX/GNU overrides. */
export interface RawHeader {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
}

function cstring(b: Buffer, off: number, len: number): string {
  const field = b.subarray(off, off + len);
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? len : nul).toString('utf8');
}

/**
 * Reads a numeric field: octal ASCII (space/NUL terminated) or, when the top bit of the first byte
 * is set, GNU base-256 big-endian (used for sizes over 8 GiB and ids over 2097151).
 */
export function readNumber(b: Buffer, off: number, len: number, what: string): number {
  const first = b[off] ?? 0;
  if (first & 0x80) {
    if (first === 0xff) throw new BerthError('ETAR', `tar header: negative base-256 ${what}`);
    let v = first & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + (b[off + i] ?? 0);
    if (!Number.isSafeInteger(v)) throw new BerthError('ETAR', `tar header: ${what} is too large`);
    return v;
  }
  // Byte by byte rather than through a string and a regular expression: a layer has thousands
  // of headers of seven numbers each. Leading and trailing spaces and NULs are padding; anything
  // else that is not an octal digit makes the field invalid.
  const end = Math.min(off + len, b.length);
  let i = off;
  while (i < end && (b[i] === 0x20 || b[i] === 0)) i++;
  let v = 0;
  for (; i < end; i++) {
    const c = b[i]!;
    if (c < 0x30 || c > 0x37) break;
    v = v * 8 + (c - 0x30);
  }
  let j = i;
  while (j < end && (b[j] === 0x20 || b[j] === 0)) j++;
  if (j < end) {
    const s = b.subarray(off, end).toString('latin1').replace(/[\0 ]+$/, '').replace(/^[ \0]+/, '');
    throw new BerthError('ETAR', `tar header: ${what} field ${JSON.stringify(s)} is not octal`);
  }
  return v;
}

/**
 * Parses one 512-byte header block, checking its checksum. Returns null for an all-zero block
 * (the end-of-archive marker). The ustar `prefix` field is joined to the name only for POSIX
 * ustar (magic "ustar\0"): the old GNU format keeps access and change times in those bytes.
 */
export function parseBlock(b: Buffer): RawHeader | null {
  // One pass over the block: the plain byte sum (zero only for an all-zero block) and the
  // checksum both ways (old writers summed signed chars), the checksum field counting as spaces.
  let raw = 0;
  let unsigned = 0;
  let high = 0; // bytes >= 0x80, each 256 more in the unsigned sum than in the signed one
  for (let i = 0; i < BLOCK; i++) {
    const x = b[i] ?? 0;
    raw += x;
    if (i >= 148 && i < 156) { unsigned += 0x20; continue; }
    unsigned += x;
    if (x >= 0x80) high++;
  }
  if (raw === 0) return null;
  const signed = unsigned - 256 * high;
  const stored = readNumber(b, 148, 8, 'checksum');
  if (stored !== unsigned && stored !== signed) {
    throw new BerthError('ETAR', `tar header checksum mismatch (stored ${stored}, computed ${unsigned}): not a tar archive or corrupt`);
  }
  let name = cstring(b, 0, 100);
  if (b[257] === 0x75 && b[258] === 0x73 && b[259] === 0x74 && b[260] === 0x61 && b[261] === 0x72 && b[262] === 0) { // "ustar\0"
    const prefix = cstring(b, 345, 155);
    if (prefix) name = `${prefix}/${name}`;
  }
  return {
    name,
    mode: readNumber(b, 100, 8, 'mode'),
    uid: readNumber(b, 108, 8, 'uid'),
    gid: readNumber(b, 116, 8, 'gid'),
    size: readNumber(b, 124, 12, 'size'),
    mtime: readNumber(b, 136, 12, 'mtime'),
    typeflag: String.fromCharCode(b[156] ?? 0),
    linkname: cstring(b, 157, 100),
    uname: cstring(b, 265, 32),
    gname: cstring(b, 297, 32),
    devmajor: readNumber(b, 329, 8, 'devmajor'),
    devminor: readNumber(b, 337, 8, 'devminor'),
  };
}

/** The entry type for a typeflag, or undefined for one that is not an entry (pax, GNU long names). */
export function entryType(flag: string): EntryType | undefined {
  return TYPES[flag];
}

/**
 * Parses PAX records ("<len> <key>=<value>\n", len counting the whole record). Values stay
 * bytes because xattr values are binary.
 */
export function parsePax(data: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let pos = 0;
  while (pos < data.length) {
    if (data[pos] === 0) break; // some writers pad the record block with NULs
    const space = data.indexOf(0x20, pos);
    const len = space > pos ? Number(data.subarray(pos, space).toString('latin1')) : NaN;
    if (!Number.isSafeInteger(len) || len <= space - pos || pos + len > data.length || data[pos + len - 1] !== 0x0a) {
      throw new BerthError('ETAR', `tar pax header: malformed record at byte ${pos}`);
    }
    const rec = data.subarray(space + 1, pos + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq < 0) throw new BerthError('ETAR', `tar pax header: record at byte ${pos} has no '='`);
    out.set(rec.subarray(0, eq).toString('utf8'), Buffer.from(rec.subarray(eq + 1)));
    pos += len;
  }
  return out;
}

/** Encodes PAX records for `fields` (each record's length includes its own length digits). */
export function encodePax(fields: [string, Buffer | string][]): Buffer {
  const parts = fields.map(([k, v]) => {
    const body = Buffer.concat([Buffer.from(` ${k}=`), Buffer.from(v), Buffer.from('\n')]);
    let len = body.length + 1;
    while (String(len).length + body.length !== len) len = String(len).length + body.length;
    return Buffer.concat([Buffer.from(String(len)), body]);
  });
  return Buffer.concat(parts);
}

function writeOctal(b: Buffer, off: number, len: number, v: number): boolean {
  const s = Math.floor(v).toString(8);
  if (s.length > len - 1) return false;
  b.write(s.padStart(len - 1, '0') + '\0', off, len, 'latin1');
  return true;
}

/**
 * Encodes one ustar header block for `h` (name and linkname must fit, numbers must fit their
 * fields: the writer moves anything longer into PAX records first). `typeflag` overrides the
 * entry's own type (for 'x' pax headers).
 */
export function encodeBlock(h: Omit<TarHeader, 'xattrs'>, typeflag?: string): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(h.name, 0, 100, 'utf8');
  writeOctal(b, 100, 8, h.mode & 0o7777);
  writeOctal(b, 108, 8, h.uid) || writeOctal(b, 108, 8, 0);
  writeOctal(b, 116, 8, h.gid) || writeOctal(b, 116, 8, 0);
  writeOctal(b, 124, 12, h.size) || writeOctal(b, 124, 12, 0);
  writeOctal(b, 136, 12, h.mtime) || writeOctal(b, 136, 12, 0);
  b.write(typeflag ?? TYPE_FLAGS[h.type], 156, 1, 'latin1');
  b.write(h.linkname, 157, 100, 'utf8');
  b.write('ustar\x0000', 257, 8, 'latin1');
  b.write(h.uname, 265, 32, 'utf8');
  b.write(h.gname, 297, 32, 'utf8');
  writeOctal(b, 329, 8, h.devmajor);
  writeOctal(b, 337, 8, h.devminor);
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const x of b) sum += x;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return b;
}
