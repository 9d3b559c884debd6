/**
 * `restart`: stop a running container (its stop signal, then SIGKILL after the timeout), then
 * start it again in the background; a stopped one is just started. Docker's `restart` event
 * follows the start. Used by `berth restart` and the Engine API.
 */
import { findContainer, stopEngineContainer } from './containers.js';
import { appendEvent } from './events.js';
import { startDetached } from './monitor.js';
import type { EnginePaths } from './store.js';

/** Restart container `ref`; `timeoutSec` as `stop -t` (the container's own or 10 s when absent). */
export async function restartEngineContainer(paths: EnginePaths, ref: string, timeoutSec: number | undefined, warn: (msg: string) => void, cgroupOf?: number,
  gone?: AbortSignal): Promise<void> {
  const rec = await findContainer(paths, ref);
  if (rec.State.Running) await stopEngineContainer(paths, rec.Id, timeoutSec, gone);
  await startDetached(paths, rec.Id, warn, undefined, cgroupOf);
  appendEvent(paths, rec, 'restart');
}
