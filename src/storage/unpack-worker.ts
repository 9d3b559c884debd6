/**
 * Unpacking a layer blob on a worker thread, so that two layers unpack on two cores.
 *
 * Unpacking is mostly kernel time spent creating files (open with O_CREAT costs 0.2–0.3 ms on
 * ext4 here), and unpack.ts makes those calls synchronously, because a round trip through the
 * thread pool per call costs more than it saves. Layers unpacked at the same time in one thread
 * therefore take turns; the kernel work of different layers (different directories, so
 * different inode locks) can run in parallel. The first layer of a process unpacks on the main
 * thread; any layer that starts while another is unpacking goes to a worker, which costs a new
 * V8 isolate (tens of milliseconds) on the otherwise idle core. One layer: no worker at all.
 *
 * The worker runs the same `openLayerTar` + `unpackTar` as the main thread and posts back the
 * result, or the error's code and message (a BerthError stays a BerthError with its code).
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { openLayerTar } from '../archive/compress.js';
import { BerthError, type ErrorCode } from '../util/errors.js';
import { unpackTar, type UnpackOptions, type UnpackResult } from './unpack.js';

interface Job { blobPath: string; dir: string; opts: UnpackOptions }
type Reply = { ok: UnpackResult } | { berth: { code: ErrorCode; message: string } } | { error: string };

let active = 0;

async function unpackHere(job: Job): Promise<UnpackResult> {
  const { stream } = await openLayerTar(job.blobPath, job.opts.what ?? 'layer');
  return unpackTar(stream, job.dir, job.opts);
}

function unpackInWorker(job: Job): Promise<UnpackResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL(import.meta.url), { workerData: job });
    let settled = false;
    w.once('message', (r: Reply) => {
      settled = true;
      if ('ok' in r) resolve(r.ok);
      else if ('berth' in r) reject(new BerthError(r.berth.code, r.berth.message));
      else reject(new Error(r.error));
    });
    w.once('error', (err) => { settled = true; reject(err); });
    w.once('exit', (code) => { if (!settled) reject(new Error(`layer unpack worker exited with code ${code}`)); });
  });
}

/**
 * Unpacks the layer blob file `blobPath` (any compression) into the existing directory `dir`,
 * on a worker thread when another unpack is already running in this process.
 */
export async function unpackLayerFile(blobPath: string, dir: string, opts: UnpackOptions): Promise<UnpackResult> {
  const job: Job = { blobPath, dir, opts };
  const here = active === 0;
  active += 1;
  try {
    return await (here ? unpackHere(job) : unpackInWorker(job));
  } finally {
    active -= 1;
  }
}

/** The worker side: unpack, post the outcome. */
if (!isMainThread && parentPort && (workerData as Partial<Job> | undefined)?.blobPath) {
  const port = parentPort;
  unpackHere(workerData as Job).then(
    (ok) => port.postMessage({ ok } satisfies Reply),
    (err: unknown) => port.postMessage((err instanceof BerthError
      ? { berth: { code: err.code, message: err.message } }
      : { error: (err as Error)?.stack ?? String(err) }) satisfies Reply),
  );
}
