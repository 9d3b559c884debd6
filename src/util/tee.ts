/**
 * A second reader of a stream that is being consumed anyway: `berth load` writes each layer of an
 * archive into the blob store and unpacks it in the same pass, instead of writing the blob and
 * reading it back. The writer `push`es each chunk; the reader iterates. A few chunks may wait in
 * between (so the blob's writes, on the thread pool, overlap the unpacking); beyond that `push`
 * waits for the reader. A reader that stops (an error, or it has read enough) never blocks the
 * writer: the rest is dropped.
 *
 * @example
 *   const tee = new Tee();
 *   const unpacked = unpackTar(tee, dir, opts);          // reads as chunks come
 *   for await (const c of source) { write(c); await tee.push(c); }
 *   tee.end();
 */

/** Chunks a pushed-to Tee holds before `push` waits for its reader. */
const AHEAD = 8;

/** One writer, one reader; see the module comment. */
export class Tee implements AsyncIterable<Buffer> {
  private readonly queue: Buffer[] = [];
  private ended = false;
  private error: Error | undefined;
  private stopped = false;
  private wakeReader: (() => void) | undefined;
  private wakeWriter: (() => void) | undefined;

  /** Hands `chunk` to the reader; resolves once there is room for the next. */
  async push(chunk: Buffer): Promise<void> {
    if (this.stopped || this.ended) return;
    this.queue.push(chunk);
    this.wake();
    while (this.queue.length >= AHEAD && !this.stopped) await new Promise<void>((r) => { this.wakeWriter = r; });
  }

  /** No more chunks; with `err`, the reader's next read fails with it. */
  end(err?: Error): void {
    this.ended = true;
    this.error = err;
    this.wake();
  }

  private wake(): void {
    const r = this.wakeReader;
    this.wakeReader = undefined;
    r?.();
  }

  private stop(): void {
    this.stopped = true;
    this.queue.length = 0;
    const w = this.wakeWriter;
    this.wakeWriter = undefined;
    w?.();
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return {
      next: async (): Promise<IteratorResult<Buffer>> => {
        for (;;) {
          const chunk = this.queue.shift();
          if (chunk) {
            if (this.queue.length < AHEAD) { const w = this.wakeWriter; this.wakeWriter = undefined; w?.(); }
            return { done: false, value: chunk };
          }
          if (this.error) throw this.error;
          if (this.ended || this.stopped) return { done: true, value: undefined };
          await new Promise<void>((r) => { this.wakeReader = r; });
        }
      },
      return: async (): Promise<IteratorResult<Buffer>> => {
        this.stop();
        return { done: true, value: undefined };
      },
    };
  }
}
