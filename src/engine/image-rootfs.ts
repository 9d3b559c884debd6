/**
 * A container made from an image: find the image (pulling it when missing, as `docker run`
 * does), make the container's root filesystem (storage/: overlay over the shared layers, or a
 * copy), resolve its user in the image's own /etc/passwd and /etc/group and make its working
 * directory. The image's VOLUMEs become anonymous volumes in volumes.ts, with the container's
 * other volumes.
 *
 * Crash safety: before anything is made, `<container dir>/creating` records this process (pid
 * and start time; create.ts writes it right after making the directory), and every volume is
 * listed in `<container dir>/volumes.json` before its directory exists (volumes.ts). A create killed half-way leaves a container directory with no
 * container.json; `sweepOrphans` (run by every image create, and by `rm -f` of a name whose
 * container has no record) removes the root filesystem and volumes of such a directory once its
 * creator is gone, and the directory with them.
 */
import { existsSync } from 'node:fs';
import { chown, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pull as pullImage, resolveImage, type EngineImage, type ImageOptions } from '../image/index.js';
import { resolveInRoot } from '../image/config.js';
import { readFileInRoot } from '../util/inroot.js';
import type { ProgressFn } from '../image/progress.js';
import { familiarName, parseReference } from '../image/reference.js';
import { isSameProcess } from '../util/proc.js';
import { prepareRootfs, type Driver, type RootfsIdmap } from '../image/rootfs.js';
import { mapToHost, parseUsernsMapping } from './namespaces.js';
import { releaseImageResources } from './image-release.js';

export { releaseImageResources } from './image-release.js';
import { BerthError } from '../util/errors.js';
import type { ContainerConfig, HostConfig } from './config.js';
import type { EnginePaths, EngineRecord } from './store.js';
import { resolveUserIn, type ResolvedUser } from './user.js';

/** How to report an implicit pull: layer progress, and Docker's status lines. */
export interface PullOutput {
  progress?: ProgressFn;
  say?: (line: string) => void;
}

/**
 * The local image `ref`, pulled first when there is none (Docker's `--pull missing`): "Unable to
 * find image … locally", the layers' progress, then "Status: Downloaded newer image for …".
 * `pull` is Docker's --pull: `never` makes a missing image dockerd's "No such image"
 * (ENOT_FOUND), `always` pulls even when the image is here.
 */
export async function findOrPullImage(paths: EnginePaths, ref: string, out: PullOutput = {}, opts: Pick<ImageOptions, 'configDir' | 'retry' | 'platform'> = {},
  pull: 'always' | 'missing' | 'never' = 'missing'): Promise<EngineImage> {
  if (pull !== 'always' || /^(sha256:)?[a-f0-9]{64}$/.test(ref)) {
    try {
      return await resolveImage(ref, { root: paths.dataRoot });
    } catch (err) {
      if ((err as BerthError).code !== 'ENOT_FOUND' || /^(sha256:)?[a-f0-9]{64}$/.test(ref)) throw err;
      if (pull === 'never') throw new BerthError('ENOT_FOUND', `No such image: ${ref}`);
    }
  }
  const parsed = parseReference(ref);
  const name = familiarName(parsed);
  if (pull !== 'always') out.say?.(`Unable to find image '${name}' locally`);
  out.say?.(`${parsed.tag ?? parsed.digest}: Pulling from ${parsed.repository}`);
  const img = await pullImage(ref, { ...(opts.configDir ? { configDir: opts.configDir } : {}), ...(opts.retry ? { retry: opts.retry } : {}), ...(opts.platform ? { platform: opts.platform } : {}),
    root: paths.dataRoot, ...(out.progress ? { progress: out.progress } : {}) });
  out.say?.(`Digest: ${img.manifest}`);
  out.say?.(`Status: Downloaded newer image for ${name}`);
  return img;
}

/** What a container from an image gets. */
export interface ImageContainer {
  rootPath: string;
  driver: 'overlay' | 'copy';
  user: ResolvedUser;
  /** With --userns MAPPING: the container's root on the host (who owns what is made for it). */
  owner?: { uid: number; gid: number };
}

async function readDb(rootPath: string, file: string): Promise<string[][]> {
  const text = readFileInRoot(rootPath, file) ?? '';
  return text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
}

/**
 * Creates `path` inside the root filesystem without following any of its symlinks out of it.
 * The directories it makes belong to `owner` (the container's root on the host, in a user
 * namespace: made by host root they would be unmapped, "nobody", inside).
 */
async function mkdirInRoot(rootPath: string, path: string, owner?: { uid: number; gid: number }): Promise<string> {
  const host = await resolveInRoot(rootPath, path);
  const first = await mkdir(host, { recursive: true, mode: 0o755 });
  if (owner && first !== undefined) {
    for (let d = host; d.length >= first.length; d = dirname(d)) await chown(d, owner.uid, owner.gid);
  }
  return host;
}

/**
 * `--userns` with a mapping: the container's mappings for its root filesystem. Its layers are
 * then id-mapped (storage/idmap-layers.ts): the image looks owned by the container's root and
 * what it writes is stored as its host ids — no chowned copy of the image.
 */
function rootfsIdmap(hc: HostConfig): RootfsIdmap | undefined {
  const maps = parseUsernsMapping(hc.UsernsMode);
  return maps ? { uidMappings: maps, gidMappings: maps } : undefined;
}

/**
 * Makes container `id`'s root filesystem from `img` and everything the image asks of it (user,
 * working directory, volumes). `config` is already merged with the image (applyImageConfig).
 */
export async function prepareImageContainer(paths: EnginePaths, id: string, containerDir: string, img: EngineImage, config: ContainerConfig, hc: HostConfig,
  driver?: Driver): Promise<ImageContainer> {
  const idmap = rootfsIdmap(hc);
  const fs = await prepareRootfs(id, img, { root: paths.dataRoot, ...(idmap ? { idmap } : {}), ...(driver !== undefined ? { driver } : {}) });
  const owner = idmap ? { uid: mapToHost(idmap.uidMappings, 0)!, gid: mapToHost(idmap.gidMappings, 0)! } : undefined;
  const user = resolveUserIn(config.User, await readDb(fs.path, '/etc/passwd'), await readDb(fs.path, '/etc/group'));
  if (config.WorkingDir) await mkdirInRoot(fs.path, config.WorkingDir, owner);
  return { rootPath: fs.path, driver: fs.driver, user, owner };
}

/**
 * Removes what creates killed half-way left: a container directory with no container.json whose
 * creator (recorded in `creating`) is gone, with its root filesystem and volumes; and a root
 * filesystem with no container directory at all.
 */
export async function sweepOrphans(paths: EnginePaths): Promise<string[]> {
  const swept: string[] = [];
  const rootfsIds = await readdir(join(paths.dataRoot, 'rootfs')).catch(() => [] as string[]);
  const containerIds = await readdir(join(paths.dataRoot, 'containers')).catch(() => [] as string[]);
  for (const id of new Set([...rootfsIds, ...containerIds])) {
    const dir = join(paths.dataRoot, 'containers', id);
    if (existsSync(join(dir, 'container.json'))) continue;
    if (existsSync(dir)) {
      const marker = await readFile(join(dir, 'creating'), 'utf8').catch(() => undefined);
      if (marker === undefined) continue; // not made by a create (or killed between two syscalls): not ours to judge
      const [pid, start] = marker.trim().split(' ');
      if (isSameProcess(Number(pid), start ? Number(start) : undefined)) continue; // still creating
    }
    try {
      releaseImageResources(paths, id, dir, true);
      await rm(dir, { recursive: true, force: true });
      swept.push(id);
    } catch { /* an id that is not a valid rootfs name, or a busy mount: left for next time */ }
  }
  // What a removal killed between its rename and its rm left (store.ts remove).
  await rm(join(paths.dataRoot, 'removing'), { recursive: true, force: true }).catch(() => undefined);
  return swept;
}

/** The image ids the engine's containers use (rmi refuses to delete them without -f). */
export function imagesInUse(records: EngineRecord[]): Set<string> {
  return new Set(records.map((r) => r.ImageId).filter((x): x is string => !!x));
}
