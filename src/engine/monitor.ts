/**
 * Detached containers (`start`, `run -d`). Someone must be there when the container exits: to
 * reap it, to keep its output, and to record the exit status before anything removes the cgroup
 * whose counters tell an OOM kill apart. With no daemon that is a per-container monitor (Podman's
 * conmon plays this part); in Berth it is the native helper itself, which already stays as the
 * container's parent in monitor mode: with the `daemon`, `log-file`, `exit-file` and `exit-exec`
 * parent ops (native/monitor.c) it leaves the command's session, writes the container's stdout
 * and stderr to `<id>-json.log` as Docker's json-file lines, writes `exit.json` when the init
 * exits and then becomes `berth container-cleanup ID` — a short-lived Node process that reads the
 * counters, records the outcome, deletes the runtime container and applies --rm and --restart
 * (reap.ts). No Node process stays resident while the container runs, nor while a restart policy
 * waits out its back-off (a sleeping `berth-helper delay-exec` does, see reap.ts). With -t the monitor holds
 * the pty master instead of pipes (its output logged as stdout, the -i fifo fed into it).
 */
import { closeSync, rmSync } from 'node:fs';
import type { HelperOptions } from '../native/helper-session.js';
import type { Op } from '../runtime/plan.js';
import { BerthError } from '../util/errors.js';
import { startRuntime } from './launch.js';
import { cleanupCommand, makeStdinFifo, openStdinFifo, winsizePath } from './monitor-files.js';
import { EngineStore, type EnginePaths, type EngineRecord } from './store.js';

/**
 * Start a created or exited container in the background, watched by the native helper.
 * `cgroupOf`: the caller's pid, below whose cgroups a relative --cgroup-parent goes (default: this process's).
 */
export async function startDetached(paths: EnginePaths, id: string, warn: (msg: string) => void = () => {},
  onlyIf?: (r: EngineRecord) => boolean, cgroupOf?: number): Promise<void> {
  const store = new EngineStore(paths);
  const rec = store.load(id);
  if (!rec) throw new BerthError('ENOT_FOUND', `no such container: ${id}`);
  rmSync(store.exitPath(id), { force: true });
  const stdinFd = rec.Config.OpenStdin && rec.Config.Tty ? openStdinFifo(store.stdinPath(id)) : undefined;
  const stdio: HelperOptions['stdio'] = [stdinFd ?? 'ignore', 'ignore', 'ignore'];
  const attachOps: Op[] = [];
  if (rec.Config.OpenStdin && !rec.Config.Tty) {
    makeStdinFifo(store.stdinPath(id));
    attachOps.push({ op: 'stdin-fifo', path: store.stdinPath(id), once: rec.Config.StdinOnce === true });
  }
  if (rec.Config.Tty) attachOps.push({ op: 'winsize-file', path: winsizePath(store, id) });
  try {
    const { created } = await startRuntime(paths, id, {
      stdio, monitor: 'helper', warn, onlyIf, cgroupOf,
      parentOps: [
        { op: 'daemon' },
        { op: 'log-file', path: store.logPath(id) },
        { op: 'exit-file', path: store.exitPath(id) },
        { op: 'exit-exec', args: cleanupCommand(paths, id) },
        ...attachOps,
      ],
    });
    created.session.detach();
  } finally {
    if (stdinFd !== undefined) closeSync(stdinFd);
  }
}
