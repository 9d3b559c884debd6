/**
 * `stats` and `top` for engine containers: the cgroup's counters turned into Docker's stats
 * columns (CPU %, MEM USAGE / LIMIT, MEM %, NET I/O, BLOCK I/O, PIDS), and the container's
 * processes as `ps` shows them.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { containerPids, openContainer } from '../runtime/lifecycle.js';
import { BerthError } from '../util/errors.js';
import type { EnginePaths, EngineRecord } from './store.js';

/** One reading of a container's counters. */
export interface StatsSample {
  id: string;
  name: string;
  /** process.hrtime in ns when read. */
  at: bigint;
  cpuNs: number;
  mem: number;
  limit: number;
  blkRead: number;
  blkWrite: number;
  pids: number;
  /** Bytes received and sent by the container's interfaces but lo (a bridge network only). */
  net?: { rx: number; tx: number };
}

/** Received and sent bytes of every interface but lo, from /proc/<pid>/net/dev (the pid's namespace). */
export function netDevTotals(text: string): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const line of text.split('\n').slice(2)) {
    const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === 'lo') continue;
    const f = m[2]!.trim().split(/\s+/).map(Number);
    rx += f[0] ?? 0;
    tx += f[8] ?? 0;
  }
  return { rx, tx };
}

/** Read the counters of a running container (zeros for one that is not running, as Docker shows). */
export async function sampleStats(paths: EnginePaths, rec: EngineRecord): Promise<StatsSample> {
  const sample: StatsSample = { id: rec.Id, name: rec.Name, at: process.hrtime.bigint(), cpuNs: 0, mem: 0, limit: 0, blkRead: 0, blkWrite: 0, pids: 0 };
  if (!rec.State.Running) return sample;
  try {
    const opened = await openContainer(paths.runtimeRoot, rec.Id);
    try {
      if (!opened.cgroup?.exists()) return sample;
      const s = opened.cgroup.stats();
      sample.cpuNs = s.cpu?.usageTotal ?? 0;
      // Docker's MEM USAGE: usage minus the inactive file cache (what could be reclaimed at once).
      sample.mem = s.memory?.workingSet ?? s.memory?.usage ?? 0;
      sample.limit = s.memory?.limit ?? 0;
      for (const d of s.blkio?.devices ?? []) { sample.blkRead += d.readBytes; sample.blkWrite += d.writeBytes; }
      if (rec.NetworkSettings && rec.State.Pid) {
        try { sample.net = netDevTotals(readFileSync(`/proc/${rec.State.Pid}/net/dev`, 'utf8')); } catch { /* exited meanwhile */ }
      }
      sample.pids = s.pids?.current ?? 0;
    } finally {
      opened.release();
    }
  } catch { /* stopped meanwhile */ }
  return sample;
}

/** go-units BytesSize (binary, "MiB") as in MEM USAGE. */
function bytesSize(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 3 : 0).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '')}${units[i]}`;
}

/** go-units HumanSizeWithPrecision (decimal, "kB") as in BLOCK I/O. */
function humanSizeDecimal(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${Number(n.toPrecision(3))}${units[i]}`;
}

/** Docker's `stats --format json` object from two readings (CPU % needs an interval). */
export function statsRow(prev: StatsSample | undefined, cur: StatsSample): Record<string, string> {
  const wallNs = prev ? Number(cur.at - prev.at) : 0;
  // Docker: (container cpu delta / system cpu delta) × online cpus × 100, which is the share of
  // one CPU the container used over the interval: the same as its delta over the wall time.
  const cpu = prev && wallNs > 0 ? Math.max(0, ((cur.cpuNs - prev.cpuNs) / wallNs) * 100) : 0;
  const limit = cur.limit || totalmem();
  return {
    BlockIO: `${humanSizeDecimal(cur.blkRead)} / ${humanSizeDecimal(cur.blkWrite)}`,
    CPUPerc: `${cpu.toFixed(2)}%`,
    Container: cur.id.slice(0, 12),
    ID: cur.id.slice(0, 12),
    MemPerc: `${(limit ? (cur.mem / limit) * 100 : 0).toFixed(2)}%`,
    MemUsage: `${bytesSize(cur.mem)} / ${bytesSize(limit)}`,
    Name: cur.name,
    // Only a bridge network has interfaces of the container's own to count (none, host: the placeholder).
    NetIO: cur.net ? `${humanSizeDecimal(cur.net.rx)} / ${humanSizeDecimal(cur.net.tx)}` : '--',
    PIDs: String(cur.pids),
  };
}

/** `top`: `ps ARGS` (default -ef) restricted to the container's processes: header and rows. */
export async function topRows(paths: EnginePaths, rec: EngineRecord, psArgs: string[]): Promise<string[][]> {
  if (!rec.State.Running) throw new BerthError('EBAD_STATE', `container ${rec.Id} is not running`);
  const pids = new Set((await containerPids(paths.runtimeRoot, rec.Id)).map(String));
  let out: string;
  try {
    out = execFileSync('ps', psArgs.length ? psArgs : ['-ef'], { encoding: 'utf8' });
  } catch (err) {
    throw new BerthError('EINVALID_ARG', `ps ${psArgs.join(' ')} failed: ${(err as Error).message.split('\n')[0]}`);
  }
  const lines = out.split('\n').filter(Boolean);
  const header = lines[0]!.trim().split(/\s+/);
  const pidCol = header.indexOf('PID');
  if (pidCol < 0) throw new BerthError('EINVALID_ARG', `couldn't find PID field in ps output: give ps options that print it (e.g. -ef)`);
  const rows = lines.slice(1).map((l) => {
    const f = l.trim().split(/\s+/);
    return [...f.slice(0, header.length - 1), f.slice(header.length - 1).join(' ')];
  });
  return [header, ...rows.filter((r) => pids.has(r[pidCol]!))];
}
