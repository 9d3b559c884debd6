/**
 * Docker's /images endpoints over the image layer (src/image/): list, inspect, pull (create,
 * with dockerd's JSON progress stream), tag, remove.
 */
import { listEngineContainers } from '../engine/containers.js';
import { imagesInUse } from '../engine/image-rootfs.js';
import { dockerArch } from '../engine/info.js';
import { listImages, pull, removeImage, resolveImage, tagImage, type EngineImage } from '../image/index.js';
import type { ProgressEvent } from '../image/progress.js';
import { familiarName, formatReference, parseReference } from '../image/reference.js';
import type { ApiContext } from './containers.js';
import { ApiError, boolParam, readJson, sendJson } from './http.js';
import { commitContainer } from '../engine/commit.js';
import { isZero } from './create-body.js';
import { opts, registryAuth } from './image-transfer.js';

const size = (img: EngineImage) => img.layers.reduce((n, l) => n + l.size, 0);
export const created = (img: EngineImage) => { const t = Date.parse(img.raw.created ?? ''); return Number.isNaN(t) ? 0 : Math.floor(t / 1000); };
export const repoTags = (img: EngineImage) => img.names.filter((n) => !n.includes('@')).map((n) => familiarName(parseReference(n)));
export const repoDigests = (img: EngineImage) => img.names.filter((n) => n.includes('@')).map((n) => familiarName(parseReference(n)));

/** GET /images/json */
export async function listImagesApi(c: ApiContext): Promise<void> {
  const imgs = await listImages(opts(c));
  sendJson(c.res, 200, imgs.map((img) => ({
    Id: img.id, ParentId: '', RepoTags: repoTags(img), RepoDigests: repoDigests(img), Created: created(img), Size: size(img), SharedSize: -1,
    VirtualSize: size(img), Labels: img.raw.config?.Labels ?? {}, Containers: -1,
  })));
}

/**
 * Berth's `host` image (the host's own system directories, read-only), as clients that inspect
 * an image before they create from it (docker compose) expect to find it.
 */
function hostImage(): Record<string, unknown> {
  return {
    Id: 'host', RepoTags: ['host'], RepoDigests: [], Parent: '', Comment: 'Berth: the host\'s own system directories, read-only', Created: '1970-01-01T00:00:00Z',
    Container: '', ContainerConfig: {}, DockerVersion: '', Author: '', Config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: null, Labels: {} },
    Architecture: dockerArch(), Os: 'linux', Size: 0, VirtualSize: 0, GraphDriver: { Name: 'host', Data: null },
    RootFS: { Type: 'layers', Layers: [] }, Metadata: { LastTagTime: '' },
  };
}

/**
 * An image's config as dockerd shows it: Docker's container Config with every field (the unset
 * ones at Go's zero value), the image's values in it. ContainerConfig, which dockerd fills from a
 * Dockerfile build's record and OCI images do not have, is this shape with nothing in it.
 */
function imageConfigShape(cfg: Record<string, unknown>): Record<string, unknown> {
  return {
    Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false, Tty: false, OpenStdin: false, StdinOnce: false,
    Env: null, Cmd: null, Image: '', Volumes: null, WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: null, ...cfg,
  };
}

/** GET /images/{name}/json: Docker's image inspect document. */
export async function inspectImageApi(c: ApiContext): Promise<void> {
  if (c.params[0] === 'host' || c.params[0] === 'host:latest') return sendJson(c.res, 200, hostImage());
  const img = await resolveImage(c.params[0]!, opts(c));
  sendJson(c.res, 200, {
    Id: img.id, RepoTags: repoTags(img), RepoDigests: repoDigests(img), Parent: '', Comment: img.raw.comment ?? '', Created: img.raw.created ?? '', Container: '',
    ContainerConfig: imageConfigShape({}), DockerVersion: '', Author: img.raw.author ?? '', Config: imageConfigShape(img.raw.config ?? {}), Architecture: img.raw.architecture, Os: img.raw.os,
    Size: size(img), VirtualSize: size(img), GraphDriver: { Name: 'overlay2', Data: null }, RootFS: { Type: 'layers', Layers: img.raw.rootfs.diff_ids },
    Metadata: { LastTagTime: '' },
  });
}

/**
 * POST /images/create?fromImage=NAME&tag=TAG: a pull, answered as dockerd does with a stream of
 * JSON lines ({"status":..., "id":...}); a failure after the stream began is an `error` line.
 */
export async function createImageApi(c: ApiContext): Promise<void> {
  const from = c.query.get('fromImage');
  if (c.query.get('fromSrc')) throw new ApiError(400, 'fromSrc (import) is not served by Berth\'s Engine API yet: use berth import');
  if (!from) throw new ApiError(400, 'fromImage is required');
  const tag = c.query.get('tag');
  // tag may be a tag or a digest (docker pull NAME@sha256:...).
  const ref = tag ? (tag.startsWith('sha256:') ? `${from}@${tag}` : `${from}:${tag}`) : from;
  let name: string;
  try { name = formatReference(parseReference(ref)); } catch (err) { throw new ApiError(400, (err as Error).message); }
  c.res.writeHead(200, { 'Content-Type': 'application/json' });
  const line = (o: object) => c.res.write(`${JSON.stringify(o)}\n`);
  const r = parseReference(name);
  line({ status: `Pulling from ${r.repository}`, id: r.digest ?? r.tag ?? 'latest' });
  const words: Record<ProgressEvent['action'], string> = {
    exists: 'Already exists', downloading: 'Downloading', downloaded: 'Download complete', uploading: 'Uploading', uploaded: 'Pushed',
    unpacking: 'Extracting', done: 'Pull complete', retrying: 'Retrying',
  };
  try {
    const before = (await listImages(opts(c))).find((i) => i.names.includes(name));
    const credentials = registryAuth(c);
    const img = await pull(name, opts(c, {
      ...(credentials ? { credentials } : {}),
      progress: (e) => line({ status: words[e.action], ...(e.total ? { progressDetail: { current: e.current ?? 0, total: e.total } } : { progressDetail: {} }), id: e.id }),
    }));
    line({ status: `Digest: ${img.pulledDigest ?? img.manifest}` });
    line({ status: `Status: ${before?.id === img.id ? 'Image is up to date' : 'Downloaded newer image'} for ${familiarName(parseReference(name))}` });
  } catch (err) {
    const message = (err as Error).message;
    line({ errorDetail: { message }, error: message });
  }
  c.res.end();
}

/** POST /images/{name}/tag?repo=&tag= */
export async function tagImageApi(c: ApiContext): Promise<void> {
  const repo = c.query.get('repo');
  if (!repo) throw new ApiError(400, 'repo is required');
  const tag = c.query.get('tag');
  await tagImage(c.params[0]!, tag ? `${repo}:${tag}` : repo, opts(c));
  sendJson(c.res, 201, {});
}

/** DELETE /images/{name}?force: [{Untagged}, {Deleted}] as dockerd answers. */
export async function removeImageApi(c: ApiContext): Promise<void> {
  const inUse = imagesInUse(await listEngineContainers(c.paths, true));
  const r = await removeImage(c.params[0]!, { ...opts(c), inUse, force: boolParam(c.query, 'force') });
  sendJson(c.res, 200, [...r.untagged.map((u) => ({ Untagged: familiarName(parseReference(u)) })), ...r.deleted.map((d) => ({ Deleted: d }))]);
}

/**
 * POST /commit?container=&repo=&tag=&comment=&author=&pause=&changes= : an image from a container's
 * changes (engine/commit.ts). A body with a Config to merge in is refused unless empty: Berth
 * takes the run config from the container and the `changes` instructions.
 */
export async function commitApi(c: ApiContext): Promise<void> {
  const container = c.query.get('container');
  if (!container) throw new ApiError(400, 'container is required');
  const body = await readJson(c.req);
  if (!isZero(body)) throw new ApiError(400, 'a Config in the commit body is not supported by Berth: use changes (Dockerfile instructions) instead');
  const repo = c.query.get('repo');
  const tag = c.query.get('tag');
  const img = await commitContainer(c.paths, container, {
    ...(repo ? { name: tag ? `${repo}:${tag}` : repo } : {}), ...(c.query.get('comment') ? { comment: c.query.get('comment')! } : {}),
    ...(c.query.get('author') ? { author: c.query.get('author')! } : {}),
    changes: c.query.getAll('changes').flatMap((v) => v.split('\n')).filter((v) => v.trim()), pause: boolParam(c.query, 'pause', true),
  }, opts(c));
  sendJson(c.res, 201, { Id: img.id });
}
