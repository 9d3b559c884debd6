/**
 * The file operations Node's fs lacks — mknod(2) and lsetxattr(2) — done by the native helper's
 * `fileops` mode (native/fileops.c, PROTOCOL.md "One-shot modes"): one helper process per
 * unpack, started when the first such operation is needed, answering one message per operation.
 * Every overlay whiteout is a mknod, so a process per call (as `mknod`/`setfattr` commands
 * were) cost milliseconds per whiteout; a round trip over the pipe costs tens of microseconds.
 *
 * Works on a worker thread too (storage/unpack-worker.ts): the process belongs to the thread that
 * started it and dies with it (PR_SET_PDEATHSIG), besides ending at EOF on `close()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { BerthError } from '../util/errors.js';
import { helperPath } from './helper-path.js';
import { encodeMessage, MessageDecoder, type Field } from './protocol.js';

interface Pending { what: string; resolve: () => void; reject: (err: Error) => void }

/** A lazily started `berth-helper fileops` process; `close()` it when the unpack is done. */
export class SysOps {
  private proc: ChildProcess | undefined;
  private readonly pending: Pending[] = [];
  private failure: Error | undefined;

  /** Creates a character or block device or a fifo at `path` (which must not exist), mode exact. */
  mknod(path: string, type: 'chardev' | 'blockdev' | 'fifo', mode: number, major = 0, minor = 0): Promise<void> {
    const t = type === 'chardev' ? 'c' : type === 'blockdev' ? 'b' : 'p';
    return this.op(['mknod', path, t, (mode & 0o7777).toString(8), String(major), String(minor)], `mknod ${path}`);
  }

  /** Sets an extended attribute on `path` itself (a symlink there is not followed); binary-safe. */
  setXattr(path: string, name: string, value: Buffer): Promise<void> {
    return this.op(['setxattr', path, name, value], `setxattr ${name} on ${path}`);
  }

  /** Ends the helper process (EOF on its stdin); harmless when none was started. */
  close(): void {
    this.proc?.stdin?.end();
    this.proc = undefined;
  }

  private op(fields: Field[], what: string): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const proc = this.proc ?? this.start();
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ what, resolve, reject });
      proc.stdin!.write(encodeMessage(fields));
    });
  }

  private start(): ChildProcess {
    const proc = spawn(helperPath(), ['fileops'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const dec = new MessageDecoder();
    let stderr = '';
    proc.stdout!.on('data', (chunk: Buffer) => {
      for (const [type, msg] of dec.push(chunk)) {
        const p = this.pending.shift();
        if (!p) continue;
        if (type?.toString() === 'ok') p.resolve();
        else p.reject(new BerthError('EUNPACK', msg?.toString() ?? `${p.what}: the helper answered ${type?.toString()}`));
      }
    });
    proc.stderr!.on('data', (b: Buffer) => { stderr += b.toString(); });
    proc.stdin!.on('error', () => undefined); // reported through 'close' below
    const fail = (why: string): void => {
      this.failure = new BerthError('EHELPER', `berth-helper fileops: ${why}`);
      for (const p of this.pending.splice(0)) p.reject(new BerthError('EHELPER', `${p.what}: berth-helper fileops ${why}`));
    };
    // only while it is ours: after close() its exit is expected
    proc.on('error', (err) => { if (this.proc === proc) fail(err.message); });
    proc.on('close', (code, signal) => {
      if (this.proc === proc) fail(`exited (${signal ?? `status ${code}`}) ${stderr.trim().replace(/^berth-helper: /, '')}`.trim());
    });
    this.proc = proc;
    return proc;
  }
}
