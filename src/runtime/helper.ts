/**
 * Driving the native helper: spawn it with the container's stdio and a sync socket, send the
 * launch plan, and walk through the handshake of native/PROTOCOL.md.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { BerthError } from '../util/errors.js';
import { encodeMessage, MessageDecoder } from './protocol.js';
import type { Op } from './plan.js';

/** Where the helper binary is: `BERTH_HELPER`, or native/build/berth-helper of this package. */
export function helperPath(): string {
  const fromEnv = process.env.BERTH_HELPER;
  if (fromEnv) return fromEnv;
  const path = fileURLToPath(new URL('../../../native/build/berth-helper', import.meta.url));
  if (!existsSync(path)) {
    throw new BerthError('EHELPER', `native helper ${path} is missing: run npm run build`);
  }
  return path;
}

export interface HelperOptions {
  /** The container's stdin, stdout, stderr: an fd number, 'inherit', 'pipe' or 'ignore'. */
  stdio: ['inherit' | 'pipe' | 'ignore' | number, 'inherit' | 'pipe' | 'ignore' | number, 'inherit' | 'pipe' | 'ignore' | number];
  /** `--preserve-fds N`: the runtime's fds 3 .. 3+N-1 are passed to the container as they are. */
  preserveFds?: number;
}

/** A running helper and its sync socket. */
export class HelperSession {
  readonly child: ChildProcess;
  private readonly sync: Socket;
  private readonly decoder = new MessageDecoder();
  private readonly queue: Buffer[][] = [];
  private waiter: ((m: Buffer[] | undefined) => void) | undefined;
  private ended = false;
  private readonly exited: Promise<number>;

  constructor(opts: HelperOptions) {
    const preserve = opts.preserveFds ?? 0;
    const stdio: StdioOptions = [...opts.stdio];
    for (let fd = 3; fd < 3 + preserve; fd++) stdio.push(fd);
    stdio.push('pipe');
    this.child = spawn(helperPath(), [], {
      stdio,
      env: { _BERTH_SYNC_FD: String(3 + preserve), _BERTH_PRESERVE_FDS: String(preserve) },
    });
    this.sync = this.child.stdio[3 + preserve] as Socket;
    this.sync.on('data', (chunk: Buffer) => {
      for (const msg of this.decoder.push(chunk)) this.deliver(msg);
    });
    this.sync.on('end', () => { this.ended = true; this.deliver(undefined); });
    this.sync.on('error', () => { this.ended = true; this.deliver(undefined); });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
      this.child.on('error', () => resolve(127));
    });
  }

  private deliver(msg: Buffer[] | undefined): void {
    if (msg) this.queue.push(msg);
    const w = this.waiter;
    if (w && (this.queue.length > 0 || this.ended)) {
      this.waiter = undefined;
      w(this.queue.shift());
    }
  }

  /** Send one message (an op, or `go`). */
  send(fields: (string | Buffer)[]): void {
    this.sync.write(encodeMessage(fields));
  }

  /** Send the whole plan followed by `end`. */
  sendPlan(ops: Op[]): void {
    const parts = ops.map((op) => encodeMessage(op));
    parts.push(encodeMessage(['end']));
    this.sync.write(Buffer.concat(parts));
  }

  /** The next message from the helper, or undefined at end of stream. */
  next(): Promise<Buffer[] | undefined> {
    const msg = this.queue.shift();
    if (msg) return Promise.resolve(msg);
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve) => { this.waiter = resolve; });
  }

  /**
   * Wait for a message of type `type` and return its fields after the type. An `error` message
   * becomes an EHELPER error carrying the helper's text; an early end of stream says so.
   */
  async expect(type: string): Promise<string[]> {
    const msg = await this.next();
    if (!msg) {
      const code = await this.exitCode();
      throw new BerthError('EHELPER', `container init exited (status ${code}) before it sent "${type}"`);
    }
    const [kind, ...rest] = msg.map((b) => b.toString());
    if (kind === 'error') throw new BerthError('EHELPER', rest.join(' ') || 'container init failed');
    if (kind !== type) throw new BerthError('EHELPER', `protocol error: expected "${type}", got "${kind}"`);
    return rest;
  }

  /** The helper's own exit code (in monitor mode, the container's). */
  exitCode(): Promise<number> {
    return this.exited;
  }

  /** Stop listening; the helper and the container go on. */
  detach(): void {
    this.sync.destroy();
    this.child.unref();
  }
}
