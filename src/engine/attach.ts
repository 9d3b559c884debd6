/**
 * The engine's side of `berth attach` to a detached container: writing to its stdin fifo (read by
 * its monitor, native/attach.c) and telling the monitor the attached terminal's size.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeFileAtomic } from '../util/atomic.js';
import { isSameProcess } from '../util/proc.js';
import { winsizePath } from './monitor-files.js';
import { EngineStore, type EnginePaths, type EngineRecord } from './store.js';

/** Ordered writes to a container's stdin fifo; `end` closes it (the monitor then sees the hangup). */
export interface StdinWriter {
  write(data: Buffer): void;
  end(): Promise<void>;
}

/**
 * Open the stdin fifo of container `id` for writing. It is opened O_NONBLOCK so that a monitor
 * that is gone (no reader: ENXIO) cannot hang the attach in open(2); a full fifo (EAGAIN) is
 * retried. Undefined when no monitor reads it within `waitMs` (it reopens the fifo after each
 * attached client, so a short ENXIO window is expected).
 */
export async function openStdinWriter(paths: EnginePaths, id: string, waitMs = 2000): Promise<StdinWriter | undefined> {
  const path = new EngineStore(paths).stdinPath(id);
  let fh: FileHandle | undefined;
  for (const deadline = Date.now() + waitMs; !fh;) {
    try {
      fh = await open(path, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENXIO' || Date.now() > deadline) return undefined;
      await sleep(20);
    }
  }
  const file = fh;
  let broken = false;
  let queue: Promise<void> = Promise.resolve();
  const writeAll = async (data: Buffer) => {
    for (let off = 0; off < data.length && !broken;) {
      try {
        off += (await file.write(data, off)).bytesWritten;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') await sleep(10);
        else broken = true; // EPIPE: the container and its monitor are gone
      }
    }
  };
  return {
    write(data) { queue = queue.then(() => writeAll(data)); },
    async end() { await queue; await file.close().catch(() => undefined); },
  };
}

/**
 * Resize a detached container's pty to `rows` x `cols`: write the size file its monitor reads on
 * SIGWINCH (`winsize-file`, native/attach.c), then signal the monitor.
 */
export async function resizeDetached(paths: EnginePaths, rec: EngineRecord, rows: number, cols: number): Promise<void> {
  const mon = rec.Monitor;
  if (!mon || mon.kind !== 'helper' || !rows || !cols || !isSameProcess(mon.pid, mon.startTime)) return;
  const path = winsizePath(new EngineStore(paths), rec.Id);
  await writeFileAtomic(path, `${rows} ${cols}\n`, 0o666, { durable: false });
  try { process.kill(mon.pid, 'SIGWINCH'); } catch { /* exited meanwhile */ }
}
