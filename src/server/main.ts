/**
 * Entry of the runtime server (dist/src/server/main.js): `node dist/src/server/main.js`. The C
 * client's cold path starts it detached (start.ts); tests and services may run it directly.
 * Environment: BERTH_RUNTIME_SOCKET (default /run/berth/runtime.sock), BERTH_SERVER_IDLE_MS
 * (default 60000), BERTH_SERVER_WORKERS (idle engine workers for berth clients, default 1).
 */
import { idleMs, socketPath, watchedFiles } from './config.js';
import { RuntimeServer } from './server.js';
import { poolSize } from './pool.js';
import { programsFromEnv, usePrograms } from '../util/programs.js';
import { loadAll } from '../cli/runtime/commands.js';

const log = (msg: string) => process.stderr.write(`${new Date().toISOString()} berth-runtime server ${process.pid}: ${msg}\n`);

// One request's failure must not take the others down: an exception that escapes a request (an
// event handler of a helper socket, say) is logged and the server goes on.
process.on('uncaughtException', (err) => log(`uncaught exception: ${err?.stack ?? String(err)}`));
process.on('unhandledRejection', (err) => log(`unhandled rejection: ${(err as Error)?.stack ?? String(err)}`));
// Relative paths come with each request; the server itself holds no directory.
process.chdir('/');

// The server's settings, and the installation's programs (BERTH_HELPER ...), from its own environment.
const env = { ...process.env };
usePrograms(programsFromEnv(env));
const socket = socketPath(env);
const server = new RuntimeServer({
  socket, idleMs: idleMs(env), watched: watchedFiles(env), umask: process.umask(), log, onExit: () => process.exit(0),
  workers: poolSize(env), prestart: env._BERTH_SERVER_FOR === 'berth',
});
delete process.env._BERTH_SERVER_FOR;
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.on(sig, () => {
    server.unlinkSocket();
    log(`stopped by ${sig}`);
    process.exit(0);
  });
}
// Every runtime command loaded before the first request (the cold CLI loads only the one it runs).
await loadAll();
server.listen().then((listening) => {
  if (!listening) {
    log(`another server answers on ${socket}`);
    process.exit(0);
  }
}, (err: Error) => {
  log(`cannot listen on ${socket}: ${err.message}`);
  process.exit(1);
});
