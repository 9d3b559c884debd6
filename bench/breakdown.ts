/**
 * `breakdown`: where `berth-runtime run` of /bin/true spends its time. Each round runs, in turn:
 * `node -e 0`; the CLI itself (`node bin/berth-runtime.js run`, wall clock); a fresh node process
 * that replays run's phases with a timestamp after each (breakdown-child.ts, mirror mode); and
 * one that calls createContainer/startContainer/deleteContainer themselves (real mode), which
 * checks that the mirror adds up to the real thing. The runtime's own code is not changed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { makeBundle, repoRoot, type TestBundle } from '../test/support/bundle.js';
import { benchTag, cgroupParent, hostInfo, hostLine, leftovers, removeCgroupParent, type BenchOptions, type BenchResult } from './env.js';
import { ms, nowMs, summarize, table } from './stats.js';

const CHILD = fileURLToPath(new URL('./breakdown-child.js', import.meta.url));
const epoch = (): number => performance.timeOrigin + performance.now();

interface ChildOut { timeOrigin: number; code: number; marks: [string, number][] }

/** Spawns the child; returns phase name → ms, with node's startup and the exit added. */
function phases(mode: 'mirror' | 'real', root: string, id: string, bundle: TestBundle): [string, number][] {
  const before = epoch();
  const r = spawnSync(process.execPath, [CHILD, mode, root, id, bundle.dir], { cwd: bundle.dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const after = epoch();
  if (r.status !== 0) {
    spawnSync(process.execPath, [join(repoRoot, 'bin/berth-runtime.js'), '--root', root, 'delete', '--force', id], { stdio: 'ignore' });
    throw new Error(`breakdown child (${mode}) failed: ${r.stderr.trim()}`);
  }
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildOut;
  const list: [string, number][] = [['node: exec until time origin', out.timeOrigin - before]];
  let prev = out.timeOrigin;
  for (const [name, t] of out.marks) { list.push([name, t - prev]); prev = t; }
  list.push(['exit: until the parent sees it', after - prev]);
  list.push(['total (wall clock)', after - before]);
  return list;
}

function timed(argv: string[], cwd: string): number {
  const t0 = nowMs();
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  const t = nowMs() - t0;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr?.toString().trim()}`);
  return t;
}

/** Runs the benchmark; see the file comment. */
export async function breakdown(opts: BenchOptions): Promise<BenchResult> {
  const tag = benchTag();
  const tmp = mkdtempSync(join(tmpdir(), `${tag}-breakdown-`));
  const root = join(tmp, 'root');
  const bundle = await makeBundle({
    args: ['/bin/true'],
    mutate: (s) => { s.linux!.resources = { ...s.linux!.resources, memory: { limit: 64 * 2 ** 20 }, pids: { limit: 64 } }; },
  });
  const cli = join(repoRoot, 'bin/berth-runtime.js');
  const mirror = new Map<string, number[]>();
  const real = new Map<string, number[]>();
  const outside: Record<string, number[]> = { node: [], cli: [] };
  const add = (m: Map<string, number[]>, list: [string, number][]) => { for (const [k, v] of list) m.set(k, [...(m.get(k) ?? []), v]); };
  let n = 0;
  const target = async (): Promise<string> => {
    const id = `${tag}-bd-${++n}`;
    bundle.spec.linux!.cgroupsPath = `${cgroupParent()}/${id}`;
    await bundle.write();
    return id;
  };
  try {
    for (let i = 0; i < opts.warmup + opts.iterations; i++) {
      const keep = i >= opts.warmup;
      const tNode = timed([process.execPath, '-e', '0'], tmp);
      let id = await target();
      const tCli = timed([process.execPath, cli, '--root', root, 'run', id], bundle.dir);
      const pm = phases('mirror', root, await target(), bundle);
      id = await target();
      const pr = phases('real', root, id, bundle);
      if (!keep) continue;
      outside.node!.push(tNode);
      outside.cli!.push(tCli);
      add(mirror, pm);
      add(real, pr);
    }
  } finally {
    await removeCgroupParent();
    await bundle.cleanup();
    rmSync(tmp, { recursive: true, force: true });
    const left = leftovers(tag);
    if (left.length) process.stderr.write(`warning: cgroups left behind:\n${left.join('\n')}\n`);
  }
  const info = hostInfo();
  const rowsOf = (m: Map<string, number[]>) => [...m].map(([k, s]) => { const x = summarize(s); return [k, ms(x.median), ms(x.p10), ms(x.p90)]; });
  const jsonOf = (m: Map<string, number[]>) => Object.fromEntries([...m].map(([k, s]) => [k, summarize(s)]));
  const header = ['phase', 'median ms', 'p10', 'p90'];
  let text = `breakdown: berth-runtime run of /bin/true (memory 64 MiB, pids 64), ${opts.iterations} rounds after ${opts.warmup} warmup, each in a fresh node process\n`;
  text += `${hostLine(info)}\n\n`;
  text += table(['measured from outside', 'median ms', 'p10', 'p90'], [
    ['node -e 0', ...fmt(outside.node!)],
    ['node bin/berth-runtime.js run (the CLI)', ...fmt(outside.cli!)],
  ]);
  text += `\nphases (mirror of createContainer + run, timestamps in the child):\n${table(header, rowsOf(mirror))}`;
  text += `\ncheck: the runtime's own functions timed whole:\n${table(header, rowsOf(real))}`;
  const data = { host: info, iterations: opts.iterations, warmup: opts.warmup, outside: { node: summarize(outside.node!), cli: summarize(outside.cli!) }, mirror: jsonOf(mirror), real: jsonOf(real) };
  return { name: 'breakdown', text, data };
}

function fmt(s: number[]): string[] {
  const x = summarize(s);
  return [ms(x.median), ms(x.p10), ms(x.p90)];
}
