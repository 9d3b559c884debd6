/**
 * `run` as the engine does it, for every front end (the `berth run` command, foreground and
 * detached, and the TypeScript API's runContainer): create the container, start it, and when the
 * start fails remove a container that was to be removed at its end anyway (AutoRemove, `--rm`)
 * — Docker leaves no `--rm` container behind after a failed start — and tell the exit code a
 * command line gives such a failure (Docker's 125/126/127, startFailureCode).
 */
import type { EngineCaller } from './caller.js';
import type { CreateRequest } from './config.js';
import { createEngineContainer } from './create.js';
import type { PullOutput } from './image-rootfs.js';
import { startFailureCode } from './launch.js';
import { EngineStore, type EnginePaths, type EngineRecord } from './store.js';

/** What createAndStart passes to createEngineContainer. */
export interface CreateOptions {
  warn?: (msg: string) => void;
  pullOutput?: PullOutput;
  caller?: EngineCaller;
}

/** A container created and started (`started`: what the start returned), or created and failed to start. */
export type CreatedAndStarted<T> =
  | { rec: EngineRecord; started: T; failed?: undefined }
  | { rec: EngineRecord; started?: undefined; failed: { error: unknown; exitCode: number } };

/**
 * Create a container from `req`, then start it with `start` (launch for the foreground,
 * startDetached for the background). A failed create throws (it leaves nothing behind,
 * create.ts); a failed start is returned as `failed`, with the error and Docker's exit code for
 * it, after removing the container when its HostConfig says AutoRemove.
 * @example
 *   const r = await createAndStart(paths, req, (rec) => startDetached(paths, rec.Id));
 *   if (r.failed) throw r.failed.error;
 */
export async function createAndStart<T>(paths: EnginePaths, req: CreateRequest, start: (rec: EngineRecord) => Promise<T>,
  opts: CreateOptions = {}): Promise<CreatedAndStarted<T>> {
  const rec = await createEngineContainer(paths, req, opts.warn, opts.pullOutput, opts.caller);
  try {
    return { rec, started: await start(rec) };
  } catch (error) {
    if (rec.HostConfig.AutoRemove) new EngineStore(paths).remove(rec);
    return { rec, failed: { error, exitCode: startFailureCode(error) } };
  }
}
