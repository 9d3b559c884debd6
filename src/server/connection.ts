/**
 * One client of the runtime server: reads its request, runs the berth-runtime command in this
 * process with the client's working directory, pid and output, and answers (native/PROTOCOL.md,
 * "The runtime server").
 *
 * Output is sent as "out"/"err" messages. While a helper launched over the connection waits for
 * "go", nothing else may be on the wire before the "go" (the container's child reads exactly one
 * message from the shared connection), so output is held from "launch" until "go" is written or
 * the request ends; the client's helper relays it after its own work (front mode).
 */
import type { Socket } from 'node:net';
import { main, COLD } from '../cli/runtime/main.js';
import { noInput, noSignals, relayOutput } from '../cli/io.js';
import { HelperSession, type HelperLauncher } from '../native/helper-session.js';
import { encodeMessage, MessageDecoder, type Field } from '../native/protocol.js';
import { BerthError } from '../util/errors.js';

/** The request of a berth-runtime client, its second message (after "caller"): ["request", cwd, pid, argv...]. */
export interface Request {
  cwd: string;
  pid: number;
  argv: string[];
  /** Set for a berth client ("engine"): what the engine's worker needs of the caller. */
  engine?: EngineCaller;
}

/**
 * What a berth client sends besides its command line: ["engine", cwd, pid, umask, ttys, cols,
 * rows, argc, argv..., env...] (native/client.c).
 */
export interface EngineCaller {
  /** The caller's umask. */
  umask: number;
  /** Whether fds 0, 1 and 2 are terminals. */
  ttys: [boolean, boolean, boolean];
  /** The terminal's size, 0 when there is none. */
  columns: number;
  rows: number;
  /** The caller's environment, as NAME=value strings. */
  env: string[];
}

/** The request of a message, or undefined when it is not one. */
export function parseRequest(fields: string[]): Request | undefined {
  const [type, cwd, pid, ...rest] = fields;
  if (!cwd?.startsWith('/') || !/^\d+$/.test(pid ?? '')) return undefined;
  if (type === 'request') return { cwd, pid: Number(pid), argv: rest };
  if (type !== 'engine') return undefined;
  const [umask, ttys, columns, rows, argc, ...more] = rest;
  const n = Number(argc);
  if (!/^[0-7]{1,4}$/.test(umask ?? '') || !/^[01]{3}$/.test(ttys ?? '') || !Number.isInteger(n) || n < 0 || n > more.length) return undefined;
  return {
    cwd, pid: Number(pid), argv: more.slice(0, n),
    engine: {
      umask: parseInt(umask!, 8), ttys: [ttys![0] === '1', ttys![1] === '1', ttys![2] === '1'],
      columns: Number(columns) || 0, rows: Number(rows) || 0, env: more.slice(n),
    },
  };
}

/** The first messages of a client: "caller" (caller.ts), then its request (absent when the first was not "caller"). */
export interface Hello {
  caller: string[];
  request?: string[];
}

/** How long a client may take to send its first messages (it sends them as soon as it connected). */
export const HELLO_MS = 10_000;

/**
 * Read the client's first messages — "caller", then the request; a first message of another type
 * alone (an older client: it sends nothing more) — then pause the socket: any byte after them
 * belongs to the helper the client may become. Undefined when the client left, sent garbage, or
 * sent nothing within `ms`.
 */
export function readHello(socket: Socket, decoder: MessageDecoder, ms = HELLO_MS): Promise<Hello | undefined> {
  return new Promise((resolve) => {
    const got: string[][] = [];
    const done = (r: Hello | undefined) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onEnd);
      socket.pause();
      resolve(r);
    };
    const onEnd = () => done(undefined);
    const timer = setTimeout(onEnd, ms);
    const onData = (chunk: Buffer) => {
      let msgs: Buffer[][];
      try {
        msgs = decoder.push(chunk);
      } catch {
        return done(undefined);
      }
      for (const m of msgs) got.push(m.map((b) => b.toString()));
      const [first, second] = got;
      if (!first) return;
      if (first[0] !== 'caller') return done({ caller: first });
      if (second) done({ caller: first, request: second });
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onEnd);
  });
}

/** The server's side of one client connection. */
export class ClientConnection {
  private held: Buffer[] | undefined;
  private launched = false;
  private closed = false;
  private done = false;
  private unwatch: (() => void) | undefined;

  constructor(private readonly socket: Socket, private readonly decoder: MessageDecoder) {
    socket.on('close', () => { this.closed = true; });
    socket.on('error', () => { this.closed = true; });
  }

  private write(fields: Field[]): void {
    if (this.closed) return;
    const buf = encodeMessage(fields);
    if (this.held) this.held.push(buf);
    else this.socket.write(buf);
  }

  private flush(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const buf of held) if (!this.closed) this.socket.write(buf);
  }

  /** Text or bytes for the caller's stdout. */
  out(text: string | Buffer): void {
    if (text.length) this.write(['out', text]);
  }

  /** Text or bytes for the caller's stderr. */
  err(text: string | Buffer): void {
    if (text.length) this.write(['err', text]);
  }

  /** Whether the client became the helper of this request. */
  get isHelper(): boolean {
    return this.launched;
  }

  /** Whether the last message was sent (or the client left). */
  get finished(): boolean {
    return this.done || this.closed;
  }

  /**
   * Tell `onGone` (once) when the client goes away before it became the helper and before the
   * last message: for a command that runs on in this process for it (the engine worker). The
   * socket is read from now on, what comes discarded (the client sends nothing between its
   * request and "launch"): a paused socket never reports the peer's close, so without this a
   * worker whose client was killed would run its command (a `berth events`: for ever) unseen.
   * A client that becomes the helper is watched by its session instead.
   */
  watch(onGone: () => void): void {
    let told = false;
    const discard = () => {};
    const gone = () => {
      this.closed = true;
      if (told || this.launched || this.done) return;
      told = true;
      onGone();
    };
    this.socket.on('data', discard);
    this.socket.on('end', gone);
    this.socket.on('close', gone);
    this.socket.on('error', gone);
    this.unwatch = () => {
      this.socket.off('data', discard);
      this.socket.off('end', gone);
      this.socket.off('close', gone);
      this.socket.off('error', gone);
    };
    this.socket.resume();
  }

  /** The launcher of this request: the client becomes the helper (once per request). */
  readonly launch: HelperLauncher = (opts) => {
    if (this.launched) throw new BerthError('EHELPER', 'the berth-runtime client is already the helper of this request');
    // A session over a closed socket would wait for "pid" for ever: no end or close event comes twice.
    if (this.closed) throw new BerthError('EHELPER', 'the client went away before its container was started');
    this.unwatch?.();
    this.launched = true;
    this.held = [];
    return new HelperSession({
      socket: this.socket, decoder: this.decoder, preserveFds: opts.preserveFds ?? 0, onGo: () => this.flush(),
      stdinNull: opts.stdio[0] === 'ignore',
    });
  };

  /** The last message: "done" <code>, or "stale"/"cold" (the client runs the cold path). */
  finish(kind: 'done' | 'stale' | 'cold', code?: number): void {
    this.done = true;
    this.flush();
    this.write(code === undefined ? [kind] : [kind, String(code)]);
    if (this.closed) return;
    this.socket.end();
    // Read on (discarding what no session wants) so the client's close is seen: a paused
    // socket would never emit 'end', and the server would count it open for ever.
    this.socket.resume();
  }
}

/**
 * Run one berth-runtime request to its end. Never throws: a failure is the client's "err" and
 * "done" 1. `umask` is the one files made for the caller get (the request carries none: the
 * server's own).
 */
export async function serveRequest(conn: ClientConnection, req: Request, umask: number): Promise<void> {
  try {
    // The caller's signals reach its client, which is the container's monitor: none come here.
    const code = await main(req.argv, {
      cwd: req.cwd, env: {}, umask, stdin: noInput(), signals: noSignals,
      stdout: relayOutput((d) => conn.out(d)), stderr: relayOutput((d) => conn.err(d)),
      callerPid: req.pid, launch: conn.launch, served: true,
    });
    if (code === COLD) conn.finish('cold');
    else conn.finish('done', code);
  } catch (err) {
    conn.err(`berth-runtime: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    conn.finish('done', 1);
  }
}
