/**
 * `berth container prune [-f]`: remove every stopped container (asks first unless -f, like Docker).
 */
import { bool } from '../args.js';
import { pruneContainers } from '../../engine/control.js';
import type { Command } from './context.js';
import { confirm } from './options.js';

export const prune: Command = {
  name: 'container prune',
  aliases: ['container prune'],
  usage: 'container prune [OPTIONS]',
  summary: 'remove all stopped containers',
  warm: (p) => bool(p, 'force'),
  flags: [{ name: 'force', aliases: ['f'], type: 'bool', help: 'do not prompt for confirmation' }],
  args: [0, 0],
  async run(ctx, p) {
    if (!bool(p, 'force')) {
      if (!(await confirm(ctx, 'This will remove all stopped containers.'))) return 0;
    }
    const ids = await pruneContainers(ctx.paths);
    if (ids.length) ctx.stdout.write(`Deleted Containers:\n${ids.map((id) => `${id}\n`).join('')}\n`);
    ctx.stdout.write('Total reclaimed space: 0B\n');
    return 0;
  },
};
