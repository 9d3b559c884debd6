/**
 * A warm engine worker (see pool.ts): a Node process started by the runtime server with berth's
 * code loaded, which runs exactly one berth command for one client and exits. It becomes the
 * caller as far as the command can tell: the caller's working directory, environment, umask and
 * cgroups (for relative `--cgroup-parent`), its output relayed over the connection as "out"/"err"
 * (terminal or not, and its width, as the client saw them), and a foreground container's helper
 * is the client itself ("launch": the container gets the caller's own stdio, and the caller's
 * signals reach it through the helper, as with a spawned one). Commands that read the caller's
 * stdin from Node say so (Command.warm) and are sent back to the cold path.
 */
import { writeSync } from 'node:fs';
import type { Socket } from 'node:net';
import { setCgroupSelf } from '../cgroups/host.js';
import { main, COLD } from '../cli/berth/main.js';
import { loadAll } from '../cli/berth/commands.js';
import { MessageDecoder } from '../runtime/protocol.js';
import { ClientConnection, type Request } from './connection.js';
import { READY } from './pool.js';
import { rehearse } from './rehearse.js';

// Straight to fd 2 (the server's log): process.stderr becomes the client's relay once serving.
const log = (msg: string) => {
  try { writeSync(2, `${new Date().toISOString()} berth engine worker ${process.pid}: ${msg}\n`); } catch { /* no log then */ }
};

/** Make process.stdout or process.stderr a relay to the client, with the client's terminal facts. */
function relay(stream: NodeJS.WriteStream, send: (data: string | Buffer) => void, tty: boolean, columns: number, rows: number): void {
  const write = (chunk: string | Uint8Array, enc?: BufferEncoding | ((err?: Error | null) => void), cb?: (err?: Error | null) => void): boolean => {
    const done = typeof enc === 'function' ? enc : cb;
    send(typeof chunk === 'string' ? (typeof enc === 'string' && enc !== 'utf8' ? Buffer.from(chunk, enc) : chunk) : Buffer.from(chunk));
    if (done) process.nextTick(done);
    return true;
  };
  stream.write = write as typeof stream.write;
  const s = stream as { isTTY?: boolean; columns?: number; rows?: number };
  s.isTTY = tty || undefined;
  if (tty && columns) {
    s.columns = columns;
    s.rows = rows;
  }
}

/** Take on the caller's directory, environment and umask. */
function becomeCaller(req: Request): void {
  const caller = req.engine!;
  process.chdir(req.cwd);
  for (const k of Object.keys(process.env)) delete process.env[k];
  for (const e of caller.env) {
    const i = e.indexOf('=');
    if (i > 0) process.env[e.slice(0, i)] = e.slice(i + 1);
  }
  process.umask(caller.umask);
  setCgroupSelf(req.pid);
}

/** Run the client's command, answer, and exit. */
async function serve(req: Request, socket: Socket): Promise<void> {
  const conn = new ClientConnection(socket, new MessageDecoder());
  // The client left (Ctrl-C on a `logs -f`, the client killed): the command ends at its next
  // wait for something outside (`gone`: events, logs -f, wait, stats, stop -t -1), never in the
  // middle of a change, which it finishes (every such step has a bound of its own); a foreground
  // container not yet started is not started (the launcher refuses). Exiting at once instead
  // could cut a refresh that records a container's end half-way. A client that is the helper of
  // a foreground container is watched by its session, whose end finalizes the container first.
  const gone = new AbortController();
  conn.watch(() => {
    log(`its client went away: the command ends at its next wait, or when its current step is done`);
    gone.abort();
  });
  let code: number;
  try {
    const caller = req.engine!;
    becomeCaller(req);
    relay(process.stdout, (d) => conn.out(d), caller.ttys[1], caller.columns, caller.rows);
    relay(process.stderr, (d) => conn.err(d), caller.ttys[2], caller.columns, caller.rows);
    code = await main(req.argv, { launch: conn.launch, gone: gone.signal });
  } catch (err) {
    conn.err(`berth: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    code = 1;
  }
  if (code === COLD) conn.finish('cold');
  else conn.finish('done', code);
  // The last message is written; exit once it is out (the client exits on it and closes).
  const exit = () => process.exit(code === COLD ? 0 : code);
  if (socket.destroyed) exit();
  socket.once('close', exit);
  setTimeout(exit, 2000);
}

process.on('uncaughtException', (err) => { log(`uncaught exception: ${err?.stack ?? String(err)}`); process.exit(1); });
process.on('unhandledRejection', (err) => { log(`unhandled rejection: ${(err as Error)?.stack ?? String(err)}`); process.exit(1); });

let served = false;
process.on('message', (msg: { request?: Request }, handle: unknown) => {
  if (served || !msg?.request?.engine || !handle) return;
  served = true;
  void serve(msg.request, handle as Socket);
});
// The server went away before giving this worker a client: nothing to do.
process.on('disconnect', () => { if (!served) process.exit(0); });

await loadAll();
await rehearse(log);
process.send?.(READY);
