/**
 * Docker's exec endpoints: POST /containers/{id}/exec makes an exec instance (kept by this
 * server, as dockerd keeps them, until the server ends), POST /exec/{id}/start runs it — with
 * its output on the hijacked connection, or detached — and GET /exec/{id}/json reports it.
 * The process runs through engine/exec.ts, as `berth exec` does.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findContainer } from '../engine/containers.js';
import { execEngine } from '../engine/exec.js';
import { spawnHelper } from '../native/helper-session.js';
import { EngineStore } from '../engine/store.js';
import type { ApiContext, StreamContext } from './containers.js';
import { ApiError, frame, intParam, readJson, sendJson, streamType } from './http.js';

/** One exec instance, Docker's ExecInspect fields. */
interface ExecInstance {
  ID: string;
  ContainerID: string;
  Running: boolean;
  ExitCode: number | null;
  Pid: number;
  OpenStdin: boolean;
  OpenStdout: boolean;
  OpenStderr: boolean;
  ProcessConfig: { tty: boolean; entrypoint: string; arguments: string[]; privileged: boolean; user?: string };
  env: string[];
  workdir: string;
  started: boolean;
  /** With a TTY, while it runs: the file its monitor reads sizes from, and the monitor's pid (resize). */
  winsize?: { file: string; monitorPid: number };
}

/** The exec instances of this server. */
const instances = new Map<string, ExecInstance>();

/** POST /containers/{id}/exec: 201 {Id}. */
export async function createExec(c: ApiContext): Promise<void> {
  const b = await readJson(c.req) as { Cmd?: string[] | null; Env?: string[] | null; User?: string; WorkingDir?: string; Tty?: boolean; AttachStdin?: boolean;
    AttachStdout?: boolean; AttachStderr?: boolean; Privileged?: boolean; DetachKeys?: string };
  if (!b.Cmd?.length) throw new ApiError(400, 'No exec command specified');
  if (b.Privileged) throw new ApiError(400, 'Privileged exec is not supported by Berth: the process gets the container\'s own privileges');
  const rec = await findContainer(c.paths, c.params[0]!);
  if (!rec.State.Running) throw new ApiError(409, `Container ${rec.Id} is not running`);
  if (rec.State.Paused) throw new ApiError(409, `Container ${rec.Id} is paused, unpause the container before exec`);
  // dockerd forgets the exec instances of a removed container: so does this server, here.
  const store = new EngineStore(c.paths);
  for (const [k, e] of instances) if (!store.load(e.ContainerID)) instances.delete(k);
  const id = randomBytes(32).toString('hex');
  instances.set(id, {
    ID: id, ContainerID: rec.Id, Running: false, ExitCode: null, Pid: 0, OpenStdin: b.AttachStdin === true, OpenStdout: b.AttachStdout === true, OpenStderr: b.AttachStderr === true,
    // dockerd's: what was asked to be attached, and user only when given
    ProcessConfig: { tty: b.Tty === true, entrypoint: b.Cmd[0]!, arguments: b.Cmd.slice(1), privileged: false, ...(b.User ? { user: b.User } : {}) },
    env: b.Env ?? [], workdir: b.WorkingDir ?? '', started: false,
  });
  sendJson(c.res, 201, { Id: id });
}

/** GET /exec/{id}/json */
export function inspectExec(c: ApiContext): void {
  const e = instances.get(c.params[0]!);
  if (!e) throw new ApiError(404, `No such exec instance: ${c.params[0]}`);
  const { env: _env, workdir: _wd, started: _s, ...doc } = e;
  sendJson(c.res, 200, { ...doc, CanRemove: false, DetachKeys: '' });
}

/**
 * POST /exec/{id}/start {Detach, Tty}: run it. Attached, the output goes to the answer's stream
 * (the hijacked connection or the response), multiplexed without a TTY, until the process ends;
 * detached, the answer is an empty 200 once it runs.
 */
export async function startExec(c: StreamContext): Promise<void> {
  const execId = c.params[0]!;
  const input = c.input;
  const b = await c.body() as { Detach?: boolean; Tty?: boolean };
  const e = instances.get(execId);
  if (!e) throw new ApiError(404, `No such exec instance: ${execId}`);
  if (e.started) throw new ApiError(409, `exec instance ${execId} has already been started`);
  const rec = await findContainer(c.paths, e.ContainerID);
  e.started = true;
  const tty = e.ProcessConfig.tty;
  // With a TTY, POST /exec/{id}/resize writes the size here and signals the monitor (native/tty.c).
  const winsizeFile = tty && !b.Detach ? join(new EngineStore(c.paths).dir(rec.Id), `exec-${execId.slice(0, 16)}.winsize`) : undefined;
  const req = { cmd: [e.ProcessConfig.entrypoint, ...e.ProcessConfig.arguments], env: e.env, user: e.ProcessConfig.user || undefined, workdir: e.workdir || undefined, tty,
    ...(winsizeFile ? { winsizeFile } : {}) };
  if (b.Detach) {
    e.Running = true;
    await execEngine(c.paths, rec, { ...req, detach: true, stdio: ['ignore', 'ignore', 'ignore'] });
    return;
  }
  const out = c.stream(streamType(tty));
  if (winsizeFile) {
    // The docker CLI (API 1.41) sends the terminal's size right after the hijack: wait a moment
    // for it, so the process starts with it (a shell that reads its size once gets it right).
    e.winsize = { file: winsizeFile, monitorPid: 0 };
    for (let i = 0; i < 15 && !existsSync(winsizeFile); i++) await new Promise((r) => setTimeout(r, 10));
    const m = /^(\d+) (\d+)/.exec(existsSync(winsizeFile) ? readFileSync(winsizeFile, 'utf8') : '');
    if (m) Object.assign(req, { consoleSize: { rows: Number(m[1]), columns: Number(m[2]) } });
  }
  // Without stdin what the client sends is dropped: the connection keeps being read, so that its close is seen.
  if (input && !e.OpenStdin) input.stream.resume();
  e.Running = true;
  const pending: Promise<void>[] = [];
  const code = await execEngine(c.paths, rec, {
    ...req, stdio: [e.OpenStdin && input ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    launch: (o) => {
      const s = spawnHelper(o);
      // docker exec -i: what the client sends is the process's stdin; its end of sending, EOF.
      const stdin = s.stdin;
      if (stdin && input) {
        stdin.on('error', () => { /* the process closed its stdin */ });
        if (input.head.length) stdin.write(input.head);
        input.stream.on('data', (d: Buffer) => stdin.write(d));
        input.stream.once('end', () => stdin.end());
        input.stream.resume();
      }
      const copy = (stream: NodeJS.ReadableStream | null, n: 1 | 2, wanted: boolean) => {
        if (!stream) return;
        pending.push(new Promise((resolve) => {
          stream.on('data', (d: Buffer) => { if (wanted) out.write(tty ? d : frame(n, d)); });
          stream.once('end', resolve);
          stream.once('close', resolve);
        }));
      };
      copy(s.stdout, 1, e.OpenStdout);
      copy(s.stderr, 2, e.OpenStderr);
      e.Pid = s.helperPid ?? 0;
      if (winsizeFile && s.helperPid) {
        e.winsize = { file: winsizeFile, monitorPid: s.helperPid };
        // The client's first resize may come before the monitor listens for SIGWINCH: ask it again.
        for (const ms of [200, 700]) setTimeout(() => { if (e.winsize && existsSync(winsizeFile)) signalMonitor(e.winsize.monitorPid); }, ms).unref();
      }
      return s;
    },
  }).finally(() => {
    e.Running = false;
    e.winsize = undefined;
    if (winsizeFile) rmSync(winsizeFile, { force: true });
  });
  // The output pipes end with the process: what is left in them goes out before the end.
  await Promise.race([Promise.all(pending), new Promise((r) => setTimeout(r, 1000).unref())]);
  e.ExitCode = code;
}

function signalMonitor(pid: number): void {
  try { process.kill(pid, 'SIGWINCH'); } catch { /* it ended meanwhile */ }
}

/** POST /exec/{id}/resize?h=&w= : the size of a running exec's TTY. */
export async function resizeExec(c: ApiContext): Promise<void> {
  const e = instances.get(c.params[0]!);
  if (!e) throw new ApiError(404, `No such exec instance: ${c.params[0]}`);
  const h = intParam(c.query, 'h');
  const w = intParam(c.query, 'w');
  if (!h || !w || h < 0 || w < 0 || h > 65535 || w > 65535) throw new ApiError(400, 'h and w (rows and columns, 1 to 65535) are required');
  if (!e.ProcessConfig.tty) throw new ApiError(400, `exec ${e.ID} has no TTY to resize`);
  if (!e.winsize) throw new ApiError(409, `exec ${e.ID} is not running`);
  writeFileSync(e.winsize.file, `${h} ${w}\n`);
  if (e.winsize.monitorPid) signalMonitor(e.winsize.monitorPid); // before the start, the file is the first size
  sendJson(c.res, 200, {});
}
