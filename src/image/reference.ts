/**
 * Image references ("busybox", "127.0.0.1:5000/team/app:1.2", "app@sha256:…"), normalised the
 * way Docker does: a first component with a dot, a colon or "localhost" is a registry, otherwise
 * the registry is docker.io and a single-component name gets "library/"; no tag means "latest".
 */
import { BerthError } from '../util/errors.js';
import { isDigest, type Digest } from '../archive/digest.js';

/** A parsed image reference. */
export interface ImageRef {
  /** Registry host[:port], e.g. "docker.io" or "127.0.0.1:5000". */
  registry: string;
  /** Repository path, e.g. "library/busybox". */
  repository: string;
  tag?: string;
  digest?: Digest;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;

/** Parses and normalises `ref`; throws EINVALID_ARG naming what is wrong. */
export function parseReference(ref: string): ImageRef {
  const fail = (why: string): BerthError => new BerthError('EINVALID_ARG', `image reference ${JSON.stringify(ref)}: ${why}`);
  let rest = ref;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const d = rest.slice(at + 1);
    if (!isDigest(d)) throw fail('the part after @ is not a sha256 digest');
    digest = d;
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw fail(`tag ${JSON.stringify(tag)} is invalid (letters, digits, _ . -, up to 128)`);
  }
  const parts = rest.split('/');
  let registry = 'docker.io';
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    registry = first;
    parts.shift();
  }
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = 'docker.io';
  if (registry === 'docker.io' && parts.length === 1) parts.unshift('library');
  for (const p of parts) if (!COMPONENT.test(p)) throw fail(`repository component ${JSON.stringify(p)} is invalid (lower-case letters, digits, separators . _ __ -)`);
  if (parts.length === 0 || rest === '') throw fail('empty name');
  if (!tag && !digest) tag = 'latest';
  return { registry, repository: parts.join('/'), ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** The canonical string: "docker.io/library/busybox:latest", "host:5000/app@sha256:…". */
export function formatReference(r: ImageRef): string {
  return `${r.registry}/${r.repository}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** The short form users type: docker.io and library/ dropped ("busybox:latest"). */
export function familiarName(r: ImageRef): string {
  let name = `${r.registry}/${r.repository}`;
  if (r.registry === 'docker.io') name = r.repository.replace(/^library\//, '');
  return `${name}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}
