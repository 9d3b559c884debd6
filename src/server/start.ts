/**
 * Starting the runtime server for next time, from the cold path: when the C client found no
 * server it runs `node bin/berth-runtime.js` with _BERTH_FROM_CLIENT=1, and that process starts
 * one in the background (own session, stdio to the log next to the socket) before it runs the
 * command itself. BERTH_RUNTIME_SERVER=0 turns this off (and makes the client skip the server).
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { serverEntry, serverLogPath, socketPath } from './config.js';
import type { Env } from '../util/env.js';

/**
 * Start a detached runtime server unless disabled; never throws (the command must go on).
 * `env` is the cold command's (the server gets it: its socket, its settings). `forBerth`:
 * started by berth's cold path, so the server starts its engine worker at once.
 */
export function startServerDetached(processEnv: Env, forBerth = false): void {
  if (processEnv.BERTH_RUNTIME_SERVER === '0') return;
  // The socket is root's (/run/berth): another user's server could not be reached anyway.
  if (process.getuid?.() !== 0) return;
  const socket = socketPath(processEnv);
  let log: number | 'ignore' = 'ignore';
  try {
    mkdirSync(dirname(socket), { recursive: true, mode: 0o711 });
    log = openSync(serverLogPath(socket), 'a', 0o600);
  } catch { /* no log then */ }
  try {
    const env: Record<string, string | undefined> = { ...processEnv };
    delete env._BERTH_FROM_CLIENT;
    if (forBerth) env._BERTH_SERVER_FOR = 'berth';
    const child = spawn(process.execPath, [serverEntry], { detached: true, stdio: ['ignore', log, log], env, cwd: '/' });
    child.on('error', () => { /* the command goes on cold */ });
    child.unref();
  } catch { /* the command goes on cold */ }
  if (typeof log === 'number') closeSync(log);
}
