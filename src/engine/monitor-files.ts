/**
 * The files and command a container's monitor (monitor.ts, native/monitor.c) is given: the stdin
 * fifo `berth attach` writes to, the winsize file, and the cleanup command it execs at the
 * container's exit. Used by the foreground launch (launch.ts) as well, whose helper becomes a
 * detached monitor when the user detaches.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, openSync, rmSync } from 'node:fs';
import { engineNetnsPin } from '../network/attach.js';
import { isOwnNetns } from '../network/netns.js';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BerthError } from '../util/errors.js';
import type { EngineStore, EnginePaths } from './store.js';

/** Where system tools (mkfifo) are looked up: a fixed PATH, not a caller's. */
export const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** util-linux's nsenter (the monitor execs it by path: no PATH search there). */
const NSENTER = '/usr/bin/nsenter';

/** The berth CLI entry, exec'd by the monitor as the cleanup command. */
const BERTH_BIN = fileURLToPath(new URL('../../../bin/berth.js', import.meta.url));

/** The command the monitor execs once the exit file is written. */
export function cleanupCommand(paths: EnginePaths, id: string): string[] {
  const cmd = [process.execPath, BERTH_BIN, '--data-root', paths.dataRoot, '--root', paths.runtimeRoot, 'container-cleanup', id];
  // The monitor joined the container's network namespace: with bridge networks in use, the
  // cleanup enters the engine's own again (pinned at create, network/netns.ts), where the bridge,
  // rules and forwards it undoes live.
  const pin = engineNetnsPin({ runDir: join(paths.runtimeRoot, '.network') });
  return existsSync(NSENTER) && isOwnNetns(pin) ? [NSENTER, `--net=${pin}`, '--', ...cmd] : cmd;
}

/** Make the stdin fifo for a foreground `-it` run a detach may turn into a detached one; returns its path. */
export function prepareStdinFifo(path: string): string {
  makeStdinFifo(path);
  return path;
}

/** A fifo in the container's directory that `berth attach` writes to (made anew at each start). */
export function makeStdinFifo(path: string): void {
  rmSync(path, { force: true });
  try {
    execFileSync('mkfifo', ['-m', '600', path], { stdio: 'ignore', env: { PATH: SYSTEM_PATH } });
  } catch (err) {
    throw new BerthError('EHELPER', `cannot create the stdin fifo ${path}: ${(err as Error).message}`);
  }
}

/**
 * The stdin of a `-i -t` container: the fifo, opened read-write and handed to the monitor, which
 * feeds it into the pty; it never reads end-of-file when an attached writer goes away. Without a
 * terminal the monitor reads the fifo itself (`stdin-fifo`, native/attach.c) and feeds a pipe,
 * which it closes when an attached client's stdin ends if the container has StdinOnce.
 */
export function openStdinFifo(path: string): number {
  makeStdinFifo(path);
  return openSync(path, 'r+');
}

/** Where `berth attach` writes its terminal's size for the monitor ("<rows> <cols>"). */
export function winsizePath(store: EngineStore, id: string): string {
  return join(store.dir(id), 'winsize');
}
