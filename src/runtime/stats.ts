/**
 * Container statistics in the JSON shape of `runc events` (libcontainer's types.Stats), which
 * containerd and other tools parse, made from the cgroup library's stats.
 */
import type { CgroupStats } from '../cgroups/index.js';

/** runc's `data` object of a stats event. */
export function runcStats(s: CgroupStats): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (s.cpu) {
    out.cpu = {
      usage: { total: s.cpu.usageTotal, percpu: s.cpu.percpu ?? [], kernel: s.cpu.usageSystem ?? 0, user: s.cpu.usageUser ?? 0 },
      throttling: s.cpu.throttling ?? { periods: 0, throttledPeriods: 0, throttledTime: 0 },
    };
  }
  if (s.memory) {
    const m = s.memory;
    out.memory = {
      cache: m.cache ?? 0,
      usage: { limit: m.limit ?? 0, usage: m.usage, max: m.peak ?? 0, failcnt: m.failcnt ?? 0 },
      swap: { usage: m.swap ?? 0 },
      kernel: { usage: m.kernel ?? 0 },
      raw: m.raw,
    };
    // Not in runc's shape (it reports OOM kills only as "oom" events): the count so far, read from
    // the cgroup while it still exists, so a poller that missed the event still learns of the kill.
    if (s.oomKills !== undefined) (out.memory as Record<string, unknown>).oomKills = s.oomKills;
  }
  if (s.pids) out.pids = { current: s.pids.current, limit: s.pids.limit ?? 0 };
  if (s.blkio) {
    const entries = (op: 'Read' | 'Write', key: 'readBytes' | 'writeBytes' | 'readOps' | 'writeOps') =>
      s.blkio!.devices.map((d) => ({ major: d.major, minor: d.minor, op, value: d[key] }));
    out.blkio = {
      ioServiceBytesRecursive: [...entries('Read', 'readBytes'), ...entries('Write', 'writeBytes')],
      ioServicedRecursive: [...entries('Read', 'readOps'), ...entries('Write', 'writeOps')],
    };
  }
  if (s.hugetlb) {
    out.hugetlb = Object.fromEntries(Object.entries(s.hugetlb).map(([size, h]) => [size, { usage: h.usage, max: h.max ?? 0, failcnt: h.failcnt ?? 0 }]));
  }
  return out;
}
