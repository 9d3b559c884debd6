/**
 * memory controller. v1: memory.limit_in_bytes, memory.memsw.limit_in_bytes (memory + swap),
 * memory.soft_limit_in_bytes, memory.swappiness, memory.oom_control, memory.kmem.tcp.*.
 * v2: memory.max, memory.swap.max (swap alone, see convert.ts), memory.low.
 */
import type { LinuxMemory, LinuxResources } from '../../oci/spec.js';
import type { CgroupStats } from '../types.js';
import { readNumber, readOpt, writeValue, hasFile, parseFlatKeyed, finite } from '../files.js';
import { memSwapToV2, memValueToV2 } from '../convert.js';
import { type Controller, type ApplyContext, unsupported, invalid, checkInt } from './controller.js';

function wants(r: LinuxResources): boolean {
  const m = r.memory;
  return !!m && Object.values(m).some((v) => v !== undefined);
}

function validateCommon(m: LinuxMemory): void {
  checkInt('memory.limit', m.limit, -1);
  checkInt('memory.reservation', m.reservation, -1);
  checkInt('memory.swap', m.swap, -1);
  if (m.kernel !== undefined && m.kernel !== 0) {
    // Deprecated in 5.4; since 5.16 the kernel accepts the write and ignores it (seen on this
    // 6.18 host: the file stays at its maximum). runc ignores it silently; Berth says so.
    throw unsupported('memory.kernel', 'kernel memory limits are ignored by linux ≥ 5.16', 'remove it: kernel memory is charged to memory.limit');
  }
  if (m.swap !== undefined && m.limit !== undefined && m.swap > 0 && m.limit > 0 && m.swap < m.limit) {
    throw invalid('memory.swap', `is ${m.swap}; it is memory plus swap and must be at least memory.limit ${m.limit} (or -1)`);
  }
}

/** The cgroup v1 memory controller. */
export const memoryV1: Controller = {
  name: 'memory',
  wants,
  validate(dir, r) {
    const m = r.memory!;
    validateCommon(m);
    if (m.swappiness !== undefined && m.swappiness !== -1) checkInt('memory.swappiness', m.swappiness, 0, 100);
    if (m.useHierarchy === false) {
      throw unsupported('memory.useHierarchy', 'false is rejected by this kernel (hierarchical accounting is always on)', 'remove it');
    }
    if (m.swap !== undefined && m.swap !== 0 && m.swap !== -1 && m.swap !== m.limit && !hasFile(dir, 'memory.memsw.limit_in_bytes')) {
      throw unsupported('memory.swap', 'swap accounting is off on this host (no memory.memsw.limit_in_bytes)', 'boot with swapaccount=1 or leave memory.swap unset');
    }
    if (m.kernelTCP !== undefined && !hasFile(dir, 'memory.kmem.tcp.limit_in_bytes')) {
      throw unsupported('memory.kernelTCP', 'this kernel has no memory.kmem.tcp.limit_in_bytes');
    }
  },
  apply(dir, r, ctx) {
    const m = r.memory!;
    if (ctx.live && m.checkBeforeUpdate && m.limit !== undefined && m.limit > 0) {
      const usage = readNumber(dir, 'memory.usage_in_bytes') ?? 0;
      if (m.limit < usage) throw invalid('memory.limit', `${m.limit} is below the current usage ${usage} (checkBeforeUpdate)`);
    }
    setLimitAndSwapV1(dir, m);
    if (m.reservation !== undefined && m.reservation !== 0) writeValue(dir, 'memory.soft_limit_in_bytes', m.reservation);
    if (m.kernelTCP !== undefined && m.kernelTCP !== 0) writeValue(dir, 'memory.kmem.tcp.limit_in_bytes', m.kernelTCP);
    if (m.swappiness !== undefined && m.swappiness !== -1) writeValue(dir, 'memory.swappiness', m.swappiness);
    // memory.oom_control accepts only the oom_kill_disable flag on write.
    if (m.disableOOMKiller !== undefined) writeValue(dir, 'memory.oom_control', m.disableOOMKiller ? 1 : 0);
  },
  stats(dir, out) {
    const usage = readNumber(dir, 'memory.usage_in_bytes');
    if (usage === undefined) return;
    const raw = parseFlatKeyed(readOpt(dir, 'memory.stat')) ?? {};
    const memsw = readNumber(dir, 'memory.memsw.usage_in_bytes');
    const inactive = raw['total_inactive_file'] ?? raw['inactive_file'] ?? 0;
    out.memory = {
      usage,
      workingSet: Math.max(0, usage - inactive),
      raw,
    };
    const set = <K extends keyof NonNullable<CgroupStats['memory']>>(k: K, v: NonNullable<CgroupStats['memory']>[K] | undefined): void => {
      if (v !== undefined) out.memory![k] = v;
    };
    set('limit', finite(readNumber(dir, 'memory.limit_in_bytes')));
    set('peak', readNumber(dir, 'memory.max_usage_in_bytes'));
    set('cache', raw['total_cache'] ?? raw['cache']);
    set('rss', raw['total_rss'] ?? raw['rss']);
    set('swap', memsw !== undefined ? Math.max(0, memsw - usage) : raw['total_swap']);
    set('kernel', readNumber(dir, 'memory.kmem.usage_in_bytes'));
    set('failcnt', readNumber(dir, 'memory.failcnt'));
  },
};

/**
 * Writes memory.limit_in_bytes and memory.memsw.limit_in_bytes in an order the kernel accepts:
 * it rejects memsw < limit at every moment, so when raising both (or making swap unlimited) swap
 * goes first, otherwise the limit goes first (runc's setMemoryAndSwap).
 */
function setLimitAndSwapV1(dir: string, m: LinuxMemory): void {
  let swap = m.swap;
  // "memory unlimited" with swap unset means both unlimited, as in runc.
  if (m.limit === -1 && (swap === undefined || swap === 0)) swap = -1;
  const hasMemsw = hasFile(dir, 'memory.memsw.limit_in_bytes');
  const writeSwap = (): void => {
    if (swap !== undefined && swap !== 0 && hasMemsw) writeValue(dir, 'memory.memsw.limit_in_bytes', swap);
  };
  const writeLimit = (): void => {
    if (m.limit !== undefined && m.limit !== 0) writeValue(dir, 'memory.limit_in_bytes', m.limit);
  };
  if (m.limit !== undefined && m.limit !== 0 && swap !== undefined && swap !== 0) {
    const current = readNumber(dir, 'memory.limit_in_bytes') ?? Infinity;
    if (swap === -1 || current < swap) {
      writeSwap();
      writeLimit();
      return;
    }
  }
  writeLimit();
  writeSwap();
}

/** The cgroup v2 memory controller. */
export const memoryV2: Controller = {
  name: 'memory',
  wants,
  validate(dir, r) {
    const m = r.memory!;
    validateCommon(m);
    if (m.swappiness !== undefined && m.swappiness !== -1) {
      throw unsupported('memory.swappiness', 'cgroup v2 has no per-cgroup swappiness', 'remove it, or limit swap with memory.swap');
    }
    if (m.disableOOMKiller) {
      throw unsupported('memory.disableOOMKiller', 'cgroup v2 cannot disable the OOM killer', 'set process.oomScoreAdj to -1000, or throttle with linux.resources.unified {"memory.high": ...}');
    }
    if (m.kernelTCP !== undefined && m.kernelTCP !== 0) {
      throw unsupported('memory.kernelTCP', 'cgroup v2 has no separate TCP memory limit (it is charged to memory.max)', 'remove it');
    }
    try {
      memSwapToV2(m.swap, m.limit);
    } catch (err) {
      throw invalid('memory.swap', (err as Error).message.replace(/^memory\.swap /, 'is '));
    }
  },
  apply(dir, r, ctx: ApplyContext) {
    const m = r.memory!;
    if (ctx.live && m.checkBeforeUpdate && m.limit !== undefined && m.limit > 0) {
      const usage = readNumber(dir, 'memory.current') ?? 0;
      if (m.limit < usage) throw invalid('memory.limit', `${m.limit} is below the current usage ${usage} (checkBeforeUpdate)`);
    }
    const swap = memSwapToV2(m.swap, m.limit);
    // memory.swap.max is missing when the kernel has no swap support: feature absent, skip (runc, crun).
    const writeSwap = (): void => {
      if (swap !== undefined && hasFile(dir, 'memory.swap.max')) writeValue(dir, 'memory.swap.max', swap);
    };
    // v2 has no memsw ordering rule; swap first still avoids a moment with more swap than intended.
    writeSwap();
    if (m.limit !== undefined && m.limit !== 0) writeValue(dir, 'memory.max', memValueToV2(m.limit));
    if (m.reservation !== undefined && m.reservation !== 0) writeValue(dir, 'memory.low', memValueToV2(m.reservation));
  },
  stats(dir, out) {
    const usage = readNumber(dir, 'memory.current');
    if (usage === undefined) return;
    const raw = parseFlatKeyed(readOpt(dir, 'memory.stat')) ?? {};
    out.memory = { usage, workingSet: Math.max(0, usage - (raw['inactive_file'] ?? 0)), raw };
    const mem = out.memory;
    const limit = finite(readNumber(dir, 'memory.max'));
    if (limit !== undefined) mem.limit = limit;
    const peak = readNumber(dir, 'memory.peak');
    if (peak !== undefined) mem.peak = peak;
    if (raw['file'] !== undefined) mem.cache = raw['file'];
    if (raw['anon'] !== undefined) mem.rss = raw['anon'];
    const swap = readNumber(dir, 'memory.swap.current');
    if (swap !== undefined) mem.swap = swap;
    if (raw['kernel'] !== undefined) mem.kernel = raw['kernel'];
    else if (raw['kernel_stack'] !== undefined) mem.kernel = (raw['kernel_stack'] ?? 0) + (raw['slab'] ?? 0) + (raw['percpu'] ?? 0);
    // v2 has no failcnt; Docker reports memory.events "oom" in its place.
    const events = parseFlatKeyed(readOpt(dir, 'memory.events'));
    if (events?.['oom'] !== undefined) mem.failcnt = events['oom'];
  },
};
