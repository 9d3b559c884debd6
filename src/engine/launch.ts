/**
 * Running a created container in this process: the runtime creates it (cgroup, namespaces, init
 * blocked on the exec fifo) with the helper as its monitor, starts it, and this process waits for
 * the helper's "exit" message. Then, before the runtime deletes the container, the cgroup's
 * counters are read into the outcome report. A foreground `berth run`, the TypeScript API and the
 * detached monitor (monitor.ts) all use this.
 */
import type { HelperOptions } from '../runtime/helper.js';
import { createContainer, type Created } from '../runtime/create.js';
import { deleteContainer, killContainer, openContainer, startContainer } from '../runtime/lifecycle.js';
import { parseSignal, signalName } from '../runtime/signals.js';
import { pidStartTime } from '../runtime/proc.js';
import { BerthError } from '../util/errors.js';
import { decodeWaitStatus, makeReport, readUsage, type Report, type Usage } from './report.js';
import { EngineStore, type EnginePaths, type EngineRecord } from './store.js';

/** How to launch. */
export interface LaunchOptions {
  /** The container's stdin, stdout and stderr. */
  stdio: HelperOptions['stdio'];
  /** Kill the container (SIGKILL, every process) after this long; the report says `timeout`. */
  timeoutMs?: number;
  /** Warnings (hooks, cleanup). */
  warn?: (msg: string) => void;
}

/** A started container. */
export interface Launched {
  record: EngineRecord;
  /** The container's init pid (on the host). */
  pid: number;
  /** The container's stdout/stderr when stdio asked for pipes. */
  stdout: NodeJS.ReadableStream | null;
  stderr: NodeJS.ReadableStream | null;
  stdin: NodeJS.WritableStream | null;
  /** Resolves with the outcome once the container has stopped and been cleaned up. */
  exited: Promise<Report>;
}

/** Docker's exit codes for a command that could not be run: 127 not found, 126 not executable. */
export function startFailureCode(msg: string): number {
  if (/not found|no such file/i.test(msg)) return 127;
  if (/permission denied|is a directory|exec format/i.test(msg)) return 126;
  return 125;
}

/** Start container `id` (created or exited) in this process. */
export async function launch(paths: EnginePaths, id: string, opts: LaunchOptions): Promise<Launched> {
  const store = new EngineStore(paths);
  const warn = opts.warn ?? (() => {});
  const held: { created?: Created } = {};
  const rec = await store.locked(id, async () => {
    const r = store.load(id);
    if (!r) throw new BerthError('ENOT_FOUND', `no such container: ${id}`);
    if (r.State.Running) throw new BerthError('EBAD_STATE', `container ${r.Name} is already running`);
    try {
      await createContainer(paths.runtimeRoot, id, { bundle: `${store.dir(id)}/bundle`, stdio: opts.stdio, monitor: true })
        .then((c) => { held.created = c; });
      await startContainer(paths.runtimeRoot, id, warn);
    } catch (err) {
      await deleteContainer(paths.runtimeRoot, id, true, warn).catch(() => undefined);
      const msg = (err as Error).message;
      r.State = { ...r.State, Status: r.State.Status === 'created' ? 'created' : 'exited', Running: false, Pid: 0, Error: msg, ExitCode: startFailureCode(msg) };
      store.save(r);
      throw new BerthError((err as BerthError).code ?? 'EHELPER', `failed to start container ${r.Name}: ${msg}`);
    }
    const now = new Date().toISOString();
    r.State = { ...r.State, Status: 'running', Running: true, Paused: false, OOMKilled: false, Pid: held.created!.record.pid ?? 0, ExitCode: 0, Error: '', StartedAt: now, FinishedAt: r.State.FinishedAt };
    r.Monitor = { pid: process.pid, startTime: pidStartTime(process.pid) };
    delete r.KilledBy;
    delete r.Outcome;
    store.save(r);
    return r;
  });
  const session = held.created!.session;
  const startedAt = new Date(rec.State.StartedAt);
  let timer: NodeJS.Timeout | undefined;
  if (opts.timeoutMs !== undefined) {
    timer = setTimeout(() => { void killEngineContainer(paths, id, 'SIGKILL', 'timeout', true).catch(() => undefined); }, opts.timeoutMs);
  }
  const exited = (async () => {
    let status: number | undefined;
    let execError = '';
    for (let msg = await session.next(); msg; msg = await session.next()) {
      const [kind, ...rest] = msg.map((b) => b.toString());
      if (kind === 'exit') status = Number(rest[0]);
      else if (kind === 'error') execError = rest.join(' ');
    }
    if (status === undefined) status = ((await session.exitCode()) & 0xff) << 8;
    if (timer) clearTimeout(timer);
    return finalize(paths, id, decodeWaitStatus(status), startedAt, execError, warn);
  })();
  return {
    record: rec, pid: rec.State.Pid, exited,
    stdout: session.child.stdout, stderr: session.child.stderr, stdin: session.child.stdin,
  };
}

/**
 * After the container's init exited: read the cgroup's counters, delete the runtime container,
 * record the outcome (or remove the container with --rm). Tolerates a record that `rm -f`
 * removed meanwhile: the runtime container is deleted all the same.
 */
export async function finalize(paths: EnginePaths, id: string, exit: { exitCode: number; signal?: number }, startedAt: Date,
  error: string, warn: (msg: string) => void): Promise<Report> {
  const store = new EngineStore(paths);
  let usage: Usage = { memory: {}, cpu: {}, pids: {}, oomKills: 0 };
  try {
    const opened = openContainer(paths.runtimeRoot, id);
    try { usage = readUsage(opened.cgroup); } finally { opened.release(); }
  } catch { /* already deleted by rm -f */ }
  await deleteContainer(paths.runtimeRoot, id, true, warn).catch(() => undefined);
  const rec = store.load(id);
  const report = makeReport({ exitCode: exit.exitCode, signal: exit.signal, usage, sent: rec?.KilledBy, startedAt, finishedAt: new Date() });
  if (!rec) return report;
  await store.locked(id, () => {
    const r = store.load(id);
    if (!r) return;
    r.State = { ...r.State, Status: 'exited', Running: false, Paused: false, Pid: 0, ExitCode: report.exitCode, OOMKilled: report.oomKills > 0, Error: error, FinishedAt: report.finishedAt };
    r.Outcome = report;
    delete r.Monitor;
    store.save(r);
    if (r.HostConfig.AutoRemove) store.remove(r);
  }).catch(() => undefined);
  return report;
}

/**
 * Send a signal to a running container's main process (with `all`, to every process in it),
 * recording who sent it so the outcome can tell a SIGKILL from `berth kill` apart from the OOM killer.
 */
export async function killEngineContainer(paths: EnginePaths, id: string, signal: string, by: string, all = false): Promise<void> {
  const store = new EngineStore(paths);
  const num = parseSignal(signal);
  await store.locked(id, async () => {
    const r = store.load(id);
    if (!r) throw new BerthError('ENOT_FOUND', `no such container: ${id}`);
    if (!r.State.Running) throw new BerthError('EBAD_STATE', `cannot kill container ${r.Name}: container ${r.Id.slice(0, 12)} is not running`);
    r.KilledBy = { signal: signalName(num), by, at: new Date().toISOString() };
    store.save(r);
    await killContainer(paths.runtimeRoot, id, String(num), all);
  });
}
