/**
 * The outcome of a container's run, told plainly: how it ended (exit code, or the signal and who
 * sent it — the OOM killer, `berth kill`, a timeout), and what it used (peak memory against its
 * limit, CPU time and time throttled, peak number of processes). The counters are read from the
 * container's cgroup after its last process exited and BEFORE the cgroup is removed; an exit 137
 * from the OOM killer and one from a SIGKILL someone sent are told apart by the cgroup's OOM kill
 * counter and by the record of the signals Berth itself sent.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CgroupManager } from '../cgroups/index.js';
import { signalName } from '../runtime/signals.js';
import { humanSize } from './validate.js';

/** What happened to a container. Times in nanoseconds, sizes in bytes. */
export interface Report {
  /** Docker's exit code: the status, or 128 + the signal number. */
  exitCode: number;
  /** The signal that ended the main process (e.g. SIGKILL), when one did. */
  signal?: string;
  /** The main process was killed by the kernel's OOM killer. */
  oomKilled: boolean;
  /** OOM kills in the container's cgroup (any of its processes). */
  oomKills: number;
  /** Who ended it when it did not exit by itself: `oom`, `berth kill`, `timeout` … */
  killedBy?: string;
  /** One line: "exited with code 0", "killed by the OOM killer: memory limit 32MiB reached (peak 32MiB)". */
  summary: string;
  memory: { limit?: number; peak?: number; failcnt?: number };
  cpu: { usageNs?: number; userNs?: number; systemNs?: number; periods?: number; throttledPeriods?: number; throttledNs?: number };
  pids: { peak?: number; limit?: number };
  startedAt: string;
  finishedAt: string;
  durationMs: number;
}

/** The cgroup's counters, read before the cgroup goes. Missing files leave fields undefined. */
export interface Usage {
  memory: Report['memory'];
  cpu: Report['cpu'];
  pids: Report['pids'];
  oomKills: number;
}

/** The controllers whose counters the report shows (blkio, hugetlb … are not read). */
const REPORTED = ['memory', 'cpu', 'cpuacct', 'pids'];

/** Read the usage counters of a container's cgroup (call it before deleting the container). */
export function readUsage(cgroup: CgroupManager | undefined): Usage {
  const usage: Usage = { memory: {}, cpu: {}, pids: {}, oomKills: 0 };
  if (!cgroup?.exists()) return usage;
  try {
    const s = cgroup.stats(REPORTED);
    if (s.memory) usage.memory = { limit: s.memory.limit, peak: s.memory.peak, failcnt: s.memory.failcnt };
    if (s.cpu) {
      usage.cpu = {
        usageNs: s.cpu.usageTotal, userNs: s.cpu.usageUser, systemNs: s.cpu.usageSystem,
        periods: s.cpu.throttling?.periods, throttledPeriods: s.cpu.throttling?.throttledPeriods, throttledNs: s.cpu.throttling?.throttledTime,
      };
    }
    if (s.pids) usage.pids = { limit: s.pids.limit };
  } catch { /* a half-removed cgroup: report what could be read */ }
  usage.pids.peak = readPidsPeak(cgroup);
  usage.oomKills = cgroup.oomKillCount();
  return usage;
}

/** pids.peak (v1 and v2, Linux ≥ 6.x): the most processes the cgroup ever held. */
function readPidsPeak(cgroup: CgroupManager): number | undefined {
  for (const dir of [cgroup.paths.pids, cgroup.paths.unified]) {
    if (!dir) continue;
    try {
      const n = Number(readFileSync(join(dir, 'pids.peak'), 'utf8').trim());
      if (Number.isFinite(n)) return n;
    } catch { /* not on this kernel or not this hierarchy */ }
  }
  return undefined;
}

/** Put the outcome together. `sent` is the last signal Berth sent, if any. */
export function makeReport(opts: {
  exitCode: number; signal?: number; usage: Usage; sent?: { signal: string; by: string }; startedAt: Date; finishedAt: Date;
}): Report {
  const { usage, sent } = opts;
  const signal = opts.signal !== undefined ? signalName(opts.signal) : undefined;
  const sentThis = sent && signal && sent.signal === signal ? sent : undefined;
  const oomKilled = signal === 'SIGKILL' && usage.oomKills > 0 && !sentThis;
  let killedBy: string | undefined;
  let summary: string;
  if (oomKilled) {
    killedBy = 'oom';
    const limit = usage.memory.limit !== undefined ? `memory limit ${humanSize(usage.memory.limit)} reached` : 'out of memory';
    const peak = usage.memory.peak !== undefined ? ` (peak ${humanSize(usage.memory.peak)})` : '';
    summary = `killed by the OOM killer: ${limit}${peak}`;
  } else if (signal) {
    killedBy = sentThis ? sentThis.by : 'signal';
    summary = sentThis?.by === 'timeout' ? `timed out: killed by ${signal}`
      : sentThis?.by === 'berth stop'
      ? `stopped by berth stop (${signal === 'SIGKILL' ? 'SIGKILL after the stop timeout' : signal})`
      : `killed by ${signal}${sentThis ? ` (sent by ${sentThis.by})` : ''}`;
  } else {
    summary = `exited with code ${opts.exitCode}`;
  }
  if (!oomKilled && usage.oomKills > 0) summary += `; the OOM killer killed ${usage.oomKills} process${usage.oomKills > 1 ? 'es' : ''} in the container`;
  return {
    exitCode: opts.exitCode, signal, oomKilled, oomKills: usage.oomKills, killedBy, summary,
    memory: usage.memory, cpu: usage.cpu, pids: usage.pids,
    startedAt: opts.startedAt.toISOString(), finishedAt: opts.finishedAt.toISOString(),
    durationMs: opts.finishedAt.getTime() - opts.startedAt.getTime(),
  };
}

const secs = (ns: number | undefined) => (ns === undefined ? '-' : `${(ns / 1e9).toFixed(3)}s`);
const size = (b: number | undefined) => (b === undefined ? 'unlimited' : humanSize(b));

/**
 * The report as a short table, like `/usr/bin/time -v` for containers:
 *
 *   outcome            killed by the OOM killer: memory limit 32MiB reached (peak 32MiB)
 *   exit code          137 (SIGKILL)
 *   wall time          0.412s
 *   ...
 */
export function formatReport(r: Report): string {
  const rows: [string, string][] = [
    ['outcome', r.summary],
    ['exit code', `${r.exitCode}${r.signal ? ` (${r.signal})` : ''}`],
    ['wall time', `${(r.durationMs / 1000).toFixed(3)}s`],
    ['cpu time', `${secs(r.cpu.usageNs)} (user ${secs(r.cpu.userNs)}, system ${secs(r.cpu.systemNs)})`],
    ['cpu throttled', r.cpu.throttledPeriods === undefined ? '-'
      : `${secs(r.cpu.throttledNs)} in ${r.cpu.throttledPeriods} of ${r.cpu.periods ?? 0} periods`],
    ['memory peak', `${r.memory.peak === undefined ? '-' : humanSize(r.memory.peak)} (limit ${size(r.memory.limit)})`],
    ['oom kills', String(r.oomKills)],
    ['pids peak', `${r.pids.peak ?? '-'} (limit ${r.pids.limit ?? 'unlimited'})`],
  ];
  return rows.map(([k, v]) => `${k.padEnd(15)}${v}`).join('\n') + '\n';
}
