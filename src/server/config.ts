/**
 * Where the runtime server listens and what it watches: the socket path, the idle timeout, and
 * the files whose change makes a running server stale (its code is no longer the checkout's).
 */
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Env } from '../util/env.js';

/** The default socket: next to the default state root, like runc's /run/runc. */
export const DEFAULT_SOCKET = '/run/berth/runtime.sock';

/** The server's socket: `BERTH_RUNTIME_SOCKET` of `env` (the server's, or its starter's), or /run/berth/runtime.sock. */
export function socketPath(env: Env): string {
  return env.BERTH_RUNTIME_SOCKET || DEFAULT_SOCKET;
}

/** How long an idle server (no connection, no request in flight) stays: `BERTH_SERVER_IDLE_MS`, default 60 s. */
export function idleMs(env: Env): number {
  const v = Number(env.BERTH_SERVER_IDLE_MS);
  return Number.isFinite(v) && v > 0 ? v : 60_000;
}

/** The checkout this module belongs to (dist/src/server/ → the repository). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** The server's entry script. */
export const serverEntry = join(repoRoot, 'dist/src/server/main.js');

/** The log of a server started by the cold path: next to its socket. */
export function serverLogPath(socket: string): string {
  return join(dirname(socket), 'runtime-server.log');
}

/**
 * This installation's helper binary. The clients (native/build/berth-runtime and berth) are hard
 * links of it, so its (st_dev, st_ino) is the build identity a client sends (caller.ts).
 */
export const HELPER_BINARY = join(repoRoot, 'native/build/berth-helper');

/**
 * The files that make the server's code: the CLIs' entries (tsc rewrites them on every build) and
 * the helper binary (the clients are hard links of it). Their mtimes are the server's fingerprint.
 */
export const CODE_FILES = [
  join(repoRoot, 'dist/src/cli/runtime/main.js'), join(repoRoot, 'dist/src/cli/berth/main.js'), HELPER_BINARY,
];

/**
 * CODE_FILES plus the paths in `BERTH_SERVER_WATCH` (colon separated): more files whose change
 * makes the server stale (a test's own file, so it need not touch the checkout's).
 */
export function watchedFiles(env: Env): string[] {
  return [...CODE_FILES, ...(env.BERTH_SERVER_WATCH ?? '').split(':').filter((f) => f !== '')];
}

/** The mtimes of the files `watched` (0 for a missing file), as one comparable string. */
export function codeFingerprint(watched: string[]): string {
  return watched.map((f) => {
    try { return String(statSync(f).mtimeMs); } catch { return '0'; }
  }).join(' ');
}
