/**
 * A warm engine worker (see pool.ts): a Node process started by the runtime server with berth's
 * code loaded, which runs one berth command for one client and exits. It runs the command for
 * the caller without becoming it: the command gets a CommandIO (src/cli/io.ts) made from the
 * request — the caller's working directory, environment, umask and cgroups (for a relative
 * `--cgroup-parent`), its output relayed over the connection as "out"/"err" (terminal or not, and
 * its width, as the client saw them), and the client itself as a foreground container's helper
 * ("launch": the container gets the caller's own stdio, and the caller's signals reach it through
 * the helper, as with a spawned one). Nothing of the process is changed for the caller (no chdir,
 * environment, umask, stdout or cgroup of its own), so one process could serve several commands
 * at once (test/integration/engine-io.test.ts); the pool still gives each client a fresh worker.
 * Commands that read the caller's stdin from Node say so (Command.warm) and are sent back to the
 * cold path.
 */
import { writeSync } from 'node:fs';
import type { Socket } from 'node:net';
import { noInput, processIO, processSignals, relayOutput, type CommandIO } from '../cli/io.js';
import { main, COLD } from '../cli/berth/main.js';
import { loadAll } from '../cli/berth/commands.js';
import { MessageDecoder } from '../native/protocol.js';
import { programsFromEnv, usePrograms } from '../util/programs.js';
import { ClientConnection, type Request } from './connection.js';
import { READY } from './pool.js';
import { rehearse } from './rehearse.js';

// Straight to fd 2 (the server's log): a command's output goes to its client.
const log = (msg: string) => {
  try { writeSync(2, `${new Date().toISOString()} berth engine worker ${process.pid}: ${msg}\n`); } catch { /* no log then */ }
};

/**
 * The client's caller as a CommandIO: its directory, environment, umask and cgroups (its pid),
 * its output relayed over the connection with its terminal's facts, its client as the helper of
 * a foreground container. Nothing of this process changes: the command takes all of it from here.
 */
export function callerIO(req: Request, conn: ClientConnection, gone: AbortSignal): CommandIO {
  const caller = req.engine!;
  const env: Record<string, string> = {};
  for (const e of caller.env) {
    const i = e.indexOf('=');
    if (i > 0) env[e.slice(0, i)] = e.slice(i + 1);
  }
  const term = (fd: 1 | 2) => ({ isTTY: caller.ttys[fd], columns: caller.columns, rows: caller.rows });
  return {
    cwd: req.cwd, env, umask: caller.umask,
    // Commands that read the caller's stdin in Node run cold (Command.warm); a container's stdin
    // is the client's own (launch).
    stdin: noInput(),
    stdout: relayOutput((d) => conn.out(d), term(1)),
    stderr: relayOutput((d) => conn.err(d), term(2)),
    callerPid: req.pid,
    // The caller's signals reach its client (the helper); this process's own, should any come,
    // go to the command as before: it is the only one here.
    signals: processSignals,
    launch: conn.launch,
    served: true,
    gone,
  };
}

/** Run the client's command, answer, and exit. */
async function serve(req: Request, socket: Socket): Promise<void> {
  // Which worker serves which client (its pid), for whoever reads the log; never the arguments,
  // which may hold a password (`login -p`).
  log(`serves client ${req.pid}`);
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
    code = await main(req.argv, callerIO(req, conn, gone.signal));
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

// The installation's programs come from this process's environment (the server's), once.
usePrograms(programsFromEnv(process.env));
await loadAll();
await rehearse(log, processIO());
process.send?.(READY);
