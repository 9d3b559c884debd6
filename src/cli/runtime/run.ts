/**
 * `berth-runtime run [flags] ID`: create + start, then wait for the container and delete it,
 * exiting with the container's status (128+N when killed by signal N). With `-d` it returns
 * once the container runs, leaving it to the caller as `create` does.
 */
import { bool, int, str } from '../args.js';
import { createContainer } from '../../runtime/create.js';
import { deleteContainer, startContainer } from '../../runtime/lifecycle.js';
import type { Command } from './context.js';
import { createFlags } from './create.js';

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

export const run: Command = {
  name: 'run',
  usage: 'run [command options] <container-id>',
  summary: 'create and run a container',
  flags: [...createFlags, { name: 'detach', aliases: ['d'], type: 'bool', help: 'detach from the container\'s process' },
    { name: 'keep', type: 'bool', help: 'do not delete the container after it exits' }],
  args: [1, 1],
  async run(ctx, p) {
    const id = p.positional[0]!;
    const detach = bool(p, 'detach');
    const { session, record } = await createContainer(ctx.root, id, {
      bundle: str(p, 'bundle'),
      consoleSocket: str(p, 'console-socket'),
      pidFile: str(p, 'pid-file'),
      noPivot: bool(p, 'no-pivot'),
      noNewKeyring: bool(p, 'no-new-keyring'),
      preserveFds: int(p, 'preserve-fds'),
      monitor: !detach,
    });
    const forward = (sig: NodeJS.Signals) => {
      try { process.kill(record.pid!, sig); } catch { /* it exited meanwhile */ }
    };
    if (!detach) for (const sig of FORWARDED) process.on(sig, forward);
    try {
      await startContainer(ctx.root, id, (m) => ctx.warn(m));
    } catch (err) {
      await deleteContainer(ctx.root, id, true, (m) => ctx.warn(m));
      throw err;
    }
    if (detach) {
      session.detach();
      return 0;
    }
    // After start the init may still fail (a startContainer hook, the exec itself): its
    // "error" message is the only account of it, so pass it on.
    void (async () => {
      for (let msg = await session.next(); msg; msg = await session.next()) {
        const [kind, ...rest] = msg.map((b) => b.toString());
        if (kind === 'error') process.stderr.write(`berth-runtime: ${rest.join(' ')}\n`);
      }
    })();
    const code = await session.exitCode();
    for (const sig of FORWARDED) process.off(sig, forward);
    if (!bool(p, 'keep')) await deleteContainer(ctx.root, id, true, (m) => ctx.warn(m));
    return code;
  },
};
