/**
 * Statistics and table printing shared by the benchmarks: medians and percentiles of wall-clock
 * samples, paired ratios over rounds, and a fixed-width table for stdout.
 *
 * Why paired ratios: on a shared 2-core machine the load drifts during a run. Interleaving the
 * runtimes round by round and dividing within a round cancels most of that drift; the median of
 * the per-round ratios is then steadier than the ratio of two medians.
 */
import { performance } from 'node:perf_hooks';

/** Summary of a list of samples in milliseconds. */
export interface Summary {
  n: number;
  median: number;
  p10: number;
  p90: number;
  min: number;
  max: number;
}

/** The q-quantile (0..1) by linear interpolation between the closest ranks (numpy's default). */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return NaN;
  const s = [...samples].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

/** Median, p10, p90, min and max of `samples`. */
export function summarize(samples: readonly number[]): Summary {
  return {
    n: samples.length,
    median: quantile(samples, 0.5),
    p10: quantile(samples, 0.1),
    p90: quantile(samples, 0.9),
    min: samples.length ? Math.min(...samples) : NaN,
    max: samples.length ? Math.max(...samples) : NaN,
  };
}

/** Median over rounds of a[i] / b[i] (both arrays indexed by round). */
export function pairedRatio(a: readonly number[], b: readonly number[]): number {
  return quantile(a.map((x, i) => x / b[i]!), 0.5);
}

/** Per-round difference a[i] − b[i] (e.g. crun in its wrapper minus the wrapper alone). */
export function pairedDiff(a: readonly number[], b: readonly number[]): number[] {
  return a.map((x, i) => x - b[i]!);
}

/** Milliseconds since an arbitrary origin, sub-microsecond resolution (monotonic). */
export function nowMs(): number {
  return performance.now();
}

/** Formats milliseconds for a table: 3 significant-ish digits. */
export function ms(v: number | undefined): string {
  if (v === undefined || Number.isNaN(v)) return '-';
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** Renders rows as a fixed-width table; the first column is left-aligned, the others right. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n') + '\n';
}

/** Sleeps without blocking the event loop. */
export function sleep(msec: number): Promise<void> {
  return new Promise((r) => setTimeout(r, msec));
}

/**
 * The order of round `round`: a shuffle seeded by the round number (the same in every run).
 * Rotating a fixed order would not do: each contender would always follow the same neighbour,
 * and what one leaves behind (warm caches of its binary, a cgroup being torn down) or the idle
 * time before it lands on the same other contender every round. crun, for one, measured 6 ms
 * right after another crun and 13-14 ms after anything else.
 */
export function roundOrder<T>(items: readonly T[], round: number): T[] {
  const out = [...items];
  let seed = (round + 1) * 0x9e3779b9;
  const next = (): number => { // mulberry32
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
