/**
 * `berth container-monitor ID` (internal): the process that watches a detached container; see
 * src/engine/monitor.ts. Started by `start` and `run -d` with the readiness pipe on fd 3.
 */
import { runMonitor } from '../../engine/monitor.js';
import type { Command } from './context.js';

export const monitor: Command = {
  name: 'container-monitor',
  usage: 'container-monitor ID',
  summary: 'watch a detached container (internal)',
  flags: [],
  args: [1, 1],
  hidden: true,
  async run(ctx, p) {
    for (const sig of ['SIGINT', 'SIGHUP', 'SIGTERM', 'SIGPIPE'] as const) process.on(sig, () => {});
    return runMonitor(ctx.paths, p.positional[0]!, 3);
  },
};
