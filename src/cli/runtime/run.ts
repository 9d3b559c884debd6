/**
 * `berth-runtime run [flags] ID`: create + start, then wait for the container and delete it,
 * exiting with the container's status (128+N when killed by signal N). With `-d` it returns
 * once the container runs, leaving it to the caller as `create` does.
 */
import { bool } from '../args.js';
import { createContainer } from '../../runtime/create.js';
import { deleteContainer } from '../../runtime/lifecycle.js';
import type { Command } from './context.js';
import { createFlags, createOptions, pidFileForCaller } from './create.js';

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
    // Created and started in one step (no exec fifo): an init that fails on the way is
    // create's error, with the helper's account of it.
    const opts = createOptions(ctx, p);
    const { session, record } = await createContainer(ctx.root, id, { ...opts, monitor: !detach, start: true, warn: (m) => ctx.warn(m) });
    pidFileForCaller(ctx, opts);
    // Run directly, this process receives the caller's signals (ctx.signals) and passes them to
    // the init. In the runtime server the monitor is the caller's own berth-runtime process and
    // forwards them (its ctx.signals never fire).
    const forward = (sig: NodeJS.Signals) => {
      try { process.kill(record.pid!, sig); } catch { /* it exited meanwhile */ }
    };
    const unforward = detach ? [] : FORWARDED.map((sig) => ctx.signals.on(sig, forward));
    try {
      if (detach) {
        session.detach();
        return 0;
      }
      // After start the init may still fail (a startContainer hook, the exec itself): its
      // "error" message is the only account of it, so pass it on.
      void (async () => {
        for (let msg = await session.next(); msg; msg = await session.next()) {
          const [kind, ...rest] = msg.map((b) => b.toString());
          if (kind === 'error') ctx.err(`berth-runtime: ${rest.join(' ')}\n`);
        }
      })();
      const code = await session.exitCode();
      if (!bool(p, 'keep')) await deleteContainer(ctx.root, id, true, (m) => ctx.warn(m));
      return code;
    } finally {
      for (const off of unforward) off();
    }
  },
};
