/**
 * `network`: what a bridge network costs and carries, Berth against Podman on the same host, in
 * one run (issue 12's benchmark).
 *
 *   start    `berth run --rm --network NET IMAGE /bin/true` against `--network none`, and
 *            `podman run --rm` of the same image on a podman bridge network (netavark, like
 *            Berth's) against its `--network none`, and on a podman network made with `-o
 *            isolate=true` (Berth isolates every network, as Docker does; podman only on
 *            request, and the isolation rules cost netavark time); interleaved rounds in a new shuffled order
 *            each, an untimed pause after every run (as engine-run.ts).
 *   iperf3   container-to-container TCP throughput over each engine's bridge: an `iperf3 -s`
 *            container and an `iperf3 -c ADDRESS -t SECS` container on the same network, a few
 *            rounds alternating; and iperf3 over the namespace's loopback as the ceiling.
 *
 * The image: busybox and Debian's iperf3 with its libraries, imported from one tar by both
 * engines (`berth import`, `podman import`). Berth's cold CLI runs (`node bin/berth.js`): the
 * warm server lives in another network namespace and serves only callers of its own.
 *
 * Where the traffic goes: everything runs inside a network namespace the benchmark makes (`ip
 * netns add berth-bench-<pid>-net`, every command through `nsenter --net`), so both engines'
 * bridges, addresses and firewall rules exist only there and no packet leaves it. The namespace
 * is deleted at the end with whatever is left in it.
 *
 * podman 4.3: --runtime runc (crun refuses this hybrid host), cgroupfs, vfs storage, root and
 * runroot in a temporary directory, netavark as its backend via a containers.conf of its own
 * (CONTAINERS_CONF), events off, --ulimit as in engine-run.ts. Runtime state (Berth's runtime
 * root, podman's runroot) on a tmpfs the benchmark mounts, as /run is where they default to.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { makeBusyboxRootfs, repoRoot } from '../test/support/bundle.js';
import { benchTag, cgroupParent, hostInfo, hostLine, leftovers, onPath, ownMemoryCgroup, removeCgroupEverywhere, removeCgroupParent, type BenchOptions, type BenchResult } from './env.js';
import { ms, nowMs, pairedRatio, roundOrder, sleep, summarize, table } from './stats.js';

const SETTLE_MS = 400;
/** Seconds per iperf3 measurement, and measurements per engine. */
const IPERF_SECS = 3;
const IPERF_ROUNDS = 3;

interface Contender {
  key: string;
  label: string;
  run: () => number;
}

/** Runs argv inside namespace `ns` to completion; returns its stdout and wall milliseconds, throws with its stderr on failure. */
function inNs(ns: string, argv: string[], env?: Record<string, string>): { ms: number; stdout: string } {
  const t0 = nowMs();
  const r = spawnSync('nsenter', [`--net=${ns}`, '--', ...argv], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, timeout: 120_000 });
  const t = nowMs() - t0;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (status ${r.status ?? r.signal}): ${r.stderr.trim()}`);
  return { ms: t, stdout: r.stdout };
}

/** Copy an executable and the shared libraries ldd names into rootfs, at the same paths. */
function addProgram(rootfs: string, program: string): void {
  const files = [program];
  for (const line of execFileSync('ldd', [program], { encoding: 'utf8' }).split('\n')) {
    const m = /(\/\S+) \(0x/.exec(line);
    if (m) files.push(m[1]!);
  }
  for (const f of files) {
    mkdirSync(join(rootfs, dirname(f)), { recursive: true });
    copyFileSync(f, join(rootfs, f));
  }
}

/** The iperf3 client's received throughput, in Gbit/s, from its JSON. */
function gbits(json: string): number {
  const r = JSON.parse(json) as { end: { sum_received: { bits_per_second: number } } };
  return r.end.sum_received.bits_per_second / 1e9;
}

/** Runs the benchmark; see the file comment. */
export async function network(opts: BenchOptions): Promise<BenchResult> {
  const missing = ['/usr/lib/podman/netavark', '/usr/lib/podman/aardvark-dns', '/usr/bin/iperf3'].filter((p) => !existsSync(p));
  if (missing.length) {
    const text = `network: skipped, not installed: ${missing.join(', ')} (apt-get install netavark aardvark-dns iperf3)\n`;
    return { name: 'network', text, data: { skipped: missing } };
  }
  const tag = benchTag();
  const nsName = `${tag}-net`;
  const ns = `/run/netns/${nsName}`;
  const tmp = mkdtempSync(join(tmpdir(), `${tag}-n`));
  const state = join(tmp, 'state');
  const data = join(tmp, 'data');
  const run = join(state, 'run');
  const podmanParent = `${ownMemoryCgroup()}/${tag}-podman`;
  const netName = `${tag}-net`;
  const image = `localhost/${tag}-iperf`;
  const berth = [process.execPath, join(repoRoot, 'bin/berth.js'), '--data-root', data, '--root', run];
  const hasPodman = onPath('podman') && onPath('runc');
  const podman = ['podman', '--root', join(tmp, 'pr'), '--runroot', join(state, 'prr'), '--tmpdir', join(state, 'pt'),
    '--runtime', 'runc', '--cgroup-manager', 'cgroupfs', '--storage-driver', 'vfs'];
  const podmanEnv = { CONTAINERS_CONF: join(tmp, 'containers.conf') };
  const ulimits = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=4096:4096'];
  let mounted = false;
  let nsMade = false;
  const skipped: string[] = [];
  try {
    execFileSync('ip', ['netns', 'add', nsName]);
    nsMade = true;
    inNs(ns, ['ip', 'link', 'set', 'lo', 'up']);
    mkdirSync(state);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256m,mode=0711', 'tmpfs', state]);
    mounted = true;
    const rootfs = join(tmp, 'rootfs');
    await makeBusyboxRootfs(rootfs);
    addProgram(rootfs, '/usr/bin/iperf3');
    const tar = join(tmp, 'image.tar');
    execFileSync('tar', ['-C', rootfs, '-cf', tar, '.']);
    inNs(ns, [...berth, 'import', tar, image]);
    inNs(ns, [...berth, 'network', 'create', netName]);
    if (hasPodman) {
      writeFileSync(podmanEnv.CONTAINERS_CONF, `[engine]\nevents_logger = "none"\n[network]\nnetwork_backend = "netavark"\nnetwork_config_dir = "${join(tmp, 'pnet')}"\n`);
      inNs(ns, [...podman, 'import', '--quiet', tar, image], podmanEnv);
      inNs(ns, [...podman, 'network', 'create', netName], podmanEnv);
      // Berth isolates its networks from each other (Docker's rule); podman does on request only.
      inNs(ns, [...podman, 'network', 'create', '-o', 'isolate=true', `${netName}-iso`], podmanEnv);
    } else skipped.push('podman or runc: not installed');

    // Start time.
    const berthRun = (net: string) => () => inNs(ns, [...berth, 'run', '--rm', '--network', net, '--cgroup-parent', cgroupParent(), image, '/bin/true']).ms;
    const podmanRun = (net: string) => () => inNs(ns, [...podman, 'run', '--rm', '--network', net, '--cgroup-parent', podmanParent, ...ulimits, image, '/bin/true'], podmanEnv).ms;
    const contenders: Contender[] = [
      { key: 'berthNone', label: 'berth run --rm --network none IMAGE /bin/true', run: berthRun('none') },
      { key: 'berthNet', label: 'berth run --rm --network NET IMAGE /bin/true (netavark)', run: berthRun(netName) },
    ];
    if (hasPodman) {
      contenders.push({ key: 'podmanNone', label: 'podman run --rm --network none IMAGE /bin/true', run: podmanRun('none') });
      contenders.push({ key: 'podmanNet', label: 'podman run --rm --network NET IMAGE /bin/true (netavark)', run: podmanRun(netName) });
      contenders.push({ key: 'podmanIso', label: 'podman run --rm, a network with -o isolate=true (as Berth\'s)', run: podmanRun(`${netName}-iso`) });
    }
    const samples: Record<string, number[]> = Object.fromEntries(contenders.map((c) => [c.key, []]));
    for (let round = 0; round < opts.warmup + opts.iterations; round++) {
      for (const c of roundOrder(contenders, round)) {
        const t = c.run();
        if (round >= opts.warmup) samples[c.key]!.push(t);
        await sleep(opts.settle ?? SETTLE_MS);
      }
    }

    // Throughput: a server container, then a client container per measurement.
    const throughput: Record<string, number[]> = { loopback: [], berth: [] };
    if (hasPodman) throughput.podman = [];
    const addressOf = (inspectJson: string) => (JSON.parse(inspectJson) as { NetworkSettings: { Networks: Record<string, { IPAddress: string }> } }[])[0]!.NetworkSettings.Networks[netName]!.IPAddress;
    inNs(ns, [...berth, 'run', '-d', '--name', `${tag}-iperf-s`, '--network', netName, '--cgroup-parent', cgroupParent(), image, 'iperf3', '-s']);
    const berthIp = addressOf(inNs(ns, [...berth, 'inspect', `${tag}-iperf-s`]).stdout);
    let podmanIp = '';
    if (hasPodman) {
      inNs(ns, [...podman, 'run', '-d', '--name', `${tag}-iperf-s`, '--network', netName, '--cgroup-parent', podmanParent, ...ulimits, image, 'iperf3', '-s'], podmanEnv);
      podmanIp = addressOf(inNs(ns, [...podman, 'inspect', `${tag}-iperf-s`], podmanEnv).stdout);
    }
    const loopServer = spawnSync('nsenter', [`--net=${ns}`, '--', 'iperf3', '-s', '-D', '-p', '5299', '--pidfile', join(tmp, 'iperf.pid')]);
    if (loopServer.status !== 0) throw new Error(`iperf3 -s on loopback failed: ${loopServer.stderr.toString()}`);
    await sleep(500);
    const client = ['iperf3', '-J', '-t', String(IPERF_SECS)];
    for (let i = 0; i < IPERF_ROUNDS; i++) {
      throughput.loopback!.push(gbits(inNs(ns, [...client, '-c', '127.0.0.1', '-p', '5299']).stdout));
      throughput.berth!.push(gbits(inNs(ns, [...berth, 'run', '--rm', '--network', netName, '--cgroup-parent', cgroupParent(), image, ...client, '-c', berthIp]).stdout));
      if (hasPodman) throughput.podman!.push(gbits(inNs(ns, [...podman, 'run', '--rm', '--network', netName, '--cgroup-parent', podmanParent, ...ulimits, image, ...client, '-c', podmanIp], podmanEnv).stdout));
    }
    return report(opts, contenders, samples, throughput, skipped);
  } finally {
    const quiet = (argv: string[], env?: Record<string, string>) => spawnSync('nsenter', [`--net=${ns}`, '--', ...argv], { stdio: 'ignore', env: { ...process.env, ...env } });
    try { process.kill(Number(readFileSync(join(tmp, 'iperf.pid'), 'utf8')), 'SIGKILL'); } catch { /* not started */ }
    if (nsMade) {
      quiet([...berth, 'rm', '-f', `${tag}-iperf-s`]);
      quiet([...berth, 'network', 'rm', netName]);
      if (hasPodman) {
        quiet([...podman, 'rm', '-f', '-a'], podmanEnv);
        quiet([...podman, 'network', 'rm', '-f', netName, `${netName}-iso`], podmanEnv);
        quiet([...podman, 'rmi', '-a', '-f'], podmanEnv);
      }
    }
    // aardvark-dns outlives netavark (it serves the next container): stop Berth's by its pid file.
    try { process.kill(Number(readFileSync(join(run, '.network/netavark/aardvark-dns/aardvark.pid'), 'utf8')), 'SIGKILL'); } catch { /* none */ }
    spawnSync('umount', ['-l', join(run, '.network/engine-netns')], { stdio: 'ignore' });
    if (mounted) spawnSync('umount', ['-l', state], { stdio: 'ignore' });
    if (nsMade) spawnSync('ip', ['netns', 'del', nsName], { stdio: 'ignore' });
    await removeCgroupParent();
    removeCgroupEverywhere(podmanParent);
    rmSync(tmp, { recursive: true, force: true });
    const left = leftovers(tag);
    if (left.length) process.stderr.write(`warning: cgroups left behind:\n${left.join('\n')}\n`);
  }
}

function report(opts: BenchOptions, contenders: Contender[], samples: Record<string, number[]>, throughput: Record<string, number[]>, skipped: string[]): BenchResult {
  const host = hostInfo();
  const results: Record<string, unknown> = {};
  const rows = contenders.map((c) => {
    const s = summarize(samples[c.key]!);
    results[c.key] = { label: c.label, ...s, samples: samples[c.key]!.map((x) => Number(x.toFixed(3))) };
    return [c.label, ms(s.median), ms(s.p10), ms(s.p90)];
  });
  const ratio = (a: string, b: string) => (samples[a] && samples[b] ? pairedRatio(samples[a]!, samples[b]!) : undefined);
  const ratios = {
    berthNetOverNone: ratio('berthNet', 'berthNone'),
    podmanNetOverNone: ratio('podmanNet', 'podmanNone'),
    podmanNetOverBerthNet: ratio('podmanNet', 'berthNet'),
    podmanIsoOverBerthNet: ratio('podmanIso', 'berthNet'),
  };
  const settle = opts.settle ?? SETTLE_MS;
  const x = (v: number | undefined) => (v === undefined ? '-' : `${v.toFixed(2)}x`);
  let text = `network: start time on a bridge network and throughput over it, ${opts.iterations} rounds (shuffled each) after ${opts.warmup} warmup, `
    + `${settle ? `${settle} ms untimed pause after each run` : 'back to back'}, cold berth CLI, runtime state on tmpfs, in a private network namespace\n`;
  text += `${hostLine(host)}\n\n`;
  text += table(['command', 'median ms', 'p10', 'p90'], rows);
  text += `\nnetwork ÷ none (paired median): berth ${x(ratios.berthNetOverNone)}, podman ${x(ratios.podmanNetOverNone)}; podman ÷ berth on a network: ${x(ratios.podmanNetOverBerthNet)}, `
    + `on an isolated one (like for like): ${x(ratios.podmanIsoOverBerthNet)}\n\n`;
  const tput = Object.entries(throughput).map(([k, v]) => {
    const s = summarize(v);
    return [k === 'loopback' ? 'iperf3 over the namespace\'s loopback (ceiling)' : `${k}: container to container over its bridge`, s.median.toFixed(2), s.p10.toFixed(2), s.p90.toFixed(2)];
  });
  text += table([`iperf3 TCP, ${IPERF_SECS} s x ${IPERF_ROUNDS}`, 'median Gbit/s', 'p10', 'p90'], tput);
  if (skipped.length) text += `skipped: ${skipped.join('; ')}\n`;
  return { name: 'network', text, data: { host, iterations: opts.iterations, warmup: opts.warmup, settle, ratios, results, throughput, skipped } };
}
