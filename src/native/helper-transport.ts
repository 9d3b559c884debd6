/**
 * The three ways a helper session (helper-session.ts) reaches its helper, behind one interface:
 * a helper this process spawns (`HelperOptions`), the one a berth-runtime client becomes
 * (`HelperConnection`, the runtime server), and one the spawner forked (`ForkedHelper`,
 * spawner.ts). A transport owns the sync socket, knows how the helper's exit is learnt, and how
 * the helper is killed and let go; the session speaks the protocol over it and nothing else.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { helperPath } from './helper-path.js';
import { encodeMessage, MessageDecoder } from './protocol.js';
import { decodeWaitStatus } from '../util/wait-status.js';

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

/** The exit code of a raw wait status: the code, or 128 + the signal (util/wait-status.ts). */
export function waitCode(raw: number): number {
  return decodeWaitStatus(raw).exitCode;
}

/** How a session reaches its helper; see the module comment. */
export interface HelperTransport {
  /** The sync socket (native/PROTOCOL.md), and the decoder of what arrives on it. */
  readonly sync: Socket;
  readonly decoder: MessageDecoder;
  /** The helper's pid, when this process knows it (not when the helper is a client). */
  readonly pid: number | undefined;
  /** The container's stdio streams that are pipes to this process (`'pipe'`), else null. */
  readonly stdio: [Writable | null, Readable | null, Readable | null];
  /** The helper's exit code (in monitor mode, the container's). */
  readonly exited: Promise<number>;
  // The five hooks below are optional: only a client connection (ConnectionTransport) needs them.
  /** The session listens on `sync` now (a paused connection starts flowing). */
  listening?(): void;
  /** Every message from the helper, before the session queues it. */
  saw?(msg: Buffer[]): void;
  /** The sync socket ended, closed or failed. */
  ended?(): void;
  /** The messages the plan starts with, before its ops. */
  planPrelude?(): Buffer[];
  /** "go" was written. */
  wentGo?(): void;
  /** Give up on the launch: kill what this process may kill. */
  kill(): void;
  /** Whether the event loop waits for this helper. */
  setRef(on: boolean): void;
  /** Whether the helper is still running, as far as this process can tell. */
  alive(): boolean;
  /** The session stops listening (`stopListening` removes its listeners from `sync`). */
  detach(stopListening: () => void): void;
}

/** A helper spawned by this process, with the container's stdio and a sync pipe after them. */
export class SpawnedTransport implements HelperTransport {
  readonly sync: Socket;
  readonly decoder = new MessageDecoder();
  readonly exited: Promise<number>;
  private readonly proc: ChildProcess;

  constructor(opts: HelperOptions) {
    const preserve = opts.preserveFds ?? 0;
    const stdio: StdioOptions = [...opts.stdio];
    for (let fd = 3; fd < 3 + preserve; fd++) stdio.push(fd);
    stdio.push('pipe');
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

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get stdio(): [Writable | null, Readable | null, Readable | null] {
    return [this.proc.stdin, this.proc.stdout, this.proc.stderr];
  }

  kill(): void {
    this.proc.kill('SIGKILL');
  }

  /**
   * A spare helper started ahead of need (helper-pool.ts) must not keep its program alive: its
   * child process, sync socket and stdio pipes are unref'd until it is taken.
   */
  setRef(on: boolean): void {
    const proc = this.proc;
    const handles = [proc, this.sync, ...proc.stdio.filter((x): x is NonNullable<typeof x> => x !== null)] as { ref?(): void; unref?(): void }[];
    for (const h of handles) (on ? h.ref : h.unref)?.call(h);
  }

  alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  detach(): void {
    this.sync.destroy();
    this.proc.unref();
  }
}

/**
 * The helper a client becomes (HelperConnection). Its own exit is not seen here: its parent
 * reports the init's (`pid`, `exit` messages), which stands for it.
 */
export class ConnectionTransport implements HelperTransport {
  readonly sync: Socket;
  readonly decoder: MessageDecoder;
  readonly exited: Promise<number>;
  readonly pid = undefined;
  readonly stdio: [null, null, null] = [null, null, null];
  private setExit: (code: number) => void = () => {};
  private initPid: number | undefined;
  private initGone = false;

  constructor(private readonly conn: HelperConnection) {
    this.sync = conn.socket;
    this.decoder = conn.decoder;
    this.exited = new Promise((resolve) => { this.setExit = resolve; });
    this.sync.write(encodeMessage(['launch', String(conn.preserveFds)]));
  }

  listening(): void {
    this.sync.resume();
  }

  saw(msg: Buffer[]): void {
    const kind = msg[0]?.toString();
    if (kind === 'pid') this.initPid = Number(msg[1]?.toString());
    if (kind === 'exit') { this.initGone = true; this.setExit(waitCode(Number(msg[1]?.toString()))); }
  }

  ended(): void {
    this.setExit(1);
  }

  /** `front` first, then `stdin-null` when the caller's stdin must not reach the container. */
  planPrelude(): Buffer[] {
    const parts = [encodeMessage(['front'])];
    if (this.conn.stdinNull) parts.push(encodeMessage(['stdin-null']));
    return parts;
  }

  wentGo(): void {
    this.conn.onGo?.();
  }

  /**
   * The helper's parent is the client (the caller's process, never killed): the init it reported
   * is killed instead, unless its exit was already reported (its pid may then be reused).
   */
  kill(): void {
    if (this.initPid && !this.initGone) {
      try { process.kill(this.initPid, 'SIGKILL'); } catch { /* gone meanwhile */ }
    }
  }

  setRef(): void {}

  alive(): boolean {
    return false;
  }

  /** The connection stays open. */
  detach(stopListening: () => void): void {
    stopListening();
  }
}

/** A helper the spawner forked (ForkedHelper): its exit comes from the spawner's report. */
export class ForkedTransport implements HelperTransport {
  readonly sync: Socket;
  readonly decoder = new MessageDecoder();
  readonly exited: Promise<number>;
  private gone = false;

  constructor(private readonly forked: ForkedHelper) {
    this.sync = forked.sync;
    this.exited = forked.exited.then((raw) => {
      this.gone = true;
      return waitCode(raw);
    });
  }

  get pid(): number {
    return this.forked.pid;
  }

  get stdio(): [Writable | null, Readable | null, Readable | null] {
    return this.forked.stdio;
  }

  /** Not reaped (so its pid not reused) until the spawner has reported its exit. */
  kill(): void {
    if (!this.gone) {
      try { process.kill(this.forked.pid, 'SIGKILL'); } catch { /* gone meanwhile */ }
    }
  }

  setRef(on: boolean): void {
    for (const h of [this.sync, ...this.forked.stdio]) (on ? h?.ref : h?.unref)?.call(h);
    this.forked.ref(on);
  }

  alive(): boolean {
    return !this.gone;
  }

  detach(): void {
    this.sync.destroy();
    this.forked.ref(false);
  }
}
