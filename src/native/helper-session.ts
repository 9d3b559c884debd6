/**
 * Driving the native helper: spawn it with the container's stdio and a sync socket, send the
 * launch plan, and walk through the handshake of native/PROTOCOL.md.
 */
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { BerthError } from '../util/errors.js';
import {
  ConnectionTransport, ForkedTransport, SpawnedTransport, waitCode,
  type ForkedHelper, type HelperConnection, type HelperOptions, type HelperTransport,
} from './helper-transport.js';
import { encodeMessage, type MessageDecoder } from './protocol.js';
import { opFields, type Op } from './ops.js';
import { HelperError } from './helper-error.js';

export type { ForkedHelper, HelperConnection, HelperOptions } from './helper-transport.js';

/** Makes the helper session of a command: spawning one (the default), or over a connection. */
export type HelperLauncher = (opts: HelperOptions) => HelperSession;

/** The default launcher: spawn the helper binary. */
export const spawnHelper: HelperLauncher = (opts) => new HelperSession(opts);

/**
 * How long a command waits for one message of the helper ("pid", "ready") before it gives up.
 * Before "pid" the helper only runs its parent ops and clones (milliseconds; a cold helper's exec
 * and sealed copy take longer on a loaded machine, never near this). Between "go" and "ready"
 * the createContainer hooks run in the init, each bounded by its own timeout: `readyWaitMs`
 * (runtime/hooks.ts) adds those. A stalled helper (a client stopped, a wedged mount) then fails
 * the command, whose failure path removes the container, instead of holding the container's lock
 * for ever.
 */
export const HELPER_WAIT_MS = 60_000;

/**
 * A running helper and its sync socket: the protocol of native/PROTOCOL.md over one of the
 * transports of helper-transport.ts.
 */
export class HelperSession {
  private readonly transport: HelperTransport;
  private readonly sync: Socket;
  private readonly decoder: MessageDecoder;
  private readonly queue: Buffer[][] = [];
  private waiter: ((m: Buffer[] | undefined) => void) | undefined;
  private ended = false;
  private aborted: BerthError | undefined;
  private readonly onData = (chunk: Buffer) => {
    let msgs: Buffer[][];
    try {
      msgs = this.decoder.push(chunk);
    } catch {
      this.sync.destroy(); // a malformed frame: nothing after it can be trusted
      return;
    }
    for (const msg of msgs) this.deliver(msg);
  };
  private readonly onEnd = () => { this.ended = true; this.transport.ended?.(); this.deliver(undefined); };

  /**
   * Spawn the helper (`HelperOptions`), drive the one a client becomes (`HelperConnection`), or
   * one the spawner forked (`ForkedHelper`).
   */
  constructor(opts: HelperOptions | HelperConnection | ForkedHelper) {
    this.transport = 'pid' in opts ? new ForkedTransport(opts) : 'socket' in opts ? new ConnectionTransport(opts) : new SpawnedTransport(opts);
    this.sync = this.transport.sync;
    this.decoder = this.transport.decoder;
    this.sync.on('data', this.onData);
    this.sync.on('end', this.onEnd);
    this.sync.on('close', this.onEnd);
    this.sync.on('error', this.onEnd);
    this.transport.listening?.();
  }

  /** The helper's pid (undefined when the helper is a client: HelperConnection). */
  get helperPid(): number | undefined {
    return this.transport.pid;
  }

  /** The container's stdio streams that are pipes to this process (`'pipe'`), else null. */
  get stdin(): Writable | null {
    return this.transport.stdio[0];
  }

  get stdout(): Readable | null {
    return this.transport.stdio[1];
  }

  get stderr(): Readable | null {
    return this.transport.stdio[2];
  }

  private deliver(msg: Buffer[] | undefined): void {
    if (msg) {
      this.transport.saw?.(msg);
      this.queue.push(msg);
    }
    const w = this.waiter;
    if (w && (this.queue.length > 0 || this.ended)) {
      this.waiter = undefined;
      w(this.queue.shift());
    }
  }

  /** Send one message (an op, or `go`). */
  send(fields: (string | Buffer)[]): void {
    this.sync.write(encodeMessage(fields));
    if (fields[0] === 'go') this.transport.wentGo?.();
  }

  /** Send the whole plan followed by `end` (over a connection, `front` comes first). */
  sendPlan(ops: Op[]): void {
    const parts = [...(this.transport.planPrelude?.() ?? []), ...ops.map((op) => encodeMessage(opFields(op))), encodeMessage(['end'])];
    this.sync.write(Buffer.concat(parts));
  }

  /** The next message from the helper, or undefined at end of stream. */
  next(): Promise<Buffer[] | undefined> {
    const msg = this.queue.shift();
    if (msg) return Promise.resolve(msg);
    if (this.ended || this.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => { this.waiter = resolve; });
  }

  /**
   * Wait for a message of type `type` and return its fields after the type. An `error` message
   * becomes a HelperError (EHELPER, with the op and errno as fields); an early end of stream, or the init's
   * `exit`, says so. The wait is bounded (`timeoutMs`, see HELPER_WAIT_MS): a helper that sends
   * nothing for that long is killed and the command fails naming what it waited for.
   */
  async expect(type: string, timeoutMs = HELPER_WAIT_MS): Promise<string[]> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), timeoutMs); });
    let msg: Buffer[] | undefined | 'timeout';
    try {
      msg = await Promise.race([this.next(), timedOut]);
    } finally {
      clearTimeout(timer);
    }
    if (msg === 'timeout') {
      this.waiter = undefined;
      this.kill();
      throw new BerthError('EHELPER', `no "${type}" from the container's helper within ${timeoutMs / 1000} s: it was killed`);
    }
    if (this.aborted) throw this.aborted;
    if (!msg) {
      // The stream ended: the helper's exit follows at once (a spawned one is reaped by Node).
      let t: NodeJS.Timeout | undefined;
      const code = await Promise.race([this.exitCode(), new Promise<undefined>((r) => { t = setTimeout(() => r(undefined), 2000); })]);
      clearTimeout(t);
      throw new BerthError('EHELPER', `container init exited (status ${code ?? 'unknown'}) before it sent "${type}"`);
    }
    const [kind, ...rest] = msg.map((b) => b.toString());
    if (kind === 'error') throw HelperError.fromFields(rest);
    if (kind === 'exit') {
      throw new BerthError('EHELPER', `container init exited (status ${waitCode(Number(rest[0]))}) before it sent "${type}"`);
    }
    if (kind !== type) throw new BerthError('EHELPER', `protocol error: expected "${type}", got "${kind}"`);
    return rest;
  }

  /**
   * Give up on this launch from outside the command that waits on it (`delete --force` in the
   * same runtime server, util/lock.ts `abortLockHolder`): kill the helper, and make the pending
   * and every later `expect` fail with `err`.
   */
  abort(err: BerthError): void {
    this.aborted ??= err;
    this.kill();
    const w = this.waiter;
    this.waiter = undefined;
    w?.(undefined);
  }

  /** The helper's own exit code (in monitor mode, the container's). */
  exitCode(): Promise<number> {
    return this.transport.exited;
  }

  /**
   * Give up on the launch: kill the helper. Over a connection the helper's parent is the client
   * (the caller's process, never killed); the init it reported is killed instead, unless its
   * exit was already reported (its pid may then be reused).
   */
  kill(): void {
    this.transport.kill();
  }

  /**
   * Whether the event loop waits for this helper (a spawned or forked one only). A spare helper
   * started ahead of need (helper-pool.ts) must not keep its program alive until it is taken.
   */
  setRef(on: boolean): void {
    this.transport.setRef(on);
  }

  /** Whether this spawned helper still waits for its plan (alive, nothing received yet). */
  get idle(): boolean {
    return this.transport.alive() && !this.ended && this.queue.length === 0;
  }

  /** Stop listening; the helper and the container go on (over a connection, it stays open). */
  detach(): void {
    this.transport.detach(() => {
      this.sync.off('data', this.onData);
      this.sync.off('end', this.onEnd);
      this.sync.off('close', this.onEnd);
      this.sync.off('error', this.onEnd);
    });
  }
}
