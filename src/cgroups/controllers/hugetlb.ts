/**
 * hugetlb controller. v1: hugetlb.<size>.limit_in_bytes; v2: hugetlb.<size>.max, where <size>
 * is the kernel's name of the page size ("2MB", "1GB"), as OCI's pageSize is. On this hybrid
 * host hugetlb exists only in the unified hierarchy, so the v2 module runs there.
 */
import { readdirSync } from 'node:fs';
import type { LinuxResources } from '../../oci/spec.js';
import type { CgroupStats } from '../types.js';
import { hasFile, readNumber, readOpt, writeValue, parseFlatKeyed } from '../files.js';
import { type Controller, unsupported, invalid } from './controller.js';

/** Page sizes this cgroup offers, from the file names. */
function pageSizes(dir: string, suffix: string): string[] {
  try {
    return readdirSync(dir).filter((f) => f.startsWith('hugetlb.') && f.endsWith(suffix) && !f.includes('.rsvd.'))
      .map((f) => f.slice('hugetlb.'.length, -suffix.length));
  } catch {
    return [];
  }
}

function make(limitSuffix: string, usageSuffix: string, peakSuffix: string | undefined): Controller {
  return {
    name: 'hugetlb',
    wants: (r: LinuxResources) => !!r.hugepageLimits?.length,
    validate(dir, r) {
      for (const [i, h] of r.hugepageLimits!.entries()) {
        if (!Number.isInteger(h.limit) || h.limit < -1) throw invalid(`hugepageLimits[${i}].limit`, `is ${h.limit}; must be bytes or -1`);
        if (!/^\d+[KMG]B$/.test(h.pageSize)) throw invalid(`hugepageLimits[${i}].pageSize`, `${JSON.stringify(h.pageSize)} must look like "2MB" or "1GB"`);
        if (!hasFile(dir, `hugetlb.${h.pageSize}${limitSuffix}`)) {
          throw unsupported(`hugepageLimits[${i}].pageSize`, `this host has no ${h.pageSize} huge pages (available: ${pageSizes(dir, limitSuffix).join(', ') || 'none'})`);
        }
      }
    },
    apply(dir, r) {
      for (const h of r.hugepageLimits!) {
        const v = h.limit === -1 ? (limitSuffix === '.max' ? 'max' : -1) : h.limit;
        writeValue(dir, `hugetlb.${h.pageSize}${limitSuffix}`, v);
      }
    },
    stats(dir, out: CgroupStats) {
      const sizes = pageSizes(dir, usageSuffix);
      if (!sizes.length) return;
      out.hugetlb = {};
      for (const size of sizes) {
        const entry: { usage: number; max?: number; failcnt?: number } = { usage: readNumber(dir, `hugetlb.${size}${usageSuffix}`) ?? 0 };
        if (peakSuffix) {
          const peak = readNumber(dir, `hugetlb.${size}${peakSuffix}`);
          if (peak !== undefined) entry.max = peak;
          const fc = readNumber(dir, `hugetlb.${size}.failcnt`);
          if (fc !== undefined) entry.failcnt = fc;
        } else {
          // v2: no peak file; hugetlb.<size>.events "max N" counts allocation failures.
          const ev = parseFlatKeyed(readOpt(dir, `hugetlb.${size}.events`));
          if (ev?.['max'] !== undefined) entry.failcnt = ev['max'];
        }
        out.hugetlb[size] = entry;
      }
    },
  };
}

/** The cgroup v1 hugetlb controller. */
export const hugetlbV1: Controller = make('.limit_in_bytes', '.usage_in_bytes', '.max_usage_in_bytes');
/** The cgroup v2 hugetlb controller. */
export const hugetlbV2: Controller = make('.max', '.current', undefined);
