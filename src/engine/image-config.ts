/**
 * An image's config applied to a container's Config, with `run`'s flags winning exactly as
 * Docker's daemon merges them (moby daemon/commit.go `merge`):
 * - Entrypoint and Cmd: with no --entrypoint, the image's entrypoint is used and the image's Cmd
 *   too unless arguments were given; any --entrypoint (including `--entrypoint ''`, which clears
 *   it) also drops the image's Cmd, so only the arguments given follow it.
 * - Env: the flags' variables first, then every image variable whose name they do not set.
 * - User, WorkingDir, StopSignal: the flag when given, else the image's.
 * - Labels, ExposedPorts, Volumes: the image's and the flags' together, the flags' value winning.
 * Pure: unit-testable without an image store.
 */
import type { ImageConfigFile } from '../image/manifest.js';
import type { ContainerConfig } from './config.js';

/** The runnable part of an image config (`config` of the image config document). */
export type ImageRunConfig = NonNullable<ImageConfigFile['config']>;

const envKey = (e: string): string => e.split('=')[0] ?? '';

/**
 * Merges `image` into `config` in place. `config.Entrypoint` null means "no --entrypoint";
 * [] means `--entrypoint ''`.
 * @example applyImageConfig(c, { Entrypoint: ['/bin/sh', '-c'], Cmd: ['date'] })
 */
export function applyImageConfig(config: ContainerConfig, image: ImageRunConfig): void {
  if (config.Entrypoint === null) {
    if (config.Cmd.length === 0) config.Cmd = [...(image.Cmd ?? [])];
    config.Entrypoint = image.Entrypoint?.length ? [...image.Entrypoint] : null;
  }
  const env = [...config.Env];
  const keys = new Set(env.map(envKey));
  for (const e of image.Env ?? []) if (!keys.has(envKey(e))) env.push(e);
  config.Env = env;
  if (!config.User) config.User = image.User ?? '';
  if (!config.WorkingDir) config.WorkingDir = image.WorkingDir ?? '';
  if (!config.StopSignal && image.StopSignal) config.StopSignal = image.StopSignal;
  config.Labels = { ...(image.Labels ?? {}), ...config.Labels };
  const ports = { ...normalizePorts(image.ExposedPorts), ...normalizePorts(config.ExposedPorts) };
  if (Object.keys(ports).length) config.ExposedPorts = ports;
  const volumes = { ...(image.Volumes ?? {}), ...(config.Volumes ?? {}) };
  if (Object.keys(volumes).length) config.Volumes = volumes;
}

/** "80" -> "80/tcp", as Docker keys ExposedPorts. */
function normalizePorts(p: Record<string, object> | undefined): Record<string, object> {
  const out: Record<string, object> = {};
  for (const k of Object.keys(p ?? {})) out[k.includes('/') ? k : `${k}/tcp`] = {};
  return out;
}

/**
 * The destinations of the image's volumes that get an anonymous volume: those the user did not
 * mount something on already (-v, --mount or --tmpfs at the same path), shortest path first so a
 * volume inside another is mounted after it.
 */
export function anonymousVolumeTargets(volumes: Record<string, object> | undefined, userTargets: string[]): string[] {
  const norm = (p: string): string => `/${p.split('/').filter(Boolean).join('/')}`;
  const taken = new Set(userTargets.map(norm));
  return Object.keys(volumes ?? {}).map(norm).filter((v, i, all) => !taken.has(v) && all.indexOf(v) === i)
    .sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b));
}
