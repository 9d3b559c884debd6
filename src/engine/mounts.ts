/**
 * The user's mounts: `-v SRC:DST[:OPTS]` (Docker's Binds), `--mount type=bind|volume|tmpfs,...`
 * (Docker's Mounts) and `--tmpfs DST[:OPTS]`, parsed with Docker's syntax and turned into OCI
 * mounts. A bind's SRC is an absolute host path or a named volume (engine/volumes.ts resolves
 * volumes, and turns them into mounts); `-v /path` alone is an anonymous volume (Config.Volumes).
 */
import { isAbsolute, posix } from 'node:path';
import type { Mount } from '../oci/spec.js';
import { BerthError } from '../util/errors.js';
import { parseSize } from '../util/size.js';
import type { HostConfig, MountConfig } from './config.js';

const PROPAGATIONS = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'];

/** Docker's rule for a local volume's name (at least two characters). */
export const VOLUME_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** A `-v` bind split into its parts; `volume` is true when SRC names a volume. */
export interface ParsedBind {
  source: string;
  destination: string;
  readOnly: boolean;
  propagation: string;
  volume: boolean;
  noCopy: boolean;
  /** The options as given ('' when none). */
  options: string;
}

/** Split a Binds entry (already checked by parseVolumeFlag). */
export function splitBind(bind: string): ParsedBind {
  const [source, destination, opts] = bind.split(':') as [string, string, string | undefined];
  const o = (opts ?? '').split(',').filter(Boolean);
  return {
    source, destination: posix.normalize(destination), readOnly: o.includes('ro'), volume: !isAbsolute(source),
    propagation: o.find((x) => PROPAGATIONS.includes(x)) ?? 'rprivate', noCopy: o.includes('nocopy'), options: opts ?? '',
  };
}

/**
 * Check `-v SRC:DST[:OPTS]` and return it as Docker stores it in HostConfig.Binds. (`-v /path`
 * alone is an anonymous volume, which Docker stores in Config.Volumes: flags.ts does that.)
 */
export function parseVolumeFlag(v: string): string {
  const parts = v.split(':');
  if (parts.length < 2 || parts.length > 3) {
    throw new BerthError('EINVALID_ARG', `invalid volume specification ${JSON.stringify(v)}: use HOST-PATH:CONTAINER-PATH[:OPTIONS], VOLUME-NAME:CONTAINER-PATH[:OPTIONS] or CONTAINER-PATH`);
  }
  const [src, dst, opts] = parts as [string, string, string | undefined];
  if (!isAbsolute(src) && !VOLUME_NAME_RE.test(src)) {
    throw new BerthError('EINVALID_ARG', `invalid volume specification ${JSON.stringify(v)}: ${JSON.stringify(src)} includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed (at least two); a host directory must be an absolute path`);
  }
  if (!isAbsolute(dst)) throw new BerthError('EINVALID_ARG', `invalid volume specification ${JSON.stringify(v)}: the container path ${JSON.stringify(dst)} must be absolute`);
  if (posix.normalize(dst) === '/') throw new BerthError('EINVALID_ARG', `invalid volume specification ${JSON.stringify(v)}: the container path cannot be /`);
  for (const o of (opts ?? '').split(',').filter(Boolean)) {
    const ok = ['ro', 'rw', 'z', 'Z', 'consistent', 'cached', 'delegated'].includes(o) || PROPAGATIONS.includes(o) || (o === 'nocopy' && !isAbsolute(src));
    if (!ok) throw new BerthError('EINVALID_ARG', `invalid volume specification ${JSON.stringify(v)}: unknown option ${JSON.stringify(o)} (use ro, rw, a propagation mode${isAbsolute(src) ? '' : ' or nocopy'})`);
  }
  return v;
}

/**
 * `--mount type=bind,source=/a,target=/b,readonly`, `type=volume,source=NAME,target=/v` (no
 * source: an anonymous volume) or `type=tmpfs,target=/t,tmpfs-size=64m`.
 */
export function parseMountFlag(v: string): MountConfig {
  const kv: Record<string, string> = {};
  const labels: Record<string, string> = {};
  const driverOpts: Record<string, string> = {};
  for (const field of v.split(',')) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? 'true' : field.slice(eq + 1);
    // volume-label and volume-opt repeat: KEY=VALUE each
    if (key === 'volume-label' || key === 'volume-opt') {
      const e2 = value.indexOf('=');
      (key === 'volume-label' ? labels : driverOpts)[e2 < 0 ? value : value.slice(0, e2)] = e2 < 0 ? '' : value.slice(e2 + 1);
    } else kv[key] = value;
  }
  const type = kv.type ?? 'volume';
  const target = kv.target ?? kv.dst ?? kv.destination;
  const source = kv.source ?? kv.src ?? '';
  const bad = (why: string) => new BerthError('EINVALID_ARG', `invalid argument ${JSON.stringify(v)} for --mount: ${why}`);
  if (!target) throw bad('target is required');
  if (!isAbsolute(target)) throw bad(`target ${JSON.stringify(target)} must be an absolute path`);
  const ro = kv.readonly ?? kv.ro;
  const readOnly = ro === 'true' || ro === '1';
  if (type !== 'volume' && (Object.keys(labels).length || Object.keys(driverOpts).length || kv['volume-nocopy'] || kv['volume-driver'])) {
    throw bad(`volume options (volume-label, volume-opt, volume-nocopy, volume-driver) need type=volume, not type=${type}`);
  }
  if (type === 'volume') {
    if (source && !VOLUME_NAME_RE.test(source)) throw bad(`${JSON.stringify(source)} is not a volume name (only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed, at least two): for a host directory use type=bind`);
    const nocopy = kv['volume-nocopy'];
    const m: MountConfig = { Type: 'volume', Source: source, Target: target, ReadOnly: readOnly };
    const vo: NonNullable<MountConfig['VolumeOptions']> = {};
    if (nocopy === 'true' || nocopy === '1') vo.NoCopy = true;
    if (Object.keys(labels).length) vo.Labels = labels;
    if (kv['volume-driver'] || Object.keys(driverOpts).length) vo.DriverConfig = { Name: kv['volume-driver'] ?? '', Options: driverOpts };
    if (Object.keys(vo).length) m.VolumeOptions = vo;
    return m;
  }
  if (type === 'bind') {
    if (!source || !isAbsolute(source)) throw bad('a bind mount needs an absolute source');
    const m: MountConfig = { Type: 'bind', Source: source, Target: target, ReadOnly: readOnly };
    if (kv['bind-propagation']) {
      if (!PROPAGATIONS.includes(kv['bind-propagation'])) throw bad(`bind-propagation must be one of ${PROPAGATIONS.join(', ')}`);
      m.BindOptions = { Propagation: kv['bind-propagation'] };
    }
    return m;
  }
  if (type === 'tmpfs') {
    if (source) throw bad('a tmpfs mount takes no source');
    const m: MountConfig = { Type: 'tmpfs', Source: '', Target: target, ReadOnly: readOnly, TmpfsOptions: {} };
    if (kv['tmpfs-size']) m.TmpfsOptions!.SizeBytes = parseSize(kv['tmpfs-size'], '--mount tmpfs-size');
    if (kv['tmpfs-mode']) {
      if (!/^[0-7]{1,4}$/.test(kv['tmpfs-mode'])) throw bad('tmpfs-mode must be octal, e.g. 1777');
      m.TmpfsOptions!.Mode = parseInt(kv['tmpfs-mode'], 8);
    }
    return m;
  }
  throw new BerthError('EUNSUPPORTED', `invalid argument ${JSON.stringify(v)} for --mount: type ${JSON.stringify(type)} is not supported (use bind, volume or tmpfs)`);
}

/** `--tmpfs /run:rw,size=64m` → { '/run': 'rw,size=64m' } as Docker stores HostConfig.Tmpfs. */
export function parseTmpfsFlag(v: string): Record<string, string> {
  const i = v.indexOf(':');
  const dst = i < 0 ? v : v.slice(0, i);
  if (!isAbsolute(dst)) throw new BerthError('EINVALID_ARG', `invalid --tmpfs ${JSON.stringify(v)}: the path must be absolute`);
  return { [dst]: i < 0 ? '' : v.slice(i + 1) };
}

/** Docker's tmpfs options: sizes go-units style (64m) become kernel sizes in bytes. */
function tmpfsOptions(text: string): string[] {
  const out = ['nosuid', 'nodev', 'noexec'];
  for (const o of text.split(',').filter(Boolean)) {
    if (o.startsWith('size=')) out.push(`size=${parseSize(o.slice(5), '--tmpfs size')}`);
    else if (o === 'exec') out.splice(out.indexOf('noexec'), 1);
    else if (o === 'suid' || o === 'dev') out.splice(out.indexOf(`no${o}`), 1);
    else out.push(o);
  }
  return out;
}

/**
 * The OCI mounts of the user's host binds (-v HOST-PATH, --mount type=bind) and tmpfs (--mount
 * type=tmpfs, --tmpfs). Volumes (-v NAME:, --mount type=volume) are volumes.ts's.
 */
export function userMounts(hc: Pick<HostConfig, 'Binds' | 'Mounts' | 'Tmpfs'>): Mount[] {
  const out: Mount[] = [];
  for (const bind of hc.Binds) {
    const b = splitBind(bind);
    if (b.volume) continue;
    out.push({ destination: b.destination, type: 'bind', source: b.source, options: ['rbind', b.readOnly ? 'ro' : 'rw', b.propagation] });
  }
  for (const m of hc.Mounts) {
    if (m.Type === 'bind') {
      out.push({ destination: posix.normalize(m.Target), type: 'bind', source: m.Source,
        options: ['rbind', m.ReadOnly ? 'ro' : 'rw', m.BindOptions?.Propagation ?? 'rprivate'] });
    } else if (m.Type === 'tmpfs') {
      const opts = ['nosuid', 'nodev', 'noexec'];
      if (m.ReadOnly) opts.push('ro');
      if (m.TmpfsOptions?.SizeBytes) opts.push(`size=${m.TmpfsOptions.SizeBytes}`);
      if (m.TmpfsOptions?.Mode !== undefined) opts.push(`mode=${m.TmpfsOptions.Mode.toString(8)}`);
      out.push({ destination: posix.normalize(m.Target), type: 'tmpfs', source: 'tmpfs', options: opts });
    }
  }
  for (const [dst, opts] of Object.entries(hc.Tmpfs)) {
    out.push({ destination: posix.normalize(dst), type: 'tmpfs', source: 'tmpfs', options: tmpfsOptions(opts) });
  }
  return out;
}

/** Every container path the user's -v, --mount and --tmpfs mount something on (volumes included). */
export function userTargets(hc: Pick<HostConfig, 'Binds' | 'Mounts' | 'Tmpfs'>): string[] {
  return [...hc.Binds.map((b) => splitBind(b).destination), ...hc.Mounts.map((m) => posix.normalize(m.Target)), ...Object.keys(hc.Tmpfs).map((d) => posix.normalize(d))];
}

/**
 * Check the mounts of a HostConfig that did not come through the flags (the Engine API's Binds
 * and Mounts), with the flags' rules.
 */
export function checkMountConfig(hc: Pick<HostConfig, 'Binds' | 'Mounts'>): void {
  for (const b of hc.Binds) parseVolumeFlag(b);
  for (const m of hc.Mounts) {
    const what = `mount ${JSON.stringify(m)}`;
    if (!['bind', 'volume', 'tmpfs'].includes(m.Type)) throw new BerthError('EINVALID_ARG', `invalid ${what}: Type must be bind, volume or tmpfs`);
    if (typeof m.Target !== 'string' || !isAbsolute(m.Target)) throw new BerthError('EINVALID_ARG', `invalid ${what}: Target must be an absolute path`);
    if (m.Type === 'bind' && (typeof m.Source !== 'string' || !isAbsolute(m.Source))) throw new BerthError('EINVALID_ARG', `invalid ${what}: a bind needs an absolute Source`);
    if (m.Type === 'volume' && m.Source && !VOLUME_NAME_RE.test(m.Source)) throw new BerthError('EINVALID_ARG', `invalid ${what}: Source ${JSON.stringify(m.Source)} is not a volume name (only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed)`);
    if (m.Type === 'tmpfs' && m.Source) throw new BerthError('EINVALID_ARG', `invalid ${what}: a tmpfs takes no Source`);
  }
}
