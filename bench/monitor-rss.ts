/**
 * `monitor-rss`: the memory a detached idle container costs in its monitor process. Berth's is the
 * native helper (native/monitor.c); Podman's is conmon. Each side starts N idle containers
 * (`sleep`) from the same busybox root filesystem, detached, and reads each monitor's
 * /proc/<pid>/status (VmRSS, RssAnon, RssFile, RssShmem) and smaps_rollup (Pss). The helper runs
 * from a sealed memfd copy of itself (the CVE-2019-5736 defence), so most of its resident memory
 * is that copy's text, counted as RssShmem. Target (issue 4): below conmon's 2.05 MB.
 *
 *   node dist/bench/monitor-rss.js [-n N]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeBusyboxRootfs, repoRoot } from '../test/support/bundle.js';
import { benchTag, cgroupParent, leftovers, removeCgroupParent } from './env.js';

interface Mem { vmRss: number; anon: number; file: number; shmem: number; pss: number }

function memOf(pid: number): Mem {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string, text = status) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return { vmRss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile'), shmem: kb('RssShmem'), pss: kb('Pss', rollup) };
}

function mean(xs: Mem[]): Mem {
  const avg = (k: keyof Mem) => Math.round(xs.reduce((a, m) => a + m[k], 0) / xs.length);
  return { vmRss: avg('vmRss'), anon: avg('anon'), file: avg('file'), shmem: avg('shmem'), pss: avg('pss') };
}

const n = Number(process.argv[process.argv.indexOf('-n') + 1] || 5) || 5;
const tag = benchTag();
const dir = mkdtempSync(join(tmpdir(), `${tag}-rss-`));
const rootfs = join(dir, 'rootfs');
await makeBusyboxRootfs(rootfs);
const berth = (args: string[]) => execFileSync(process.execPath, [join(repoRoot, 'bin/berth.js'), '--data-root', join(dir, 'data'), '--root', join(dir, 'run'), ...args], { encoding: 'utf8' }).trim();
const rows: [string, Mem][] = [];
try {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(berth(['run', '-d', '--network', 'none', '--name', `${tag}-${i}`, '--cgroup-parent', cgroupParent(), '--rootfs', rootfs, '--', 'sleep', '600']));
  await new Promise((r) => setTimeout(r, 300));
  const mems = ids.map((id) => memOf(JSON.parse(readFileSync(join(dir, 'data', 'containers', id, 'container.json'), 'utf8')).Monitor.pid));
  rows.push(['berth (native helper)', mean(mems)]);
  for (const id of ids) berth(['rm', '-f', id]);

  if (spawnSync('podman', ['--version']).status === 0) {
    const names: string[] = [];
    for (let i = 0; i < n; i++) {
      const name = `${tag}-podman-${i}`;
      // runc: crun refuses hybrid cgroup hosts; explicit ulimits: podman's defaults exceed the
      // hard limits of a restricted host. Neither changes what conmon does.
      const r = spawnSync('podman', ['--runtime', 'runc', 'run', '-d', '--name', name, '--network', 'none', '--cgroup-manager', 'cgroupfs',
        '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', '--rootfs', rootfs, 'sleep', '600'], { encoding: 'utf8' });
      if (r.status !== 0) { process.stderr.write(`podman: ${r.stderr}`); break; }
      names.push(name);
    }
    await new Promise((r) => setTimeout(r, 300));
    const conmons = names.map((name) => Number(execFileSync('podman', ['inspect', '-f', '{{.State.ConmonPid}}', name], { encoding: 'utf8' }).trim()));
    if (conmons.length) rows.push(['podman (conmon)', mean(conmons.map(memOf))]);
    if (names.length) spawnSync('podman', ['rm', '-f', '-t', '0', ...names]);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  await removeCgroupParent();
}
const header = ['monitor', 'VmRSS', 'RssAnon', 'RssFile', 'RssShmem', 'Pss'];
process.stdout.write(`resident memory per detached idle container (kB, mean of ${n})\n`);
process.stdout.write(`${header.map((h, i) => (i ? h.padStart(9) : h.padEnd(24))).join('')}\n`);
for (const [name, m] of rows) {
  process.stdout.write(`${name.padEnd(24)}${[m.vmRss, m.anon, m.file, m.shmem, m.pss].map((v) => String(v).padStart(9)).join('')}\n`);
}
const left = leftovers();
if (left.length) process.stderr.write(`leftovers: ${left.join(', ')}\n`);
