/**
 * The differential test of the Engine API: the same sequence of calls against a real dockerd
 * (Debian's docker.io 20.10, started here on a private socket, data root and exec root, with
 * `--bridge none --iptables=false`, its containers' cgroups below this test's own) and against
 * `berth system service`, and the answers compared: status codes, the set of keys of every JSON
 * document (recursively), and the values that mean the same on both. Ids, times, paths, and the
 * fields docs/engine-api.md lists as Berth's known differences are left out; anything else that
 * differs fails the test, so the list in the docs stays true.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertNoLeaks, processTag, repoRoot, whyNotRoot } from '../support/bundle.js';
import { busyboxTar, writeImageLayout } from '../fixtures/image/build.js';
import { tarBuffer } from '../../src/archive/tar/writer.js';
import { until } from './engine-cli.js';

const dockerd = ['/usr/sbin/dockerd', '/usr/bin/dockerd'].find((p) => existsSync(p));
const skip = whyNotRoot() ?? (dockerd ? undefined : 'dockerd is not installed (apt-get install docker.io)');
if (skip) console.log(`# skipping the dockerd differential test: ${skip}`);

const bin = join(repoRoot, 'bin/berth.js');
const IMAGE = 'berthdiff/img:v1';
let dir: string;
let dockerSock: string;
let berthSock: string;
let dockerProc: ChildProcess;
let berthProc: ChildProcess;
/** Below this process's own cgroup (memory hierarchy path), for dockerd's containers. */
let cgroupParent: string;

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }

function call(sock: string, method: string, path: string, body?: unknown): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.isBuffer(body) ? body : JSON.stringify(body);
    const req = request({ socketPath: sock, method, path, headers: data ? { 'Content-Type': Buffer.isBuffer(body) ? 'application/x-tar' : 'application/json', 'Content-Length': Buffer.byteLength(data) } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.end(data);
  });
}

function ownCgroup(): string {
  const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(l));
  return line ? line.slice(line.lastIndexOf(':') + 1).replace(/\/$/, '') : '';
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), `${processTag()}-dockerd-`));
  dockerSock = join(dir, 'docker.sock');
  berthSock = join(dir, 'berth.sock');
  cgroupParent = `${ownCgroup()}/${processTag()}-dockerd`;
  dockerProc = spawn(dockerd!, ['--host', `unix://${dockerSock}`, '--data-root', join(dir, 'docker-data'), '--exec-root', join(dir, 'docker-exec'),
    '--pidfile', join(dir, 'docker.pid'), '--bridge', 'none', '--iptables=false', '--ip-masq=false', '--ip6tables=false',
    '--exec-opt', 'native.cgroupdriver=cgroupfs', '--containerd-namespace', `${processTag()}-moby`, '--containerd-plugins-namespace', `${processTag()}-plugins`],
  { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  dockerProc.stderr!.on('data', (b: Buffer) => { log += b.toString(); });
  berthProc = spawn(process.execPath, [bin, '--data-root', join(dir, 'berth-data'), '--root', join(dir, 'berth-run'), 'system', 'service', '--host', `unix://${berthSock}`, '--time', '0'],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, BERTH_DEFAULT_NETWORK: 'none' } });
  assert.equal(await until(() => existsSync(berthSock), 15_000), true, 'berth listens');
  assert.equal(await until(async () => existsSync(dockerSock) && (await call(dockerSock, 'GET', '/_ping').catch(() => ({ status: 0 }))).status === 200, 60_000), true, `dockerd listens: ${log.slice(-2000)}`);
  // The same image in both: a gzip-only image (dockerd 20.10 loads no zstd layers), saved by berth, loaded by dockerd.
  const layout = join(dir, 'layout');
  await writeImageLayout(layout, IMAGE, [
    { tar: await busyboxTar(), compression: 'gzip' },
    { tar: tarBuffer([{ name: 'etc/motd', type: 'file', data: 'diff\n' }]), compression: 'gzip' },
  ], { Entrypoint: ['/bin/sh', '-c'], Cmd: ['cat /etc/motd'], Env: ['PATH=/usr/bin:/bin', 'A=1'], WorkingDir: '/tmp', Labels: { l: 'v' }, Volumes: { '/data': {} } });
  const berth = (args: string[]) => spawnSync(process.execPath, [bin, '--data-root', join(dir, 'berth-data'), '--root', join(dir, 'berth-run'), ...args], { encoding: 'utf8' });
  assert.equal(berth(['load', '-i', layout]).status, 0);
  assert.equal(berth(['save', '-o', join(dir, 'img.tar'), IMAGE]).status, 0);
  const loaded = await call(dockerSock, 'POST', '/v1.41/images/load?quiet=1', readFileSync(join(dir, 'img.tar')));
  assert.equal(loaded.status, 200, loaded.body.toString());
});

after(async () => {
  if (skip) return;
  for (const [sock, proc] of [[dockerSock, dockerProc], [berthSock, berthProc]] as const) {
    for (const name of ['berthdiff-a', 'berthdiff-b']) await call(sock, 'DELETE', `/containers/${name}?force=1&v=1`).catch(() => undefined);
    for (const v of ['berthdiff-vol', 'berthdiff-implicit']) await call(sock, 'DELETE', `/volumes/${v}?force=1`).catch(() => undefined);
    if (proc.exitCode === null) {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    }
  }
  // What dockerd leaves mounted under its roots (overlays, its network namespaces).
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m): m is string => !!m && m.startsWith(dir)).reverse();
  for (const m of mounts) spawnSync('umount', ['-l', m]);
  spawnSync('umount', ['-l', join(dir, 'berth-run/.network/engine-netns')]);
  for (const ctrl of readdirSync('/sys/fs/cgroup')) {
    const d = join('/sys/fs/cgroup', ctrl, cgroupParent);
    if (existsSync(d)) { try { rmdirSync(d); } catch { /* not a hierarchy of this layout */ } }
  }
  rmSync(dir, { recursive: true, force: true });
  await assertNoLeaks(processTag());
});

/** Every key path of a JSON value ("a.b", "list[].c"), for comparing shapes. */
function keyPaths(v: unknown, prefix = '', out = new Set<string>()): Set<string> {
  if (Array.isArray(v)) { for (const x of v) keyPaths(x, `${prefix}[]`, out); return out; }
  if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      const p = prefix ? `${prefix}.${k}` : k;
      out.add(p);
      // maps whose keys are data, not fields: only their presence counts
      if (!/(^|\.)(Labels|Env|Options|Networks|Ports|ExposedPorts|Volumes|Data|DriverOpts)$/.test(p)) keyPaths(x, p, out);
    }
  }
  return out;
}

/**
 * Keys dockerd sends that Berth does not (with why), and keys Berth adds (docs/engine-api.md,
 * "Where Berth differs"). A pattern matches a key path and everything below it.
 */
const MISSING_IN_BERTH: Record<string, string> = {};
const EXTRA_IN_BERTH: Record<string, string> = { 'Berth': 'Berth\'s outcome report and who killed the container' };

function compareShapes(what: string, docker: unknown, berth: unknown): string[] {
  const d = keyPaths(docker);
  const b = keyPaths(berth);
  const under = (p: string, list: Record<string, string>) => Object.keys(list).some((k) => p === `${what}:${k}` || p.startsWith(`${what}:${k}.`) || p.startsWith(`${what}:${k}[]`));
  const out: string[] = [];
  for (const p of d) if (!b.has(p) && !under(`${what}:${p}`, MISSING_IN_BERTH)) out.push(`${what}: Berth lacks ${p}`);
  for (const p of b) if (!d.has(p) && !under(`${what}:${p}`, EXTRA_IN_BERTH)) out.push(`${what}: Berth adds ${p}`);
  return out;
}

/** Docker's multiplexed stream → "stdout: line" / "stderr: line" entries. */
function demux(b: Buffer): string[] {
  const out: string[] = [];
  for (let off = 0; off + 8 <= b.length;) {
    const size = b.readUInt32BE(off + 4);
    const stream = b[off] === 2 ? 'stderr' : 'stdout';
    for (const l of b.subarray(off + 8, off + 8 + size).toString().split('\n').filter(Boolean)) out.push(`${stream}: ${l}`);
    off += 8 + size;
  }
  return out;
}

/** JSON with object keys sorted (Go sorts a map's keys; the order of a JSON object is not its meaning). */
const canonical = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1))) : x));

const pick = (v: unknown, path: string): unknown => path.split('.').filter(Boolean).reduce<unknown>((x, k) => (x && typeof x === 'object' ? (x as Record<string, unknown>)[k] : undefined), v);

/** The sequence of calls, on one server; returns what it saw, by step. */
async function sequence(sock: string): Promise<Record<string, { status: number; json?: unknown; text?: string; raw?: Buffer }>> {
  const seen: Record<string, { status: number; json?: unknown; text?: string; raw?: Buffer }> = {};
  const step = async (name: string, method: string, path: string, body?: unknown, raw = false) => {
    const r = await call(sock, method, path, body);
    const text = r.body.toString();
    seen[name] = raw || !text.trim() ? { status: r.status, text, raw: r.body } : { status: r.status, json: JSON.parse(text) };
    return r;
  };
  await step('version', 'GET', '/v1.41/version');
  await step('volume create', 'POST', '/v1.41/volumes/create', { Name: 'berthdiff-vol', Labels: { k: 'v' } });
  await step('volume inspect', 'GET', '/v1.41/volumes/berthdiff-vol');
  const create = { Image: IMAGE, Cmd: ['echo out; echo err >&2; cat /etc/motd; exit 3'], Env: ['B=2'], Labels: { c: 'd' },
    HostConfig: { NetworkMode: 'none', Memory: 64 << 20, CgroupParent: cgroupParent, Binds: ['berthdiff-vol:/v', 'berthdiff-implicit:/w'] } };
  await step('create', 'POST', '/v1.41/containers/create?name=berthdiff-a', create);
  await step('create again', 'POST', '/v1.41/containers/create?name=berthdiff-a', create);
  await step('create bad image', 'POST', '/v1.41/containers/create?name=berthdiff-b', { ...create, Image: 'berthdiff/nosuch:v0' });
  await step('inspect created', 'GET', '/v1.41/containers/berthdiff-a/json');
  await step('volume made by create', 'GET', '/v1.41/volumes/berthdiff-implicit');
  await step('start', 'POST', '/v1.41/containers/berthdiff-a/start');
  await step('wait', 'POST', '/v1.41/containers/berthdiff-a/wait');
  await step('start again', 'POST', '/v1.41/containers/berthdiff-a/start');
  await step('wait again', 'POST', '/v1.41/containers/berthdiff-a/wait');
  await step('inspect exited', 'GET', '/v1.41/containers/berthdiff-a/json');
  await step('logs', 'GET', '/v1.41/containers/berthdiff-a/logs?stdout=1&stderr=1', undefined, true);
  await step('list', 'GET', `/v1.41/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ name: ['berthdiff-a'] }))}`);
  await step('volume in use', 'DELETE', '/v1.41/volumes/berthdiff-vol');
  await step('image inspect', 'GET', `/v1.41/images/${IMAGE}/json`);
  await step('no such container', 'GET', '/v1.41/containers/berthdiff-nosuch/json');
  await step('no such volume', 'GET', '/v1.41/volumes/berthdiff-nosuch');
  // a running one: exec, top, changes, the archive's stat, pause
  await step('create running', 'POST', '/v1.41/containers/create?name=berthdiff-b', { Image: IMAGE, Cmd: ['echo hi > /tmp/f; sleep 60'], HostConfig: { NetworkMode: 'none', CgroupParent: cgroupParent } });
  await step('start running', 'POST', '/v1.41/containers/berthdiff-b/start');
  const exec = await step('exec create', 'POST', '/v1.41/containers/berthdiff-b/exec', { Cmd: ['true'], AttachStdout: true });
  const execId = (JSON.parse(exec.body.toString()) as { Id: string }).Id;
  await step('exec inspect', 'GET', `/v1.41/exec/${execId}/json`);
  await step('top', 'GET', '/v1.41/containers/berthdiff-b/top');
  for (let i = 0; i < 50 && !(await call(sock, 'HEAD', '/v1.41/containers/berthdiff-b/archive?path=/tmp/f')).headers['x-docker-container-path-stat']; i++) await new Promise((r) => setTimeout(r, 100));
  const stat = await step('archive stat', 'HEAD', '/v1.41/containers/berthdiff-b/archive?path=/tmp/f');
  seen['archive stat']!.json = JSON.parse(Buffer.from(String(stat.headers['x-docker-container-path-stat']), 'base64').toString());
  await step('changes', 'GET', '/v1.41/containers/berthdiff-b/changes');
  await step('pause', 'POST', '/v1.41/containers/berthdiff-b/pause');
  await step('inspect paused', 'GET', '/v1.41/containers/berthdiff-b/json');
  await step('unpause', 'POST', '/v1.41/containers/berthdiff-b/unpause');
  await step('commit', 'POST', '/v1.41/commit?container=berthdiff-b&repo=berthdiff/committed&tag=v2&comment=msg&changes=ENV%20C%3D3');
  await step('committed image', 'GET', '/v1.41/images/berthdiff/committed:v2/json');
  await step('remove committed image', 'DELETE', '/v1.41/images/berthdiff/committed:v2');
  await step('kill', 'POST', '/v1.41/containers/berthdiff-b/kill');
  await step('wait killed', 'POST', '/v1.41/containers/berthdiff-b/wait');
  await step('remove running', 'DELETE', '/v1.41/containers/berthdiff-b');
  await step('remove', 'DELETE', '/v1.41/containers/berthdiff-a?v=1');
  await step('volume remove', 'DELETE', '/v1.41/volumes/berthdiff-vol');
  await step('volume remove implicit', 'DELETE', '/v1.41/volumes/berthdiff-implicit');
  return seen;
}

test('the same API calls against dockerd and Berth: same status codes, same shapes, same values where they mean the same', { skip, timeout: 300_000 }, async () => {
  const docker = await sequence(dockerSock);
  const berth = await sequence(berthSock);
  const problems: string[] = [];
  for (const [name, d] of Object.entries(docker)) {
    const b = berth[name]!;
    if (d.status !== b.status) problems.push(`${name}: status ${b.status}, dockerd ${d.status} (${JSON.stringify(b.json ?? b.text).slice(0, 200)} / ${JSON.stringify(d.json ?? d.text).slice(0, 200)})`);
    if (d.json !== undefined && b.json !== undefined) problems.push(...compareShapes(name, d.json, b.json));
  }
  // Values that mean the same on both.
  const same = (step: string, paths: string[]) => {
    for (const p of paths) {
      const dv = pick(docker[step]?.json, p);
      const bv = pick(berth[step]?.json, p);
      if (canonical(dv) !== canonical(bv)) problems.push(`${step}: ${p} is ${JSON.stringify(bv)}, dockerd's ${JSON.stringify(dv)}`);
    }
  };
  same('version', ['ApiVersion', 'Os']); // MinAPIVersion: dockerd 20.10 1.12, Berth 1.24 (docs)
  same('volume create', ['Name', 'Driver', 'Scope', 'Labels', 'Options']);
  same('volume made by create', ['Name', 'Driver', 'Scope', 'Labels', 'Options']);
  same('inspect created', ['Path', 'Args', 'State.Status', 'State.Running', 'Config.Cmd', 'Config.Entrypoint', 'Config.Env', 'Config.WorkingDir', 'Config.Labels', 'Config.Image', 'Config.Volumes',
    'HostConfig.Binds', 'HostConfig.Memory', 'HostConfig.NetworkMode', 'Name', 'RestartCount', 'Image']);
  same('inspect exited', ['State.Status', 'State.ExitCode', 'State.OOMKilled', 'State.Running']);
  same('wait', ['StatusCode']);
  same('wait killed', ['StatusCode']);
  same('committed image', ['RepoTags', 'Config.Env', 'Config.Cmd', 'Config.Entrypoint', 'Config.WorkingDir', 'Config.Labels', 'Config.Volumes', 'Comment', 'Os']);
  same('exec inspect', ['Running', 'ExitCode', 'ProcessConfig', 'OpenStdin', 'OpenStdout', 'OpenStderr']);
  same('top', ['Titles']);
  same('archive stat', ['name', 'size', 'mode', 'linkTarget']);
  const sortedChanges = (src: typeof docker) => canonical([...((src.changes?.json ?? []) as { Path: string }[])].sort((a, b) => (a.Path < b.Path ? -1 : 1)));
  if (sortedChanges(berth) !== sortedChanges(docker)) problems.push(`changes: ${sortedChanges(berth)}, dockerd's ${sortedChanges(docker)}`);
  same('inspect paused', ['State.Status', 'State.Paused', 'State.Running']);
  same('list', ['0.Names', '0.Image', '0.Command', 'Labels', '0.State']);
  same('image inspect', ['Id', 'RepoTags', 'Config.Env', 'Config.Cmd', 'Config.Entrypoint', 'Config.WorkingDir', 'Config.Labels', 'Config.Volumes', 'RootFS', 'Os', 'Architecture']);
  // Mounts: the named volume and the image's anonymous one, by destination
  const mounts = (step: string, src: typeof docker) => ((pick(src[step]?.json, 'Mounts') ?? []) as { Destination: string; Type: string; Name?: string; RW: boolean; Mode: string; Driver?: string }[])
    .map((m) => `${m.Destination} ${m.Type} ${m.RW} ${m.Mode} ${m.Driver ?? ''} ${m.Name && /^[a-f0-9]{64}$/.test(m.Name) ? '<anonymous>' : m.Name ?? ''}`).sort();
  if (JSON.stringify(mounts('inspect created', berth)) !== JSON.stringify(mounts('inspect created', docker))) {
    problems.push(`Mounts: ${JSON.stringify(mounts('inspect created', berth))}, dockerd's ${JSON.stringify(mounts('inspect created', docker))}`);
  }
  // the log: the same lines on the same streams (their order across streams is timing)
  const lines = (b: Buffer | undefined) => demux(b ?? Buffer.alloc(0)).sort();
  if (JSON.stringify(lines(berth.logs?.raw)) !== JSON.stringify(lines(docker.logs?.raw))) problems.push(`logs: ${JSON.stringify(lines(berth.logs?.raw))}, dockerd's ${JSON.stringify(lines(docker.logs?.raw))}`);
  assert.equal(problems.length, 0, `${problems.length} differences:\n${problems.join('\n')}`);
});
