/** `berth-runtime kill [--all] ID [SIGNAL]`: signal the container (default SIGTERM). */
import { bool } from '../args.js';
import { killContainer } from '../../runtime/lifecycle.js';
import type { Command } from './context.js';

export const kill: Command = {
  name: 'kill',
  usage: 'kill [command options] <container-id> [signal]',
  summary: 'kill sends the specified signal (default: SIGTERM) to the container\'s init process',
  flags: [{ name: 'all', aliases: ['a'], type: 'bool', help: 'send the signal to all processes in the container' }],
  args: [1, 2],
  async run(ctx, p) {
    await killContainer(ctx.root, p.positional[0]!, p.positional[1] ?? 'SIGTERM', bool(p, 'all'));
    return 0;
  },
};
