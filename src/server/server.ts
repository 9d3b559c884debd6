/**
 * The runtime server: a Node process that keeps berth-runtime's code loaded and runs its commands
 * in-process for the C client (native/client.c), so a command costs no Node start-up and no module
 * loading. It listens on a unix socket (mode 0600 in a 0711 directory: root only), serves any
 * number of requests at once, and exits when idle, or once its code on disk changed ("stale").
 * It serves only callers that see what it sees, and only clients of its own build (caller.ts):
 * a caller in another view is sent down the cold path, a client of another installation makes
 * it hand the socket over (it answers "stale" and exits, so that client's cold path starts that
 * installation's own server).
 */
import { mkdirSync, renameSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { MessageDecoder } from '../native/protocol.js';
import { judgeCaller, measureSelf } from './caller.js';
import { codeFingerprint, HELPER_BINARY } from './config.js';
import { ClientConnection, parseRequest, readHello, serveRequest, type Request } from './connection.js';
import { WorkerPool } from './pool.js';

/** Whether a server answers on `path` (a stale socket file refuses the connection). */
export function serverAlive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

export interface ServerOptions {
  socket: string;
  idleMs: number;
  /** The files whose mtimes make the server's code (config.ts watchedFiles): a change makes it stale. */
  watched: string[];
  /** The umask of a file made for a berth-runtime caller (`--pid-file`, `--log`): the server's own, as before. */
  umask: number;
  /** A line for the server's log. */
  log(msg: string): void;
  /** Called once the server has stopped listening and its last connection closed. */
  onExit(): void;
  /** Idle engine workers to keep for berth clients (pool.ts); 0: berth clients go cold. */
  workers: number;
  /** Start the workers at once (the server was started by berth), not at the first berth client. */
  prestart?: boolean;
}

/** A listening runtime server. */
export class RuntimeServer {
  private readonly server: Server;
  private readonly fingerprint: string;
  /** What this server is and sees, measured as a client measures itself (caller.ts). */
  private readonly self = measureSelf(HELPER_BINARY);
  private connections = 0;
  /**
   * When a connection that was served last began or ended: the idle time runs from there. A
   * caller sent away (another view) does not count, or one calling every minute from another
   * namespace would keep a server alive that it can never use.
   */
  private lastServed = Date.now();
  private idleTimer: NodeJS.Timeout | undefined;
  private closing = false;
  private ino: number | undefined;
  private readonly pool: WorkerPool;

  constructor(private readonly opts: ServerOptions) {
    this.fingerprint = codeFingerprint(opts.watched);
    this.server = createServer((s) => this.accept(s));
    this.pool = new WorkerPool(opts.workers, opts.log);
  }

  /**
   * Listen on the socket. The socket is bound under a temporary name with umask 0177 and renamed
   * into place, so it never appears with looser permissions and a concurrent starter cannot be
   * unlinked half-way. Resolves false when another server already answers there.
   */
  async listen(): Promise<boolean> {
    const path = this.opts.socket;
    mkdirSync(dirname(path), { recursive: true, mode: 0o711 });
    if (await serverAlive(path)) return false;
    const tmp = `${path}.${process.pid}.tmp`;
    rmSync(tmp, { force: true });
    const umask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        this.server.once('error', reject);
        this.server.listen(tmp, () => { this.server.off('error', reject); resolve(); });
      });
    } finally {
      process.umask(umask);
    }
    renameSync(tmp, path);
    this.ino = statSync(path).ino;
    this.armIdle();
    this.opts.log(`listening on ${path}`);
    if (this.opts.prestart) this.pool.fill();
    return true;
  }

  private armIdle(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (this.connections === 0 && !this.closing) {
      const left = Math.max(0, this.lastServed + this.opts.idleMs - Date.now());
      this.idleTimer = setTimeout(() => this.shutdown(`idle for ${this.opts.idleMs} ms`), left);
      this.idleTimer.unref();
    }
  }

  private accept(socket: Socket): void {
    this.connections++;
    this.armIdle();
    let open = true;
    let served = false;
    // Called when the socket closes, or when it was handed to an engine worker: a handed
    // socket is detached from this process without ever emitting 'close' (Node's child_process
    // takes its handle), so without this every berth command would count as open for ever.
    const release = () => {
      if (!open) return;
      open = false;
      this.connections--;
      if (served) this.lastServed = Date.now();
      this.armIdle();
      this.maybeExit();
    };
    socket.once('close', release);
    socket.on('error', () => { /* the client went away: its request finishes regardless */ });
    void this.handle(socket, () => { served = true; this.lastServed = Date.now(); }, release);
  }

  /** `served`: the caller is one this server serves; `release`: the connection is no longer ours. */
  private async handle(socket: Socket, served: () => void, release: () => void): Promise<void> {
    const decoder = new MessageDecoder();
    const hello = await readHello(socket, decoder);
    if (!hello) {
      socket.destroy();
      return;
    }
    const conn = new ClientConnection(socket, decoder);
    const stale = this.closing || codeFingerprint(this.opts.watched) !== this.fingerprint;
    const verdict = judgeCaller(hello.caller, this.self);
    if (verdict.kind === 'cold') {
      // Not "stale" even when stale: a caller's cold path would start a server in its own view.
      this.opts.log(`a caller went cold: ${verdict.reason}`);
      conn.finish('cold');
      if (stale) this.shutdown('code changed on disk');
      return;
    }
    if (verdict.kind === 'other-build') {
      conn.finish('stale');
      this.shutdown(`handing over to a client of another build: ${verdict.reason}`);
      return;
    }
    const req = verdict.kind === 'serve' && hello.request ? parseRequest(hello.request) : undefined;
    if (!req) {
      socket.destroy();
      return;
    }
    served();
    if (stale) {
      conn.finish('stale');
      this.shutdown('code changed on disk');
      return;
    }
    if (req.engine) await this.handEngine(conn, req, socket, release);
    else await serveRequest(conn, req, this.opts.umask);
  }

  /** A berth client: its connection goes to a warm engine worker (or back to the cold path). */
  private async handEngine(conn: ClientConnection, req: Request, socket: Socket, release: () => void): Promise<void> {
    const worker = await this.pool.take();
    if (worker && !socket.destroyed && (await this.pool.hand(worker, req, socket))) release();
    else conn.finish('cold');
  }

  /** Stop listening (removing the socket if it is still ours); exit after the last connection. */
  shutdown(reason: string): void {
    if (this.closing) return;
    this.closing = true;
    clearTimeout(this.idleTimer);
    this.opts.log(`stopping: ${reason}`);
    this.server.close();
    this.pool.close();
    this.unlinkSocket();
    this.maybeExit();
  }

  /** Remove the socket file, unless another server has put its own there since. */
  unlinkSocket(): void {
    try {
      if (statSync(this.opts.socket).ino === this.ino) unlinkSync(this.opts.socket);
    } catch { /* already gone */ }
  }

  private maybeExit(): void {
    if (this.closing && this.connections === 0) this.opts.onExit();
  }
}
