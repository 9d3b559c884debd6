/**
 * Docker's /volumes endpoints over engine/volumes.ts: list (with filters), create, inspect,
 * remove, prune (moby api/server/router/volume). At API 1.41 prune removes every unused volume,
 * named ones too (dockerd 20.10; the `all` filter came with 1.42).
 */
import { createVolume, inspectVolume, listVolumes, matchesVolumeFilters, pruneVolumes, removeVolume, VOLUME_FILTERS, volumeUsers } from '../engine/volumes.js';
import type { ApiContext } from './containers.js';
import { ApiError, filtersParam, readJson, sendEmpty, sendJson } from './http.js';

/** GET /volumes?filters= → {Volumes, Warnings}. */
export async function listVolumesApi(c: ApiContext): Promise<void> {
  const filters = filtersParam(c.query);
  const unknown = Object.keys(filters).filter((k) => !(VOLUME_FILTERS as readonly string[]).includes(k));
  if (unknown.length) throw new ApiError(400, `invalid filter '${unknown[0]}': use one of ${VOLUME_FILTERS.join(', ')}`);
  const users = volumeUsers(c.paths);
  const vols = (await listVolumes(c.paths)).filter((v) => matchesVolumeFilters(v, users.get(v.Name)?.length ?? 0, filters));
  sendJson(c.res, 200, { Volumes: vols, Warnings: null });
}

/** POST /volumes/create {Name, Driver, DriverOpts, Labels} → the volume (201). */
export async function createVolumeApi(c: ApiContext): Promise<void> {
  const b = await readJson(c.req) as { Name?: string; Driver?: string; DriverOpts?: Record<string, string> | null; Labels?: Record<string, string> | null };
  const v = await createVolume(c.paths, { ...(b.Name ? { name: b.Name } : {}), ...(b.Driver ? { driver: b.Driver } : {}), labels: b.Labels ?? {}, ...(b.DriverOpts ? { options: b.DriverOpts } : {}) });
  sendJson(c.res, 201, v);
}

/** GET /volumes/{name} */
export async function inspectVolumeApi(c: ApiContext): Promise<void> {
  sendJson(c.res, 200, await inspectVolume(c.paths, c.params[0]!));
}

/** DELETE /volumes/{name}?force=1 (force: no error for a missing volume). */
export async function removeVolumeApi(c: ApiContext): Promise<void> {
  const force = ['1', 'true'].includes(c.query.get('force') ?? '');
  await removeVolume(c.paths, c.params[0]!, force);
  sendEmpty(c.res, 204);
}

/** POST /volumes/prune?filters={"label":[...]} → {VolumesDeleted, SpaceReclaimed}. */
export async function pruneVolumesApi(c: ApiContext): Promise<void> {
  const filters = filtersParam(c.query);
  const unknown = Object.keys(filters).filter((k) => k !== 'label');
  if (unknown.length) throw new ApiError(400, `invalid filter '${unknown[0]}': volume prune takes label filters`);
  const { names, bytes } = await pruneVolumes(c.paths, { labels: filters.label ?? [] });
  sendJson(c.res, 200, { VolumesDeleted: names.length ? names : null, SpaceReclaimed: bytes });
}
