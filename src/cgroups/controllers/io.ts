/**
 * io controller (cgroup v2). Weights: io.bfq.weight when the BFQ scheduler is in use (same
 * 10..1000 scale as blkio), else io.weight (1..10000, converted in convert.ts). Throttling: io.max
 * "maj:min rbps=N wbps=N riops=N wiops=N". Statistics: io.stat.
 */
import type { BlkioDeviceStats } from '../types.js';
import { hasFile, readOpt, writeValue, parseNestedKeyed } from '../files.js';
import { blkioWeightToIoWeight } from '../convert.js';
import { wantsBlockIO, validateBlockIO } from './blkio.js';
import { type Controller, unsupported } from './controller.js';

const IO_MAX_KEYS = {
  throttleReadBpsDevice: 'rbps',
  throttleWriteBpsDevice: 'wbps',
  throttleReadIOPSDevice: 'riops',
  throttleWriteIOPSDevice: 'wiops',
} as const;

/** Parses io.stat into per-device records (unknown keys such as dbytes are ignored). */
export function parseIoStat(text: string | undefined): BlkioDeviceStats[] | undefined {
  const nested = parseNestedKeyed(text);
  if (!nested) return undefined;
  const out: BlkioDeviceStats[] = [];
  for (const [dev, kv] of Object.entries(nested)) {
    const m = /^(\d+):(\d+)$/.exec(dev);
    if (!m) continue;
    const n = (k: string): number => (typeof kv[k] === 'number' ? (kv[k] as number) : 0);
    out.push({ major: Number(m[1]), minor: Number(m[2]), readBytes: n('rbytes'), writeBytes: n('wbytes'), readOps: n('rios'), writeOps: n('wios') });
  }
  return out;
}

/** The cgroup v2 io controller. */
export const ioV2: Controller = {
  name: 'io',
  wants: wantsBlockIO,
  validate(dir, r) {
    const b = r.blockIO!;
    validateBlockIO(b);
    if (b.leafWeight || b.weightDevice?.some((d) => d.leafWeight)) {
      throw unsupported('blockIO.leafWeight', 'cgroup v2 has no leaf weights', 'remove it');
    }
    if ((b.weight || b.weightDevice?.length) && !hasFile(dir, 'io.bfq.weight') && !hasFile(dir, 'io.weight')) {
      throw unsupported('blockIO.weight', 'no proportional-weight I/O control here (neither io.bfq.weight nor io.weight)', 'use throttle*Device limits');
    }
  },
  apply(dir, r) {
    const b = r.blockIO!;
    const bfq = hasFile(dir, 'io.bfq.weight');
    if (b.weight) {
      if (bfq) writeValue(dir, 'io.bfq.weight', b.weight);
      else writeValue(dir, 'io.weight', blkioWeightToIoWeight(b.weight));
    }
    for (const d of b.weightDevice ?? []) {
      if (!d.weight) continue;
      if (bfq) writeValue(dir, 'io.bfq.weight', `${d.major}:${d.minor} ${d.weight}`);
      else writeValue(dir, 'io.weight', `${d.major}:${d.minor} ${blkioWeightToIoWeight(d.weight)}`);
    }
    for (const [key, name] of Object.entries(IO_MAX_KEYS)) {
      // One write per device and key: io.max merges keys that are not mentioned.
      for (const d of b[key as keyof typeof IO_MAX_KEYS] ?? []) writeValue(dir, 'io.max', `${d.major}:${d.minor} ${name}=${d.rate === 0 ? 'max' : d.rate}`);
    }
  },
  stats(dir, out) {
    const devices = parseIoStat(readOpt(dir, 'io.stat'));
    if (devices) out.blkio = { devices };
  },
};
