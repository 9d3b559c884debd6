/**
 * The end of a detached container. Its monitor (the native helper) writes `exit.json` when the
 * init exits and then execs `berth container-cleanup ID`; that command — or any berth command that
 * finds the exit file first (ps, inspect, wait, rm …) — "reaps" the container: it reads the OOM
 * and usage counters from the cgroup, deletes the runtime container (which removes the cgroup),
 * records the outcome, and applies --rm or the restart policy. Everything happens under the
 * container's lock and the exit file is removed in the same critical section, so exactly one
 * process reaps each run.
 */
import { readFileSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { isSameProcess } from '../runtime/proc.js';
import { appendEvent } from './events.js';
import { applyOutcome, collectOutcome } from './launch.js';
import { startDetached } from './monitor.js';
import { decodeWaitStatus, type Report } from './report.js';
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
 */
export async function reapExited(paths: EnginePaths, id: string, warn: (msg: string) => void = () => {}): Promise<EngineRecord | undefined> {
  const store = new EngineStore(paths);
  const exitPath = store.exitPath(id);
  if (!readExitFile(exitPath)) return store.load(id);
  let restart = false;
  let report: Report | undefined;
  await store.locked(id, async () => {
    const r = store.load(id);
    const ex = readExitFile(exitPath);
    if (!r || !ex) return; // reaped meanwhile by another command
    if (!r.State.Running || r.Monitor?.kind !== 'helper') {
      rmSync(exitPath, { force: true }); // a start that failed: the starter cleaned up
      return;
    }
    report = await collectOutcome(paths, id, decodeWaitStatus(ex.status), new Date(r.State.StartedAt), new Date(ex.time), r.KilledBy, warn);
    applyOutcome(paths, r, report, '');
    rmSync(exitPath, { force: true });
    restart = shouldRestart(r, report.exitCode);
    if (restart) {
      r.RestartCount += 1;
      r.State = { ...r.State, Status: 'restarting', Restarting: true };
      store.save(r);
    } else if (r.HostConfig.AutoRemove) {
      store.remove(r);
      appendEvent(paths, r, 'destroy');
    } else {
      store.save(r);
    }
  });
  if (restart && report) {
    // Docker's back-off: 100 ms, doubled at each restart up to a minute, reset once a run lasted
    // 10 s, so a command that fails at once does not spin. `stop` or `rm` meanwhile cancel it.
    await sleep(restartDelay(report.durationMs, store.load(id)?.RestartCount ?? 1));
    const cancelled = await store.locked(id, () => {
      const r = store.load(id);
      if (!r || r.State.Status !== 'restarting' || r.ManuallyStopped) {
        if (r?.State.Restarting) { r.State = { ...r.State, Status: 'exited', Restarting: false }; store.save(r); }
        return true;
      }
      return false;
    }).catch(() => true);
    if (!cancelled) {
      try {
        await startDetached(paths, id, warn);
      } catch (err) {
        warn(`cannot restart container ${id.slice(0, 12)}: ${(err as Error).message}`);
      }
    }
  }
  return store.load(id);
}

/** The wait before restart number `count` after a run of `ranMs` (Docker's restart manager). */
export function restartDelay(ranMs: number, count: number): number {
  if (ranMs >= 10_000) return 100;
  return Math.min(100 * 2 ** Math.max(0, count - 1), 60_000);
}

/**
 * Bring a record up to date: reap an ended detached run; a record whose watcher died without
 * leaving an exit file (a killed foreground `run`, a killed monitor) is finished with what the
 * cgroup still knows and exit code 255.
 */
export async function refreshRecord(paths: EnginePaths, rec: EngineRecord): Promise<EngineRecord | undefined> {
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
