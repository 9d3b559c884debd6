/**
 * Docker's container filters, for `ps --filter` and GET /containers/json?filters=: values of one
 * key are alternatives, keys must all match, and every label asked for must be there (dockerd's
 * rules). An unknown key is an error naming the ones Berth has.
 */
import { familiarName, parseReference } from '../image/reference.js';
import { BerthError } from '../util/errors.js';
import { labelsMatch } from '../util/labels.js';
import type { EngineRecord } from './store.js';
import { recordMountPoints } from './volumes.js';

export const CONTAINER_FILTERS = ['ancestor', 'before', 'exited', 'id', 'label', 'name', 'network', 'since', 'status', 'volume'] as const;

const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

/** An image reference as the user may type it for `ancestor`: "busybox" is "docker.io/library/busybox:latest". */
function sameImage(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    const norm = (s: string) => { const r = parseReference(s); return familiarName({ ...r, tag: r.digest ? r.tag : r.tag ?? 'latest' }); };
    return norm(a) === norm(b);
  } catch {
    return false;
  }
}

/**
 * Does `r` pass `filters`? `all` is every container (for before/since, which name another one).
 * Throws EINVALID_ARG on an unknown key or a bad value.
 */
export function matchesContainerFilters(r: EngineRecord, filters: Readonly<Record<string, readonly string[]>>, all: readonly EngineRecord[]): boolean {
  return Object.entries(filters).every(([key, values]) => {
    if (!(CONTAINER_FILTERS as readonly string[]).includes(key)) {
      throw new BerthError('EINVALID_ARG', `invalid filter '${key}': Berth filters containers by ${CONTAINER_FILTERS.join(', ')}`);
    }
    if (key === 'label') return labelsMatch(r.Config.Labels, values);
    return values.some((v) => {
      switch (key) {
        case 'id': return r.Id.startsWith(v);
        case 'name': return r.Name.includes(v.replace(/^\//, ''));
        case 'status':
          if (!STATUSES.includes(v)) throw new BerthError('EINVALID_ARG', `invalid filter 'status=${v}': use one of ${STATUSES.join(', ')}`);
          return r.State.Status === v;
        case 'exited':
          if (!/^-?\d+$/.test(v)) throw new BerthError('EINVALID_ARG', `invalid filter 'exited=${v}': use an exit code`);
          return r.State.Status === 'exited' && String(r.State.ExitCode) === v;
        case 'network': return Object.keys(r.NetworkSettings?.Networks ?? {}).includes(v) || r.HostConfig.NetworkMode === v;
        case 'ancestor': return sameImage(r.Config.Image, v) || (!!r.ImageId && (r.ImageId === v || r.ImageId.startsWith(v.startsWith('sha256:') ? v : `sha256:${v}`)));
        case 'volume': return recordMountPoints(r).some((m) => m.Name === v || m.Destination === v || (m.Type === 'bind' && m.Source === v));
        case 'before':
        case 'since': {
          const other = all.find((o) => o.Id.startsWith(v) || o.Name === v.replace(/^\//, ''));
          if (!other) throw new BerthError('ENOT_FOUND', `no such container: ${v}`);
          return key === 'before' ? r.Created < other.Created : r.Created > other.Created;
        }
        default: return false;
      }
    });
  });
}
