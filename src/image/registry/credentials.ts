/**
 * Registry credentials, stored like Docker's ~/.docker/config.json:
 * `{"auths": {"<registry>": {"auth": base64("user:password")}}}` in `<config dir>/config.json`
 * (mode 0600), so the file reads the same to anyone who knows Docker's. The config dir is
 * $BERTH_CONFIG_DIR, else ~/.config/berth. Docker Hub's entry is keyed
 * "https://index.docker.io/v1/" as Docker does.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { BerthError, errnoCode } from '../../util/errors.js';
import { writeFileAtomic } from '../../util/atomic.js';

/** A user name and password (or token) for one registry. */
export interface Credentials {
  username: string;
  password: string;
}

interface ConfigFile { auths?: Record<string, { auth?: string; username?: string; password?: string }>; [k: string]: unknown }

/**
 * The directory holding config.json, for a caller with environment `env`: $BERTH_CONFIG_DIR, else
 * $HOME/.config/berth (without HOME: the home directory of this process's user, from passwd).
 */
export function configDir(env: Readonly<Record<string, string | undefined>> = {}): string {
  return env.BERTH_CONFIG_DIR ?? join(env.HOME || userInfo().homedir, '.config', 'berth');
}

const key = (registry: string): string => (registry === 'docker.io' ? 'https://index.docker.io/v1/' : registry);

async function readConfig(dir: string): Promise<ConfigFile> {
  try {
    return JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as ConfigFile;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return {};
    throw new BerthError('EINVALID_CONFIG', `${join(dir, 'config.json')}: ${(err as Error).message}`);
  }
}

/** The stored credentials for `registry`, or undefined (anonymous). */
export async function getCredentials(registry: string, dir = configDir()): Promise<Credentials | undefined> {
  const cfg = await readConfig(dir);
  const e = cfg.auths?.[key(registry)] ?? cfg.auths?.[`https://${registry}`] ?? cfg.auths?.[`http://${registry}`];
  if (!e) return undefined;
  if (e.auth) {
    const s = Buffer.from(e.auth, 'base64').toString('utf8');
    const i = s.indexOf(':');
    if (i < 0) throw new BerthError('EINVALID_CONFIG', `${join(dir, 'config.json')}: auths.${key(registry)}.auth is not base64 of user:password`);
    return { username: s.slice(0, i), password: s.slice(i + 1) };
  }
  if (e.username && e.password) return { username: e.username, password: e.password };
  return undefined;
}

/** Stores credentials for `registry` (other entries and keys of the file are kept). */
export async function saveCredentials(registry: string, c: Credentials, dir = configDir()): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const cfg = await readConfig(dir);
  cfg.auths = { ...(cfg.auths ?? {}), [key(registry)]: { auth: Buffer.from(`${c.username}:${c.password}`).toString('base64') } };
  await writeFileAtomic(join(dir, 'config.json'), JSON.stringify(cfg, null, '\t') + '\n', 0o600);
}

/** Forgets the credentials for `registry`; returns whether there were any. */
export async function removeCredentials(registry: string, dir = configDir()): Promise<boolean> {
  const cfg = await readConfig(dir);
  if (!cfg.auths?.[key(registry)]) return false;
  delete cfg.auths[key(registry)];
  await writeFileAtomic(join(dir, 'config.json'), JSON.stringify(cfg, null, '\t') + '\n', 0o600);
  return true;
}
