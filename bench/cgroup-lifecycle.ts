/**
 * `cgroup-lifecycle`: one container's cgroup through src/cgroups, step by step: create (mkdir in
 * every hierarchy), apply (memory, cpu, pids writes), add a process (cgroup.procs writes), destroy
 * (rmdir). Runs the same code on the v1 hybrid host and, through bench/v2.sh, in the cgroup v2 VM.
 *
 * The idle gap: moving a task between cgroups takes cgroup_threadgroup_rwsem for writing, a
 * per-cpu rwsem whose writer side goes through rcu_sync_enter(). When no writer came by for a
 * while, rcu_sync is idle and the writer waits one RCU grace period (10–17 ms here) to switch the
 * readers to the slow path; a writer shortly after another finds it still switched and pays
 * nothing. So the first cgroup.procs write after an idle period is slow and the rest are fast.
 * (cgroup2's `favordynmods` mount option keeps the slow path on and removes the wait, at a cost to
 * fork and exit.) Each iteration is therefore timed after no gap and after an idle gap.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cgroupManager, detectCgroupHost, resolveCgroupPath, type CgroupManager } from '../src/cgroups/index.js';
import type { LinuxResources } from '../src/oci/spec.js';
import { benchTag, cgroupParent, hostInfo, hostLine, leftovers, removeCgroupParent, type BenchOptions, type BenchResult } from './env.js';
import { ms, nowMs, sleep, summarize, table } from './stats.js';

const RESOURCES: LinuxResources = {
  memory: { limit: 64 * 1024 * 1024 },
  cpu: { shares: 512, quota: 50_000, period: 100_000 },
  pids: { limit: 64 },
};

const STEPS = [
  ['create', 'create: mkdir in every hierarchy'],
  ['apply', 'apply: memory, cpu, pids writes'],
  ['procsFirst', 'first cgroup.procs write'],
  ['procsRest', 'addProcess: every cgroup.procs after that'],
  ['destroy', 'destroy: rmdir in every hierarchy'],
  ['total', 'total of the steps above'],
] as const;
type Step = (typeof STEPS)[number][0];

function startSleeper(): Promise<ChildProcess> {
  const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
  return new Promise((resolve, reject) => {
    child.once('spawn', () => resolve(child));
    child.once('error', reject);
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** One lifecycle, each step timed; the sleeper is started before the gap and reaped after. */
async function once(m: CgroupManager, gapMs: number): Promise<Record<Step, number>> {
  const child = await startSleeper();
  const pid = child.pid!;
  const t: Partial<Record<Step, number>> = {};
  try {
    if (gapMs > 0) await sleep(gapMs);
    let t0 = nowMs();
    m.create();
    t.create = nowMs() - t0;
    t0 = nowMs();
    m.apply(RESOURCES);
    t.apply = nowMs() - t0;
    // The first write alone (the one that may wait for a grace period), then the manager's own
    // addProcess for all of them (the first again, now a no-op move).
    const first = Object.values(m.paths)[0]!;
    t0 = nowMs();
    writeFileSync(`${first}/cgroup.procs`, String(pid));
    t.procsFirst = nowMs() - t0;
    t0 = nowMs();
    m.addProcess(pid);
    t.procsRest = nowMs() - t0;
  } finally {
    await stop(child);
  }
  const t0 = nowMs();
  await m.destroy();
  t.destroy = nowMs() - t0;
  t.total = t.create! + t.apply! + t.procsFirst! + t.procsRest! + t.destroy;
  return t as Record<Step, number>;
}

/** Runs the benchmark; see the file comment. `opts.gaps` are the idle gaps in ms (default 0 and 200). */
export async function cgroupLifecycle(opts: BenchOptions): Promise<BenchResult> {
  const gaps = opts.gaps ?? [0, 200];
  const host = await detectCgroupHost();
  const samples = gaps.map(() => Object.fromEntries(STEPS.map(([k]) => [k, [] as number[]])) as Record<Step, number[]>);
  let n = 0;
  let dirs = 0;
  try {
    for (let i = 0; i < opts.warmup + opts.iterations; i++) {
      // Gaps interleaved within each round, so drift in load affects every gap alike.
      for (let g = 0; g < gaps.length; g++) {
        const m = cgroupManager(host, resolveCgroupPath(host, `${cgroupParent()}/lc-${++n}`, `lc-${n}`));
        dirs = new Set(Object.values(m.paths)).size;
        try {
          const t = await once(m, gaps[g]!);
          if (i >= opts.warmup) for (const [k] of STEPS) samples[g]![k].push(t[k]);
        } finally {
          await m.destroy();
        }
      }
    }
  } finally {
    await removeCgroupParent();
    const left = leftovers(benchTag());
    if (left.length) process.stderr.write(`warning: cgroups left behind:\n${left.join('\n')}\n`);
  }
  const info = hostInfo();
  const data: Record<string, unknown> = { host: info, mode: host.mode, directories: dirs, iterations: opts.iterations, warmup: opts.warmup, resources: RESOURCES, gaps: {} };
  const header = ['step (ms)', ...gaps.flatMap((g) => [`gap ${g}: median`, 'p10', 'p90'])];
  const rows = STEPS.map(([k, label]) => [label, ...gaps.flatMap((_, g) => {
    const s = summarize(samples[g]![k]);
    return [ms(s.median), ms(s.p10), ms(s.p90)];
  })]);
  gaps.forEach((g, gi) => {
    (data.gaps as Record<string, unknown>)[String(g)] = Object.fromEntries(STEPS.map(([k]) => [k, { ...summarize(samples[gi]![k]), samples: samples[gi]![k].map((x) => Number(x.toFixed(3))) }]));
  });
  let text = `cgroup-lifecycle: src/cgroups on a ${host.mode} host (${dirs} directories per cgroup), ${opts.iterations} iterations per gap after ${opts.warmup} warmup\n`;
  text += `${hostLine(info)}\n\n${table(header, rows)}`;
  return { name: 'cgroup-lifecycle', text, data };
}
