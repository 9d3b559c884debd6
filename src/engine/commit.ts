/**
 * `commit`: a new image from a container's changes (Docker's `docker commit`, POST /commit).
 *
 * The layer is what `diff` finds (engine/changes.ts), taken from the container's merged view:
 * each added or changed path archived alone, each deletion an OCI whiteout; gzip-compressed into
 * the data root's tmp directory while its uncompressed digest (the DiffID) is computed, then
 * stored as a blob with a config whose run config is the container's (its Cmd, Entrypoint, Env,
 * User, WorkingDir, ExposedPorts, Volumes, Labels, StopSignal) changed by `--change`
 * instructions. Like Docker, a running container is paused while its files are read, unless
 * `pause` is false. Only a container on an image with the overlay driver can be committed (the
 * others keep no record of what they changed, engine/changes.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { ScopedFs } from '../archive/scoped-fs.js';
import { packLayer } from '../archive/tree-tar.js';
import { commitImage, resolveImage, type EngineImage, type ImageOptions } from '../image/index.js';
import type { Digest } from '../archive/digest.js';
import { BerthError } from '../util/errors.js';
import { CHANGE_KIND, containerChanges } from './changes.js';
import { findContainer } from './containers.js';
import { pauseEngineContainer } from './control.js';
import { applyChange, type ImageRunConfig } from './image-config.js';
import type { EnginePaths, EngineRecord } from './store.js';

export interface CommitOptions {
  /** REPOSITORY[:TAG] of the new image (none: an untagged image). */
  name?: string;
  comment?: string;
  author?: string;
  /** Dockerfile instructions applied to the run config (`--change`). */
  changes?: string[];
  /** Pause a running container while its files are read (Docker's default). */
  pause?: boolean;
}

/** The image run config a committed container gives its image. */
function runConfig(rec: EngineRecord): ImageRunConfig {
  const c = rec.Config;
  return {
    ...(c.User ? { User: c.User } : {}), Env: c.Env, Cmd: c.Cmd, ...(c.Entrypoint ? { Entrypoint: c.Entrypoint } : {}),
    ...(c.WorkingDir ? { WorkingDir: c.WorkingDir } : {}), ...(c.ExposedPorts ? { ExposedPorts: c.ExposedPorts } : {}),
    ...(c.Volumes ? { Volumes: c.Volumes } : {}), ...(Object.keys(c.Labels ?? {}).length ? { Labels: c.Labels } : {}),
    ...(c.StopSignal ? { StopSignal: c.StopSignal } : {}),
  };
}

/** Commit container `ref` as a new image; returns it. */
export async function commitContainer(paths: EnginePaths, ref: string, o: CommitOptions, imageOpts: ImageOptions): Promise<EngineImage> {
  const rec = await findContainer(paths, ref);
  if (rec.StorageDriver !== 'overlay' || !rec.ImageId) {
    throw new BerthError('EUNSUPPORTED', `container ${rec.Name} is not on an image with the overlay driver, so it keeps no record of its changes to commit`);
  }
  const config = runConfig(rec);
  for (const c of o.changes ?? []) applyChange(config, c);
  const base = await resolveImage(rec.ImageId, { ...imageOpts, root: paths.dataRoot });
  const pause = rec.State.Running && !rec.State.Paused && o.pause !== false;
  const tmpDir = join(paths.dataRoot, 'tmp');
  await mkdir(tmpDir, { recursive: true, mode: 0o700 });
  const layerFile = join(tmpDir, `commit-${randomBytes(8).toString('hex')}.tar.gz`);
  if (pause) await pauseEngineContainer(paths, rec.Id, true);
  let diffId: Digest;
  try {
    const changes = await containerChanges(paths, rec);
    const merged = ScopedFs.open(rec.RootPath);
    try {
      const hash = createHash('sha256');
      const digest = new Transform({ transform(chunk: Buffer, _enc, done) { hash.update(chunk); done(null, chunk); } });
      const entries = changes.map((c) => ({ path: c.Path, deleted: c.Kind === CHANGE_KIND.D }));
      await pipeline(Readable.from(packLayer(merged, entries)), digest, createGzip(), createWriteStream(layerFile, { mode: 0o600 }));
      diffId = `sha256:${hash.digest('hex')}`;
    } finally {
      merged.close();
    }
  } finally {
    if (pause) await pauseEngineContainer(paths, rec.Id, false);
  }
  try {
    return await commitImage(base, layerFile, diffId, {
      ...imageOpts, root: paths.dataRoot, config, createdBy: [rec.Path, ...rec.Args].join(' '),
      ...(o.comment ? { comment: o.comment } : {}), ...(o.author ? { author: o.author } : {}), ...(o.name ? { name: o.name } : {}),
    });
  } finally {
    await rm(layerFile, { force: true });
  }
}
