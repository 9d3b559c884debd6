/**
 * Detached containers (`start`, `run -d`). Someone must be there when the container exits, to
 * read its exit status and its cgroup's counters before the cgroup is removed; with no daemon,
 * that is a small per-container monitor process (Podman's conmon plays this part). The monitor is
 * `berth container-monitor ID`, started in its own session: it launches the container with its
 * stdout and stderr appended to console.log, tells the starting command "ok" (or the error) on
 * fd 3, waits, records the outcome and exits.
 *
 * Interface note: the native helper already stays as the container's parent in monitor mode; once
 * it can write the exit status to a file, the helper alone can be the monitor and this Node
 * process goes away (DESIGN.md: no Node process resident per container).
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BerthError } from '../util/errors.js';
import { launch } from './launch.js';
import { EngineStore, type EnginePaths } from './store.js';

/** The berth CLI entry, used to start the monitor. */
const BERTH_BIN = fileURLToPath(new URL('../../../bin/berth.js', import.meta.url));

/** In the monitor process: launch, report readiness on `readyFd`, wait, finalize. */
export async function runMonitor(paths: EnginePaths, id: string, readyFd: number): Promise<number> {
  const store = new EngineStore(paths);
  const log = openSync(join(store.dir(id), 'console.log'), 'a', 0o640);
  let launched;
  try {
    launched = await launch(paths, id, { stdio: ['ignore', log, log], warn: (m) => process.stderr.write(`warning: ${m}\n`) });
  } catch (err) {
    writeSync(readyFd, `error ${(err as Error).message}\n`);
    closeSync(readyFd);
    return 1;
  } finally {
    closeSync(log);
  }
  writeSync(readyFd, 'ok\n');
  closeSync(readyFd);
  const report = await launched.exited;
  return report.exitCode;
}

/** Start a created or exited container in the background, through a monitor. */
export function startDetached(paths: EnginePaths, id: string): Promise<void> {
  const store = new EngineStore(paths);
  const errLog = openSync(join(store.dir(id), 'monitor.log'), 'a', 0o640);
  const child = spawn(process.execPath, [BERTH_BIN, '--data-root', paths.dataRoot, '--root', paths.runtimeRoot, 'container-monitor', id], {
    detached: true, stdio: ['ignore', errLog, errLog, 'pipe'],
  });
  closeSync(errLog);
  return new Promise((resolve, reject) => {
    let text = '';
    const ready = child.stdio[3]!;
    ready.on('data', (d: Buffer) => { text += d.toString(); });
    ready.on('close', () => {
      child.unref();
      const line = text.split('\n')[0] ?? '';
      if (line === 'ok') resolve();
      else if (line.startsWith('error ')) reject(new BerthError('EHELPER', line.slice(6)));
      else reject(new BerthError('EHELPER', `the monitor of container ${id.slice(0, 12)} exited before the container started: see ${join(store.dir(id), 'monitor.log')}`));
    });
    child.on('error', (err) => reject(new BerthError('EHELPER', `cannot start the monitor: ${err.message}`)));
  });
}
