/**
 * Docker's image endpoints that move images in and out, over the image layer: POST /images/load
 * (a `docker save` archive or an OCI layout tar in the body), GET /images/{name}/get and GET
 * /images/get?names= (what `docker save` reads), GET /images/{name}/history, POST
 * /images/{name}/push (dockerd's progress stream) and POST /auth (`docker login`).
 *
 * Credentials: a push or pull with the X-Registry-Auth header uses the client's credentials for
 * that request only (base64 JSON {username, password}); without it, the server's stored ones.
 * /auth checks them against the registry and, as dockerd does, stores nothing: the client keeps
 * them and sends them with each push and pull.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { checkLogin, load, push, resolveImage, save, stores, type ImageOptions } from '../image/index.js';
import type { ProgressEvent } from '../image/progress.js';
import { familiarName, formatReference, parseReference } from '../image/reference.js';
import type { ApiContext } from './containers.js';
import { ApiError, readJson, sendJson } from './http.js';

/** The image options of a request: the engine's data root and the server's registry settings. */
export const opts = (c: ApiContext, extra: Partial<ImageOptions> = {}): ImageOptions => ({ root: c.paths.dataRoot, ...c.caller.image, ...extra });

/** The X-Registry-Auth header's credentials, if any (an empty or "{}" header is none). */
export function registryAuth(c: ApiContext): { username: string; password: string } | undefined {
  const h = c.req.headers['x-registry-auth'];
  if (typeof h !== 'string' || !h) return undefined;
  let a: { username?: string; password?: string; identitytoken?: string };
  try {
    a = JSON.parse(Buffer.from(h.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')) as typeof a;
  } catch {
    throw new ApiError(400, 'X-Registry-Auth is not base64-encoded JSON');
  }
  if (a.identitytoken) throw new ApiError(400, 'X-Registry-Auth: identity tokens are not supported by Berth: send a username and password');
  return a.username ? { username: a.username, password: a.password ?? '' } : undefined;
}

/** A temporary file below the data root's tmp (removed by the caller). */
async function tempFile(c: ApiContext, what: string): Promise<string> {
  const dir = join(c.paths.dataRoot, 'tmp');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return join(dir, `${what}-${randomBytes(8).toString('hex')}.tar`);
}

/** POST /images/load?quiet= : the archive in the body; answered with dockerd's JSON stream lines. */
export async function loadImagesApi(c: ApiContext): Promise<void> {
  const file = await tempFile(c, 'load');
  try {
    await pipeline(c.req, createWriteStream(file, { mode: 0o600 }));
    const loaded = await load(file, opts(c));
    c.res.writeHead(200, { 'Content-Type': 'application/json' });
    for (const l of loaded) {
      const lines = l.names.length ? l.names.map((n) => `Loaded image: ${n}`) : [`Loaded image ID: ${l.id}`];
      for (const stream of lines) c.res.write(`${JSON.stringify({ stream: `${stream}\n` })}\n`);
    }
    c.res.end();
  } finally {
    await rm(file, { force: true });
  }
}

/** GET /images/{name}/get and GET /images/get?names=A&names=B : the archive `docker save` writes. */
export async function saveImagesApi(c: ApiContext): Promise<void> {
  const names = c.params[0] ? [c.params[0]] : c.query.getAll('names');
  if (!names.length) throw new ApiError(400, 'names is required');
  const file = await tempFile(c, 'save');
  try {
    await save(names, file, opts(c));
    c.res.writeHead(200, { 'Content-Type': 'application/x-tar' });
    await pipeline(createReadStream(file), c.res);
  } finally {
    await rm(file, { force: true });
  }
}

/** GET /images/{name}/history : the image's steps, newest first (dockerd's HistoryResponseItem). */
export async function historyApi(c: ApiContext): Promise<void> {
  const img = await resolveImage(c.params[0]!, opts(c));
  let layer = 0;
  const steps = (img.raw.history ?? []).map((h) => ({ h, size: h.empty_layer ? 0 : (img.layers[layer++]?.size ?? 0) })).reverse();
  sendJson(c.res, 200, steps.map(({ h, size }, i) => ({
    Id: i === 0 ? img.id : '<missing>', Created: h.created ? Math.floor(Date.parse(h.created) / 1000) : 0, CreatedBy: h.created_by ?? '',
    Tags: i === 0 ? img.names.filter((n) => !n.includes('@')).map((n) => familiarName(parseReference(n))) : null, Size: size, Comment: h.comment ?? '',
  })));
}

/** POST /images/{name}/push?tag= : dockerd's JSON progress stream; a failure after it began is an `error` line. */
export async function pushImageApi(c: ApiContext): Promise<void> {
  const tag = c.query.get('tag');
  const ref = tag ? `${c.params[0]!}:${tag}` : c.params[0]!;
  let name: string;
  try { name = formatReference(parseReference(ref)); } catch (err) { throw new ApiError(400, (err as Error).message); }
  await resolveImage(name, opts(c)); // a missing image is a 404 before the stream starts
  const credentials = registryAuth(c);
  c.res.writeHead(200, { 'Content-Type': 'application/json' });
  const line = (o: object) => c.res.write(`${JSON.stringify(o)}\n`);
  const r = parseReference(name);
  line({ status: `The push refers to repository [${r.registry}/${r.repository}]` });
  const words: Partial<Record<ProgressEvent['action'], string>> = { exists: 'Layer already exists', uploading: 'Pushing', uploaded: 'Pushed', retrying: 'Retrying' };
  try {
    const pushed = await push(name, opts(c, {
      ...(credentials ? { credentials } : {}),
      progress: (e) => { const w = words[e.action]; if (w) line({ status: w, ...(e.total ? { progressDetail: { current: e.current ?? 0, total: e.total } } : { progressDetail: {} }), id: e.id }); },
    }));
    const size = (await stores(c.paths.dataRoot).blobs.get(pushed.digest)).length;
    line({ status: `${r.tag ?? r.digest}: digest: ${pushed.digest} size: ${size}` });
    line({ progressDetail: {}, aux: { Tag: r.tag ?? '', Digest: pushed.digest, Size: size } });
  } catch (err) {
    const message = (err as Error).message;
    line({ errorDetail: { message }, error: message });
  }
  c.res.end();
}

/** POST /auth {username, password, serveraddress}: checked against the registry, not stored. */
export async function authApi(c: ApiContext): Promise<void> {
  const b = await readJson(c.req) as { username?: string; password?: string; serveraddress?: string };
  if (!b.username) throw new ApiError(400, 'username is required');
  const registry = (b.serveraddress || 'docker.io').replace(/^https?:\/\//, '').replace(/\/.*$/, '').replace(/^index\.docker\.io$/, 'docker.io');
  try {
    await checkLogin(registry, b.username, b.password ?? '', opts(c));
  } catch (err) {
    throw new ApiError(401, `login to ${registry} failed: ${(err as Error).message}`);
  }
  sendJson(c.res, 200, { Status: 'Login Succeeded', IdentityToken: '' });
}
