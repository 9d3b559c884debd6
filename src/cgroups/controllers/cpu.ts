/**
 * cpu controller. v1: cpu.shares, cpu.cfs_quota_us/cfs_period_us, cpu.cfs_burst_us,
 * cpu.rt_runtime_us/rt_period_us, cpu.idle; throttling from cpu.stat.
 * v2: cpu.weight (from shares, convert.ts), cpu.max, cpu.max.burst, cpu.idle; usage and
 * throttling from cpu.stat (microseconds, converted to nanoseconds here).
 */
import type { LinuxResources } from '../../oci/spec.js';
import { readOpt, readNumber, writeValue, hasFile, parseFlatKeyed } from '../files.js';
import { BerthError, errnoCode } from '../../util/errors.js';
import { cpuMaxValue, sharesToWeight } from '../convert.js';
import { type Controller, unsupported, invalid, checkInt } from './controller.js';

function wants(r: LinuxResources): boolean {
  const c = r.cpu;
  if (!c) return false;
  return [c.shares, c.quota, c.period, c.realtimePeriod, c.realtimeRuntime].some((v) => v !== undefined && v !== 0) || c.burst !== undefined || c.idle !== undefined;
}

function validateCommon(r: LinuxResources): void {
  const c = r.cpu!;
  if (c.shares !== undefined && c.shares !== 0) checkInt('cpu.shares', c.shares, 2, 262144);
  checkInt('cpu.quota', c.quota, -1);
  // The kernel's CFS period bounds: 1 ms to 1 s.
  if (c.period !== undefined && c.period !== 0) checkInt('cpu.period', c.period, 1000, 1000000);
  if (c.quota !== undefined && c.quota > 0 && c.quota < 1000) throw invalid('cpu.quota', `is ${c.quota}; must be at least 1000 (µs) or -1`);
  checkInt('cpu.burst', c.burst, 0);
  if (c.idle !== undefined) checkInt('cpu.idle', c.idle, 0, 1);
}

/** Throttling and usage from a v1/v2 cpu.stat; `scale` converts its time unit to ns. */
function cpuStat(raw: Record<string, number>, timeKey: string, scale: number): { periods: number; throttledPeriods: number; throttledTime: number } | undefined {
  if (raw['nr_periods'] === undefined) return undefined;
  return { periods: raw['nr_periods'], throttledPeriods: raw['nr_throttled'] ?? 0, throttledTime: (raw[timeKey] ?? 0) * scale };
}

/** The cgroup v1 cpu controller (cpuacct, mounted separately or not, provides usage). */
export const cpuV1: Controller = {
  name: 'cpu',
  wants,
  validate(dir, r) {
    validateCommon(r);
    const c = r.cpu!;
    if (c.burst !== undefined && !hasFile(dir, 'cpu.cfs_burst_us')) throw unsupported('cpu.burst', 'this kernel has no cpu.cfs_burst_us (linux ≥ 5.14)');
    if (c.idle !== undefined && !hasFile(dir, 'cpu.idle')) throw unsupported('cpu.idle', 'this kernel has no cpu.idle (linux ≥ 5.15)');
    if ((c.realtimeRuntime || c.realtimePeriod) && !hasFile(dir, 'cpu.rt_runtime_us')) {
      throw unsupported('cpu.realtimeRuntime', 'this kernel has no real-time group scheduling (CONFIG_RT_GROUP_SCHED)');
    }
  },
  apply(dir, r) {
    const c = r.cpu!;
    if (c.shares) {
      writeValue(dir, 'cpu.shares', c.shares);
      // The kernel clamps silently; say so instead of running with another value (runc does too).
      const got = readNumber(dir, 'cpu.shares');
      if (got !== undefined && got !== c.shares) throw new BerthError('ECGROUP', `cpu.shares ${c.shares} was clamped to ${got} by the kernel in ${dir}`);
    }
    // A smaller period can be refused (EINVAL) because old quota / new period would exceed the
    // parent's quota; when a quota follows, retry the period after it (runc's order).
    let periodLater = false;
    if (c.period) {
      try {
        writeValue(dir, 'cpu.cfs_period_us', c.period);
      } catch (err) {
        const errno = errnoCode((err as Error).cause);
        if (errno !== 'EINVAL' || !c.quota) throw err;
        periodLater = true;
      }
    }
    if (c.quota) {
      writeValue(dir, 'cpu.cfs_quota_us', c.quota);
      if (periodLater) writeValue(dir, 'cpu.cfs_period_us', c.period!);
    }
    if (c.burst !== undefined) writeValue(dir, 'cpu.cfs_burst_us', c.burst);
    // rt_period first, then rt_runtime (the runtime must fit in the period).
    if (c.realtimePeriod) writeValue(dir, 'cpu.rt_period_us', c.realtimePeriod);
    if (c.realtimeRuntime) writeValue(dir, 'cpu.rt_runtime_us', c.realtimeRuntime);
    if (c.idle !== undefined) writeValue(dir, 'cpu.idle', c.idle);
  },
  stats(dir, out) {
    const raw = parseFlatKeyed(readOpt(dir, 'cpu.stat'));
    if (!raw) return;
    // cpu.stat on v1 has throttling only; usage comes from cpuacct (cpuacct.ts).
    out.cpu ??= { usageTotal: 0, raw: {} };
    out.cpu.raw = { ...out.cpu.raw, ...raw };
    const t = cpuStat(raw, 'throttled_time', 1);
    if (t) out.cpu.throttling = t;
  },
};

/** The cgroup v2 cpu controller. */
export const cpuV2: Controller = {
  name: 'cpu',
  wants,
  validate(dir, r) {
    validateCommon(r);
    const c = r.cpu!;
    if (c.realtimeRuntime || c.realtimePeriod) {
      throw unsupported('cpu.realtimeRuntime', 'cgroup v2 has no real-time bandwidth control', 'remove cpu.realtimeRuntime/realtimePeriod (use sched_setattr inside the container)');
    }
    if (c.burst !== undefined && !hasFile(dir, 'cpu.max.burst')) throw unsupported('cpu.burst', 'this kernel has no cpu.max.burst (linux ≥ 5.14)');
    if (c.idle !== undefined && !hasFile(dir, 'cpu.idle')) throw unsupported('cpu.idle', 'this kernel has no cpu.idle (linux ≥ 5.15)');
  },
  apply(dir, r, ctx) {
    const c = r.cpu!;
    if (c.shares) writeValue(dir, 'cpu.weight', sharesToWeight(c.shares));
    const currentQuota = ctx.live ? readOpt(dir, 'cpu.max')?.trim().split(/\s+/)[0] : undefined;
    const max = cpuMaxValue(c.quota, c.period, currentQuota);
    if (max !== undefined) writeValue(dir, 'cpu.max', max);
    if (c.burst !== undefined) writeValue(dir, 'cpu.max.burst', c.burst);
    if (c.idle !== undefined) writeValue(dir, 'cpu.idle', c.idle);
  },
  stats(dir, out) {
    const raw = parseFlatKeyed(readOpt(dir, 'cpu.stat'));
    if (!raw || raw['usage_usec'] === undefined) return;
    // cpu.stat counts microseconds; Docker's numbers are nanoseconds. No per-CPU file on v2.
    out.cpu = { usageTotal: raw['usage_usec'] * 1000, raw };
    if (raw['user_usec'] !== undefined) out.cpu.usageUser = raw['user_usec'] * 1000;
    if (raw['system_usec'] !== undefined) out.cpu.usageSystem = raw['system_usec'] * 1000;
    const t = cpuStat(raw, 'throttled_usec', 1000);
    if (t) out.cpu.throttling = t;
  },
};
