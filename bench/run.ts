/**
 * Berth's benchmarks: `npm run bench -- [name...] [-n N] [--warmup W] [--json]`.
 *   runtime-run       berth-runtime run vs runc run vs crun run, plus floors (runtime-run.ts)
 *   cgroup-lifecycle  create/apply/add/destroy through src/cgroups, per step (cgroup-lifecycle.ts)
 *   breakdown         where berth-runtime run spends its time, phase by phase (breakdown.ts)
 *   image-pull        berth pull vs skopeo copy + umoci unpack from a local registry (image-pull.ts)
 *   image-load        berth load vs podman load of a docker-archive (image-pull.ts)
 *   engine-run        berth run vs podman run; the TypeScript API (warm) vs crun run (engine-run.ts)
 *   network           berth run on a bridge network vs none vs podman's; iperf3 over the bridges (network.ts)
 *   engine-api        the docker CLI via berth system service vs dockerd vs podman system service (engine-api.ts)
 * With no name, every one runs. The tables go to stdout; with --json, one JSON document goes to
 * stdout and the tables to stderr. Needs root (real namespaces and cgroups). Timings are printed,
 * never asserted: nothing here fails because the machine is slow.
 */
import { breakdown } from './breakdown.js';
import { cgroupLifecycle } from './cgroup-lifecycle.js';
import { engineRun } from './engine-run.js';
import { engineApi } from './engine-api.js';
import { network } from './network.js';
import { imageLoad, imagePull } from './image-pull.js';
import type { BenchOptions, BenchResult } from './env.js';
import { runtimeRun } from './runtime-run.js';

const BENCHES: Record<string, (o: BenchOptions) => Promise<BenchResult>> = {
  'runtime-run': runtimeRun,
  'cgroup-lifecycle': cgroupLifecycle,
  breakdown,
  'image-pull': imagePull,
  'image-load': imageLoad,
  'engine-run': engineRun,
  network,
  'engine-api': engineApi,
};

const USAGE = `usage: node dist/bench/run.js [runtime-run] [cgroup-lifecycle] [breakdown] [image-pull] [image-load] [engine-run] [network] [engine-api] [-n N] [--warmup W] [--json]
  -n N          measured iterations (default 30)
  --warmup W    unmeasured iterations first (default 3)
  --gaps LIST   cgroup-lifecycle: idle gaps in ms before each lifecycle (default 0,200)
  --settle MS   engine-run: untimed pause after each run (default 400; 0 runs back to back)
  --baseline DIR  runtime-run, engine-run: also time the berth of another built checkout in the
                same rounds (rows "baseline: ..."), e.g. main's, for a paired before/after
  --json        print one JSON document on stdout (tables go to stderr)
`;

function parse(argv: string[]): { names: string[]; opts: BenchOptions } {
  const opts: BenchOptions = { iterations: 30, warmup: 3, json: false };
  const names: string[] = [];
  const num = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} needs a whole number, got ${JSON.stringify(v)}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-n' || a === '--iterations') opts.iterations = Math.max(1, num(a, argv[++i]));
    else if (a === '--warmup') opts.warmup = num(a, argv[++i]);
    else if (a === '--json') opts.json = true;
    else if (a === '--settle') opts.settle = num(a, argv[++i]);
    else if (a === '--gaps') opts.gaps = (argv[++i] ?? '').split(',').map((g) => num(a, g));
    else if (a === '--baseline') opts.baseline = argv[++i];
    else if (a === '-h' || a === '--help') { process.stdout.write(USAGE); process.exit(0); }
    else if (a in BENCHES) names.push(a);
    else throw new Error(`unknown benchmark or flag ${JSON.stringify(a)}: see --help`);
  }
  return { names: names.length ? names : Object.keys(BENCHES), opts };
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parse(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    return 2;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('bench: needs root (real namespaces, mounts and cgroups)\n');
    return 2;
  }
  const { names, opts } = parsed;
  const out: Record<string, unknown> = {};
  let failed = 0;
  for (const name of names) {
    // One benchmark failing (a runtime missing a feature, a half-built tree) does not lose the others.
    try {
      const r = await BENCHES[name]!(opts);
      (opts.json ? process.stderr : process.stdout).write(`${r.text}\n`);
      out[r.name] = r.data;
    } catch (err) {
      failed++;
      process.stderr.write(`bench: ${name} failed: ${(err as Error)?.message ?? String(err)}\n`);
      out[name] = { error: (err as Error)?.message ?? String(err) };
    }
  }
  if (opts.json) process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  return failed ? 1 : 0;
}

main().then((code) => { process.exitCode = code; }, (err: unknown) => {
  process.stderr.write(`bench: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exitCode = 1;
});
