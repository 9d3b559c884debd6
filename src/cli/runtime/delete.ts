/** `berth-runtime delete [--force] ID`: remove a stopped container (or kill it first with --force). */
import { bool } from '../args.js';
import { deleteContainer } from '../../runtime/lifecycle.js';
import type { Command } from './context.js';

export const del: Command = {
  name: 'delete',
  usage: 'delete [command options] <container-id>',
  summary: 'delete any resources held by the container',
  flags: [{ name: 'force', aliases: ['f'], type: 'bool', help: 'forcibly delete the container if it is still running (uses SIGKILL)' }],
  args: [1, 1],
  async run(ctx, p) {
    await deleteContainer(ctx.root, p.positional[0]!, bool(p, 'force'), (m) => ctx.warn(m));
    return 0;
  },
};
