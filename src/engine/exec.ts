/**
 * `exec`: run another process in a running container, with the container's own security settings
 * (capabilities, seccomp, no-new-privileges, rlimits from its spec) and Docker's exec options on
 * top: the command, extra environment, another user, another working directory.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Process, Spec } from '../oci/spec.js';
import { execInContainer } from '../runtime/exec.js';
import type { HelperLauncher, HelperOptions } from '../native/helper-session.js';
import { BerthError } from '../util/errors.js';
import { appendEvent } from './events.js';
import { mergeEnv } from './spec.js';
import { EngineStore, type EnginePaths, type EngineRecord } from './store.js';
import { resolveUser } from './user.js';

/** What to run. */
export interface ExecRequest {
  cmd: string[];
  /** KEY=VALUE entries added to (and overriding) the container's environment. */
  env?: string[];
  /** name|uid[:group|gid], resolved in the container's /etc (default: the container's user). */
  user?: string;
  /** Absolute working directory (default: the container's). */
  workdir?: string;
  /** Start it and return at once (exit code 0). */
  detach?: boolean;
  /** -t: a pty, proxied to the caller's terminal by the helper (foreground only). */
  tty?: boolean;
  /** With -t: the caller's terminal size, the pty's first. */
  consoleSize?: { rows: number; columns: number };
  /** With -t: where later sizes are written before the helper gets SIGWINCH (the Engine API's exec resize). */
  winsizeFile?: string;
  stdio: HelperOptions['stdio'];
  /** How to get the helper (default: spawn it); in the warm server the berth client is the helper. */
  launch?: HelperLauncher;
}

/** The exec'd process: the container's process with the request's changes. */
export function execProcess(spec: Spec, rec: EngineRecord, req: Omit<ExecRequest, 'stdio' | 'detach' | 'launch'>): Process {
  const base = spec.process;
  if (!base) throw new BerthError('EINVALID_CONFIG', `container ${rec.Name} has no process in its bundle`);
  if (!req.cmd.length) throw new BerthError('EINVALID_ARG', 'no command specified: berth exec CONTAINER COMMAND [ARG...]');
  if (req.workdir && !req.workdir.startsWith('/')) {
    throw new BerthError('EINVALID_ARG', `invalid --workdir ${JSON.stringify(req.workdir)}: the working directory must be an absolute path`);
  }
  const proc: Process = { ...base, terminal: req.tty === true, args: [...req.cmd], env: mergeEnv(base.env ?? [], req.env ?? []), cwd: req.workdir || base.cwd };
  if (proc.terminal && req.consoleSize?.columns) proc.consoleSize = { height: req.consoleSize.rows, width: req.consoleSize.columns };
  else delete proc.consoleSize;
  if (proc.terminal && !proc.env?.some((e) => e.startsWith('TERM='))) proc.env = mergeEnv(proc.env ?? [], ['TERM=xterm']);
  if (req.user) {
    // A host container's /etc is the host's; an image's or a --rootfs's is under its root.
    const u = resolveUser(req.user, rec.Config.Image === 'host' ? '/' : rec.RootPath);
    proc.user = { uid: u.uid, gid: u.gid, ...(u.additionalGids.length ? { additionalGids: u.additionalGids } : {}) };
    if (!req.env?.some((e) => e.startsWith('HOME='))) proc.env = mergeEnv(proc.env ?? [], [`HOME=${u.home}`]);
  }
  return proc;
}

/** Run `req` in container `rec`; resolves with its exit code (0 at once when detached). */
export async function execEngine(paths: EnginePaths, rec: EngineRecord, req: ExecRequest): Promise<number> {
  if (!rec.State.Running) throw new BerthError('EBAD_STATE', `container ${rec.Id} is not running`);
  if (rec.State.Paused) throw new BerthError('EBAD_STATE', `container ${rec.Id} is paused, unpause the container before exec`);
  const spec = JSON.parse(readFileSync(join(new EngineStore(paths).dir(rec.Id), 'bundle', 'config.json'), 'utf8')) as Spec;
  const proc = execProcess(spec, rec, req);
  appendEvent(paths, rec, 'exec_create', { execCommand: req.cmd.join(' ') });
  appendEvent(paths, rec, 'exec_start', { execCommand: req.cmd.join(' ') });
  return execInContainer(paths.runtimeRoot, rec.Id, { process: proc, detach: req.detach, stdio: req.stdio, launch: req.launch, ...(req.winsizeFile ? { winsizeFile: req.winsizeFile } : {}) });
}
