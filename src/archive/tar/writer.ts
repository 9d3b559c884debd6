/**
 * A tar writer producing POSIX pax archives, the format Go's archive/tar (and so Docker and
 * containerd) writes: a plain ustar header when everything fits, with a preceding 'x' record for
 * long names, large numbers, fractional times and xattrs.
 */
import { BLOCK, encodeBlock, encodePax, type TarHeader } from './header.js';

/** Fields of an entry to write; omitted ones get defaults (mode 0644/0755, root, time 0). */
export type TarEntryInput = Partial<TarHeader> & Pick<TarHeader, 'name' | 'type'>;

/** Fills defaults for a partial header. */
export function fullHeader(e: TarEntryInput): TarHeader {
  return {
    mode: e.type === 'dir' ? 0o755 : 0o644, uid: 0, gid: 0, uname: '', gname: '', size: 0, mtime: 0,
    linkname: '', devmajor: 0, devminor: 0, xattrs: new Map(), ...e,
  };
}

const fitsOctal = (v: number, len: number): boolean => Number.isInteger(v) && v >= 0 && v.toString(8).length <= len - 1;
// eslint-disable-next-line no-control-regex
const ascii = (s: string): boolean => /^[\x01-\x7f]*$/.test(s);

/**
 * The header blocks for one entry (a pax record first when needed). The caller writes the entry's
 * `size` bytes of data after it, then `pad(size)`.
 */
export function headerBlocks(input: TarEntryInput): Buffer {
  const h = fullHeader(input);
  const pax: [string, Buffer | string][] = [];
  let name = h.name;
  if (Buffer.byteLength(name) > 100 || !ascii(name)) {
    pax.push(['path', name]);
    name = name.slice(-100).replace(/[^\x01-\x7f]/g, '_');
  }
  let linkname = h.linkname;
  if (Buffer.byteLength(linkname) > 100 || !ascii(linkname)) {
    pax.push(['linkpath', linkname]);
    linkname = linkname.slice(-100).replace(/[^\x01-\x7f]/g, '_');
  }
  if (!fitsOctal(h.size, 12)) pax.push(['size', String(h.size)]);
  if (!fitsOctal(h.uid, 8)) pax.push(['uid', String(h.uid)]);
  if (!fitsOctal(h.gid, 8)) pax.push(['gid', String(h.gid)]);
  if (!fitsOctal(h.mtime, 12)) pax.push(['mtime', String(h.mtime)]);
  for (const [k, v] of h.xattrs) pax.push([`SCHILY.xattr.${k}`, v]);
  const main = encodeBlock({ ...h, name, linkname });
  if (pax.length === 0) return main;
  const data = encodePax(pax);
  const paxName = `PaxHeaders.0/${name.replace(/^.*\//, '')}`.slice(0, 99);
  const xh = encodeBlock({ ...h, name: paxName, linkname: '', size: data.length, type: 'file' }, 'x');
  return Buffer.concat([xh, data, pad(data.length), main]);
}

/** Zero bytes to pad `size` bytes of data to a whole block. */
export function pad(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/** The end-of-archive marker: two zero blocks. */
export function endOfArchive(): Buffer {
  return Buffer.alloc(2 * BLOCK);
}

/** An in-memory entry for `tarBuffer`: header fields plus the data of a regular file. */
export type MemoryEntry = TarEntryInput & { data?: Buffer | string };

/**
 * A whole archive in memory from entries (small archives: manifests, tests, crafted layers).
 * @example tarBuffer([{ name: 'etc/', type: 'dir' }, { name: 'etc/hostname', type: 'file', data: 'x\n' }])
 */
export function tarBuffer(entries: MemoryEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.data === undefined ? Buffer.alloc(0) : Buffer.from(e.data);
    const { data: _d, ...h } = e;
    parts.push(headerBlocks({ ...h, size: e.type === 'file' ? data.length : 0 }));
    if (e.type === 'file') parts.push(data, pad(data.length));
  }
  parts.push(endOfArchive());
  return Buffer.concat(parts);
}
