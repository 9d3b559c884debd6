/**
 * Running a created container: the runtime creates it (cgroup, namespaces, init blocked on the
 * exec fifo) with the helper as its parent and monitor, and starts it. In the foreground (`berth
 * run`, the TypeScript API) this process waits for the helper's "exit" message; a detached
 * container's helper writes an exit file instead (monitor.ts, reap.ts). Either way, before the
 * runtime deletes the container, the cgroup's counters are read into the outcome report.
 */
import type { HelperLauncher, HelperOptions } from '../native/helper-session.js';
import { createContainer, type Created } from '../runtime/create.js';
import { deleteContainer, killContainer } from '../runtime/lifecycle.js';
import type { Op } from '../runtime/plan.js';
import { parseSignal, signalName } from '../runtime/signals.js';
import { pidStartTime } from '../util/proc.js';
import { rmSync } from 'node:fs';
import { cleanupCommand, prepareStdinFifo, winsizePath } from './monitor-files.js';
import { berthCode, BerthError } from '../util/errors.js';
import { helperErrorOf } from '../native/helper-error.js';
import { decodeWaitStatus, exitStatus, type WaitStatus } from '../util/wait-status.js';
import { appendEvent } from './events.js';
import { clearAddresses, connectAtStart, disconnectAtStop } from './networking.js';
import { containerHostname } from './spec.js';
import { hostname as osHostname } from 'node:os';
import { makeReport, readUsage, type Report, type Usage } from './report.js';
import { EngineStore, type EnginePaths, type EngineRecord } from './store.js';

/** How to launch. */
export interface LaunchOptions {
  /** The container's stdin, stdout and stderr. */
  stdio: HelperOptions['stdio'];
  /** Kill the container (SIGKILL, every process) after this long; the report says `timeout`. */
  timeoutMs?: number;
  /** Warnings (hooks, cleanup). */
  warn?: (msg: string) => void;
  /** The caller's pid: a relative --cgroup-parent goes below its cgroups (default: this process's). */
  cgroupOf?: number;
  /**
   * How to get the helper (default: spawn it). In the warm server the berth client becomes the
   * helper (src/server/engine-worker.ts): the container's stdio is then the client's, not `stdio`.
   */
  launcher?: HelperLauncher;
  /**
   * Record the output in the container's json-file log too (default true, as Docker does for
   * every container). runContainer says false: its caller takes the output, and the container
   * is removed at its end anyway.
   */
  log?: boolean;
  /**
   * With a terminal on this process's stdin: the detach sequence (detach-keys.ts). Reading it
   * leaves the container running under its helper, which becomes its detached monitor
   * (`detached` resolves; `exited` then never does). Not over a berth client (the helper is the
   * caller's own process there, which cannot outlive the caller).
   */
  detachKeys?: Buffer;
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
  /** Resolves when the user detached (detach keys): the container goes on in the background. */
  detached: Promise<void>;
}

/**
 * Docker's exit code for a container that could not start: 127 when the command (or its
 * directory) does not exist, 126 when it cannot be executed, 125 for anything else. Decided by
 * the helper's errno (HelperError), never by the text.
 */
export function startFailureCode(err: unknown): number {
  const e = helperErrorOf(err);
  if (!e) return 125;
  if (e.errnoName === 'ENOENT' || e.errnoName === 'ENOTDIR') return 127;
  if (e.errnoName === 'EACCES' || e.errnoName === 'EISDIR' || e.errnoName === 'ENOEXEC') return 126;
  return 125;
}

/** What `startRuntime` needs beyond the id. */
export interface StartRuntimeOptions {
  stdio: HelperOptions['stdio'];
  /** Parent ops of the detached monitor (see native/monitor.c). */
  parentOps?: Op[];
  /** Who watches the container: this process (foreground) or the helper (detached). */
  monitor: 'node' | 'helper';
  warn: (msg: string) => void;
  /** See LaunchOptions.launcher. */
  launcher?: HelperLauncher;
  /** Start only if the record (under the lock) passes; otherwise fail with code ECANCELLED. */
  onlyIf?: (r: EngineRecord) => boolean;
  /** See LaunchOptions.cgroupOf. */
  cgroupOf?: number;
}

/**
 * Under the container's lock: create and start the runtime container, record it running and
 * who watches it, emit `start`. A failure deletes whatever the runtime made and records the error
 * (Docker's 127/126 exit codes for a missing or non-executable command).
 */
export async function startRuntime(paths: EnginePaths, id: string, opts: StartRuntimeOptions): Promise<{ rec: EngineRecord; created: Created }> {
  const store = new EngineStore(paths);
  const held: { created?: Created } = {};
  const rec = await store.locked(id, async () => {
    const r = store.load(id);
    if (!r) throw new BerthError('ENOT_FOUND', `no such container: ${id}`);
    if (r.State.Running) throw new BerthError('EBAD_STATE', `container ${r.Name} is already running`);
    if (opts.onlyIf && !opts.onlyIf(r)) throw new BerthError('ECANCELLED', `the start of container ${r.Name} was cancelled`);
    try {
      // Bridge networks first: the runtime joins the namespace the backend wired up.
      await connectAtStart(paths, r, hostnameOf(r), opts.warn);
      // Created and started in one step (no exec fifo): nothing can happen in between here.
      held.created = await createContainer(paths.runtimeRoot, id, { bundle: `${store.dir(id)}/bundle`, stdio: opts.stdio, monitor: true,
        parentOps: opts.parentOps, launch: opts.launcher, start: true, warn: opts.warn, cgroupOf: opts.cgroupOf });
    } catch (err) {
      held.created?.session.kill();
      await deleteContainer(paths.runtimeRoot, id, true, opts.warn).catch(() => undefined);
      await disconnectAtStop(paths, id, opts.warn).catch((e: Error) => opts.warn(e.message));
      clearAddresses(r);
      const msg = (err as Error).message;
      r.State = { ...r.State, Status: r.State.Status === 'created' ? 'created' : 'exited', Running: false, Restarting: false, Pid: 0, Error: msg, ExitCode: startFailureCode(err) };
      store.save(r);
      throw new BerthError(berthCode(err) ?? 'EHELPER', `failed to start container ${r.Name}: ${msg}`, { cause: err });
    }
    const now = new Date().toISOString();
    r.State = { ...r.State, Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Pid: held.created!.record.pid ?? 0, ExitCode: 0, Error: '', StartedAt: now, FinishedAt: r.State.FinishedAt };
    const monitorPid = opts.monitor === 'node' ? process.pid : held.created!.session.helperPid!;
    r.Monitor = { pid: monitorPid, startTime: pidStartTime(monitorPid), kind: opts.monitor };
    delete r.KilledBy;
    delete r.Outcome;
    delete r.RestartWaiter;
    delete r.ManuallyStopped;
    store.save(r);
    appendEvent(paths, r, 'start');
    return r;
  });
  return { rec, created: held.created! };
}

/** The hostname the container's /etc/hostname and /etc/hosts name (spec.ts decides it). */
function hostnameOf(r: EngineRecord): string {
  return containerHostname(r.Config, r.HostConfig, { id: r.Id, hostHostname: osHostname() });
}

/** Start container `id` (created or exited) in this process, which waits for it. */
export async function launch(paths: EnginePaths, id: string, opts: LaunchOptions): Promise<Launched> {
  const warn = opts.warn ?? (() => {});
  // The helper tees the container's output into the json-file log, as for a detached container,
  // so `berth logs` works after a foreground run (native/monitor.c, `log-file` without `exit-file`).
  const store = new EngineStore(paths);
  const parentOps: Op[] = opts.log === false ? [] : [{ op: 'log-file', path: store.logPath(id) }];
  if (opts.detachKeys?.length) {
    // What the helper needs to become the detached monitor (native/monitor.c, `detach-keys`).
    const stdinFifo = store.load(id)?.Config.OpenStdin ? prepareStdinFifo(store.stdinPath(id)) : '';
    rmSync(store.exitPath(id), { force: true });
    parentOps.push({ op: 'detach-keys', keys: opts.detachKeys, exitFile: store.exitPath(id), stdinFifo }, { op: 'exit-exec', args: cleanupCommand(paths, id) },
      { op: 'winsize-file', path: winsizePath(store, id) });
  }
  const { rec, created } = await startRuntime(paths, id, { stdio: opts.stdio, monitor: 'node', warn, parentOps, launcher: opts.launcher, cgroupOf: opts.cgroupOf });
  const session = created.session;
  const startedAt = new Date(rec.State.StartedAt);
  let timer: NodeJS.Timeout | undefined;
  if (opts.timeoutMs !== undefined) {
    timer = setTimeout(() => { void killEngineContainer(paths, id, 'SIGKILL', 'timeout', true).catch(() => undefined); }, opts.timeoutMs);
  }
  let onDetach = () => {};
  const detached = new Promise<void>((resolve) => { onDetach = resolve; });
  const exited = (async () => {
    let status: number | undefined;
    let execError = '';
    for (let msg = await session.next(); msg; msg = await session.next()) {
      const [kind, ...rest] = msg.map((b) => b.toString());
      if (kind === 'error') execError = rest.join(' ');
      // The init's exit is the last word: a helper that is a berth client goes on to relay this
      // process's output after it (front mode), so the stream does not end there.
      if (kind === 'exit') {
        status = Number(rest[0]);
        break;
      }
      const helperPid = session.helperPid;
      if (kind === 'detached' && helperPid !== undefined) {
        if (timer) clearTimeout(timer);
        await handOver(paths, id, helperPid);
        session.detach();
        onDetach();
        return new Promise<Report>(() => {}); // its helper and its cleanup record the end now
      }
    }
    if (status === undefined) status = exitStatus(await session.exitCode());
    if (timer) clearTimeout(timer);
    return finalize(paths, id, decodeWaitStatus(status), startedAt, execError, warn);
  })();
  return {
    record: rec, pid: rec.State.Pid, exited, detached,
    stdout: session.stdout, stderr: session.stderr, stdin: session.stdin,
  };
}

/** After a detach: the helper (pid) is the container's monitor now, as for `run -d`. */
async function handOver(paths: EnginePaths, id: string, pid: number): Promise<void> {
  const store = new EngineStore(paths);
  await store.locked(id, () => {
    const r = store.load(id);
    if (!r) return;
    r.Monitor = { pid, startTime: pidStartTime(pid), kind: 'helper' };
    store.save(r);
  }).catch(() => undefined);
}

/**
 * After the container's init exited: read the cgroup's counters, then delete the runtime
 * container (its cgroup with them), and make the report. Call it holding no engine lock.
 */
export async function collectOutcome(paths: EnginePaths, id: string, exit: WaitStatus, startedAt: Date,
  finishedAt: Date, sent: EngineRecord['KilledBy'], warn: (msg: string) => void): Promise<Report> {
  let usage: Usage = { memory: {}, cpu: {}, pids: {}, oomKills: 0 };
  // Already deleted (by rm -f): no counters, nothing to delete.
  await deleteContainer(paths.runtimeRoot, id, true, warn, (c) => {
    try { usage = readUsage(c.cgroup); } catch { /* no counters: the report says less */ }
  }).catch(() => undefined);
  await disconnectAtStop(paths, id, warn).catch((err: Error) => warn(err.message));
  return makeReport({ exitCode: exit.exitCode, signal: exit.signal, usage, sent, startedAt, finishedAt });
}

/** Record the outcome in `r` (the caller holds the lock and saves): State, Outcome, events. */
export function applyOutcome(paths: EnginePaths, r: EngineRecord, report: Report, error: string): void {
  r.State = { ...r.State, Status: 'exited', Running: false, Paused: false, Restarting: false, Pid: 0, ExitCode: report.exitCode, OOMKilled: report.oomKills > 0, Error: error, FinishedAt: report.finishedAt };
  r.Outcome = report;
  delete r.Monitor;
  clearAddresses(r);
  if (report.oomKills > 0) appendEvent(paths, r, 'oom');
  appendEvent(paths, r, 'die', { exitCode: String(report.exitCode), ...(report.signal ? { signal: report.signal } : {}) });
}

/**
 * The foreground end: collect the outcome, record it (or remove the container with --rm).
 * Tolerates a record that `rm -f` removed meanwhile: the runtime container is deleted all the same.
 */
export async function finalize(paths: EnginePaths, id: string, exit: WaitStatus, startedAt: Date,
  error: string, warn: (msg: string) => void, finishedAt = new Date()): Promise<Report> {
  const store = new EngineStore(paths);
  const report = await collectOutcome(paths, id, exit, startedAt, finishedAt, store.load(id)?.KilledBy, warn);
  await store.locked(id, () => {
    const r = store.load(id);
    if (!r) return;
    applyOutcome(paths, r, report, error);
    if (r.HostConfig.AutoRemove) {
      store.remove(r);
      appendEvent(paths, r, 'destroy');
    } else {
      store.save(r);
    }
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
    // Docker's rule: a container the user stopped or killed is not restarted by its policy.
    if (by !== 'timeout') r.ManuallyStopped = true;
    store.save(r);
    // A paused container cannot act on a signal until it is thawed (SIGKILL works regardless).
    await killContainer(paths.runtimeRoot, id, String(num), all);
    appendEvent(paths, r, 'kill', { signal: String(num) });
  });
}
