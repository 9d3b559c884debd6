/**
 * Operations on existing containers: bring a record up to date with reality (reap.ts), list,
 * wait, stop, remove (the Docker-shaped inspect document is inspect.ts's).
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pause } from '../util/pause.js';
import { deleteContainer, resumeContainer } from '../runtime/lifecycle.js';
import { disconnectAtStop } from './networking.js';
import { BerthError } from '../util/errors.js';
import { appendEvent } from './events.js';
import { sweepOrphans } from './image-rootfs.js';
import { killEngineContainer } from './launch.js';
import { cancelRestart, refreshRecord } from './reap.js';
export { inspectDocument } from './inspect.js';
import { EngineStore, type EnginePaths, type EngineRecord } from './store.js';

/** Bring one record up to date (see reap.ts); undefined when --rm removed it meanwhile. */
export async function refresh(paths: EnginePaths, rec: EngineRecord): Promise<EngineRecord | undefined> {
  return refreshRecord(paths, rec);
}

/** Find and refresh one container by id, id prefix or name. */
export async function findContainer(paths: EnginePaths, ref: string): Promise<EngineRecord> {
  const rec = new EngineStore(paths).find(ref);
  const now = await refresh(paths, rec);
  if (!now) throw new BerthError('ENOT_FOUND', `no such container: ${ref}`);
  return now;
}

/** Every container (with `all`), or only the running ones, newest first like `docker ps`. */
export async function listEngineContainers(paths: EnginePaths, all: boolean): Promise<EngineRecord[]> {
  const out: EngineRecord[] = [];
  for (const rec of new EngineStore(paths).all()) {
    const r = await refresh(paths, rec);
    if (r && (all || r.State.Running)) out.push(r);
  }
  return out.reverse();
}

/**
 * Wait until container `id` is not running (its outcome recorded), polling the record and the
 * detached monitor's exit file; undefined when it was removed (--rm). `timeoutMs` < 0: forever.
 * An aborted `signal` ends the wait as a timeout does (the record as it is).
 */
export async function waitNotRunning(paths: EnginePaths, id: string, timeoutMs = -1, signal?: AbortSignal): Promise<EngineRecord | undefined> {
  const store = new EngineStore(paths);
  const deadline = Date.now() + timeoutMs;
  for (let delay = 5; ; delay = Math.min(delay * 2, 50)) {
    const rec = store.load(id);
    if (!rec) return undefined;
    const r = await refresh(paths, rec);
    if (!r || (!r.State.Running && r.State.Status !== 'restarting')) return r;
    if ((timeoutMs >= 0 && Date.now() > deadline) || signal?.aborted) return r;
    await pause(delay, signal);
  }
}

/**
 * `stop`: the stop signal (--stop-signal, default SIGTERM) to the main process, then after the
 * timeout (-t, --stop-timeout, default 10 s; -1 waits forever) SIGKILL to every process. A stopped
 * container is not an error, as in Docker. Resolves with the record once the outcome is recorded.
 * `gone` (the caller went away) ends a wait without timeout, with the signal sent and no "stop"
 * event; a wait with a timeout runs to its end, the SIGKILL included.
 */
export async function stopEngineContainer(paths: EnginePaths, ref: string, timeoutSec?: number, gone?: AbortSignal): Promise<EngineRecord | undefined> {
  const rec = await findContainer(paths, ref);
  if (rec.State.Status === 'restarting') {
    // Waiting for its restart back-off: cancel the restart (the cleanup checks under the lock).
    const store = new EngineStore(paths);
    await store.locked(rec.Id, () => {
      const r = store.load(rec.Id);
      if (r && r.State.Status === 'restarting') {
        cancelRestart(r);
        store.save(r);
      }
    });
    return store.load(rec.Id);
  }
  if (!rec.State.Running) return rec;
  const signal = rec.Config.StopSignal || 'SIGTERM';
  const timeout = timeoutSec ?? rec.Config.StopTimeout ?? 10;
  await killEngineContainer(paths, rec.Id, signal, 'berth stop').catch(() => undefined);
  // A frozen process cannot act on the signal: thaw it (Docker stops paused containers too).
  if (rec.State.Paused) await resumeContainer(paths.runtimeRoot, rec.Id).catch(() => undefined);
  let after = await waitNotRunning(paths, rec.Id, timeout < 0 ? -1 : timeout * 1000, timeout < 0 ? gone : undefined);
  if (timeout < 0 && after?.State.Running) return after;
  if (after?.State.Running) {
    await killEngineContainer(paths, rec.Id, 'SIGKILL', 'berth stop', true).catch(() => undefined);
    after = await waitNotRunning(paths, rec.Id, 10_000);
  }
  appendEvent(paths, rec, 'stop');
  return after;
}

/**
 * `rm -f NAME` of a container whose create was killed before it wrote container.json: the name
 * is reserved and the directory made, but there is no record to find. Its directory goes (as
 * `sweepOrphans` judges: only once its creator is gone) and the name with it. True when the name
 * was such a one and is free now.
 */
async function removeHalfCreated(paths: EnginePaths, ref: string): Promise<boolean> {
  const store = new EngineStore(paths);
  const name = ref.replace(/^\//, '');
  const id = store.nameHolder(name);
  const dir = id ? store.dir(id) : undefined;
  if (!id || !dir || existsSync(join(dir, 'container.json'))) return false;
  // Killed between its mkdir and the marker's write (create.ts): a live creator writes the
  // marker right after the mkdir, so a directory still without one a moment later is an orphan.
  // (Should a creator that slow exist, its write then fails and its create cleans up.)
  if (existsSync(dir) && !existsSync(join(dir, 'creating'))) {
    await pause(100);
    if (!existsSync(join(dir, 'creating')) && !existsSync(join(dir, 'container.json'))) rmSync(dir, { recursive: true, force: true });
  }
  await sweepOrphans(paths);
  if (existsSync(dir)) return false; // its creator still runs
  store.releaseName(name, id);
  return true;
}

/** How long `rm -f` waits for a container's lock before it kills the runtime container under it. */
const FORCE_LOCK_WAIT_MS = 1000;

/**
 * `rm`: a running container needs `force`, which kills it (SIGKILL) and waits for its watcher to
 * record the end, then removes the runtime container (if still there), the directory and the name.
 */
export async function removeEngineContainer(paths: EnginePaths, ref: string, force: boolean, opts: { volumes?: boolean } = {}): Promise<EngineRecord> {
  const store = new EngineStore(paths);
  let rec: EngineRecord;
  try {
    rec = await findContainer(paths, ref);
  } catch (err) {
    if (!force || (err as BerthError).code !== 'ENOT_FOUND' || !(await removeHalfCreated(paths, ref))) throw err;
    return { Id: store.nameHolder(ref) ?? ref, Name: ref } as EngineRecord;
  }
  if (rec.State.Running) {
    if (!force) {
      throw new BerthError('EBAD_STATE', `cannot remove container "/${rec.Name}": container is running: stop the container before removing or force remove`);
    }
    await killEngineContainer(paths, rec.Id, 'SIGKILL', 'berth rm -f', true).catch(() => undefined);
    if (rec.State.Paused) await resumeContainer(paths.runtimeRoot, rec.Id).catch(() => undefined);
    rec = (await waitNotRunning(paths, rec.Id, 5000)) ?? rec;
  } else if (rec.State.Status === 'restarting' && !force) {
    throw new BerthError('EBAD_STATE', `cannot remove container "/${rec.Name}": container is restarting: stop the container before removing or force remove`);
  }
  const remove = async () => {
    // A restart policy waiting out its back-off: kill the waiter, or it would restart a removed container.
    const r = store.load(rec.Id);
    if (r?.RestartWaiter) cancelRestart(r);
    await deleteContainer(paths.runtimeRoot, rec.Id, true, () => {});
    // Its networks, if the end of its run did not release them yet (a reap still to come, a
    // watcher that died): rm must leave no lease behind, or `network rm` right after would fail.
    await disconnectAtStop(paths, rec.Id, () => {});
    store.remove(rec, opts);
    appendEvent(paths, rec, 'destroy');
  };
  const notFound = (err: unknown) => {
    if ((err as BerthError).code !== 'ENOT_FOUND') throw err;
  };
  try {
    await store.locked(rec.Id, remove, force ? FORCE_LOCK_WAIT_MS : undefined);
  } catch (err) {
    if (!force || (err as BerthError).code !== 'ELOCKED') {
      notFound(err);
      return rec;
    }
    // rm -f always wins (issue 10): the lock's holder is a start whose helper stalled. Removing
    // the runtime container under it (runtime delete --force kills without waiting for its own
    // lock) makes that start fail and release; then the record goes as usual.
    await deleteContainer(paths.runtimeRoot, rec.Id, true, () => {}).catch(() => undefined);
    await store.locked(rec.Id, remove).catch(notFound);
  }
  return rec;
}
