/**
 * The ONE table of v1 → v2 conversions. OCI resources are v1-shaped; on cgroup v2 Berth writes:
 *
 * | OCI field                       | v1 file                          | v2 file            | conversion                                   |
 * |---------------------------------|----------------------------------|--------------------|----------------------------------------------|
 * | memory.limit                    | memory.limit_in_bytes            | memory.max         | same; -1 → "max"                             |
 * | memory.swap (memory+swap)       | memory.memsw.limit_in_bytes      | memory.swap.max    | swap − limit; -1 → "max"  (memSwapToV2)      |
 * | memory.reservation              | memory.soft_limit_in_bytes       | memory.low         | same; -1 → "max" (runc, crun; not memory.high)|
 * | memory.swappiness/kernel/kernelTCP/disableOOMKiller | memory.*     | —                  | EUNSUPPORTED with a hint (crun's choice)     |
 * | cpu.shares (2..262144)          | cpu.shares                       | cpu.weight         | sharesToWeight (runc ≥ 1.3.2 quadratic fit)  |
 * | cpu.quota + cpu.period          | cpu.cfs_quota_us / _period_us    | cpu.max            | "quota period"; quota ≤ 0 → "max"            |
 * | cpu.burst                       | cpu.cfs_burst_us                 | cpu.max.burst      | same                                         |
 * | cpu.idle                        | cpu.idle                         | cpu.idle           | same                                         |
 * | cpu.realtimeRuntime/Period      | cpu.rt_runtime_us / rt_period_us | —                  | EUNSUPPORTED                                 |
 * | cpu.cpus / cpu.mems             | cpuset.cpus / cpuset.mems        | same names         | same                                         |
 * | pids.limit                      | pids.max                         | pids.max           | ≤ 0 → "max" (0 = unset, as runc)             |
 * | blockIO.weight (10..1000)       | blkio.weight / blkio.bfq.weight  | io.bfq.weight, else io.weight | same / blkioWeightToIoWeight      |
 * | blockIO.weightDevice            | blkio(.bfq).weight_device        | io.bfq.weight "maj:min w", else io.weight | same / converted |
 * | blockIO.throttle*Device         | blkio.throttle.*_device          | io.max             | "maj:min rbps=|wbps=|riops=|wiops=N"         |
 * | hugepageLimits[pageSize]        | hugetlb.<size>.limit_in_bytes    | hugetlb.<size>.max | same                                         |
 * | network.classID / priorities    | net_cls.classid / net_prio.ifpriomap | —              | EUNSUPPORTED (use a cgroup match in nftables) |
 * | rdma                            | rdma.max                         | rdma.max           | same                                         |
 * | devices                         | devices.allow / devices.deny     | eBPF program       | devices-bpf.ts                               |
 * | unified                         | — (hybrid: the unified twin)     | <key> file         | written as given, after checking it exists   |
 */

/**
 * cpu.shares → cpu.weight, runc's current formula (opencontainers/cgroups#20, runc ≥ 1.3.2,
 * also crun ≥ 1.23 and youki): a quadratic fit in log2(shares) that maps the three reference
 * points exactly — 2 → 1, 1024 (v1 default) → 100 (v2 default), 262144 → 10000:
 *   weight = ceil(10^((l² + 125·l) / 612 − 7/34)), l = log2(shares)
 * The older linear formula (runc < 1.3.2, crun < 1.23) was 1 + ((shares − 2) · 9999) / 262142,
 * which maps the default 1024 to 39, so a container with default shares got less than 40% of
 * the CPU weight of a v2-native neighbour. Berth uses the fit. 0 means "unset" and gives 0
 * (nothing written).
 */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  const l = Math.log2(shares);
  const exponent = (l * l + 125 * l) / 612 - 7 / 34;
  return Math.ceil(Math.pow(10, exponent));
}

/** blkio.weight (10..1000) → io.weight (1..10000): 1 + ((w − 10) · 9999) / 990 (runc, crun). */
export function blkioWeightToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/**
 * OCI memory.swap (memory + swap, v1 semantics) → memory.swap.max (swap alone).
 * Returns undefined when nothing should be written. Follows runc's ConvertMemorySwapToCgroupV2Value:
 * limit -1 with swap unset → "max" (both unlimited); swap -1 → "max"; swap 0/unset → nothing;
 * a swap limit without a finite memory limit, or swap < limit → RangeError (caller wraps it).
 */
export function memSwapToV2(swap: number | undefined, limit: number | undefined): string | undefined {
  if (limit === -1 && (swap === undefined || swap === 0)) return 'max';
  if (swap === undefined || swap === 0) return undefined;
  if (swap === -1) return 'max';
  if (limit === undefined || limit === 0 || limit === -1) throw new RangeError(`memory.swap ${swap} needs a memory.limit`);
  if (swap < limit) throw new RangeError(`memory.swap ${swap} must be at least memory.limit ${limit} (it is memory plus swap)`);
  return String(swap - limit);
}

/** A memory size for a v2 file: -1 → "max". */
export function memValueToV2(n: number): string {
  return n === -1 ? 'max' : String(n);
}

/** CFS quota and period → cpu.max ("quota period", quota ≤ 0 → "max"); undefined if both unset. */
export function cpuMaxValue(quota: number | undefined, period: number | undefined, currentQuota?: string): string | undefined {
  if ((quota === undefined || quota === 0) && (period === undefined || period === 0)) return undefined;
  // Only the period changes: keep the quota already in force (runc writes "max" and loses it).
  const q = quota === undefined || quota === 0 ? (currentQuota ?? 'max') : quota < 0 ? 'max' : String(quota);
  return period ? `${q} ${period}` : q;
}

/** pids.limit → pids.max: > 0 as is, < 0 → "max", 0 → unset (runc's reading). */
export function pidsMaxValue(limit: number): string | undefined {
  if (limit === 0) return undefined;
  return limit > 0 ? String(limit) : 'max';
}
