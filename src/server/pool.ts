/**
 * The warm engine workers of the runtime server. A berth command cannot run inside the server
 * itself the way a berth-runtime command does: it is a whole program with its own working
 * directory, environment, umask, signal handlers and output (process-wide state), and it may run
 * for minutes (a foreground `berth run`, `logs -f`). So the server keeps a started Node process
 * with the engine's code loaded (engine-worker.ts) and gives each berth client one of its own:
 * the client's connection is passed to the worker, which runs that one command and exits. A
 * fresh worker is started at once for the next client. A client that finds no worker ready waits
 * for the one starting (still no slower than starting Node itself).
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { repoRoot } from './config.js';
import type { Request } from './connection.js';
import type { Env } from '../util/env.js';

/** The worker's entry script. */
export const workerEntry = join(repoRoot, 'dist/src/server/engine-worker.js');

/** How many idle workers to keep: `BERTH_SERVER_WORKERS`, default 1 (0 turns the engine path off). */
export function poolSize(env: Env): number {
  const v = Number(env.BERTH_SERVER_WORKERS);
  return Number.isInteger(v) && v >= 0 && v <= 8 ? v : 1;
}

/** Message of a worker that has loaded the engine and waits for its client. */
export const READY = 'berth-worker-ready';

/** A pool of started workers, each used for one client. */
export class WorkerPool {
  private readonly ready: ChildProcess[] = [];
  private starting = 0;
  private waiters: ((w: ChildProcess | undefined) => void)[] = [];
  private closed = false;

  constructor(private readonly size: number, private readonly log: (msg: string) => void) {}

  /** Start workers until `size` are ready or starting. */
  fill(): void {
    while (!this.closed && this.ready.length + this.starting < this.size) this.start();
  }

  private start(): void {
    this.starting++;
    let w: ChildProcess;
    try {
      w = fork(workerEntry, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], cwd: '/', execArgv: [] });
    } catch (err) {
      this.starting--;
      this.log(`cannot start an engine worker: ${(err as Error).message}`);
      this.give(undefined);
      return;
    }
    let isReady = false;
    w.on('message', (m) => {
      if (m !== READY || isReady) return;
      isReady = true;
      this.starting--;
      if (this.closed) w.kill();
      else this.give(w);
    });
    w.on('error', () => { /* 'exit' follows */ });
    w.once('exit', (code, signal) => {
      if (!isReady) {
        this.starting--;
        this.log(`engine worker ${w.pid} exited before it was ready (${signal ?? code})`);
        // A worker that cannot start (broken build) must not loop: waiting clients go cold.
        for (const resolve of this.waiters.splice(0)) resolve(undefined);
      }
      const i = this.ready.indexOf(w);
      if (i >= 0) this.ready.splice(i, 1);
    });
  }

  /** A ready worker goes to the first waiting client, else into the pool. */
  private give(w: ChildProcess | undefined): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter(w);
    else if (w) this.ready.push(w);
    if (waiter && w) this.fill(); // the one just given away is replaced
  }

  /** A ready worker for one client, or undefined (none could be started, or the pool is closed). */
  take(): Promise<ChildProcess | undefined> {
    if (this.closed || this.size === 0) return Promise.resolve(undefined);
    const w = this.ready.shift();
    const got = w ? Promise.resolve(w) : new Promise<ChildProcess | undefined>((resolve) => { this.waiters.push(resolve); });
    this.fill();
    return got;
  }

  /**
   * Hand the client's connection to worker `w` with its request. Once the message is out the
   * server lets go of the worker (the IPC channel closes): it runs the command and exits alone.
   */
  hand(w: ChildProcess, req: Request, socket: Socket): Promise<boolean> {
    return new Promise((resolve) => {
      w.send({ request: req }, socket, (err) => {
        if (err) {
          w.kill('SIGKILL');
          resolve(false);
          return;
        }
        w.disconnect();
        resolve(true);
      });
    });
  }

  /** Stop the idle workers; workers running a command go on. */
  close(): void {
    this.closed = true;
    for (const w of this.ready.splice(0)) w.kill();
    for (const resolve of this.waiters.splice(0)) resolve(undefined);
  }
}
