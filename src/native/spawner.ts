/**
 * Helpers forked by a small native process instead of by Node (native/spawner.c).
 *
 * Node's spawn forks the whole Node process: the page tables of a 100 MB program take about
 * 1.7 ms of the event loop to copy, and every page it writes afterwards takes a copy-on-write
 * fault. A program that starts containers one after another (the TypeScript API) paid that per
 * container. The spawner is spawned once, runs from the sealed memfd copy already, and forks a
 * helper on request: the helper connects back to a socket this process listens on, once per
 * stdio pipe and once for its sync channel, and is then an ordinary helper (PROTOCOL.md).
 *
 * The socket is in the abstract namespace under a random name, and every connection must
 * start with the random token of a request this process made: any other is closed. Nothing of
 * the spawner keeps the program alive: its process, pipes, socket and idle helpers are unref'd.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { helperPath } from './helper-path.js';
import { HelperSession, type HelperOptions } from './helper-session.js';
import { programs } from '../util/programs.js';

/** The stdio of a helper the spawner can make: each pipe becomes a connection to this process. */
export type SpawnerStdio = ('pipe' | 'ignore')[];

type Role = '0' | '1' | '2' | 'sync';

interface Pending {
  need: Set<Role>;
  socks: Partial<Record<Role, Socket>>;
  pid?: number;
  resolve: (s: HelperSession) => void;
  reject: (e: Error) => void;
}

/** How long a requested helper may take to connect before the request is given up. */
const CONNECT_TIMEOUT_MS = 5000;

export class Spawner {
  private readonly server: Server;
  private readonly proc: ChildProcess;
  /** The socket helpers connect back to (abstract: starts with a NUL). */
  readonly address: string;
  private readonly pending = new Map<string, Pending>();
  /** Exit reports awaited, by token: helpers handed out and not yet reported ended. */
  private readonly live = new Map<string, (raw: number) => void>();
  private refs = 0;
  private out = '';
  /** Set when the spawner process has gone (crashed or closed): no more requests. */
  gone = false;

  constructor() {
    const address = this.address = `\0berth-spawner-${process.pid}-${randomBytes(8).toString('hex')}`;
    this.server = createServer((sock) => this.accept(sock));
    this.server.on('error', () => this.close());
    this.server.listen(address); // bound by the time listen returns: requests may follow at once
    this.server.unref();
    this.proc = spawn(helperPath(), ['spawner', `@${address.slice(1)}`], { stdio: ['pipe', 'pipe', programs().spawnerDebug ? 'inherit' : 'ignore'], env: {} });
    this.proc.on('error', () => this.close());
    this.proc.on('exit', () => {
      this.close();
      // It waits for its children before it exits: none should be left unreported.
      for (const done of this.live.values()) done(255 << 8);
      this.live.clear();
    });
    this.proc.stdin!.on('error', () => this.close());
    this.proc.stdout!.setEncoding('utf8');
    this.proc.stdout!.on('data', (text: string) => this.reports(text));
    this.unrefProcess();
  }

  /** The spawner process's pid. */
  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** A new helper with this stdio, once it has connected back. */
  request(stdio: SpawnerStdio): Promise<HelperSession> {
    if (this.gone) return Promise.reject(new Error('the spawner has exited'));
    const token = randomBytes(16).toString('hex');
    const need = new Set<Role>(['sync']);
    stdio.forEach((x, i) => { if (x === 'pipe') need.add(String(i) as Role); });
    return new Promise<HelperSession>((resolve, reject) => {
      const p: Pending = { need, socks: {}, resolve, reject };
      this.pending.set(token, p);
      const timer = setTimeout(() => this.fail(token, new Error('the spawned helper did not connect back')), CONNECT_TIMEOUT_MS);
      timer.unref();
      const clear = () => clearTimeout(timer);
      p.resolve = (s) => { clear(); resolve(s); };
      p.reject = (e) => { clear(); reject(e); };
      this.proc.stdin!.write(`${token} ${stdio.map((x) => (x === 'pipe' ? 'p' : 'i')).join('')}\n`);
    });
  }

  /**
   * No more requests: give up the pending ones. The spawner process exits once the helpers it
   * forked have ended, reporting their exits until then.
   */
  close(): void {
    if (this.gone) return;
    this.gone = true;
    this.server.close();
    this.proc.stdin!.destroy();
    for (const token of [...this.pending.keys()]) this.fail(token, new Error('the spawner has exited'));
  }

  /**
   * A connection: read its hello line (`<token> <role> <pid>`), then hand it to its request.
   * The hello is read in paused mode ('readable'), so that once that listener is gone the
   * stream is as new: whoever takes it starts the flow with their own 'data' listener.
   */
  private accept(sock: Socket): void {
    sock.unref();
    let head = Buffer.alloc(0);
    const onReadable = () => {
      let chunk: Buffer | null;
      let nl = -1;
      while (nl < 0 && (chunk = sock.read() as Buffer | null) !== null) {
        head = Buffer.concat([head, chunk]);
        nl = head.indexOf(10);
      }
      if (nl < 0) {
        if (head.length > 128) sock.destroy();
        return;
      }
      sock.off('readable', onReadable);
      if (nl + 1 < head.length) sock.unshift(head.subarray(nl + 1));
      const [token = '', role = '', pidText = ''] = head.subarray(0, nl).toString().split(' ');
      const p = this.pending.get(token);
      if (!p || !p.need.has(role as Role) || p.socks[role as Role] || !/^\d+$/.test(pidText)) {
        sock.destroy();
        return;
      }
      p.socks[role as Role] = sock;
      p.pid = Number(pidText);
      if ([...p.need].every((r) => p.socks[r])) this.complete(token, p);
    };
    sock.on('readable', onReadable);
    sock.on('error', () => sock.destroy());
  }

  private complete(token: string, p: Pending): void {
    this.pending.delete(token);
    const exited = new Promise<number>((resolve) => this.live.set(token, resolve));
    let held = false;
    const ref = (on: boolean) => {
      if (on === held) return;
      held = on;
      this.refs += on ? 1 : -1;
      this.unrefProcess();
    };
    void exited.then(() => ref(false));
    p.resolve(new HelperSession({
      pid: p.pid!, sync: p.socks.sync!, stdio: [p.socks['0'] ?? null, p.socks['1'] ?? null, p.socks['2'] ?? null], exited, ref,
    }));
  }

  private fail(token: string, err: Error): void {
    const p = this.pending.get(token);
    if (!p) return;
    this.pending.delete(token);
    for (const s of Object.values(p.socks)) s.destroy();
    if (p.pid !== undefined) {
      try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
    }
    p.reject(err);
  }

  /** Lines `exit <token> <pid> <raw status>` from the spawner's stdout. */
  private reports(text: string): void {
    this.out += text;
    let nl: number;
    while ((nl = this.out.indexOf('\n')) >= 0) {
      const [kind, token = '', , raw = ''] = this.out.slice(0, nl).split(' ');
      this.out = this.out.slice(nl + 1);
      if (kind !== 'exit') continue;
      const done = this.live.get(token);
      if (done) {
        this.live.delete(token);
        done(Number(raw));
      } else {
        this.fail(token, new Error('the spawned helper exited before it connected back'));
      }
    }
  }

  /** The spawner's process and pipes keep the event loop alive only while a helper is in use. */
  private unrefProcess(): void {
    const handles = [this.proc, this.proc.stdin, this.proc.stdout] as { ref?(): void; unref?(): void }[];
    for (const h of handles) (this.refs > 0 ? h.ref : h.unref)?.call(h);
  }
}

let shared: Spawner | undefined;
let broken = false;

/** The process's spawner, started at the first call; undefined if it cannot run here. */
export function sharedSpawner(): Spawner | undefined {
  if (shared?.gone) {
    // It exited on its own: something is wrong with it here; spawn helpers directly from now on.
    shared = undefined;
    broken = true;
  }
  if (broken) return undefined;
  try {
    shared ??= new Spawner();
  } catch {
    broken = true;
  }
  return shared;
}

/** Stop the process's spawner (the next `sharedSpawner` starts a new one). */
export function closeSharedSpawner(): void {
  shared?.close();
  shared = undefined;
}

/** Whether `opts` is a stdio the spawner can make (pipes and /dev/null only, no preserved fds). */
export function spawnable(opts: HelperOptions): SpawnerStdio | undefined {
  if (opts.preserveFds) return undefined;
  return opts.stdio.every((x) => x === 'pipe' || x === 'ignore') ? (opts.stdio as SpawnerStdio) : undefined;
}
