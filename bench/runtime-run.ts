/**
 * `runtime-run`: `berth-runtime run` of /bin/true in a busybox bundle with a memory and a pids
 * limit, against `runc run` and `crun run` of the same bundle, interleaved in one process (in a
 * new shuffled order each round) so that load drift hits every runtime alike, plus the floors
 * below them.
 *
 * crun 1.8.1 refuses this host's hybrid layout ("cgroups in hybrid mode not supported") and puts
 * a relative cgroupsPath below the root of each hierarchy rather than below its own cgroup, so it
 * runs in a wrapper: a private mount namespace where /sys/fs/cgroup/unified is unmounted and every
 * v1 hierarchy in which this process is not at the root (memory: /process_api/<x>) has its own
 * cgroup bind-mounted over the mount point. The wrapper alone (`exec /bin/true` instead of crun)
 * is measured in the same rounds and subtracted round by round.
 *
 * Berth runs twice: through its C client (native/build/berth-runtime) with a warm runtime server
 * (src/server/, started by the benchmark on a private socket, stopped by pid at the end), which
 * is how containerd and podman should call it, and cold (`node bin/berth-runtime.js`). The client
 * gets BERTH_NODE=/bin/false, so a round the server did not serve fails instead of timing the
 * cold path under the warm label. Paired ratios are the warm client's time over each row's.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeBundle, ownCgroupDirs, repoRoot, type TestBundle } from '../test/support/bundle.js';
import { benchTag, cgroupParent, hostInfo, hostLine, leftovers, onPath, removeCgroupParent, type BenchOptions, type BenchResult } from './env.js';
import { ms, nowMs, pairedDiff, pairedRatio, roundOrder, summarize, table } from './stats.js';

/** One thing timed each round. `argv(id)` gives the command; `bundle` when it runs a container. */
interface Contender {
  key: string;
  label: string;
  argv: (id: string) => string[];
  bundle?: TestBundle;
  /** `delete --force` after a failed run, so nothing is left behind. */
  forceDelete?: (id: string) => string[];
  /** Extra environment (the client's socket). */
  env?: Record<string, string>;
}

/** Starts a runtime server on `socket` and resolves once it listens. */
export async function startServer(socket: string, env: Record<string, string> = {}, checkout = repoRoot): Promise<ChildProcess> {
  const proc = spawn(process.execPath, [join(checkout, 'dist/src/server/main.js')], {
    env: { ...process.env, BERTH_RUNTIME_SOCKET: socket, BERTH_SERVER_IDLE_MS: String(3_600_000), ...env }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  proc.stderr!.on('data', (d: Buffer) => { log += d.toString(); });
  for (let i = 0; i < 1000 && !log.includes('listening') && proc.exitCode === null; i++) await new Promise((r) => setTimeout(r, 10));
  if (!log.includes('listening')) throw new Error(`runtime server did not start: ${log}`);
  return proc;
}

/** Stops a server startServer() started (SIGTERM) and waits for its exit. */
export async function stopServer(server: ChildProcess | undefined): Promise<void> {
  if (!server || server.exitCode !== null) return;
  const gone = new Promise((r) => server.once('exit', r));
  server.kill('SIGTERM');
  await gone;
}

const MEMORY = 64 * 1024 * 1024;
const PIDS = 64;
/**
 * Inside the container: the limits of its own cgroup. Where the hierarchy is mounted from depends
 * on the runtime (runc and Berth bind the container's cgroup, crun's wrapper binds ours), so the
 * path from /proc/self/cgroup is shortened from the left until the file exists.
 */
const CHECK = 'f(){ p=$(sed -n "s/^[0-9]*:$1://p" /proc/self/cgroup); '
  + 'while [ -n "$p" ] && [ ! -e /sys/fs/cgroup/$1$p/$2 ]; do case $p in /*/*) p=/${p#/*/};; *) p=;; esac; done; '
  + 'cat /sys/fs/cgroup/$1$p/$2; }; f memory memory.limit_in_bytes; f pids pids.max';

async function bundleFor(args: string[]): Promise<TestBundle> {
  return makeBundle({
    args,
    mutate: (s) => {
      s.linux!.resources = { ...s.linux!.resources, memory: { limit: MEMORY }, pids: { limit: PIDS } };
    },
  });
}

/** Points the bundle's cgroupsPath at <own>/berth-bench-<pid>/<id> (done outside the timing). */
async function retarget(b: TestBundle, id: string): Promise<void> {
  b.spec.linux!.cgroupsPath = `${cgroupParent()}/${id}`;
  await b.write();
}

/** The shell script of crun's wrapper: hide the unified mount, bind our own v1 cgroups over their mounts. */
export async function crunWrapperScript(): Promise<string> {
  const steps: string[] = [];
  if (existsSync('/sys/fs/cgroup/unified')) steps.push('umount -l /sys/fs/cgroup/unified');
  for (const { controllers, dir } of await ownCgroupDirs()) {
    if (controllers === 'unified') continue;
    const point = `/sys/fs/cgroup/${controllers.includes('name=') ? controllers.slice(5) : controllers}`;
    if (dir !== point && existsSync(point)) steps.push(`mount --bind '${dir}' '${point}'`);
  }
  return steps.join(' && ');
}

function compileFloor(dir: string): string | undefined {
  if (!onPath('gcc')) return undefined;
  const out = join(dir, 'floor');
  try {
    execFileSync('gcc', ['-O2', '-static', '-o', out, join(repoRoot, 'bench/floor.c')], { stdio: ['ignore', 'ignore', 'pipe'] });
    return out;
  } catch {
    return undefined; // no static libc (libc6-dev): the C floor row is left out
  }
}

/** Runs argv, returns wall milliseconds; throws with the command's stderr when it fails. */
function timed(argv: string[], cwd: string, env?: Record<string, string>): number {
  const opts = { cwd, stdio: ['ignore', 'ignore', 'pipe'] as ('ignore' | 'pipe')[], env: env ? { ...process.env, ...env } : undefined };
  const t0 = nowMs();
  const r = spawnSync(argv[0]!, argv.slice(1), opts);
  const t = nowMs() - t0;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (status ${r.status ?? r.signal}): ${r.stderr?.toString().trim()}`);
  return t;
}

/** Runs the benchmark; see the file comment. */
export async function runtimeRun(opts: BenchOptions): Promise<BenchResult> {
  const tag = benchTag();
  const tmp = mkdtempSync(join(tmpdir(), `${tag}-run-`));
  const berthBin = join(repoRoot, 'bin/berth-runtime.js');
  const bundles: TestBundle[] = [];
  const contenders: Contender[] = [];
  const skipped: string[] = [];
  const checks: Record<string, string> = {};
  let server: ChildProcess | undefined;
  let baseServer: ChildProcess | undefined;
  try {
    const socket = join(tmp, 'server', 'runtime.sock');
    server = await startServer(socket);
    const clientBin = join(repoRoot, 'native/build/berth-runtime');
    const clientEnv = { BERTH_RUNTIME_SOCKET: socket, BERTH_NODE: '/bin/false' };
    const wrapper = await crunWrapperScript();
    const mk = async () => { const b = await bundleFor(['/bin/true']); bundles.push(b); return b; };
    const root = (k: string) => join(tmp, `root-${k}`);
    contenders.push({
      key: 'berthClient', label: 'berth-runtime run (C client, warm server)', bundle: await mk(), env: clientEnv,
      argv: (id) => [clientBin, '--root', root('client'), 'run', id],
      forceDelete: (id) => [clientBin, '--root', root('client'), 'delete', '--force', id],
    });
    contenders.push({
      key: 'berth', label: 'berth-runtime run (cold: node bin/berth-runtime.js)', bundle: await mk(),
      argv: (id) => [process.execPath, berthBin, '--root', root('berth'), 'run', id],
      forceDelete: (id) => [process.execPath, berthBin, '--root', root('berth'), 'delete', '--force', id],
    });
    if (opts.baseline) {
      // The same two rows for another checkout (its own server, socket and state root).
      const base = opts.baseline;
      const baseSocket = join(tmp, 'base-server', 'runtime.sock');
      baseServer = await startServer(baseSocket, {}, base);
      const baseClient = join(base, 'native/build/berth-runtime');
      const baseCold = join(base, 'bin/berth-runtime.js');
      contenders.push({
        key: 'baseClient', label: `baseline: berth-runtime run (C client, warm server) of ${base}`, bundle: await mk(),
        env: { BERTH_RUNTIME_SOCKET: baseSocket, BERTH_NODE: '/bin/false' },
        argv: (id) => [baseClient, '--root', root('base-client'), 'run', id],
        forceDelete: (id) => [baseClient, '--root', root('base-client'), 'delete', '--force', id],
      });
      contenders.push({
        key: 'baseCold', label: 'baseline: berth-runtime run (cold: node bin/berth-runtime.js)', bundle: await mk(),
        argv: (id) => [process.execPath, baseCold, '--root', root('base-cold'), 'run', id],
        forceDelete: (id) => [process.execPath, baseCold, '--root', root('base-cold'), 'delete', '--force', id],
      });
    }
    if (onPath('runc')) {
      contenders.push({
        key: 'runc', label: 'runc run', bundle: await mk(),
        argv: (id) => ['runc', '--root', root('runc'), 'run', id],
        forceDelete: (id) => ['runc', '--root', root('runc'), 'delete', '--force', id],
      });
    } else skipped.push('runc: not installed');
    if (onPath('crun')) {
      const inWrapper = (cmd: string) => ['unshare', '-m', 'sh', '-c', wrapper ? `${wrapper} && exec ${cmd}` : `exec ${cmd}`];
      contenders.push({
        key: 'crunRaw', label: 'crun run, in its wrapper', bundle: await mk(),
        argv: (id) => inWrapper(`crun --root '${root('crun')}' run ${id}`),
        forceDelete: (id) => inWrapper(`crun --root '${root('crun')}' delete --force ${id}`),
      });
      contenders.push({ key: 'crunWrapper', label: 'crun wrapper alone (unshare -m sh, mounts, exec true)', argv: () => inWrapper('/bin/true') });
    } else skipped.push('crun: not installed');
    contenders.push({ key: 'nodeFloor', label: 'floor: node -e 0', argv: () => [process.execPath, '-e', '0'] });
    contenders.push({ key: 'unshareFloor', label: 'floor: unshare -m -p -f --mount-proc true', argv: () => ['unshare', '-m', '-p', '-f', '--mount-proc', 'true'] });
    const floor = compileFloor(tmp);
    if (floor) {
      const rootfs = bundles[0]!.rootfs;
      contenders.push({ key: 'cFloor', label: 'floor: static C, 5 namespaces + pivot_root + exec', argv: () => [floor, rootfs] });
    } else skipped.push('static C floor: gcc or libc6-dev missing');

    // Each runtime once with a shell that prints the limits it sees: the bench measures real limits.
    for (const c of contenders.filter((x) => x.bundle)) {
      const b = await bundleFor(['sh', '-c', CHECK]);
      bundles.push(b);
      const id = `${tag}-${c.key.toLowerCase()}-check`;
      await retarget(b, id);
      const r = spawnSync(c.argv(id)[0]!, c.argv(id).slice(1), { cwd: b.dir, encoding: 'utf8', env: { ...process.env, ...c.env } });
      checks[c.key] = r.status === 0 ? r.stdout.trim().split('\n').join(' ') : `failed: ${r.stderr.trim()}`;
    }

    const samples: Record<string, number[]> = Object.fromEntries(contenders.map((c) => [c.key, []]));
    const total = opts.warmup + opts.iterations;
    for (let round = 0; round < total; round++) {
      // A new order each round, so no runtime always follows the same neighbour (stats.ts).
      const order = roundOrder(contenders, round);
      for (const c of order) {
        const id = `${tag}-${c.key.toLowerCase()}-${round}`;
        if (c.bundle) await retarget(c.bundle, id);
        let t: number;
        try {
          t = timed(c.argv(id), c.bundle?.dir ?? tmp, c.env);
        } catch (err) {
          if (c.forceDelete) spawnSync(c.forceDelete(id)[0]!, c.forceDelete(id).slice(1), { cwd: c.bundle?.dir ?? tmp, stdio: 'ignore', env: { ...process.env, ...c.env } });
          throw err;
        }
        if (round >= opts.warmup) samples[c.key]!.push(t);
      }
    }
    return report(opts, contenders, samples, checks, skipped);
  } finally {
    await stopServer(server);
    await stopServer(baseServer);
    await removeCgroupParent();
    for (const b of bundles) await b.cleanup();
    rmSync(tmp, { recursive: true, force: true });
    const left = leftovers(tag);
    if (left.length) process.stderr.write(`warning: cgroups left behind:\n${left.join('\n')}\n`);
  }
}

function report(opts: BenchOptions, contenders: Contender[], samples: Record<string, number[]>, checks: Record<string, string>, skipped: string[]): BenchResult {
  const host = hostInfo();
  const berth = samples['berthClient']!;
  const crunNet = samples['crunRaw'] && samples['crunWrapper'] ? pairedDiff(samples['crunRaw'], samples['crunWrapper']) : undefined;
  const rows: { key: string; label: string; s: number[] }[] = contenders.map((c) => ({ key: c.key, label: c.label, s: samples[c.key]! }));
  if (crunNet) rows.splice(rows.findIndex((r) => r.key === 'crunRaw'), 0, { key: 'crun', label: 'crun run (wrapper subtracted per round)', s: crunNet });
  const data: Record<string, unknown> = { host, iterations: opts.iterations, warmup: opts.warmup, memoryLimit: MEMORY, pidsLimit: PIDS, checks, skipped, results: {} };
  const results = data.results as Record<string, unknown>;
  const tableRows = rows.map((r) => {
    const s = summarize(r.s);
    const ratio = r.key === 'berthClient' ? undefined : pairedRatio(berth, r.s);
    results[r.key] = { label: r.label, ...s, berthRatio: ratio, samples: r.s.map((x) => Number(x.toFixed(3))) };
    return [r.label, ms(s.median), ms(s.p10), ms(s.p90), ratio === undefined ? '' : `${ratio.toFixed(2)}x`];
  });
  let text = `runtime-run: /bin/true in a busybox bundle (memory ${MEMORY / 2 ** 20} MiB, pids ${PIDS}), ${opts.iterations} rounds (each in a new shuffled order) after ${opts.warmup} warmup\n`;
  text += `${hostLine(host)}\n\n`;
  text += table(['command', 'median ms', 'p10', 'p90', 'berth client ÷ this (paired)'], tableRows);
  if (samples['baseClient']) {
    const cold = pairedRatio(samples['berth']!, samples['baseCold']!);
    text += `\nthis checkout ÷ baseline (paired median): ${pairedRatio(berth, samples['baseClient']).toFixed(2)}x through the C client, ${cold.toFixed(2)}x cold\n`;
  }
  text += '\nlimits seen inside (memory bytes, pids.max): ' + Object.entries(checks).map(([k, v]) => `${k}: ${v}`).join('; ') + '\n';
  if (skipped.length) text += `skipped: ${skipped.join('; ')}\n`;
  return { name: 'runtime-run', text, data };
}
