/** `berth-runtime state ID`: print the container's state as JSON (runc's format). */
import { containerState } from '../../runtime/lifecycle.js';
import type { Command } from './context.js';

export const state: Command = {
  name: 'state',
  usage: 'state <container-id>',
  summary: 'output the state of a container',
  flags: [],
  args: [1, 1],
  async run(ctx, p) {
    ctx.out(JSON.stringify(await containerState(ctx.root, p.positional[0]!), null, 2) + '\n');
    return 0;
  },
};
