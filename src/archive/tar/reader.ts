/**
 * A streaming tar reader: `for await (const entry of readTar(stream))`. Memory stays bounded by
 * one chunk whatever the archive size; an entry's data is read through `entry.chunks()` before
 * asking for the next entry (data not read is skipped).
 *
 * @example
 * for await (const e of readTar(createReadStream('layer.tar'))) {
 *   if (e.header.type === 'file') for await (const c of e.chunks()) out.write(c);
 * }
 */
import { BerthError } from '../../util/errors.js';
import { BLOCK, entryType, parseBlock, parsePax, type TarHeader } from './header.js';

/** One entry: its header and, for regular files, its data (read once, in order). */
export interface TarEntry {
  header: TarHeader;
  /** The entry's data as chunks; empty for anything but regular files. */
  chunks(): AsyncGenerator<Buffer>;
}

/** Largest PAX or GNU long-name payload accepted: real ones are a few hundred bytes. */
const MAX_META = 1 << 20;

/** Reads exact byte counts from an async iterable of Buffers. */
class ByteReader {
  private buf: Buffer = Buffer.alloc(0);
  private readonly it: AsyncIterator<Buffer | string>;
  private done = false;

  constructor(source: AsyncIterable<Buffer | string>) {
    this.it = source[Symbol.asyncIterator]();
  }

  private async fill(): Promise<boolean> {
    if (this.done) return false;
    const r = await this.it.next();
    if (r.done) { this.done = true; return false; }
    const chunk = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    return true;
  }

  /** Exactly `n` bytes, or fewer only at the end of the input. */
  async read(n: number): Promise<Buffer> {
    while (this.buf.length < n && (await this.fill()));
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(out.length);
    return out;
  }

  /** Between 1 and `n` (> 0) bytes: what is buffered, without copying, or the next chunk. */
  async take(n: number, what: string): Promise<Buffer> {
    if (this.buf.length === 0 && !(await this.fill())) {
      throw new BerthError('ETAR', `tar: unexpected end of archive in ${what}`);
    }
    const out = this.buf.subarray(0, Math.min(n, this.buf.length));
    this.buf = this.buf.subarray(out.length);
    return out;
  }

  /** Up to `n` bytes as they arrive, without copying more than needed. */
  async *stream(n: number, what: string): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      const c = await this.take(left, what);
      left -= c.length;
      yield c;
    }
  }

  async skip(n: number, what: string): Promise<void> {
    for await (const _ of this.stream(n, what)) { /* discard */ }
  }

  /** Releases the source (stops a file or network read early). */
  async close(): Promise<void> {
    if (!this.done) await this.it.return?.();
  }
}

const NO_FIELDS: ReadonlyMap<string, Buffer> = new Map();

const padding = (n: number): number => (BLOCK - (n % BLOCK)) % BLOCK;

/**
 * Iterates the entries of a tar stream. PAX ('x', 'g') and GNU long-name ('L', 'K') records are
 * applied to the entry they describe; the end is two zero blocks (one, or the end of input, is
 * accepted: some writers stop early). Throws ETAR naming the problem for a corrupt header,
 * truncated data or an entry kind Berth does not unpack (GNU sparse files, volume headers).
 */
export async function* readTar(source: AsyncIterable<Buffer | string>): AsyncGenerator<TarEntry> {
  const r = new ByteReader(source);
  let global = new Map<string, Buffer>();
  let pax: Map<string, Buffer> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  try {
    for (;;) {
      const block = await r.read(BLOCK);
      if (block.length === 0) return;
      if (block.length < BLOCK) throw new BerthError('ETAR', 'tar: unexpected end of archive in a header');
      const raw = parseBlock(block);
      if (!raw) return;
      const meta = async (what: string): Promise<Buffer> => {
        if (raw.size > MAX_META) throw new BerthError('ETAR', `tar: ${what} of ${raw.size} bytes is too large`);
        const data = await r.read(raw.size);
        if (data.length < raw.size) throw new BerthError('ETAR', `tar: unexpected end of archive in ${what}`);
        await r.skip(padding(raw.size), what);
        return data;
      };
      switch (raw.typeflag) {
        case 'x': pax = parsePax(await meta('a pax header')); continue;
        case 'g': global = new Map([...global, ...parsePax(await meta('a global pax header'))]); continue;
        case 'L': longName = (await meta('a GNU long name')).toString('utf8').replace(/\0+$/, ''); continue;
        case 'K': longLink = (await meta('a GNU long link name')).toString('utf8').replace(/\0+$/, ''); continue;
      }
      const type = entryType(raw.typeflag);
      // most entries have no pax records at all: no merged map for them
      const fields = pax === undefined && global.size === 0 ? NO_FIELDS : new Map([...global, ...(pax ?? [])]);
      const str = (k: string): string | undefined => fields.get(k)?.toString('utf8');
      const num = (k: string, fallback: number): number => {
        const v = str(k);
        if (v === undefined) return fallback;
        const n = Number(v);
        if (!Number.isFinite(n) || n < 0) throw new BerthError('ETAR', `tar pax header: ${k} ${JSON.stringify(v)} is not a number`);
        return n;
      };
      const name = str('path') ?? longName ?? raw.name;
      if (!type) {
        throw new BerthError('ETAR', `tar entry ${JSON.stringify(name)}: unsupported entry type ${JSON.stringify(raw.typeflag)}`);
      }
      const xattrs = new Map<string, Buffer>();
      if (fields.size) for (const [k, v] of fields) if (k.startsWith('SCHILY.xattr.')) xattrs.set(k.slice('SCHILY.xattr.'.length), v);
      const header: TarHeader = {
        name,
        type,
        mode: raw.mode & 0o7777,
        uid: num('uid', raw.uid),
        gid: num('gid', raw.gid),
        uname: str('uname') ?? raw.uname,
        gname: str('gname') ?? raw.gname,
        size: num('size', raw.size),
        mtime: num('mtime', raw.mtime),
        linkname: str('linkpath') ?? longLink ?? raw.linkname,
        devmajor: raw.devmajor,
        devminor: raw.devminor,
        xattrs,
      };
      pax = undefined;
      longName = undefined;
      longLink = undefined;
      if (!Number.isSafeInteger(header.size)) throw new BerthError('ETAR', `tar entry ${JSON.stringify(name)}: bad size ${header.size}`);
      // Only regular files carry data; a size on a link or directory header is ignored by GNU tar
      // and Go alike, except that hardlinks may (rarely) carry it too — skip whatever is declared.
      const dataSize = header.size;
      if (type !== 'file') header.size = 0;
      let started = false;
      let left = dataSize;
      const what = `tar entry ${JSON.stringify(name)}`;
      const entry: TarEntry = {
        header,
        chunks: async function* () {
          if (started) throw new BerthError('ETAR', `${what}: data read twice`);
          started = true;
          if (type !== 'file') return;
          while (left > 0) { // one generator, not two: a layer has thousands of small files
            const c = await r.take(left, what);
            left -= c.length;
            yield c;
          }
        },
      };
      yield entry;
      if (left > 0) await r.skip(left, what); // data the consumer did not read (or stopped reading)
      await r.skip(padding(dataSize), what);
    }
  } finally {
    await r.close();
  }
}
