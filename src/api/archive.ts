/**
 * Docker's archive endpoints over engine/copy.ts, what `docker cp` uses: HEAD and GET
 * /containers/{id}/archive?path= (the path's stat in the X-Docker-Container-Path-Stat header,
 * base64 JSON; GET adds its tar stream), PUT /containers/{id}/archive?path=DIR with a tar body
 * (noOverwriteDirNonDir, copyUIDGID); and GET /containers/{id}/export and /changes (engine/changes.ts).
 */
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { findContainer } from '../engine/containers.js';
import { archiveFromContainer, extractToContainer, openContainerFiles, statInContainer } from '../engine/copy.js';
import { BerthError } from '../util/errors.js';
import type { ApiContext } from './containers.js';
import { ApiError, boolParam, sendEmpty, sendJson } from './http.js';
import { containerChanges, exportContainer } from '../engine/changes.js';

function pathParam(c: ApiContext): string {
  const path = c.query.get('path');
  if (!path) throw new ApiError(400, 'path is required (an absolute path in the container)');
  return path.startsWith('/') ? path : `/${path}`;
}

const statHeader = (stat: object): string => Buffer.from(JSON.stringify(stat)).toString('base64');

/** HEAD /containers/{id}/archive?path= */
export async function statArchive(c: ApiContext): Promise<void> {
  const path = pathParam(c);
  const rec = await findContainer(c.paths, c.params[0]!);
  const files = openContainerFiles(c.paths, rec);
  try {
    const stat = statInContainer(files, path);
    c.res.writeHead(200, { 'X-Docker-Container-Path-Stat': statHeader(stat), 'Content-Type': 'application/json' });
    c.res.end();
  } finally {
    files.close();
  }
}

/** GET /containers/{id}/archive?path= : the tar stream (an error after it began cuts the connection). */
export async function getArchive(c: ApiContext): Promise<void> {
  const path = pathParam(c);
  const rec = await findContainer(c.paths, c.params[0]!);
  const files = openContainerFiles(c.paths, rec);
  try {
    const stat = statInContainer(files, path);
    const tar = archiveFromContainer(files, path);
    const first = await tar.next(); // errors before anything is sent are the API's JSON errors
    c.res.writeHead(200, { 'X-Docker-Container-Path-Stat': statHeader(stat), 'Content-Type': 'application/x-tar' });
    async function* all(): AsyncGenerator<Buffer> {
      if (!first.done) yield first.value;
      yield* tar;
    }
    await pipeline(Readable.from(all()), c.res).catch((err: unknown) => { c.res.destroy(err as Error); });
  } finally {
    files.close();
  }
}

/** PUT /containers/{id}/archive?path=DIR&noOverwriteDirNonDir=&copyUIDGID= */
export async function putArchive(c: ApiContext): Promise<void> {
  const path = pathParam(c);
  const rec = await findContainer(c.paths, c.params[0]!);
  const files = openContainerFiles(c.paths, rec);
  try {
    await extractToContainer(files, rec, path, c.req, { copyUIDGID: boolParam(c.query, 'copyUIDGID'), noOverwriteDirNonDir: boolParam(c.query, 'noOverwriteDirNonDir') });
  } catch (err) {
    // Docker: a read-only root file system is a 403
    if (err instanceof BerthError && /read-only/.test(err.message)) throw new ApiError(403, err.message);
    throw err;
  } finally {
    files.close();
  }
  sendEmpty(c.res, 200);
}

/** GET /containers/{id}/export: the root file system as a tar (an error after it began cuts the connection). */
export async function exportApi(c: ApiContext): Promise<void> {
  const rec = await findContainer(c.paths, c.params[0]!);
  const tar = exportContainer(rec);
  try {
    const first = await tar.stream.next();
    c.res.writeHead(200, { 'Content-Type': 'application/x-tar' });
    async function* all(): AsyncGenerator<Buffer> {
      if (!first.done) yield first.value;
      yield* tar.stream;
    }
    await pipeline(Readable.from(all()), c.res).catch((err: unknown) => { c.res.destroy(err as Error); });
  } finally {
    tar.close();
  }
}

/** GET /containers/{id}/changes: [{Path, Kind}] (0 changed, 1 added, 2 deleted). */
export async function changesApi(c: ApiContext): Promise<void> {
  const rec = await findContainer(c.paths, c.params[0]!);
  const changes = await containerChanges(c.paths, rec);
  sendJson(c.res, 200, changes.length ? changes : null);
}
