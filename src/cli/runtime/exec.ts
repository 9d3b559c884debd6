/**
 * `berth-runtime exec [flags] ID [COMMAND ARGS...]`: run another process in the container.
 * The process comes from `--process FILE` (an OCI process JSON) or from the arguments, with
 * defaults from the container's own process as runc takes them (env, cwd, user, capabilities).
 */
import { readFileSync } from 'node:fs';
import type { Process } from '../../oci/spec.js';
import { bool, int, list, str } from '../args.js';
import { execInContainer } from '../../runtime/exec.js';
import { openContainer } from '../../runtime/lifecycle.js';
import { BerthError } from '../../util/errors.js';
import { containerStdio } from '../io.js';
import type { Command, RuntimeContext } from './context.js';

export const exec: Command = {
  name: 'exec',
  usage: 'exec [command options] <container-id> <command> [command options]  ||  -p process.json <container-id>',
  summary: 'execute new process inside the container',
  flags: [
    { name: 'console-socket', type: 'string' },
    { name: 'cwd', type: 'string' },
    { name: 'env', aliases: ['e'], type: 'list' },
    { name: 'tty', aliases: ['t'], type: 'bool' },
    { name: 'user', aliases: ['u'], type: 'string' },
    { name: 'additional-gids', aliases: ['g'], type: 'list' },
    { name: 'process', aliases: ['p'], type: 'string' },
    { name: 'detach', aliases: ['d'], type: 'bool' },
    { name: 'pid-file', type: 'string' },
    { name: 'process-label', type: 'string' },
    { name: 'apparmor', type: 'string' },
    { name: 'no-new-privs', type: 'bool' },
    { name: 'cap', aliases: ['c'], type: 'list' },
    { name: 'preserve-fds', type: 'int' },
    { name: 'cgroup', type: 'list' },
    { name: 'ignore-paused', type: 'bool' },
  ],
  args: [1, -1],
  async run(ctx, p) {
    const [id, ...args] = p.positional;
    const proc = await processFor(ctx, id!, p, args);
    const path = (flag: string) => { const v = str(p, flag); return v === undefined ? undefined : ctx.path(v); };
    return execInContainer(ctx.root, id!, {
      process: proc,
      detach: bool(p, 'detach'),
      pidFile: path('pid-file'),
      consoleSocket: path('console-socket'),
      preserveFds: int(p, 'preserve-fds'),
      cgroups: list(p, 'cgroup'),
      stdio: containerStdio(ctx, [true, true, true]),
      launch: ctx.launch,
    });
  },
};

async function processFor(ctx: RuntimeContext, id: string, p: Parameters<Command['run']>[1], args: string[]): Promise<Process> {
  const file = str(p, 'process');
  if (file) {
    try {
      return JSON.parse(readFileSync(ctx.path(file), 'utf8')) as Process;
    } catch (err) {
      throw new BerthError('EINVALID_ARG', `--process ${file}: ${(err as Error).message}`);
    }
  }
  if (!args.length) throw new BerthError('EINVALID_ARG', 'exec needs a command, or --process FILE');
  const c = await openContainer(ctx.root, id);
  const base = c.record.spec.process!;
  c.release();
  const proc: Process = structuredClone(base);
  proc.args = args;
  proc.terminal = bool(p, 'tty');
  const cwd = str(p, 'cwd');
  if (cwd) proc.cwd = cwd;
  proc.env = [...(base.env ?? []), ...list(p, 'env')];
  const user = str(p, 'user');
  if (user) {
    const m = /^(\d+)(?::(\d+))?$/.exec(user);
    if (!m) throw new BerthError('EINVALID_ARG', `--user ${JSON.stringify(user)} must be UID[:GID] (numbers)`);
    proc.user = { ...proc.user, uid: Number(m[1]), gid: Number(m[2] ?? 0) };
  }
  const gids = list(p, 'additional-gids').map(Number);
  if (gids.length) proc.user.additionalGids = gids;
  if (bool(p, 'no-new-privs')) proc.noNewPrivileges = true;
  const caps = list(p, 'cap');
  if (caps.length) {
    const c2 = (proc.capabilities ??= {});
    for (const set of ['bounding', 'effective', 'permitted', 'ambient'] as const) {
      c2[set] = [...new Set([...(c2[set] ?? []), ...caps])];
    }
  }
  return proc;
}
