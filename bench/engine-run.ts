/**
 * `engine-run`: the engine end to end. `berth run --rm --network none` of a busybox root
 * filesystem running `true` — through berth's C client and a warm engine worker of the runtime
 * server (the way a user runs native/build/berth), and cold (`node bin/berth.js`) — against
 * `podman run --rm --network none` of the same root filesystem imported as an image; and the
 * TypeScript API (runContainer, looped in this warm process) against `crun run` of the same
 * container: a bundle whose config.json is the spec the engine makes for the API's container
 * (Docker's default capabilities, seccomp profile, masked paths), and for reference of a
 * `runc spec`-like bundle (3 capabilities, no seccomp). All interleaved in one process, in a new
 * shuffled order each round (stats.ts roundOrder), so load drift hits every contender alike;
 * paired ratios are per round.
 *
 * podman 4.3 runs with --runtime runc (crun refuses this hybrid host), --cgroup-manager cgroupfs,
 * vfs storage and --root/--runroot/--tmpdir in a berth-bench-* temporary directory (short names:
 * podman refuses a runroot path over 50 characters), events off.
 * Its default ulimits (nofile, nproc 1048576) are above this host's hard limits and runc may not
 * raise them here (no CAP_SYS_RESOURCE), so it gets --ulimit nofile=1024:1024 --ulimit
 * nproc=4096:4096 (lowering costs nothing). Its cgroup parent is <our memory cgroup>/berth-bench-
 * <pid>-podman, below our own cgroup in every v1 hierarchy (the others have us at /).
 *
 * Runtime state (berth's runtime root, crun's --root, podman's --runroot and --tmpdir) is on a
 * tmpfs the benchmark mounts, as /run is on the hosts where these default to /run/...; image and
 * container data stay on disk.
 *
 * After each run the benchmark pauses 400 ms (untimed), so what a contender leaves running in the
 * background (the next engine worker starting, podman's cleanup) does not land on the next one.
 *
 * crun runs in runtime-run.ts's wrapper (a private mount namespace hiding /sys/fs/cgroup/unified);
 * the wrapper alone is timed in the same rounds and subtracted round by round.
 */
import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngineContainer, runContainer, runRequest, type EnginePaths, type RunOptions } from '../src/engine/index.js';
import { EngineStore } from '../src/engine/store.js';
import type { Spec } from '../src/oci/spec.js';
import { makeBundle, makeBusyboxRootfs, repoRoot, type TestBundle } from '../test/support/bundle.js';
import { benchTag, cgroupParent, hostInfo, hostLine, leftovers, onPath, ownMemoryCgroup, removeCgroupEverywhere, removeCgroupParent, type BenchOptions, type BenchResult } from './env.js';
import { crunWrapperScript, startServer, stopServer } from './runtime-run.js';
import { ms, nowMs, pairedDiff, pairedRatio, roundOrder, summarize, table } from './stats.js';

/** Pause after each timed run (not timed), see the round loop; `--settle` changes it. */
const SETTLE_MS = 400;

/** One contender: `run(round)` runs one container to completion and returns wall milliseconds. */
interface Contender {
  key: string;
  label: string;
  run: (round: number) => Promise<number>;
}

/** Runs argv to completion, returns wall milliseconds; throws with its stderr when it fails. */
function timed(argv: string[], cwd?: string, env?: Record<string, string>): number {
  const t0 = nowMs();
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd, stdio: ['ignore', 'ignore', 'pipe'], env: env && { ...process.env, ...env } });
  const t = nowMs() - t0;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (status ${r.status ?? r.signal}): ${r.stderr?.toString().trim()}`);
  return t;
}

/**
 * The OCI spec runContainer(opts) runs, as the engine writes it (the container it makes for
 * that is removed again), with the ociVersion crun 1.8.1 accepts (it refuses 1.2.0).
 */
async function apiSpec(paths: EnginePaths, opts: RunOptions): Promise<Spec> {
  const rec = await createEngineContainer(paths, runRequest(opts));
  const store = new EngineStore(paths);
  try {
    const spec = JSON.parse(readFileSync(join(store.dir(rec.Id), 'bundle', 'config.json'), 'utf8')) as Spec;
    return { ...spec, ociVersion: '1.0.2-dev' };
  } finally {
    store.remove(rec);
  }
}

/** Runs the benchmark; see the file comment. */
export async function engineRun(opts: BenchOptions): Promise<BenchResult> {
  const tag = benchTag();
  const tmp = mkdtempSync(join(tmpdir(), `${tag}-e`));
  const rootfs = join(tmp, 'rootfs');
  const podmanParent = `${ownMemoryCgroup()}/${tag}-podman`;
  const contenders: Contender[] = [];
  const skipped: string[] = [];
  const bundles: TestBundle[] = [];
  // Runtime state on a tmpfs, as /run is on the hosts these tools default to it (/run/berth,
  // /run/crun, /run/containers): this machine's /run is on its ext4 disk. Data stays on disk.
  const state = join(tmp, 'state');
  const paths = { dataRoot: join(tmp, 'data'), runtimeRoot: join(state, 'run') };
  let server: ChildProcess | undefined;
  let baseServer: ChildProcess | undefined;
  let mounted = false;
  try {
    mkdirSync(state);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256m,mode=0711', 'tmpfs', state]);
    mounted = true;
    await makeBusyboxRootfs(rootfs);
    const berth = ['node', join(repoRoot, 'bin/berth.js'), '--data-root', paths.dataRoot, '--root', paths.runtimeRoot];
    berth[0] = process.execPath;
    // The warm path: a server on a private socket with its engine worker started at once;
    // BERTH_NODE=/bin/false makes a run that fell back to the cold path fail loudly.
    const socket = join(tmp, 'server', 'runtime.sock');
    server = await startServer(socket, { _BERTH_SERVER_FOR: 'berth' });
    const warmEnv = { BERTH_RUNTIME_SOCKET: socket, BERTH_NODE: '/bin/false' };
    const client = [join(repoRoot, 'native/build/berth'), '--data-root', paths.dataRoot, '--root', paths.runtimeRoot];
    contenders.push({
      key: 'berthWarm', label: 'berth run --rm --network none --rootfs (C client, warm worker)',
      run: async () => timed([...client, 'run', '--rm', '--network', 'none', '--cgroup-parent', cgroupParent(), '--rootfs', rootfs, '--', '/bin/true'], undefined, warmEnv),
    });
    contenders.push({
      key: 'berthCli', label: 'berth run --rm --network none --rootfs (CLI, cold node)',
      run: async () => timed([...berth, 'run', '--rm', '--network', 'none', '--cgroup-parent', cgroupParent(), '--rootfs', rootfs, '--', '/bin/true']),
    });
    if (opts.baseline) {
      // The same two rows for another checkout (its own server and socket; the same roots).
      const base = opts.baseline;
      const baseSocket = join(tmp, 'base-server', 'runtime.sock');
      baseServer = await startServer(baseSocket, { _BERTH_SERVER_FOR: 'berth' }, base);
      const baseClient = [join(base, 'native/build/berth'), '--data-root', paths.dataRoot, '--root', paths.runtimeRoot];
      const baseCold = [process.execPath, join(base, 'bin/berth.js'), '--data-root', paths.dataRoot, '--root', paths.runtimeRoot];
      contenders.push({
        key: 'baseWarm', label: `baseline: berth run (C client, warm worker) of ${base}`,
        run: async () => timed([...baseClient, 'run', '--rm', '--network', 'none', '--cgroup-parent', cgroupParent(), '--rootfs', rootfs, '--', '/bin/true'], undefined,
          { BERTH_RUNTIME_SOCKET: baseSocket, BERTH_NODE: '/bin/false' }),
      });
      contenders.push({
        key: 'baseCli', label: 'baseline: berth run (CLI, cold node)',
        run: async () => timed([...baseCold, 'run', '--rm', '--network', 'none', '--cgroup-parent', cgroupParent(), '--rootfs', rootfs, '--', '/bin/true']),
      });
    }
    if (onPath('podman') && onPath('runc')) {
      const p = ['podman', '--root', join(tmp, 'pr'), '--runroot', join(state, 'prr'), '--tmpdir', join(state, 'pt'),
        '--runtime', 'runc', '--cgroup-manager', 'cgroupfs', '--storage-driver', 'vfs', '--events-backend', 'none'];
      const tar = join(tmp, 'rootfs.tar');
      const t = spawnSync('tar', ['-C', rootfs, '-cf', tar, '.'], { stdio: ['ignore', 'ignore', 'pipe'] });
      if (t.status !== 0) throw new Error(`tar of the busybox rootfs failed: ${t.stderr.toString().trim()}`);
      const image = `localhost/${tag}-busybox`;
      const imp = spawnSync(p[0]!, [...p.slice(1), 'import', '--quiet', tar, image], { stdio: ['ignore', 'ignore', 'pipe'] });
      if (imp.status !== 0) throw new Error(`podman import failed: ${imp.stderr.toString().trim()}`);
      contenders.push({
        key: 'podman', label: 'podman run --rm --network none (runc, cgroupfs, vfs)',
        run: async () => timed([...p, 'run', '--rm', '--network', 'none', '--cgroup-parent', podmanParent,
          '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=4096:4096', image, '/bin/true']),
      });
    } else skipped.push('podman or runc: not installed');
    const apiRun: RunOptions = { rootfs, cmd: ['/bin/true'], cgroupParent: cgroupParent(), hostConfig: { NetworkMode: 'none' }, paths };
    contenders.push({
      key: 'api', label: 'runContainer() in a warm node process (TypeScript API)',
      run: async () => {
        const t0 = nowMs();
        const report = await runContainer(apiRun);
        const t = nowMs() - t0;
        if (report.exitCode !== 0) throw new Error(`runContainer: ${report.summary}`);
        return t;
      },
    });
    if (onPath('crun')) {
      const wrapper = await crunWrapperScript();
      const inWrapper = (cmd: string) => ['unshare', '-m', 'sh', '-c', wrapper ? `${wrapper} && exec ${cmd}` : `exec ${cmd}`];
      const root = join(state, 'crun-root');
      mkdirSync(root, { recursive: true });
      const crunOf = (b: TestBundle, key: string, label: string): Contender => ({
        key, label,
        run: async (round) => {
          const id = `${tag}-${key}-${round}`;
          b.spec.linux!.cgroupsPath = `${cgroupParent()}/${id}`;
          await b.write();
          try {
            return timed(inWrapper(`crun --root '${root}' run ${id}`), b.dir);
          } catch (err) {
            spawnSync('sh', ['-c', inWrapper(`crun --root '${root}' delete --force ${id}`).slice(3).join(' ')], { stdio: 'ignore' });
            throw err;
          }
        },
      });
      // The same container: the spec the API's container runs with (Docker's default
      // capabilities, seccomp profile, masked and read-only paths, devices), made by the engine.
      const spec = await apiSpec(paths, apiRun);
      const same = await makeBundle({ mutate: (s) => Object.assign(s, spec) });
      bundles.push(same);
      contenders.push(crunOf(same, 'crunRaw', 'crun run, the API\'s spec, in its wrapper'));
      // And a `runc spec`-like bundle (3 capabilities, no seccomp), as runtime-run.ts runs.
      const plain = await makeBundle({ args: ['/bin/true'] });
      bundles.push(plain);
      contenders.push(crunOf(plain, 'crunPlainRaw', 'crun run, a runc-spec bundle, in its wrapper'));
      contenders.push({ key: 'crunWrapper', label: 'crun wrapper alone (unshare -m sh, mounts, exec true)', run: async () => timed(inWrapper('/bin/true')) });
    } else skipped.push('crun: not installed');
    contenders.push({ key: 'nodeFloor', label: 'floor: node -e 0', run: async () => timed([process.execPath, '-e', '0']) });
    contenders.push({ key: 'cliFloor', label: 'floor: berth ps -a (CLI load, no container)', run: async () => timed([...berth, 'ps', '-a']) });

    const samples: Record<string, number[]> = Object.fromEntries(contenders.map((c) => [c.key, []]));
    for (let round = 0; round < opts.warmup + opts.iterations; round++) {
      const order = roundOrder(contenders, round);
      for (const c of order) {
        const t = await c.run(round);
        if (round >= opts.warmup) samples[c.key]!.push(t);
        // Let work a contender leaves behind finish before the next one is timed: the server
        // starting (and rehearsing) the next engine worker after a warm berth run, podman's
        // conmon and cleanup processes. It would otherwise land on whoever runs next.
        const settle = opts.settle ?? SETTLE_MS;
        if (settle > 0) await new Promise((r) => setTimeout(r, settle));
      }
    }
    return report(opts, contenders, samples, skipped);
  } finally {
    await stopServer(server);
    await stopServer(baseServer);
    await removeCgroupParent();
    removeCgroupEverywhere(podmanParent);
    for (const b of bundles) await b.cleanup();
    if (mounted) spawnSync('umount', ['-l', state], { stdio: 'ignore' });
    rmSync(tmp, { recursive: true, force: true });
    const left = leftovers(tag);
    if (left.length) process.stderr.write(`warning: cgroups left behind:\n${left.join('\n')}\n`);
  }
}

function report(opts: BenchOptions, contenders: Contender[], samples: Record<string, number[]>, skipped: string[]): BenchResult {
  const host = hostInfo();
  const rows = contenders.map((c) => ({ key: c.key, label: c.label, s: samples[c.key]! }));
  if (samples.crunRaw && samples.crunWrapper) {
    rows.splice(rows.findIndex((r) => r.key === 'crunRaw'), 0, { key: 'crun', label: 'crun run, the API\'s spec (wrapper subtracted per round)', s: pairedDiff(samples.crunRaw, samples.crunWrapper) });
    rows.splice(rows.findIndex((r) => r.key === 'crunPlainRaw'), 0, { key: 'crunPlain', label: 'crun run, a runc-spec bundle (wrapper subtracted)', s: pairedDiff(samples.crunPlainRaw!, samples.crunWrapper) });
  }
  const byKey = Object.fromEntries(rows.map((r) => [r.key, r.s]));
  const ratios: Record<string, number | undefined> = {
    podmanOverBerthWarm: byKey.podman ? pairedRatio(byKey.podman, byKey.berthWarm!) : undefined,
    podmanOverBerthCli: byKey.podman ? pairedRatio(byKey.podman, byKey.berthCli!) : undefined,
    apiOverCrun: byKey.crun ? pairedRatio(byKey.api!, byKey.crun) : undefined,
    apiOverCrunRaw: byKey.crunRaw ? pairedRatio(byKey.api!, byKey.crunRaw) : undefined,
    apiOverCrunPlain: byKey.crunPlain ? pairedRatio(byKey.api!, byKey.crunPlain) : undefined,
    warmOverBaseline: byKey.baseWarm ? pairedRatio(byKey.berthWarm!, byKey.baseWarm) : undefined,
    cliOverBaseline: byKey.baseCli ? pairedRatio(byKey.berthCli!, byKey.baseCli) : undefined,
  };
  const results: Record<string, unknown> = {};
  const tableRows = rows.map((r) => {
    const s = summarize(r.s);
    results[r.key] = { label: r.label, ...s, samples: r.s.map((x) => Number(x.toFixed(3))) };
    return [r.label, ms(s.median), ms(s.p10), ms(s.p90)];
  });
  const settle = opts.settle ?? SETTLE_MS;
  let text = `engine-run: /bin/true in a busybox root filesystem, ${opts.iterations} rounds (each in a new shuffled order) after ${opts.warmup} warmup, `
    + `${settle ? `${settle} ms untimed pause after each run` : 'back to back'}, runtime state on tmpfs\n`;
  text += `${hostLine(host)}\n\n`;
  text += table(['command', 'median ms', 'p10', 'p90'], tableRows);
  const x = (v: number | undefined) => (v === undefined ? '-' : `${v.toFixed(2)}x`);
  text += `\npodman ÷ berth run (paired median): ${x(ratios.podmanOverBerthWarm)} through the C client, ${x(ratios.podmanOverBerthCli)} cold  (target ≥ 3x)\n`;
  text += `API ÷ crun of the same spec (paired median): ${x(ratios.apiOverCrun)} wrapper subtracted, ${x(ratios.apiOverCrunRaw)} with crun's wrapper  (target ≤ 1x)\n`;
  text += `API ÷ crun of a runc-spec bundle (no seccomp, 3 capabilities; wrapper subtracted): ${x(ratios.apiOverCrunPlain)}\n`;
  if (byKey.baseWarm) text += `this checkout ÷ baseline (paired median): ${x(ratios.warmOverBaseline)} through the C client, ${x(ratios.cliOverBaseline)} cold\n`;
  if (skipped.length) text += `skipped: ${skipped.join('; ')}\n`;
  return { name: 'engine-run', text, data: { host, iterations: opts.iterations, warmup: opts.warmup, settle, ratios, skipped, results } };
}
