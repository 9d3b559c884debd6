/**
 * GET /containers/{id}/stats and /top as dockerd answers them. stats: Docker's StatsJSON from
 * the engine's sample (engine/stats.ts): cpu with the host's total CPU time beside it (the CPU %
 * the docker CLI computes is the container's share of that delta times the online CPUs), memory,
 * block I/O, pids, networks; streamed once a second, or one reading (two, a second apart, so
 * that precpu_stats is filled, as dockerd does; with one-shot=1 at once).
 */
import { cpus } from 'node:os';
import { readFileSync } from 'node:fs';
import { findContainer, refresh } from '../engine/containers.js';
import { sampleStats, topRows, type StatsSample } from '../engine/stats.js';
import { pause } from '../util/pause.js';
import type { ApiContext } from './containers.js';
import { boolParam, sendJson } from './http.js';

/** The host's CPU time in ns since boot, from /proc/stat's first line (USER_HZ is 100 on Linux). */
function systemCpuNs(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 8).map(Number);
  return f.reduce((a, b) => a + b, 0) * 1e7;
}

interface Reading { s: StatsSample; system: number; read: string }

function cpuStats(r: Reading | undefined): Record<string, unknown> {
  if (!r) return { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } };
  return {
    cpu_usage: { total_usage: r.s.cpuNs, usage_in_kernelmode: 0, usage_in_usermode: 0 }, system_cpu_usage: r.system, online_cpus: cpus().length,
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  };
}

/** Docker's StatsJSON of reading `cur` after `prev`. */
function statsJson(name: string, cur: Reading, prev: Reading | undefined): Record<string, unknown> {
  const s = cur.s;
  return {
    read: cur.read, preread: prev?.read ?? '0001-01-01T00:00:00Z', id: s.id, name: `/${name}`,
    pids_stats: { current: s.pids }, num_procs: 0, storage_stats: {},
    blkio_stats: { io_service_bytes_recursive: [{ major: 0, minor: 0, op: 'Read', value: s.blkRead }, { major: 0, minor: 0, op: 'Write', value: s.blkWrite }] },
    cpu_stats: cpuStats(cur), precpu_stats: cpuStats(prev),
    memory_stats: s.limit || s.mem ? { usage: s.mem, limit: s.limit, stats: {} } : {},
    ...(s.net ? { networks: { eth0: { rx_bytes: s.net.rx, tx_bytes: s.net.tx, rx_packets: 0, tx_packets: 0, rx_errors: 0, tx_errors: 0, rx_dropped: 0, tx_dropped: 0 } } } : {}),
  };
}

/** GET /containers/{id}/stats?stream=1&one-shot=0 */
export async function containerStats(c: ApiContext): Promise<void> {
  let rec = await findContainer(c.paths, c.params[0]!);
  const read = async (): Promise<Reading> => ({ s: await sampleStats(c.paths, rec), system: systemCpuNs(), read: new Date().toISOString() });
  const stream = boolParam(c.query, 'stream', true);
  let prev: Reading | undefined;
  if (!stream) {
    if (!boolParam(c.query, 'one-shot')) {
      prev = await read();
      await pause(1000, c.gone);
    }
    sendJson(c.res, 200, statsJson(rec.Name, await read(), prev));
    return;
  }
  c.res.writeHead(200, { 'Content-Type': 'application/json' });
  while (!c.gone.aborted) {
    const cur = await read();
    c.res.write(`${JSON.stringify(statsJson(rec.Name, cur, prev))}\n`);
    prev = cur;
    await pause(1000, c.gone);
    const now = await refresh(c.paths, rec);
    if (!now) break;
    rec = now;
  }
  c.res.end();
}

/** GET /containers/{id}/top?ps_args=-ef */
export async function containerTop(c: ApiContext): Promise<void> {
  const rec = await findContainer(c.paths, c.params[0]!);
  const args = (c.query.get('ps_args') ?? '').split(/\s+/).filter(Boolean);
  const [titles, ...processes] = await topRows(c.paths, rec, args);
  sendJson(c.res, 200, { Titles: titles, Processes: processes });
}
