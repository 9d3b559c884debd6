/**
 * The image database: which manifests are images and which names point at them, in
 * `<root>/image-db/images.json`, replaced atomically under a cross-process lock. The blobs
 * themselves live in the blob store; an image is only recorded after all its blobs are stored,
 * so a name never points at an incomplete image.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { lockDir } from '../util/lock.js';
import { BerthError, errnoCode } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import type { BlobStore } from './blobs.js';
import { isDigest, type Digest } from '../archive/digest.js';
import { parseConfig, parseManifestOrIndex, type ImageConfigFile, type Manifest } from './manifest.js';
import { formatReference, parseReference } from './reference.js';

/** One stored image. Its id is the digest of its config, as in Docker. */
export interface ImageRecord {
  id: Digest;
  manifest: Digest;
  mediaType: string;
  /** When it was added to this store (ISO 8601). */
  added: string;
}

interface Db {
  version: 1;
  images: Record<string, ImageRecord>; // by manifest digest
  tags: Record<string, Digest>; // canonical reference -> manifest digest
  /**
   * An index (multi-platform) digest -> the manifest pulled from it for this host's platform, so
   * `name@<index digest>`, what the registry and Docker print for the image, finds it here too.
   */
  indexes?: Record<string, Digest>;
}

/** An image resolved to its documents. */
export interface ResolvedImage {
  record: ImageRecord;
  manifest: Manifest;
  config: ImageConfigFile;
  /** Canonical names pointing at it. */
  names: string[];
}

/** The image database below `root`. */
export class ImageDb {
  private readonly dir: string;
  private readonly file: string;

  constructor(root: string, private readonly blobs: BlobStore) {
    this.dir = join(root, 'image-db');
    this.file = join(this.dir, 'images.json');
  }

  /** Reads the database (empty when none yet). */
  async read(): Promise<Db> {
    try {
      return JSON.parse(await readFile(this.file, 'utf8')) as Db;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return { version: 1, images: {}, tags: {} };
      throw new BerthError('ESTORE', `image database ${this.file} is unreadable: ${(err as Error).message}`);
    }
  }

  /** Runs `fn` on the database under the lock and writes the result atomically. */
  async update<T>(fn: (db: Db) => T | Promise<T>): Promise<T> {
    await mkdir(this.dir, { recursive: true });
    const release = lockDir(this.dir);
    try {
      const db = await this.read();
      const out = await fn(db);
      await writeFileAtomic(this.file, JSON.stringify(db, null, 1) + '\n');
      return out;
    } finally {
      release();
    }
  }

  /**
   * Records the image whose manifest is `manifest` (all blobs stored) and points `names` at it.
   * One image per config, as Docker's image id is: a second manifest of a config already here
   * (the same image loaded from a docker-archive and from an OCI layout, whose manifests differ
   * in media types or compression) gives its names to the image already recorded, and its
   * digest finds that image (`name@digest`) through the index map.
   */
  async add(manifest: Digest, mediaType: string, configDigest: Digest, names: string[], indexDigest?: Digest): Promise<ImageRecord> {
    return this.update((db) => {
      const same = db.images[manifest] ? undefined : Object.values(db.images).find((r) => r.id === configDigest);
      const rec = db.images[manifest] ?? same ?? { id: configDigest, manifest, mediaType, added: new Date().toISOString() };
      db.images[rec.manifest] = rec;
      if (rec.manifest !== manifest) db.indexes = { ...db.indexes, [manifest]: rec.manifest };
      for (const n of names) db.tags[n] = rec.manifest;
      if (indexDigest) db.indexes = { ...db.indexes, [indexDigest]: rec.manifest };
      return rec;
    });
  }

  /**
   * Finds the manifest digest for what a user typed: a name ("busybox", "host:5000/app:1"),
   * a name with digest, an image id ("sha256:…" or a hex prefix of at least 4 digits) or a
   * manifest digest. Throws ENOT_FOUND.
   */
  findIn(db: Db, ref: string): Digest {
    const hex = ref.replace(/^sha256:/, '');
    if (/^[a-f0-9]{4,64}$/.test(hex)) {
      const hits = Object.values(db.images).filter((r) => r.id.slice(7).startsWith(hex) || r.manifest.slice(7).startsWith(hex));
      // Several manifests of one image (stores written before add merged them) are one image.
      const ids = new Set(hits.map((h) => h.id));
      if (ids.size > 1) throw new BerthError('EINVALID_ARG', `image id prefix ${hex} is ambiguous: it starts ${[...ids].map((i) => i.slice(7, 19)).join(', ')}; give more of it`);
      if (hits[0]) return hits[0].manifest;
    }
    let parsed;
    try { parsed = parseReference(ref); } catch { parsed = undefined; }
    if (parsed) {
      if (parsed.digest && db.images[parsed.digest]) return parsed.digest;
      const viaIndex = parsed.digest ? db.indexes?.[parsed.digest] : undefined;
      if (viaIndex && db.images[viaIndex]) return viaIndex;
      const hit = db.tags[formatReference(parsed)];
      if (hit) return hit;
    }
    throw new BerthError('ENOT_FOUND', `no image ${JSON.stringify(ref)} in the local store`);
  }

  /** Loads an image's manifest and config (verified from the blob store). */
  async resolve(ref: string): Promise<ResolvedImage> {
    const db = await this.read();
    const m = this.findIn(db, ref);
    return this.load(db, m);
  }

  /** Loads the image recorded under manifest digest `m`. */
  async load(db: Db, m: Digest): Promise<ResolvedImage> {
    const record = db.images[m];
    if (!record) throw new BerthError('ENOT_FOUND', `no image with manifest ${m}`);
    const parsed = parseManifestOrIndex(await this.blobs.get(m, 'manifest'), `manifest ${m}`, record.mediaType);
    if (parsed.kind !== 'manifest') throw new BerthError('ESTORE', `image ${m} is an index, not a manifest`);
    const config = parseConfig(await this.blobs.get(parsed.manifest.config.digest, 'config'), `config ${parsed.manifest.config.digest}`);
    const names = Object.entries(db.tags).filter(([, d]) => d === m).map(([n]) => n).sort();
    return { record, manifest: parsed.manifest, config, names };
  }

  /** Every image, newest first. */
  async list(): Promise<ResolvedImage[]> {
    const db = await this.read();
    const out = await Promise.all(Object.keys(db.images).filter(isDigest).map((m) => this.load(db, m)));
    return out.sort((a, b) => b.record.added.localeCompare(a.record.added));
  }

  /**
   * How many images refer to each blob (manifest, config, layers): the reference counts that
   * decide what `prune` may delete.
   */
  async references(): Promise<Map<Digest, number>> {
    const counts = new Map<Digest, number>();
    const bump = (d: Digest): void => { counts.set(d, (counts.get(d) ?? 0) + 1); };
    for (const img of await this.list()) {
      bump(img.record.manifest);
      bump(img.manifest.config.digest);
      for (const l of img.manifest.layers) bump(l.digest);
    }
    return counts;
  }
}
