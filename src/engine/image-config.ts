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
import { BerthError } from '../util/errors.js';
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

/**
 * Applies one `--change` instruction to an image config (`import`, `commit`): the Dockerfile
 * instructions Docker takes there, CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME,
 * WORKDIR.
 */
export function applyChange(c: ImageRunConfig, change: string): void {
  const m = /^\s*(\w+)\s+([\s\S]*)$/.exec(change);
  if (!m) throw new BerthError('EINVALID_ARG', `invalid --change ${JSON.stringify(change)}: use INSTRUCTION ARGUMENTS, e.g. CMD ["sh"]`);
  const op = m[1]!.toUpperCase();
  const arg = m[2]!.trim();
  const words = (): string[] => {
    if (arg.startsWith('[')) {
      try { return JSON.parse(arg) as string[]; } catch { /* shell form */ }
    }
    return ['/bin/sh', '-c', arg];
  };
  const pairs = (): [string, string][] => arg.split(/\s+/).map((kv) => { const i = kv.indexOf('='); return [i < 0 ? kv : kv.slice(0, i), i < 0 ? '' : kv.slice(i + 1).replace(/^"(.*)"$/, '$1')]; });
  switch (op) {
    case 'CMD': c.Cmd = words(); break;
    case 'ENTRYPOINT': c.Entrypoint = words(); break;
    case 'ENV': for (const [k, v] of pairs()) c.Env = [...(c.Env ?? []).filter((e) => !e.startsWith(`${k}=`)), `${k}=${v}`]; break;
    case 'EXPOSE': for (const port of arg.split(/\s+/)) c.ExposedPorts = { ...(c.ExposedPorts ?? {}), [port.includes('/') ? port : `${port}/tcp`]: {} }; break;
    case 'LABEL': for (const [k, v] of pairs()) c.Labels = { ...(c.Labels ?? {}), [k]: v }; break;
    case 'STOPSIGNAL': c.StopSignal = arg; break;
    case 'USER': c.User = arg; break;
    case 'VOLUME': for (const v of arg.startsWith('[') ? (JSON.parse(arg) as string[]) : arg.split(/\s+/)) c.Volumes = { ...(c.Volumes ?? {}), [v]: {} }; break;
    case 'WORKDIR': c.WorkingDir = arg; break;
    default: throw new BerthError('EINVALID_ARG', `invalid --change ${JSON.stringify(change)}: ${op} is not one of CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR`);
  }
}
