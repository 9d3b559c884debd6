/**
 * The image config as the engine applies it to a container, and the image's user resolved
 * through its own /etc/passwd and /etc/group (read inside the root filesystem without following
 * a symlink out of it).
 */
import { BerthError } from '../util/errors.js';
import { readFileInRoot, resolveInRootSync } from '../util/inroot.js';
import type { ImageConfigFile } from './manifest.js';

/** What a container takes from its image. */
export interface ContainerDefaults {
  entrypoint: string[];
  cmd: string[];
  env: string[];
  workingDir: string;
  /** As written in the image ("", "1000", "app:staff" …); see `resolveUser`. */
  user: string;
  /** "80/tcp", "53/udp" … */
  exposedPorts: string[];
  stopSignal: string;
  volumes: string[];
  labels: Record<string, string>;
}

/** The defaults a container gets from image config `c` (Docker's defaults where it has none). */
export function containerDefaults(c: ImageConfigFile): ContainerDefaults {
  const k = c.config ?? {};
  return {
    entrypoint: k.Entrypoint ?? [],
    cmd: k.Cmd ?? [],
    env: k.Env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    workingDir: k.WorkingDir || '/',
    user: k.User ?? '',
    exposedPorts: Object.keys(k.ExposedPorts ?? {}).map((p) => (p.includes('/') ? p : `${p}/tcp`)).sort(),
    stopSignal: k.StopSignal || 'SIGTERM',
    volumes: Object.keys(k.Volumes ?? {}).sort(),
    labels: { ...(k.Labels ?? {}) },
  };
}

/**
 * Resolves `path` (absolute, inside the container) to a host path under `root`, following
 * symlinks as the container would see them (util/inroot.ts).
 */
export async function resolveInRoot(root: string, path: string): Promise<string> {
  return resolveInRootSync(root, path);
}

async function readInRoot(root: string, path: string): Promise<string> {
  return readFileInRoot(root, path) ?? '';
}

/** A resolved user: numeric ids and supplementary groups. */
export interface ResolvedUser { uid: number; gid: number; additionalGids: number[]; home?: string }

/**
 * Resolves an image or `--user` value ("", "name", "uid", "name:group", "uid:gid" …) through the
 * root filesystem's /etc/passwd and /etc/group, like Docker: a numeric uid not in passwd gets
 * gid 0 (unless given); a name not in passwd is an error naming it; supplementary groups are the
 * groups that list the user by name.
 */
export async function resolveUser(rootfs: string, spec: string): Promise<ResolvedUser> {
  const [u = '', g] = spec.split(':');
  const passwd = (await readInRoot(rootfs, '/etc/passwd')).split('\n').map((l) => l.split(':')).filter((f) => f.length >= 7);
  const groups = (await readInRoot(rootfs, '/etc/group')).split('\n').map((l) => l.split(':')).filter((f) => f.length >= 4);
  const num = (s: string): number | undefined => (/^\d+$/.test(s) ? Number(s) : undefined);
  let uid = 0;
  let gid = 0;
  let name: string | undefined;
  let home: string | undefined;
  const userText = u === '' ? '0' : u;
  const entry = passwd.find((f) => f[0] === userText) ?? (num(userText) !== undefined ? passwd.find((f) => f[2] === userText) : undefined);
  if (entry) {
    name = entry[0];
    uid = Number(entry[2]);
    gid = Number(entry[3]);
    home = entry[5];
  } else if (num(userText) !== undefined) {
    uid = num(userText) as number;
  } else {
    throw new BerthError('EINVALID_ARG', `user ${JSON.stringify(userText)}: no such user in the image's /etc/passwd`);
  }
  if (g !== undefined && g !== '') {
    const ge = groups.find((f) => f[0] === g) ?? (num(g) !== undefined ? groups.find((f) => f[2] === g) : undefined);
    if (ge) gid = Number(ge[2]);
    else if (num(g) !== undefined) gid = num(g) as number;
    else throw new BerthError('EINVALID_ARG', `group ${JSON.stringify(g)}: no such group in the image's /etc/group`);
  }
  const additionalGids = name
    ? [...new Set(groups.filter((f) => (f[3] ?? '').split(',').includes(name as string)).map((f) => Number(f[2])))].filter((x) => x !== gid).sort((a, b) => a - b)
    : [];
  return { uid, gid, additionalGids, ...(home ? { home } : {}) };
}
