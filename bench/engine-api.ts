/**
 * `engine-api`: the docker CLI against three servers of Docker's Engine API on the same host, in
 * one run (issue 13's benchmark): `berth system service`, a real dockerd (Debian's docker.io
 * 20.10, with its containerd and runc) and `podman system service` (runc).
 *
 *   run    `docker run --rm --network none IMAGE /bin/true`, interleaved rounds in a new shuffled
 *          order each, an untimed pause after every run (as engine-run.ts);
 *   ps     `docker ps -a` with 100 created containers on each server.
 *
 * The same image everywhere: a busybox image written as an OCI layout, loaded by Berth, saved by
 * Berth and loaded by dockerd and podman through their APIs (`docker load`). Each server has a
 * data root (and runroot / exec root) of its own in a temporary directory on disk, a private
 * socket, no network (dockerd `--bridge none --iptables=false`), and its containers' cgroups
 * below this benchmark's own cgroup. podman 4.3: runc (crun refuses this hybrid host),
 * cgroupfs, overlay storage, events off, default ulimits nofile and nproc this host can set.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../test/support/bundle.js';
import { busyboxTar, writeImageLayout } from '../test/fixtures/image/build.js';
import { benchTag, cgroupParent, hostInfo, hostLine, leftovers, onPath, ownMemoryCgroup, removeCgroupEverywhere, removeCgroupParent, type BenchOptions, type BenchResult } from './env.js';
import { ms, nowMs, pairedRatio, roundOrder, sleep, summarize, table } from './stats.js';

const SETTLE_MS = 400;
const PS_CONTAINERS = 100;
const IMAGE = 'localhost/bench-api:v1';
/** Debian's docker CLI (20.10, what .ci/run installs), even where a newer one is first on PATH. */
const DOCKER = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';

interface Server {
  key: string;
  label: string;
  sock: string;
  proc: ChildProcess;
  /** --cgroup-parent for its containers. */
  cgroupParent: string;
}

async function waitForSocket(sock: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (existsSync(sock) && spawnSync(DOCKER, ['-H', `unix://${sock}`, 'version', '--format', '{{.Server.APIVersion}}'], { stdio: 'ignore' }).status === 0) return true;
    await sleep(100);
  }
  return false;
}

export async function engineApi(opts: BenchOptions): Promise<BenchResult> {
  const missing = ['dockerd', ...(DOCKER === 'docker' ? ['docker'] : [])].filter((p) => !onPath(p));
  if (missing.length) return { name: 'engine-api', text: `engine-api: skipped, not installed: ${missing.join(', ')} (apt-get install docker.io)\n`, data: { skipped: missing } };
  const tag = benchTag();
  const tmp = mkdtempSync(join(tmpdir(), `${tag}-api-`));
  const own = ownMemoryCgroup();
  const servers: Server[] = [];
  const skipped: string[] = [];
  const docker = (s: Server, args: string[]) => {
    const t0 = nowMs();
    const r = spawnSync(DOCKER, ['-H', `unix://${s.sock}`, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(`${s.key}: docker ${args.join(' ')}: ${r.stderr}`);
    return { ms: nowMs() - t0, stdout: r.stdout };
  };
  try {
    const berthData = join(tmp, 'berth');
    const berthArgs = [join(repoRoot, 'bin/berth.js'), '--data-root', join(berthData, 'data'), '--root', join(berthData, 'run')];
    const layout = join(tmp, 'layout');
    await writeImageLayout(layout, IMAGE, [{ tar: await busyboxTar(), compression: 'gzip' }], { Cmd: ['sh'] });
    execFileSync(process.execPath, [...berthArgs, 'load', '-i', layout], { stdio: 'ignore' });
    execFileSync(process.execPath, [...berthArgs, 'save', '-o', join(tmp, 'image.tar'), IMAGE], { stdio: 'ignore' });

    const start = (key: string, label: string, argv: string[], sock: string, parent: string, env: Record<string, string> = {}) => {
      const proc = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'ignore'], env: { ...process.env, ...env } });
      servers.push({ key, label, sock, proc, cgroupParent: parent });
    };
    start('berth', 'berth system service', [process.execPath, ...berthArgs, 'system', 'service', '--host', `unix://${join(tmp, 'berth.sock')}`, '--time', '0'],
      join(tmp, 'berth.sock'), cgroupParent(), { BERTH_DEFAULT_NETWORK: 'none' });
    start('dockerd', 'dockerd 20.10 (containerd, runc)', ['dockerd', '--host', `unix://${join(tmp, 'docker.sock')}`, '--data-root', join(tmp, 'docker-data'),
      '--exec-root', join(tmp, 'docker-exec'), '--pidfile', join(tmp, 'docker.pid'), '--bridge', 'none', '--iptables=false', '--ip-masq=false', '--ip6tables=false',
      '--exec-opt', 'native.cgroupdriver=cgroupfs', '--containerd-namespace', `${tag}-moby`, '--containerd-plugins-namespace', `${tag}-plugins`],
    join(tmp, 'docker.sock'), `${own}/${tag}-dockerd`);
    if (onPath('podman') && onPath('runc')) {
      // podman sets nofile and nproc rlimits by default, which this host cannot raise (no CAP_SYS_RESOURCE): the values engine-run.ts passes
      writeFileSync(join(tmp, 'containers.conf'), '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]\n[engine]\nevents_logger = "none"\n');
      start('podman', 'podman system service (runc)', ['podman', '--root', join(tmp, 'podman-root'), '--runroot', join(tmp, 'podman-run'), '--tmpdir', join(tmp, 'podman-tmp'),
        '--runtime', 'runc', '--cgroup-manager', 'cgroupfs', '--storage-driver', 'overlay', 'system', 'service', '--time', '0', `unix://${join(tmp, 'podman.sock')}`],
      join(tmp, 'podman.sock'), `${own}/${tag}-podman`, { CONTAINERS_CONF: join(tmp, 'containers.conf') });
    } else skipped.push('podman or runc: not installed');
    for (const s of servers) {
      if (!(await waitForSocket(s.sock, 60_000))) throw new Error(`${s.label} did not answer on ${s.sock}`);
      if (s.key !== 'berth') docker(s, ['load', '-q', '-i', join(tmp, 'image.tar')]);
    }

    // docker run --rm, interleaved
    const contenders = servers.map((s) => ({ key: s.key, label: `docker run --rm via ${s.label}`, run: () => docker(s, ['run', '--rm', '--network', 'none', '--cgroup-parent', s.cgroupParent, IMAGE, '/bin/true']).ms }));
    const samples: Record<string, number[]> = Object.fromEntries(contenders.map((c) => [c.key, []]));
    for (let round = 0; round < opts.warmup + opts.iterations; round++) {
      for (const c of roundOrder(contenders, round)) {
        const t = c.run();
        if (round >= opts.warmup) samples[c.key]!.push(t);
        await sleep(opts.settle ?? SETTLE_MS);
      }
    }
    // docker ps -a with 100 containers each
    for (const s of servers) for (let i = 0; i < PS_CONTAINERS; i++) docker(s, ['create', '--network', 'none', '--cgroup-parent', s.cgroupParent, IMAGE, '/bin/true']);
    const psSamples: Record<string, number[]> = Object.fromEntries(servers.map((s) => [s.key, []]));
    for (let round = 0; round < opts.warmup + opts.iterations; round++) {
      for (const s of roundOrder(servers, round)) {
        const r = docker(s, ['ps', '-a', '--format', '{{.ID}}']);
        if (r.stdout.trim().split('\n').length !== PS_CONTAINERS) throw new Error(`${s.key}: docker ps -a listed ${r.stdout.trim().split('\n').length} containers, not ${PS_CONTAINERS}`);
        if (round >= opts.warmup) psSamples[s.key]!.push(r.ms);
      }
    }
    return report(opts, contenders, samples, psSamples, skipped);
  } finally {
    for (const s of servers) {
      const ids = spawnSync(DOCKER, ['-H', `unix://${s.sock}`, 'ps', '-aq'], { encoding: 'utf8' }).stdout?.trim().split('\n').filter(Boolean) ?? [];
      for (let i = 0; i < ids.length; i += 50) spawnSync(DOCKER, ['-H', `unix://${s.sock}`, 'rm', '-f', ...ids.slice(i, i + 50)], { stdio: 'ignore' });
      if (s.proc.exitCode === null) {
        s.proc.kill('SIGTERM');
        await Promise.race([new Promise((r) => s.proc.once('exit', r)), sleep(20_000)]);
        if (s.proc.exitCode === null) s.proc.kill('SIGKILL');
      }
    }
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m): m is string => !!m && m.startsWith(tmp)).reverse();
    for (const m of mounts) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
    await removeCgroupParent();
    for (const s of servers) if (s.key !== 'berth') removeCgroupEverywhere(s.cgroupParent);
    rmSync(tmp, { recursive: true, force: true });
    const left = leftovers(tag);
    if (left.length) process.stderr.write(`warning: cgroups left behind:\n${left.join('\n')}\n`);
  }
}

function report(opts: BenchOptions, contenders: { key: string; label: string }[], samples: Record<string, number[]>, ps: Record<string, number[]>, skipped: string[]): BenchResult {
  const host = hostInfo();
  const results: Record<string, unknown> = {};
  const rows = contenders.map((c) => {
    const s = summarize(samples[c.key]!);
    results[c.key] = { label: c.label, ...s, samples: samples[c.key]!.map((x) => Number(x.toFixed(3))) };
    return [c.label, ms(s.median), ms(s.p10), ms(s.p90)];
  });
  const psRows = Object.entries(ps).map(([k, v]) => {
    const s = summarize(v);
    results[`ps-${k}`] = { ...s, samples: v.map((x) => Number(x.toFixed(3))) };
    return [`docker ps -a, ${PS_CONTAINERS} containers, via ${contenders.find((c) => c.key === k)!.label.replace(/^docker run --rm via /, '')}`, ms(s.median), ms(s.p10), ms(s.p90)];
  });
  const ratio = (a: Record<string, number[]>, x: string, y: string) => (a[x] && a[y] ? pairedRatio(a[x]!, a[y]!) : undefined);
  const ratios = {
    runDockerdOverBerth: ratio(samples, 'dockerd', 'berth'), runPodmanOverBerth: ratio(samples, 'podman', 'berth'),
    psDockerdOverBerth: ratio(ps, 'dockerd', 'berth'), psPodmanOverBerth: ratio(ps, 'podman', 'berth'),
  };
  const x = (v: number | undefined) => (v === undefined ? '-' : `${v.toFixed(2)}x`);
  const settle = opts.settle ?? SETTLE_MS;
  let text = `engine-api: the docker CLI (20.10) against three Engine API servers, ${opts.iterations} rounds (shuffled each) after ${opts.warmup} warmup, `
    + `${settle ? `${settle} ms untimed pause after each run` : 'back to back'}; data roots on disk in a temporary directory, --network none\n`;
  text += `${hostLine(host)}\n\n`;
  text += table(['command', 'median ms', 'p10', 'p90'], [...rows, ...psRows]);
  text += `\nslower than Berth (paired median): run: dockerd ${x(ratios.runDockerdOverBerth)}, podman ${x(ratios.runPodmanOverBerth)}; ps: dockerd ${x(ratios.psDockerdOverBerth)}, podman ${x(ratios.psPodmanOverBerth)}\n`;
  if (skipped.length) text += `skipped: ${skipped.join('; ')}\n`;
  return { name: 'engine-api', text, data: { host, iterations: opts.iterations, warmup: opts.warmup, settle, ratios, results, skipped } };
}
