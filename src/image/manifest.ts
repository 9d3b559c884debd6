/**
 * OCI image manifests, indexes and configs (and their Docker v2 schema 2 twins): types, media
 * types, parsing with errors that name the field, and platform selection in an index.
 */
import { BerthError } from '../util/errors.js';
import { parseDigest, type Digest } from '../archive/digest.js';

export const MT = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

/** A content descriptor. */
export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  annotations?: Record<string, string>;
  platform?: Platform;
  urls?: string[];
}

/** An OS/architecture pair, as in an index entry or an image config. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** An image manifest (OCI or Docker schema 2). */
export interface Manifest {
  schemaVersion: 2;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** An image index / Docker manifest list. */
export interface Index {
  schemaVersion: 2;
  mediaType: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

/** The image config (the fields Berth uses; others are kept as read). */
export interface ImageConfigFile {
  created?: string;
  author?: string;
  /** Docker's image comment (`commit -m`, not in the OCI spec; Docker writes and reads it). */
  comment?: string;
  architecture: string;
  os: string;
  variant?: string;
  config?: {
    User?: string; ExposedPorts?: Record<string, object>; Env?: string[]; Entrypoint?: string[] | null;
    Cmd?: string[] | null; Volumes?: Record<string, object>; WorkingDir?: string; Labels?: Record<string, string>;
    StopSignal?: string;
  };
  rootfs: { type: 'layers'; diff_ids: Digest[] };
  history?: { created?: string; created_by?: string; author?: string; comment?: string; empty_layer?: boolean }[];
}

const bad = (what: string, problem: string): BerthError => new BerthError('EINVALID_IMAGE', `${what}: ${problem}`);

/** Parses JSON, failing with EINVALID_IMAGE naming `what`. */
export function parseJson(data: Buffer | string, what: string): Record<string, unknown> {
  let v: unknown;
  try { v = JSON.parse(data.toString()); } catch (err) { throw bad(what, `not JSON (${(err as Error).message})`); }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw bad(what, 'not a JSON object');
  return v as Record<string, unknown>;
}

/** Validates a descriptor at `what` (e.g. "manifest layers[1]"). */
export function parseDescriptor(v: unknown, what: string): Descriptor {
  if (!v || typeof v !== 'object') throw bad(what, 'not a descriptor object');
  const d = v as Record<string, unknown>;
  if (typeof d.mediaType !== 'string') throw bad(`${what}.mediaType`, 'missing');
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) throw bad(`${what}.size`, `${JSON.stringify(d.size)} is not a size`);
  return { ...(d as object), mediaType: d.mediaType, digest: parseDigest(d.digest, `${what}.digest`), size: d.size } as Descriptor;
}

/** True for the media type of an index or manifest list. */
export function isIndexType(mt: string | undefined): boolean {
  return mt === MT.ociIndex || mt === MT.dockerList;
}

/**
 * Parses a manifest or an index. The kind comes from `mediaType` (the document's own, or the
 * Content-Type / descriptor it came with), falling back to the fields present, as OCI allows
 * documents without a mediaType.
 */
export function parseManifestOrIndex(data: Buffer, what: string, hint?: string): { kind: 'manifest'; manifest: Manifest } | { kind: 'index'; index: Index } {
  const o = parseJson(data, what);
  if (o.schemaVersion !== 2) throw bad(`${what}.schemaVersion`, `${JSON.stringify(o.schemaVersion)} is not supported (want 2; Docker schema 1 images are obsolete)`);
  const mt = typeof o.mediaType === 'string' ? o.mediaType : hint;
  if (isIndexType(mt) || (!mt && Array.isArray(o.manifests))) {
    if (!Array.isArray(o.manifests)) throw bad(`${what}.manifests`, 'missing');
    const manifests = o.manifests.map((m, i) => parseDescriptor(m, `${what}.manifests[${i}]`));
    return { kind: 'index', index: { ...(o as object), schemaVersion: 2, mediaType: mt ?? MT.ociIndex, manifests } as Index };
  }
  if (mt && mt !== MT.ociManifest && mt !== MT.dockerManifest) throw bad(`${what}.mediaType`, `${mt} is not an image manifest or index`);
  if (!Array.isArray(o.layers)) throw bad(`${what}.layers`, 'missing');
  const config = parseDescriptor(o.config, `${what}.config`);
  const layers = o.layers.map((l, i) => parseDescriptor(l, `${what}.layers[${i}]`));
  return { kind: 'manifest', manifest: { ...(o as object), schemaVersion: 2, mediaType: mt ?? MT.ociManifest, config, layers } as Manifest };
}

/** Parses and checks an image config. */
export function parseConfig(data: Buffer, what: string): ImageConfigFile {
  const o = parseJson(data, what);
  const rootfs = o.rootfs as { type?: unknown; diff_ids?: unknown } | undefined;
  if (!rootfs || rootfs.type !== 'layers' || !Array.isArray(rootfs.diff_ids)) throw bad(`${what}.rootfs`, 'want {"type": "layers", "diff_ids": [...]}');
  rootfs.diff_ids.forEach((d, i) => parseDigest(d, `${what}.rootfs.diff_ids[${i}]`));
  if (typeof o.os !== 'string' || typeof o.architecture !== 'string') throw bad(what, 'os and architecture are required');
  return o as unknown as ImageConfigFile;
}

/** The platform of this host in OCI terms (amd64, arm64 …; `os` linux). */
export function hostPlatform(): Platform {
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  const p: Platform = { os: 'linux', architecture: arch[process.arch] ?? process.arch };
  if (p.architecture === 'arm64') p.variant = 'v8';
  return p;
}

/** Parses "linux/arm64/v8" into a Platform. */
export function parsePlatform(s: string): Platform {
  const parts = s.toLowerCase().split('/');
  const [os, arch, v] = parts;
  if (!os || !arch || parts.length > 3 || parts.some((x) => x === '')) {
    throw new BerthError('EINVALID_ARG', `platform ${JSON.stringify(s)}: want os/arch[/variant], e.g. linux/amd64`);
  }
  return normalizePlatform(os, arch, v);
}

/**
 * The OCI spellings of an architecture and variant, as containerd's platforms.Normalize gives
 * them (Docker accepts `linux/x86_64`, `linux/aarch64`, `linux/armhf`...).
 */
function normalizePlatform(os: string, arch: string, variant?: string): Platform {
  let a = arch;
  let v = variant;
  if (v && /^\d+$/.test(v)) v = `v${v}`;
  if (a === 'x86_64' || a === 'x86-64') a = 'amd64';
  else if (a === 'i386' || a === 'i486' || a === 'i586' || a === 'i686') a = '386';
  else if (a === 'aarch64') a = 'arm64';
  else if (a === 'armhf') { a = 'arm'; v = 'v7'; }
  else if (a === 'armel') { a = 'arm'; v = 'v6'; }
  if (a === 'amd64' && v === 'v1') v = undefined;
  return v ? { os, architecture: a, variant: v } : { os, architecture: a };
}

/**
 * Picks the manifest for `want` from an index: os and architecture must match; a variant matches
 * exactly, or any variant when none is wanted (arm64's "v8" is also matched by no variant).
 * Throws ENOT_FOUND listing the platforms the index offers.
 */
export function selectPlatform(index: Index, want: Platform, what: string): Descriptor {
  const candidates = index.manifests.filter((m) => m.platform?.os === want.os && m.platform.architecture === want.architecture);
  const v = (x?: string): string | undefined => (want.architecture === 'arm64' && (x === undefined || x === 'v8') ? 'v8' : x);
  const exact = candidates.find((m) => v(m.platform?.variant) === v(want.variant));
  const pick = exact ?? (want.variant === undefined ? candidates[0] : undefined);
  if (pick) return pick;
  const offered = index.manifests.map((m) => (m.platform ? [m.platform.os, m.platform.architecture, m.platform.variant].filter(Boolean).join('/') : '?')).join(', ');
  const wanted = [want.os, want.architecture, want.variant].filter(Boolean).join('/');
  throw new BerthError('ENOT_FOUND', `${what} has no image for ${wanted} (it has: ${offered || 'none'})`);
}
