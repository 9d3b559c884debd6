/** `berth-runtime start ID`: run the user process of a created container. */
import { startContainer } from '../../runtime/lifecycle.js';
import type { Command } from './context.js';

export const start: Command = {
  name: 'start',
  usage: 'start <container-id>',
  summary: 'execute the user defined process in a created container',
  flags: [],
  args: [1, 1],
  async run(ctx, p) {
    await startContainer(ctx.root, p.positional[0]!, (m) => ctx.warn(m));
    return 0;
  },
};
