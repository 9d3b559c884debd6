/**
 * blkio controller (cgroup v1). Weights go to blkio.weight (CFQ, gone since linux 5.0) or, when
 * that is missing, blkio.bfq.weight (the BFQ scheduler; present on this host). Throttling goes to
 * blkio.throttle.*_device. Statistics: blkio.throttle.io_service_bytes(_recursive) and
 * io_serviced(_recursive), which count every I/O whatever the scheduler.
 */
import type { LinuxBlockIO, LinuxResources } from '../../oci/spec.js';
import type { BlkioDeviceStats } from '../types.js';
import { hasFile, readOpt, writeValue } from '../files.js';
import { type Controller, unsupported, checkInt } from './controller.js';

/** Whether any blockIO knob is set (shared with io.ts). */
export function wantsBlockIO(r: LinuxResources): boolean {
  const b = r.blockIO;
  if (!b) return false;
  return !!b.weight || !!b.leafWeight || !!b.weightDevice?.length || !!b.throttleReadBpsDevice?.length ||
    !!b.throttleWriteBpsDevice?.length || !!b.throttleReadIOPSDevice?.length || !!b.throttleWriteIOPSDevice?.length;
}

/** Range checks common to v1 and v2 (weights 10..1000 in OCI). */
export function validateBlockIO(b: LinuxBlockIO): void {
  if (b.weight) checkInt('blockIO.weight', b.weight, 10, 1000);
  if (b.leafWeight) checkInt('blockIO.leafWeight', b.leafWeight, 10, 1000);
  for (const [i, d] of (b.weightDevice ?? []).entries()) {
    checkInt(`blockIO.weightDevice[${i}].major`, d.major, 0);
    checkInt(`blockIO.weightDevice[${i}].minor`, d.minor, 0);
    if (d.weight) checkInt(`blockIO.weightDevice[${i}].weight`, d.weight, 10, 1000);
  }
  for (const key of ['throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice'] as const) {
    for (const [i, d] of (b[key] ?? []).entries()) {
      checkInt(`blockIO.${key}[${i}].major`, d.major, 0);
      checkInt(`blockIO.${key}[${i}].minor`, d.minor, 0);
      checkInt(`blockIO.${key}[${i}].rate`, d.rate, 0);
    }
  }
}

const THROTTLE_V1 = {
  throttleReadBpsDevice: 'blkio.throttle.read_bps_device',
  throttleWriteBpsDevice: 'blkio.throttle.write_bps_device',
  throttleReadIOPSDevice: 'blkio.throttle.read_iops_device',
  throttleWriteIOPSDevice: 'blkio.throttle.write_iops_device',
} as const;

/** The weight file pair this kernel offers: CFQ's, else BFQ's. */
function weightFiles(dir: string): { weight: string; device: string } | undefined {
  if (hasFile(dir, 'blkio.weight')) return { weight: 'blkio.weight', device: 'blkio.weight_device' };
  if (hasFile(dir, 'blkio.bfq.weight')) return { weight: 'blkio.bfq.weight', device: 'blkio.bfq.weight_device' };
  return undefined;
}

/**
 * Parses v1 blkio "maj:min Op value" lines (io_service_bytes, io_serviced) into per-device
 * records; `bytes` selects whether values go to the byte or the op counters.
 */
export function parseBlkioV1(text: string | undefined, bytes: boolean, into: Map<string, BlkioDeviceStats>): void {
  if (text === undefined) return;
  for (const line of text.split('\n')) {
    const m = /^(\d+):(\d+)\s+(\w+)\s+(\d+)$/.exec(line.trim());
    if (!m) continue;
    const key = `${m[1]}:${m[2]}`;
    let d = into.get(key);
    if (!d) into.set(key, (d = { major: Number(m[1]), minor: Number(m[2]), readBytes: 0, writeBytes: 0, readOps: 0, writeOps: 0 }));
    const v = Number(m[4]);
    if (m[3] === 'Read') bytes ? (d.readBytes = v) : (d.readOps = v);
    if (m[3] === 'Write') bytes ? (d.writeBytes = v) : (d.writeOps = v);
  }
}

/** The cgroup v1 blkio controller. */
export const blkioV1: Controller = {
  name: 'blkio',
  wants: wantsBlockIO,
  validate(dir, r) {
    const b = r.blockIO!;
    validateBlockIO(b);
    if ((b.weight || b.weightDevice?.length) && !weightFiles(dir)) {
      throw unsupported('blockIO.weight', 'no proportional-weight I/O scheduler here (neither blkio.weight nor blkio.bfq.weight)', 'select the bfq scheduler for the disk, or use throttle*Device limits');
    }
    if (b.leafWeight && !hasFile(dir, 'blkio.leaf_weight')) {
      throw unsupported('blockIO.leafWeight', 'this kernel has no blkio.leaf_weight (CFQ was removed in linux 5.0)', 'remove it');
    }
  },
  apply(dir, r) {
    const b = r.blockIO!;
    const wf = weightFiles(dir);
    if (b.weight && wf) writeValue(dir, wf.weight, b.weight);
    if (b.leafWeight) writeValue(dir, 'blkio.leaf_weight', b.leafWeight);
    for (const d of b.weightDevice ?? []) {
      if (d.weight && wf) writeValue(dir, wf.device, `${d.major}:${d.minor} ${d.weight}`);
      if (d.leafWeight) writeValue(dir, 'blkio.leaf_weight_device', `${d.major}:${d.minor} ${d.leafWeight}`);
    }
    for (const [key, file] of Object.entries(THROTTLE_V1)) {
      for (const d of b[key as keyof typeof THROTTLE_V1] ?? []) writeValue(dir, file, `${d.major}:${d.minor} ${d.rate}`);
    }
  },
  stats(dir, out) {
    const bytes = readOpt(dir, 'blkio.throttle.io_service_bytes_recursive') ?? readOpt(dir, 'blkio.throttle.io_service_bytes');
    const ops = readOpt(dir, 'blkio.throttle.io_serviced_recursive') ?? readOpt(dir, 'blkio.throttle.io_serviced');
    if (bytes === undefined && ops === undefined) return;
    const devs = new Map<string, BlkioDeviceStats>();
    parseBlkioV1(bytes, true, devs);
    parseBlkioV1(ops, false, devs);
    out.blkio = { devices: [...devs.values()] };
  },
};
