/**
 * Docker's system endpoints: /_ping (version negotiation starts here), /version, /info,
 * /system/df; and POST /images/prune, which shares its engine code with `system prune`.
 */
import { diskUsage, pruneImages } from '../engine/df.js';
import { engineInfo, versionDocument } from '../engine/info.js';
import { summary, type ApiContext } from './containers.js';
import { created, repoDigests, repoTags } from './images.js';
import { API_VERSION, ApiError, filtersParam, sendJson } from './http.js';

/** Berth's version (the CLI's), passed in by whoever starts the server. */
export interface ServerInfo {
  version: string;
}

/** The headers every answer carries, as dockerd's do: a client reads the version here. */
export function pingHeaders(): Record<string, string> {
  return { 'API-Version': API_VERSION, 'Docker-Experimental': 'false', 'OSType': 'linux', 'Server': 'Berth', 'Cache-Control': 'no-cache, no-store, must-revalidate', 'Pragma': 'no-cache' };
}

/** GET and HEAD /_ping */
export function ping(c: ApiContext): void {
  const head = c.req.method === 'HEAD';
  c.res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': head ? '0' : '2' });
  c.res.end(head ? undefined : 'OK');
}

/** GET /version */
export function version(c: ApiContext, info: ServerInfo): void {
  sendJson(c.res, 200, versionDocument(info.version));
}

/** GET /info (engine/info.ts, as `berth info`). */
export async function info(c: ApiContext, i: ServerInfo): Promise<void> {
  sendJson(c.res, 200, await engineInfo(c.paths, i.version));
}

/** GET /system/df: Docker's DiskUsage (engine/df.ts says how sizes are counted). */
export async function systemDf(c: ApiContext): Promise<void> {
  const du = await diskUsage(c.paths, { root: c.paths.dataRoot, ...c.caller.image });
  sendJson(c.res, 200, {
    LayersSize: du.layersSize,
    Images: du.images.map((i) => ({
      Id: i.image.id, ParentId: '', RepoTags: repoTags(i.image), RepoDigests: repoDigests(i.image), Created: created(i.image), Size: i.size,
      SharedSize: i.sharedSize, VirtualSize: i.size, Labels: i.image.raw.config?.Labels ?? {}, Containers: i.containers,
    })),
    Containers: du.containers.map((ct) => ({ ...summary(ct.record), SizeRw: ct.size, SizeRootFs: ct.size })),
    Volumes: du.volumes.map((v) => ({ ...v.volume, UsageData: { Size: v.size, RefCount: v.refCount } })),
    BuildCache: [],
  });
}

/** POST /images/prune?filters={"dangling":["false"]} (false: every unused image, the CLI's -a). */
export async function pruneImagesApi(c: ApiContext): Promise<void> {
  const filters = filtersParam(c.query);
  const unknown = Object.keys(filters).filter((k) => k !== 'dangling');
  if (unknown.length) throw new ApiError(400, `invalid filter '${unknown[0]}': image prune takes the dangling filter only`);
  const all = (filters.dangling ?? []).some((v) => v === 'false' || v === '0');
  const r = await pruneImages(c.paths, { root: c.paths.dataRoot, ...c.caller.image }, all);
  const deleted = r.deleted.map((l) => (l.startsWith('untagged: ') ? { Untagged: l.slice(10) } : { Deleted: l.slice(9) }));
  sendJson(c.res, 200, { ImagesDeleted: deleted.length ? deleted : null, SpaceReclaimed: r.bytes });
}
