/**
 * Driving the native helper: spawn it with the container's stdio and a sync socket, send the
 * launch plan, and walk through the handshake of native/PROTOCOL.md.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { BerthError } from '../util/errors.js';
import { programs } from '../util/programs.js';
import { decodeWaitStatus } from '../util/wait-status.js';
import { encodeMessage, MessageDecoder } from './protocol.js';
import { opFields, type Op } from '../native/ops.js';
import { HelperError } from '../native/helper-error.js';

/** Where the helper binary is: the process's `BERTH_HELPER` (util/programs.ts), or native/build/berth-helper of this package. */
export function helperPath(): string {
  const fromEnv = programs().helper;
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

/**
 * The helper reached over a berth-runtime client's connection (the runtime server's path): the
 * client becomes the helper on "launch", in front mode (native/PROTOCOL.md, "Front mode").
 * Its stdio and fds are the client's own, so `stdio` does not apply.
 */
export interface HelperConnection {
  /** The client's connection, paused; the session reads it from now on. */
  socket: Socket;
  /** The decoder that read the request (bytes it still holds belong to the helper). */
  decoder: MessageDecoder;
  preserveFds: number;
  /** Called once "go" is written: until then the child may read the connection. */
  onGo?: () => void;
  /**
   * The launch asked for stdin 'ignore': the client's own stdin (the caller's) must not reach
   * the container, so the plan starts with `stdin-null` (native/PROTOCOL.md).
   */
  stdinNull?: boolean;
}

/**
 * A helper forked by the spawner (spawner.ts, native/spawner.c), not by this process: its pid,
 * its sync connection and its stdio connections ('pipe'), and its exit as the spawner reports it.
 */
export interface ForkedHelper {
  pid: number;
  sync: Socket;
  stdio: [Socket | null, Socket | null, Socket | null];
  /** The helper's raw wait status, once it has ended. */
  exited: Promise<number>;
  /** Whether the event loop must wait for the exit report (the session is in use). */
  ref: (on: boolean) => void;
}

/** Makes the helper session of a command: spawning one (the default), or over a connection. */
export type HelperLauncher = (opts: HelperOptions) => HelperSession;

/** The default launcher: spawn the helper binary. */
export const spawnHelper: HelperLauncher = (opts) => new HelperSession(opts);

/**
 * How long a command waits for one message of the helper ("pid", "ready") before it gives up.
 * Before "pid" the helper only runs its parent ops and clones (milliseconds; a cold helper's exec
 * and sealed copy take longer on a loaded machine, never near this). Between "go" and "ready"
 * the createContainer hooks run in the init, each bounded by its own timeout: `readyWaitMs` adds
 * those. A stalled helper (a client stopped, a wedged mount) then fails the command, whose
 * failure path removes the container, instead of holding the container's lock for ever.
 */
export const HELPER_WAIT_MS = 60_000;

/**
 * The bound for "ready": HELPER_WAIT_MS plus the time the createContainer hooks may take (a hook
 * with no timeout of its own counts as HOOK_WITHOUT_TIMEOUT_MS: the OCI spec sets no default,
 * but the wait must end).
 */
export function readyWaitMs(hooks: { timeout?: number }[] | undefined): number {
  return HELPER_WAIT_MS + (hooks ?? []).reduce((sum, h) => sum + (h.timeout ? h.timeout * 1000 : HOOK_WITHOUT_TIMEOUT_MS), 0);
}

/** See readyWaitMs. */
export const HOOK_WITHOUT_TIMEOUT_MS = 600_000;

/** The exit code of a raw wait status: the code, or 128 + the signal (util/wait-status.ts). */
function waitCode(raw: number): number {
  return decodeWaitStatus(raw).exitCode;
}

/** A running helper and its sync socket. */
export class HelperSession {
  private readonly proc: ChildProcess | undefined;
  private readonly forked: ForkedHelper | undefined;
  private forkedGone = false;
  private readonly sync: Socket;
  private readonly decoder: MessageDecoder;
  private readonly conn: HelperConnection | undefined;
  private readonly queue: Buffer[][] = [];
  private waiter: ((m: Buffer[] | undefined) => void) | undefined;
  private ended = false;
  private readonly exited: Promise<number>;
  private setExit: (code: number) => void = () => {};
  private initPid: number | undefined;
  private initGone = false;
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
  private readonly onEnd = () => { this.ended = true; this.setExit(1); this.deliver(undefined); };

  /**
   * Spawn the helper (`HelperOptions`), drive the one a client becomes (`HelperConnection`), or
   * one the spawner forked (`ForkedHelper`).
   */
  constructor(opts: HelperOptions | HelperConnection | ForkedHelper) {
    if ('pid' in opts) {
      this.forked = opts;
      this.sync = opts.sync;
      this.decoder = new MessageDecoder();
      this.exited = opts.exited.then((raw) => {
        this.forkedGone = true;
        return waitCode(raw);
      });
    } else if ('socket' in opts) {
      this.conn = opts;
      this.sync = opts.socket;
      this.decoder = opts.decoder;
      this.exited = new Promise((resolve) => { this.setExit = resolve; });
      this.sync.write(encodeMessage(['launch', String(opts.preserveFds)]));
    } else {
      const preserve = opts.preserveFds ?? 0;
      const stdio: StdioOptions = [...opts.stdio];
      for (let fd = 3; fd < 3 + preserve; fd++) stdio.push(fd);
      stdio.push('pipe');
      this.decoder = new MessageDecoder();
      this.proc = spawn(helperPath(), [], {
        stdio,
        env: { _BERTH_SYNC_FD: String(3 + preserve), _BERTH_PRESERVE_FDS: String(preserve) },
      });
      this.sync = this.proc.stdio[3 + preserve] as Socket;
      const proc = this.proc;
      this.exited = new Promise((resolve) => {
        proc.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
        proc.on('error', () => resolve(127));
      });
    }
    this.sync.on('data', this.onData);
    this.sync.on('end', this.onEnd);
    this.sync.on('close', this.onEnd);
    this.sync.on('error', this.onEnd);
    if (this.conn) this.sync.resume();
  }

  /** The helper's pid (undefined when the helper is a client: HelperConnection). */
  get helperPid(): number | undefined {
    return this.proc?.pid ?? this.forked?.pid;
  }

  /** The container's stdio streams that are pipes to this process (`'pipe'`), else null. */
  get stdin(): Writable | null {
    return this.proc?.stdin ?? this.forked?.stdio[0] ?? null;
  }

  get stdout(): Readable | null {
    return this.proc?.stdout ?? this.forked?.stdio[1] ?? null;
  }

  get stderr(): Readable | null {
    return this.proc?.stderr ?? this.forked?.stdio[2] ?? null;
  }

  private deliver(msg: Buffer[] | undefined): void {
    if (msg && this.conn) {
      // Over a connection the helper's own exit is not seen: its parent reports the init's.
      const kind = msg[0]?.toString();
      if (kind === 'pid') this.initPid = Number(msg[1]?.toString());
      if (kind === 'exit') { this.initGone = true; this.setExit(waitCode(Number(msg[1]?.toString()))); }
    }
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
    if (fields[0] === 'go') this.conn?.onGo?.();
  }

  /** Send the whole plan followed by `end` (over a connection, `front` comes first). */
  sendPlan(ops: Op[]): void {
    const parts = ops.map((op) => encodeMessage(opFields(op)));
    if (this.conn?.stdinNull) parts.unshift(encodeMessage(['stdin-null']));
    if (this.conn) parts.unshift(encodeMessage(['front']));
    parts.push(encodeMessage(['end']));
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
   * same runtime server, lock.ts `lockHolderAbort`): kill the helper, and make the pending and
   * every later `expect` fail with `err`.
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
    return this.exited;
  }

  /**
   * Give up on the launch: kill the helper. Over a connection the helper's parent is the client
   * (the caller's process, never killed); the init it reported is killed instead, unless its
   * exit was already reported (its pid may then be reused).
   */
  kill(): void {
    if (this.proc) {
      this.proc.kill('SIGKILL');
      return;
    }
    if (this.forked) {
      // Not reaped (so its pid not reused) until the spawner has reported its exit.
      if (!this.forkedGone) {
        try { process.kill(this.forked.pid, 'SIGKILL'); } catch { /* gone meanwhile */ }
      }
      return;
    }
    if (this.initPid && !this.initGone) {
      try { process.kill(this.initPid, 'SIGKILL'); } catch { /* gone meanwhile */ }
    }
  }

  /**
   * Whether the event loop waits for this helper (a spawned one only). A spare helper started
   * ahead of need (helper-pool.ts) must not keep its program alive: its child process, sync
   * socket and stdio pipes are unref'd until it is taken.
   */
  setRef(on: boolean): void {
    if (this.forked) {
      for (const h of [this.sync, ...this.forked.stdio]) (on ? h?.ref : h?.unref)?.call(h);
      this.forked.ref(on);
      return;
    }
    const proc = this.proc;
    if (!proc) return;
    const handles = [proc, this.sync, ...proc.stdio.filter((x): x is NonNullable<typeof x> => x !== null)] as { ref?(): void; unref?(): void }[];
    for (const h of handles) (on ? h.ref : h.unref)?.call(h);
  }

  /** Whether this spawned helper still waits for its plan (alive, nothing received yet). */
  get idle(): boolean {
    const alive = this.proc ? this.proc.exitCode === null && this.proc.signalCode === null : this.forked !== undefined && !this.forkedGone;
    return alive && !this.ended && this.queue.length === 0;
  }

  /** Stop listening; the helper and the container go on (over a connection, it stays open). */
  detach(): void {
    if (this.conn) {
      this.sync.off('data', this.onData);
      this.sync.off('end', this.onEnd);
      this.sync.off('close', this.onEnd);
      this.sync.off('error', this.onEnd);
      return;
    }
    this.sync.destroy();
    this.proc?.unref();
    this.forked?.ref(false);
  }
}
