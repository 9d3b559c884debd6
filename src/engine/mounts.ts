/**
 * The user's mounts: `-v SRC:DST[:OPTS]` (Docker's Binds), `--mount type=bind|tmpfs,...` (Docker's
 * Mounts) and `--tmpfs DST[:OPTS]`, parsed with Docker's syntax and turned into OCI mounts.
 * Named volumes do not exist yet, so a bind source must be an absolute host path.
 */
import { isAbsolute, posix } from 'node:path';
import type { Mount } from '../oci/spec.js';
import { BerthError } from '../util/errors.js';
import { parseSize } from '../util/size.js';
import type { HostConfig, MountConfig } from './config.js';

const PROPAGATIONS = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'];

/** Check `-v SRC:DST[:OPTS]` and return it as Docker stores it in HostConfig.Binds. */
export function parseVolumeFlag(v: string): string {
  const parts = v.split(':');
  if (parts.length < 2 || parts.length > 3) {
    throw new BerthError('EINVALID_ARG', `invalid volume specification ${JSON.stringify(v)}: use HOST-PATH:CONTAINER-PATH[:ro]`);
  }
  const [src, dst, opts] = parts as [string, string, string | undefined];
  if (!isAbsolute(src)) {
    throw new BerthError('EUNSUPPORTED', `invalid volume specification ${JSON.stringify(v)}: named volumes are not supported yet, the source must be an absolute host path`);
  }
  if (!isAbsolute(dst)) throw new BerthError('EINVALID_ARG', `invalid volume specification ${JSON.stringify(v)}: the container path ${JSON.stringify(dst)} must be absolute`);
  for (const o of (opts ?? '').split(',').filter(Boolean)) {
    if (o !== 'ro' && o !== 'rw' && o !== 'z' && o !== 'Z' && !PROPAGATIONS.includes(o)) {
      throw new BerthError('EINVALID_ARG', `invalid volume specification ${JSON.stringify(v)}: unknown option ${JSON.stringify(o)} (use ro, rw or a propagation mode)`);
    }
  }
  return v;
}

/** `--mount type=bind,source=/a,target=/b,readonly` or `type=tmpfs,target=/t,tmpfs-size=64m`. */
export function parseMountFlag(v: string): MountConfig {
  const kv: Record<string, string> = {};
  for (const field of v.split(',')) {
    const eq = field.indexOf('=');
    kv[(eq < 0 ? field : field.slice(0, eq)).trim()] = eq < 0 ? 'true' : field.slice(eq + 1);
  }
  const type = kv.type ?? 'volume';
  const target = kv.target ?? kv.dst ?? kv.destination;
  const source = kv.source ?? kv.src ?? '';
  const bad = (why: string) => new BerthError('EINVALID_ARG', `invalid argument ${JSON.stringify(v)} for --mount: ${why}`);
  if (!target) throw bad('target is required');
  if (!isAbsolute(target)) throw bad(`target ${JSON.stringify(target)} must be an absolute path`);
  const ro = kv.readonly ?? kv.ro;
  const readOnly = ro === 'true' || ro === '1';
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
  throw new BerthError('EUNSUPPORTED', `invalid argument ${JSON.stringify(v)} for --mount: type ${JSON.stringify(type)} is not supported (use bind or tmpfs)`);
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

/** The OCI mounts of the user's -v, --mount and --tmpfs, in that order. */
export function userMounts(hc: Pick<HostConfig, 'Binds' | 'Mounts' | 'Tmpfs'>): Mount[] {
  const out: Mount[] = [];
  for (const bind of hc.Binds) {
    const [src, dst, opts] = bind.split(':') as [string, string, string | undefined];
    const o = (opts ?? '').split(',').filter(Boolean);
    const prop = o.find((x) => PROPAGATIONS.includes(x)) ?? 'rprivate';
    out.push({ destination: posix.normalize(dst), type: 'bind', source: src, options: ['rbind', o.includes('ro') ? 'ro' : 'rw', prop] });
  }
  for (const m of hc.Mounts) {
    if (m.Type === 'bind') {
      out.push({ destination: posix.normalize(m.Target), type: 'bind', source: m.Source,
        options: ['rbind', m.ReadOnly ? 'ro' : 'rw', m.BindOptions?.Propagation ?? 'rprivate'] });
    } else {
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
