/**
 * The HTTP side of Docker's Engine API: versions, errors, bodies and query strings as dockerd
 * has them (moby api/server/httputils). Handlers (containers.ts, system.ts) stay in engine terms.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BerthError } from '../util/errors.js';

import { API_VERSION, MIN_API_VERSION } from '../engine/info.js';

export { API_VERSION, MIN_API_VERSION };

/** An error with Docker's status code; its message goes out as `{"message": ...}`. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Docker's status for an engine error: 404 not found, 409 conflict, 400 bad input, else 500. */
export function statusOf(err: unknown): number {
  if (err instanceof ApiError) return err.status;
  if (!(err instanceof BerthError)) return 500;
  switch (err.code) {
    case 'ENOT_FOUND': return 404;
    case 'EEXISTS': case 'EBAD_STATE': case 'ELOCKED': return 409;
    case 'EINVALID_ARG': case 'EINVALID_CONFIG': case 'EUNSUPPORTED': return 400;
    default: return 500;
  }
}

/** Compare two "1.xx" versions. */
export function compareVersions(a: string, b: string): number {
  const [am, an] = a.split('.').map(Number) as [number, number];
  const [bm, bn] = b.split('.').map(Number) as [number, number];
  return am - bm || an - bn;
}

/**
 * Split `/v1.41/containers/json` into the version asked for and the route; an unversioned path
 * is the newest version. Too new or too old is dockerd's 400.
 */
export function versionOf(path: string): { version: string; route: string } {
  const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(path);
  if (!m) return { version: API_VERSION, route: path };
  const version = m[1]!;
  if (compareVersions(version, API_VERSION) > 0) throw new ApiError(400, `client version ${version} is too new. Maximum supported API version is ${API_VERSION}`);
  if (compareVersions(version, MIN_API_VERSION) < 0) {
    throw new ApiError(400, `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
  }
  return { version, route: m[2]! };
}

/** The request body as JSON (an empty body is `{}`); malformed JSON is a 400. */
export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 16 * 1024 * 1024) throw new ApiError(413, 'request body too large (over 16 MiB)');
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {};
  try {
    const v = JSON.parse(text) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch (err) {
    throw new ApiError(400, `invalid JSON body: ${(err as Error).message}`);
  }
}

/** A query parameter as Docker's boolean: "1", "true", "True" and "TRUE" are true; absent is `dflt`. */
export function boolParam(q: URLSearchParams, name: string, dflt = false): boolean {
  const v = q.get(name);
  if (v === null || v === '') return dflt;
  return ['1', 'true', 'True', 'TRUE'].includes(v);
}

/** An integer query parameter; a bad one is a 400 naming it. */
export function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw new ApiError(400, `invalid value for ${name}: ${JSON.stringify(v)}: a whole number is expected`);
  return Number(v);
}

/**
 * Docker's `filters` query parameter: JSON of key → values, either {"status": ["running"]} or
 * the old {"status": {"running": true}}.
 */
export function filtersParam(q: URLSearchParams): Record<string, string[]> {
  const v = q.get('filters');
  if (!v) return {};
  let parsed: unknown;
  try { parsed = JSON.parse(v); } catch { throw new ApiError(400, `invalid filters: ${JSON.stringify(v)} is not JSON`); }
  const out: Record<string, string[]> = {};
  for (const [k, vals] of Object.entries((parsed ?? {}) as Record<string, unknown>)) {
    out[k] = Array.isArray(vals) ? vals.map(String) : Object.keys((vals ?? {}) as object);
  }
  return out;
}

/** Send `body` as JSON with `status`. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** An empty answer (204 No Content, 304 Not Modified). */
export function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status);
  res.end();
}

/** Content-Type of a container's or an exec's output: raw with a TTY, multiplexed without. */
export function streamType(tty: boolean): string {
  return tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream';
}

/**
 * One frame of Docker's multiplexed stream (a container without a TTY): stream 1 stdout, 2
 * stderr; an 8-byte header (stream, three zero bytes, big-endian length), then the payload.
 */
export function frame(stream: 1 | 2, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
}
