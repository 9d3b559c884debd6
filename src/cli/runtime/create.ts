/** `berth-runtime create [flags] ID`: create a container from a bundle, blocked until `start`. */
import { bool, int, str, type FlagSpec, type Parsed } from '../args.js';
import { createContainer, type CreateOptions } from '../../runtime/create.js';
import { chmodForCaller, containerStdio } from '../io.js';
import type { Command, RuntimeContext } from './context.js';

export const createFlags: FlagSpec[] = [
  { name: 'bundle', aliases: ['b'], type: 'string', help: 'path to the root of the bundle directory (default: current directory)' },
  { name: 'console-socket', type: 'string', help: 'path to an AF_UNIX socket which will receive the pty master' },
  { name: 'pid-file', type: 'string', help: 'file to write the container\'s init pid to' },
  { name: 'no-pivot', type: 'bool', help: 'do not use pivot_root (for a root on ramfs)' },
  { name: 'no-new-keyring', type: 'bool', help: 'do not create a new session keyring' },
  { name: 'preserve-fds', type: 'int', help: 'pass N additional file descriptors to the container (3 .. 3+N-1)' },
];

/** The create options shared by `create` and `run`, paths made absolute against the caller's cwd. */
export function createOptions(ctx: RuntimeContext, p: Parsed): CreateOptions {
  const path = (flag: string) => { const v = str(p, flag); return v === undefined ? undefined : ctx.path(v); };
  return {
    bundle: ctx.path(str(p, 'bundle') ?? '.'),
    consoleSocket: path('console-socket'),
    pidFile: path('pid-file'),
    noPivot: bool(p, 'no-pivot'),
    noNewKeyring: bool(p, 'no-new-keyring'),
    preserveFds: int(p, 'preserve-fds'),
    stdio: containerStdio(ctx, [true, true, true]),
    launch: ctx.launch,
    cgroupOf: ctx.callerPid,
    warn: (m) => ctx.warn(m),
  };
}

/** The `--pid-file` just written gets the caller's umask (this process may have another). */
export function pidFileForCaller(ctx: RuntimeContext, opts: CreateOptions): void {
  if (!opts.pidFile) return;
  try {
    chmodForCaller(ctx, opts.pidFile);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // the caller removed it already
  }
}

export const create: Command = {
  name: 'create',
  usage: 'create [command options] <container-id>',
  summary: 'create a container',
  flags: [...createFlags],
  args: [1, 1],
  async run(ctx, p) {
    const opts = createOptions(ctx, p);
    const { session } = await createContainer(ctx.root, p.positional[0]!, opts);
    pidFileForCaller(ctx, opts);
    session.detach();
    return 0;
  },
};
