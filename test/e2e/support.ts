/**
 * Support for the end-to-end tests that drive an OCI runtime through real clients (containerd's
 * `ctr`, podman): which runtime to test, running a client command, a busybox image built offline,
 * and a private containerd.
 *
 * `RUNTIME=berth` (default) tests bin/berth-runtime.js; `RUNTIME=runc` (or `crun`, or a path) runs
 * the same tests against a reference runtime, which is how the tests themselves are checked.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeBusyboxRootfs, processTag, repoRoot } from '../support/bundle.js';

/** The runtime under test: `RUNTIME` (berth, runc, crun or a path), default berth. */
export function runtimeBinary(): string {
  const r = process.env.RUNTIME ?? 'berth';
  if (r === 'berth') return join(repoRoot, 'bin/berth-runtime.js');
  if (r.includes('/')) return r;
  return findCommand(r) ?? r;
}

/** Whether the runtime under test is Berth (some checks look at Berth's own messages). */
export const isBerth = (process.env.RUNTIME ?? 'berth') === 'berth';

/** The full path of `name` on PATH (or in /usr/sbin, /sbin), or undefined. */
export function findCommand(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const d of dirs) {
    try {
      accessSync(join(d, name), constants.X_OK);
      return join(d, name);
    } catch { /* not here */ }
  }
  return undefined;
}

/** Output and status of a finished command. */
export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to the end, collecting its output; rejects only on timeout or spawn failure. */
export function sh(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env, cwd: opts.cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} timed out; stdout: ${stdout} stderr: ${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    child.stdin.on('error', () => undefined); // a command that exits without reading its stdin
    child.stdin.end(opts.input ?? '');
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128 + (signal === 'SIGKILL' ? 9 : 15), stdout, stderr });
    });
  });
}

/** A temporary directory `/tmp/berth-test-<pid>-<label>-XXXXXX`. */
export function tempDir(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `${processTag()}-${label}-`));
}

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Writes a docker-archive (what `docker save` writes; `ctr image import` and `podman load` read
 * it) of a one-layer busybox image with the probe as /bin/probe, tagged `name`, into `dir`.
 * Returns the archive's path. The layer is made with tar from makeBusyboxRootfs, so no registry
 * is needed.
 */
export async function buildImageArchive(dir: string, name: string): Promise<string> {
  const rootfs = join(dir, 'rootfs');
  await makeBusyboxRootfs(rootfs);
  await mkdir(join(rootfs, 'work'), { mode: 0o755 }); // a workdir owned by root
  const out = join(dir, 'archive');
  await mkdir(out);
  const layerTmp = join(dir, 'layer.tar');
  const t = await sh('tar', ['--numeric-owner', '--sort=name', '-C', rootfs, '-cf', layerTmp, '.']);
  if (t.code !== 0) throw new Error(`tar of the image layer failed: ${t.stderr}`);
  const layer = await readFile(layerTmp);
  const diffId = sha256(layer);
  await mkdir(join(out, diffId));
  await writeFile(join(out, diffId, 'layer.tar'), layer);
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    created: '2024-01-01T00:00:00Z',
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'], WorkingDir: '/' },
    rootfs: { type: 'layers', diff_ids: [`sha256:${diffId}`] },
    history: [{ created: '2024-01-01T00:00:00Z', created_by: 'berth e2e test support' }],
  });
  const configId = sha256(config);
  await writeFile(join(out, `${configId}.json`), config);
  await writeFile(join(out, 'manifest.json'), JSON.stringify([{ Config: `${configId}.json`, RepoTags: [name], Layers: [`${diffId}/layer.tar`] }]));
  const archive = join(dir, 'image.tar');
  const a = await sh('tar', ['-C', out, '-cf', archive, '.']);
  if (a.code !== 0) throw new Error(`tar of the image archive failed: ${a.stderr}`);
  await rm(layerTmp);
  await sh('rm', ['-rf', out, rootfs]);
  return archive;
}

/** A containerd started for one test file. */
export interface Containerd {
  /** The gRPC socket (`ctr --address`). */
  address: string;
  /** The containerd namespace the tests use (`ctr --namespace`). */
  namespace: string;
  pid: number;
  /** `ctr --address A --namespace N ARGS...` */
  ctr(args: string[], opts?: { timeoutMs?: number; input?: string }): Promise<Result>;
  /** Stops containerd (SIGTERM, then SIGKILL by pid) and removes its directories. */
  stop(): Promise<void>;
}

/**
 * Starts a private containerd: root, state and sockets below `dir`, only the plugins the tests
 * need (no CRI, no opt), the native snapshotter. Resolves once `ctr version` answers.
 */
export async function startContainerd(dir: string): Promise<Containerd> {
  const bin = findCommand('containerd');
  const ctrBin = findCommand('ctr');
  if (!bin || !ctrBin) throw new Error('containerd not installed');
  const address = join(dir, 'containerd.sock');
  const config = `version = 2
root = "${dir}/root"
state = "${dir}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "${address}"
[ttrpc]
  address = "${address}.ttrpc"
[debug]
  address = "${dir}/debug.sock"
  level = "info"
[metrics]
  address = ""
`;
  await writeFile(join(dir, 'config.toml'), config);
  const { openSync } = await import('node:fs');
  const logFd = openSync(join(dir, 'containerd.log'), 'a');
  const child = spawn(bin, ['--config', join(dir, 'config.toml')], { stdio: ['ignore', logFd, logFd], detached: false });
  const pid = child.pid!;
  let exited = false;
  const gone = new Promise<void>((r) => child.on('exit', () => { exited = true; r(); }));
  const namespace = `${processTag()}-ns`;
  const ctr = (args: string[], opts: { timeoutMs?: number; input?: string } = {}) =>
    sh(ctrBin, ['--address', address, '--namespace', namespace, ...args], opts);
  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const t = setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, 5000);
      await gone;
      clearTimeout(t);
    }
    // containerd's root holds snapshots mounted nowhere (native snapshotter) and its state
    // holds the shims' sockets: both go with the directory.
    await sh('rm', ['-rf', '--one-file-system', dir]);
  };
  for (let i = 0; ; i++) {
    if (existsSync(address) && (await ctr(['version'], { timeoutMs: 5000 })).code === 0) break;
    if (exited || i > 200) {
      const log = readFileSync(join(dir, 'containerd.log'), 'utf8');
      await stop();
      throw new Error(`containerd did not start: ${log.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { address, namespace, pid, ctr, stop };
}

/** Polls `fn` every 50 ms until it returns a truthy value or `ms` pass; returns the last value. */
export async function waitFor<T>(fn: () => Promise<T>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}
