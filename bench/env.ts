/**
 * What every benchmark shares: its options, the `berth-bench-<pid>` tag that names everything a
 * benchmark process creates, cgroup placement below the benchmark's own cgroup, clean-up of
 * that cgroup parent, and a description of the host for the report.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { join } from 'node:path';
import { ownCgroupDirs } from '../test/support/bundle.js';

/** Options from the command line (see run.ts). */
export interface BenchOptions {
  /** Measured rounds (`-n`). */
  iterations: number;
  /** Unmeasured rounds first (`--warmup`). */
  warmup: number;
  /** Machine-readable output (`--json`): the table goes to stderr, JSON to stdout. */
  json: boolean;
  /** engine-run: the untimed pause after each run in ms (`--settle`, default 400). */
  settle?: number;
  /** cgroup-lifecycle: idle gaps in ms before each lifecycle (`--gaps 0,200`). */
  gaps?: number[];
  /**
   * runtime-run, engine-run: another built checkout (`--baseline DIR`, e.g. main's) whose warm
   * and cold berth take turns with this one's in the same rounds, for a paired before/after.
   */
  baseline?: string;
}

/** The result of one benchmark: a table for people and a JSON-able record for machines. */
export interface BenchResult {
  name: string;
  text: string;
  data: Record<string, unknown>;
}

/** `berth-bench-<pid>`: in every container id, cgroup and temporary directory a run creates. */
export function benchTag(): string {
  return `berth-bench-${process.pid}`;
}

/**
 * The relative cgroupsPath parent of benchmark containers. Relative, because on cgroup v1 this
 * process sits at a different cgroup in each hierarchy (memory is /process_api/<x> here, the
 * others /): runc and Berth put a relative path below the runtime's own cgroup in each one, so
 * containers land at <own>/berth-bench-<pid>/<id>. crun does not (it takes it from the root),
 * which runtime-run.ts handles with a bind mount.
 */
export function cgroupParent(): string {
  return benchTag();
}

/** Removes <own cgroup>/berth-bench-<pid> (and empty children) in every hierarchy. */
export async function removeCgroupParent(): Promise<void> {
  for (const { dir } of await ownCgroupDirs()) removeEmptyTree(join(dir, cgroupParent()));
}

/** rmdir depth first; a cgroup with tasks refuses with EBUSY and is left for leftovers() to report. */
function removeEmptyTree(dir: string): void {
  let entries: string[] = [];
  try {
    entries = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return; // never made in this hierarchy
  }
  for (const e of entries) removeEmptyTree(join(dir, e));
  try { rmdirSync(dir); } catch { /* reported by leftovers() */ }
}

/** Cgroup directories under /sys/fs/cgroup whose name contains `needle` (a leak report). */
export function leftovers(needle = benchTag()): string[] {
  const found: string[] = [];
  const walk = (d: string, depth: number): void => {
    if (depth > 8) return;
    let entries;
    try { entries = readdirSync(d, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const p = join(d, e.name);
      if (e.name.includes(needle)) found.push(p);
      else walk(p, depth + 1);
    }
  };
  walk('/sys/fs/cgroup', 0);
  return found;
}

function version(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0]?.trim();
  } catch {
    return undefined;
  }
}

/** Kernel, CPUs, load, node and runtime versions, cgroup layout: printed above every report. */
export function hostInfo(): Record<string, unknown> {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
  const v1 = / - cgroup /.test(mounts);
  const v2 = / - cgroup2 /.test(mounts);
  return {
    kernel: release(),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    loadavg: loadavg().map((l) => Number(l.toFixed(2))),
    node: process.version,
    runc: version('runc', ['--version']),
    crun: version('crun', ['--version']),
    cgroups: v1 && v2 ? 'hybrid' : v2 ? 'v2' : 'v1',
    date: new Date().toISOString(),
  };
}

/** One line describing the host, for the top of a table. */
export function hostLine(h: Record<string, unknown>): string {
  const load = (h.loadavg as number[]).join(' ');
  return `host: linux ${String(h.kernel)}, ${String(h.cpus)} cpus, cgroups ${String(h.cgroups)}, node ${String(h.node)}, load ${load}`;
}

/** Whether `cmd` is an executable on PATH. */
export function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => {
    try { accessSync(join(d, cmd), constants.X_OK); return true; } catch { return false; }
  });
}

/** This process's memory cgroup path (on v1 hybrid hosts the only hierarchy where we are not at /). */
export function ownMemoryCgroup(): string {
  const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => /^\d+:memory:/.test(l));
  return line ? line.slice(line.indexOf(':memory:') + ':memory:'.length).replace(/\/$/, '') : '';
}

/** rmdir an absolute cgroup path (and its empty children) in every mounted hierarchy. */
export function removeCgroupEverywhere(path: string): void {
  const rm = (dir: string): void => {
    let kids: string[] = [];
    try { kids = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name); } catch { return; }
    for (const k of kids) rm(join(dir, k));
    try { rmdirSync(dir); } catch { /* busy: reported by leftovers() */ }
  };
  for (const h of readdirSync('/sys/fs/cgroup')) rm(join('/sys/fs/cgroup', h, path));
}
