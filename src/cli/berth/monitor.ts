/**
 * `berth container-cleanup ID` (internal): what a detached container's monitor (the native
 * helper) execs once it has written the exit file — record the outcome, delete the runtime
 * container, apply --rm and --restart (src/engine/reap.ts). Short-lived: it runs only at exit,
 * and, as `container-cleanup ID restart`, once a restart's back-off has passed.
 */
import { reapExited, restartNow } from '../../engine/reap.js';
import type { Command } from './context.js';

export const monitor: Command = {
  name: 'container-cleanup',
  usage: 'container-cleanup ID [restart]',
  summary: 'record how a detached container ended (internal)',
  flags: [],
  args: [1, 2],
  hidden: true,
  async run(ctx, p) {
    // It must finish even if the terminal the container was started from goes away. (The
    // monitor execs us with an empty environment: the tools a restart runs, mkfifo, are found
    // on a fixed PATH, engine/monitor.ts.)
    const offs = (['SIGINT', 'SIGHUP', 'SIGPIPE'] as const).map((sig) => ctx.signals.on(sig, () => {}));
    try {
      // `restart`: exec'd by the restart back-off's waiter (berth-helper delay-exec) once it slept.
      if (p.positional[1] === 'restart') await restartNow(ctx.paths, p.positional[0]!, () => {});
      else await reapExited(ctx.paths, p.positional[0]!, () => {});
    } finally {
      for (const off of offs) off();
    }
    return 0;
  },
};
