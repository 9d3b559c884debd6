/**
 * The end of a detached container. Its monitor (the native helper) writes `exit.json` when the
 * init exits and then execs `berth container-cleanup ID`; that command — or any berth command that
 * finds the exit file first (ps, inspect, wait, rm …) — "reaps" the container: it reads the OOM
 * and usage counters from the cgroup, deletes the runtime container (which removes the cgroup),
 * records the outcome, and applies --rm or the restart policy (the back-off is slept by a native
 * waiter, see reapExited). Everything happens under the
 * container's lock and the exit file is removed in the same critical section, so exactly one
 * process reaps each run.
 */
import { readFileSync, rmSync } from 'node:fs';
import { startDelayExec } from '../native/one-shot.js';
import { isSameProcess, pidStartTime } from '../util/proc.js';
import { BerthError } from '../util/errors.js';
import { appendEvent } from './events.js';
import { applyOutcome, collectOutcome } from './launch.js';
import { startDetached } from './monitor.js';
import { cleanupCommand, SYSTEM_PATH } from './monitor-files.js';
import { decodeWaitStatus } from '../util/wait-status.js';
import { EngineStore, type EnginePaths, type EngineRecord } from './store.js';

/** The exit file's contents. */
interface ExitFile {
  status: number;
  time: string;
}

function readExitFile(path: string): ExitFile | undefined {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as ExitFile;
    return typeof v.status === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Docker's restart rules: `always` and `unless-stopped` restart unless the user stopped the
 * container; `on-failure[:N]` restarts a non-zero exit, at most N times when N is given.
 */
export function shouldRestart(r: Pick<EngineRecord, 'HostConfig' | 'RestartCount' | 'ManuallyStopped'>, exitCode: number): boolean {
  const { Name, MaximumRetryCount } = r.HostConfig.RestartPolicy;
  if (r.ManuallyStopped) return false;
  if (Name === 'always' || Name === 'unless-stopped') return true;
  if (Name === 'on-failure') return exitCode !== 0 && (MaximumRetryCount <= 0 || r.RestartCount < MaximumRetryCount);
  return false;
}

/**
 * Reap container `id` if its detached run has ended; returns the record as it is afterwards
 * (undefined when --rm removed it). A no-op when there is nothing to reap.
 *
 * A restart does not wait here: the back-off is slept by a `berth-helper delay-exec` started in
 * the same critical section that records "restarting" (its pid in RestartWaiter), which then
 * execs `berth container-cleanup ID restart` (restartNow). So no Node process stays resident
 * while a crash-looping container waits, and `stop`/`rm -f` cancel the loop by killing it.
 */
export async function reapExited(paths: EnginePaths, id: string, warn: (msg: string) => void = () => {}): Promise<EngineRecord | undefined> {
  const store = new EngineStore(paths);
  const exitPath = store.exitPath(id);
  if (!readExitFile(exitPath)) return store.load(id);
  await store.locked(id, async () => {
    const r = store.load(id);
    const ex = readExitFile(exitPath);
    if (!r || !ex) return; // reaped meanwhile by another command
    if (!r.State.Running || r.Monitor?.kind !== 'helper') {
      rmSync(exitPath, { force: true }); // a start that failed: the starter cleaned up
      return;
    }
    const report = await collectOutcome(paths, id, decodeWaitStatus(ex.status), new Date(r.State.StartedAt), new Date(ex.time), r.KilledBy, warn);
    applyOutcome(paths, r, report, '');
    rmSync(exitPath, { force: true });
    if (shouldRestart(r, report.exitCode)) {
      const backoff = restartDelay(report.durationMs, r.RestartBackoffMs);
      try {
        const pid = spawnWaiter(paths, id, backoff);
        r.RestartCount += 1;
        r.RestartBackoffMs = backoff;
        r.RestartWaiter = { pid, startTime: pidStartTime(pid) };
        r.State = { ...r.State, Status: 'restarting', Restarting: true };
      } catch (err) {
        warn(`cannot restart container ${id.slice(0, 12)}: ${(err as Error).message}`);
      }
      store.save(r);
    } else if (r.HostConfig.AutoRemove) {
      store.remove(r);
      appendEvent(paths, r, 'destroy');
    } else {
      store.save(r);
    }
  });
  return store.load(id);
}

/** Start the sleeping restarter: its own session, no stdio, not waited for. */
function spawnWaiter(paths: EnginePaths, id: string, delayMs: number): number {
  return startDelayExec(delayMs, [...cleanupCommand(paths, id), 'restart'], { PATH: SYSTEM_PATH });
}

/**
 * The end of a restart back-off (`berth container-cleanup ID restart`, exec'd by the waiter):
 * start the container again unless `stop` or `rm` cancelled the restart meanwhile (checked under
 * the same lock as the start).
 */
export async function restartNow(paths: EnginePaths, id: string, warn: (msg: string) => void = () => {}): Promise<void> {
  const pending = (r: EngineRecord) => r.State.Status === 'restarting' && !r.ManuallyStopped && r.RestartWaiter?.pid === process.pid;
  try {
    await startDetached(paths, id, warn, pending);
  } catch (err) {
    if ((err as BerthError).code === 'ECANCELLED') return;
    warn(`cannot restart container ${id.slice(0, 12)}: ${(err as Error).message}`);
    const store = new EngineStore(paths);
    await store.locked(id, () => {
      const r = store.load(id);
      if (!r || r.State.Status !== 'restarting') return;
      r.State = { ...r.State, Status: 'exited', Restarting: false };
      delete r.RestartWaiter;
      store.save(r);
    }).catch(() => undefined);
  }
}

/**
 * Cancel a pending restart of `r` (the caller holds the lock and saves): kill the sleeping
 * waiter and record the container exited, stopped by the user (Docker: a stopped container is
 * not restarted by its policy).
 */
export function cancelRestart(r: EngineRecord): void {
  const w = r.RestartWaiter;
  if (w && isSameProcess(w.pid, w.startTime)) {
    try { process.kill(w.pid, 'SIGKILL'); } catch { /* gone meanwhile */ }
  }
  delete r.RestartWaiter;
  r.ManuallyStopped = true;
  if (r.State.Status === 'restarting') r.State = { ...r.State, Status: 'exited', Restarting: false };
}

/**
 * Docker's restart back-off (its restart manager): 100 ms for the first restart and after a run
 * that lasted at least 10 s, otherwise twice the previous wait, at most a minute.
 */
export function restartDelay(ranMs: number, previousMs: number | undefined): number {
  if (ranMs >= 10_000 || !previousMs) return 100;
  return Math.min(previousMs * 2, 60_000);
}

/**
 * Bring a record up to date: reap an ended detached run; a record whose watcher died without
 * leaving an exit file (a killed foreground `run`, a killed monitor) is finished with what the
 * cgroup still knows and exit code 255.
 */
export async function refreshRecord(paths: EnginePaths, rec: EngineRecord): Promise<EngineRecord | undefined> {
  if (rec.State.Status === 'restarting' && rec.RestartWaiter && !isSameProcess(rec.RestartWaiter.pid, rec.RestartWaiter.startTime)) {
    return lostRestart(paths, rec);
  }
  if (!rec.State.Running) return rec;
  if (rec.Monitor?.kind === 'helper') {
    const after = await reapExited(paths, rec.Id);
    if (!after || !after.State.Running) return after;
    rec = after;
  }
  if (!rec.Monitor || isSameProcess(rec.Monitor.pid, rec.Monitor.startTime)) return rec;
  // The watcher is gone; a helper may have written its exit file just before dying.
  if (rec.Monitor.kind === 'helper' && readExitFile(new EngineStore(paths).exitPath(rec.Id))) return reapExited(paths, rec.Id);
  return lostTrack(paths, rec);
}

/** A restart whose waiter died (killed, a reboot): the container stays exited. */
async function lostRestart(paths: EnginePaths, rec: EngineRecord): Promise<EngineRecord | undefined> {
  const store = new EngineStore(paths);
  await store.locked(rec.Id, () => {
    const r = store.load(rec.Id);
    const w = r?.RestartWaiter;
    if (!r || r.State.Status !== 'restarting' || !w || isSameProcess(w.pid, w.startTime)) return;
    r.State = { ...r.State, Status: 'exited', Restarting: false };
    delete r.RestartWaiter;
    store.save(r);
  }).catch(() => undefined);
  return store.load(rec.Id);
}

async function lostTrack(paths: EnginePaths, rec: EngineRecord): Promise<EngineRecord | undefined> {
  const store = new EngineStore(paths);
  const report = await collectOutcome(paths, rec.Id, { exitCode: 255 }, new Date(rec.State.StartedAt), new Date(), rec.KilledBy, () => {});
  await store.locked(rec.Id, () => {
    const r = store.load(rec.Id);
    if (!r || !r.State.Running || r.Monitor?.pid !== rec.Monitor?.pid) return;
    applyOutcome(paths, r, report, `berth lost track of the container: the process watching it (pid ${rec.Monitor?.pid}) died`);
    store.save(r);
  }).catch(() => undefined);
  return store.load(rec.Id);
}
