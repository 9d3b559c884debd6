/**
 * `image-pull` and `image-load`: images in and out of the store, side by side with the tools
 * people use today.
 *
 * image-pull: `berth pull` (manifest, config and layers from a local docker-registry into the
 * blob store, verified, then unpacked into the layer store) against `skopeo copy docker://… oci:…`
 * followed by `umoci unpack` of the same image (fetch into an OCI layout, then unpack to a
 * bundle), each round into fresh empty directories.
 * image-load: `berth load -i` of a docker-archive against `podman load -i` of the same file
 * (podman with its own fresh --root, overlay driver), both storing blobs and unpacked layers.
 *
 * The image: the busybox rootfs plus a layer of 2000 small files and 16 files of 1 MiB (about
 * 25 MB unpacked), gzip. Rounds are interleaved round robin; ratios are paired per round.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../test/support/bundle.js';
import { startRegistry, whyNoRegistry } from '../test/support/registry.js';
import { busyboxTar, writeImageLayout } from '../test/fixtures/image/build.js';
import { tarBuffer, type MemoryEntry } from '../src/archive/tar/writer.js';
import { benchTag, hostInfo, hostLine, onPath, type BenchOptions, type BenchResult } from './env.js';
import { ms, nowMs, pairedRatio, summarize, table } from './stats.js';

interface Contender { key: string; label: string; steps: (dir: string) => string[][] }

/** A layer of many small files and a few large ones, with varied (partly compressible) data. */
function bulkLayer(): Buffer {
  const entries: MemoryEntry[] = [{ name: 'bulk/', type: 'dir' }];
  let seed = 1;
  const bytes = (n: number): Buffer => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) { seed = (seed * 1103515245 + 12345) >>> 0; b[i] = (seed >>> 16) & (i % 3 ? 0xff : 0x0f); }
    return b;
  };
  for (let d = 0; d < 20; d++) {
    entries.push({ name: `bulk/d${d}/`, type: 'dir' });
    for (let f = 0; f < 100; f++) entries.push({ name: `bulk/d${d}/f${f}`, type: 'file', data: bytes(1024 + ((d * 100 + f) % 7) * 512) });
  }
  for (let f = 0; f < 16; f++) entries.push({ name: `bulk/big${f}`, type: 'file', data: bytes(1 << 20) });
  return tarBuffer(entries);
}

function timed(argvs: string[][]): number {
  const t0 = nowMs();
  for (const argv of argvs) {
    const r = spawnSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr?.trim().split('\n').slice(-2).join(' ')}`);
  }
  return nowMs() - t0;
}

async function rounds(name: string, title: string, opts: BenchOptions, contenders: Contender[]): Promise<BenchResult> {
  const n = Math.min(opts.iterations, 10);
  const samples: Record<string, number[]> = Object.fromEntries(contenders.map((c) => [c.key, []]));
  for (let round = 0; round < opts.warmup + n; round++) {
    for (const c of contenders.map((_, i) => contenders[(i + round) % contenders.length]!)) {
      // short: podman refuses a runroot path longer than 50 characters
      const dir = mkdtempSync(join(tmpdir(), `${benchTag()}-`));
      try {
        const t = timed(c.steps(dir));
        if (round >= opts.warmup) samples[c.key]!.push(t);
      } finally {
        execFileSync('rm', ['-rf', '--one-file-system', dir]);
      }
    }
  }
  const host = hostInfo();
  const berth = samples.berth!;
  const results: Record<string, unknown> = {};
  const rows = contenders.map((c) => {
    const s = summarize(samples[c.key]!);
    const ratio = c.key === 'berth' ? undefined : pairedRatio(berth, samples[c.key]!);
    results[c.key] = { label: c.label, ...s, berthRatio: ratio, samples: samples[c.key]!.map((x) => Number(x.toFixed(1))) };
    return [c.label, ms(s.median), ms(s.p10), ms(s.p90), ratio === undefined ? '' : `${ratio.toFixed(2)}x`];
  });
  const text = `${name}: ${title}, ${n} rounds round robin after ${opts.warmup} warmup\n${hostLine(host)}\n\n`
    + table(['command', 'median ms', 'p10', 'p90', 'berth ÷ this (paired)'], rows);
  return { name, text, data: { host, iterations: n, warmup: opts.warmup, results } };
}

/** Sets up the registry and the image, runs `fn`, cleans up. */
async function withImage<T>(fn: (ctx: { work: string; ref: string; layout: string }) => Promise<T>): Promise<T> {
  const why = whyNoRegistry();
  if (why) throw new Error(why);
  const work = mkdtempSync(join(tmpdir(), `${benchTag()}-image-`));
  const reg = await startRegistry();
  try {
    const ref = `${reg.host}/berth-bench/bulk:v1`;
    const layout = join(work, 'layout');
    await writeImageLayout(layout, ref, [{ tar: await busyboxTar(), compression: 'gzip' }, { tar: bulkLayer(), compression: 'gzip' }]);
    execFileSync('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}:v1`, `docker://${ref}`]);
    return await fn({ work, ref, layout });
  } finally {
    await reg.stop();
    execFileSync('rm', ['-rf', '--one-file-system', work]);
  }
}

const berthBin = join(repoRoot, 'bin/berth.js');

/** berth pull vs skopeo copy + umoci unpack. */
export async function imagePull(opts: BenchOptions): Promise<BenchResult> {
  for (const t of ['skopeo', 'umoci']) if (!onPath(t)) throw new Error(`${t} is not installed (apt-get install ${t})`);
  return withImage(async ({ ref }) => rounds('image-pull', 'pull + unpack of busybox + 25 MB layer from a loopback docker-registry', opts, [
    { key: 'berth', label: 'berth pull (+ unpack to layer store)', steps: (d) => [[process.execPath, berthBin, '--data-root', d, 'pull', '-q', ref]] },
    {
      key: 'skopeo', label: 'skopeo copy + umoci unpack', steps: (d) => [
        ['skopeo', 'copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `oci:${d}/layout:v1`],
        ['umoci', 'unpack', '--image', `${d}/layout:v1`, `${d}/bundle`],
      ],
    },
  ]));
}

/** berth load vs podman load of the same docker-archive. */
export async function imageLoad(opts: BenchOptions): Promise<BenchResult> {
  if (!onPath('podman')) throw new Error('podman is not installed (apt-get install podman)');
  return withImage(async ({ work, layout }) => {
    const archive = join(work, 'image.tar');
    execFileSync('skopeo', ['copy', '--quiet', `oci:${layout}:v1`, `docker-archive:${archive}:berth-bench/bulk:v1`]);
    return rounds('image-load', 'load of a docker-archive (busybox + 25 MB layer)', opts, [
      { key: 'berth', label: 'berth load -i', steps: (d) => [[process.execPath, berthBin, '--data-root', d, 'load', '-q', '-i', archive]] },
      {
        key: 'podman', label: 'podman load -i (overlay)', steps: (d) => [[
          'podman', '--root', `${d}/root`, '--runroot', `${d}/run`, '--storage-driver', 'overlay', '--events-backend', 'none', 'load', '-q', '-i', archive,
        ]],
      },
    ]);
  });
}
