/**
 * The exec fifo: how `start` lets a created container's init exec its process, and learns that it
 * did (the spec runs poststart hooks only after the user's process was executed).
 */
import { closeSync, constants, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { BerthError, errnoCode } from '../util/errors.js';
import type { ContainerRecord } from './store.js';

/**
 * Let the init of a created container go on. It waits in a read(2) of the exec fifo, which it
 * holds open for reading and writing (native/PROTOCOL.md, `exec-fifo`), so one byte written
 * here releases it; it keeps the fifo open through its startContainer hooks until its execve
 * closes it. Opens are non-blocking: with no reader left (the init died) an open for writing
 * fails with ENXIO at once.
 *
 * So once no reader is left, the user's process runs (the spec runs poststart hooks only then),
 * or the init died: the byte still being in the fifo (it outlives its readers while this process
 * holds a writer) means it died without reading it. A write can also land just before a dying
 * init's fds are closed; this tells that case apart too.
 */
export async function releaseFifo(path: string, record: ContainerRecord): Promise<void> {
  const exited = () => new BerthError('EBAD_STATE', `cannot start container ${record.id}: its init process exited`);
  const writer = openFifo(path, constants.O_WRONLY);
  if (writer === undefined) throw exited();
  try {
    const started = Date.now();
    writeSync(writer, '0');
    // The init runs its startContainer hooks before it execs: each may take its timeout (one
    // without gets two minutes here; the container goes on regardless, start just stops waiting).
    const hooks = record.spec.hooks?.startContainer ?? [];
    const deadline = Date.now() + 10_000 + hooks.reduce((ms, h) => ms + (h.timeout ?? 120) * 1000, 0);
    for (;;) {
      const probe = openFifo(path, constants.O_WRONLY);
      if (probe === undefined) break;
      closeSync(probe);
      if (Date.now() > deadline) throw new BerthError('EBAD_STATE', `container ${record.id} did not exec its process within ${Math.round((deadline - started) / 1000)}s`);
      await new Promise((res) => setTimeout(res, 1));
    }
    const reader = openFifo(path, constants.O_RDONLY)!;
    let unread = 0;
    try {
      unread = readSync(reader, Buffer.alloc(1));
    } catch (err) {
      if (errnoCode(err) !== 'EAGAIN') throw err;
    } finally {
      closeSync(reader);
    }
    if (unread) throw exited();
  } finally {
    closeSync(writer);
  }
  unlinkSync(path);
}

/** Open the exec fifo without blocking; undefined when opening for writing finds no reader (ENXIO). */
function openFifo(path: string, mode: number): number | undefined {
  try {
    return openSync(path, mode | constants.O_NONBLOCK);
  } catch (err) {
    if (errnoCode(err) === 'ENXIO') return undefined;
    throw err;
  }
}
