/**
 * `berth commit [-a AUTHOR] [-c CHANGE]... [-m MESSAGE] [-p=false] CONTAINER [REPOSITORY[:TAG]]`:
 * a new image from a container's changes (engine/commit.ts). Prints the new image's id.
 */
import { bool, list, str } from '../args.js';
import { commitContainer } from '../../engine/commit.js';
import type { Command } from './context.js';
import { imageOptions } from './image-output.js';

export const commit: Command = {
  name: 'commit',
  aliases: ['container commit'],
  usage: 'commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]',
  summary: 'create a new image from a container\'s changes',
  warm: () => true,
  flags: [
    { name: 'author', aliases: ['a'], type: 'string', help: 'author (e.g., "John Hannibal Smith <hannibal@a-team.com>")' },
    { name: 'change', aliases: ['c'], type: 'list', help: 'apply Dockerfile instruction to the created image' },
    { name: 'message', aliases: ['m'], type: 'string', help: 'commit message' },
    { name: 'pause', aliases: ['p'], type: 'bool', help: 'pause container during commit (default true; -p=false does not)' },
  ],
  args: [1, 2],
  async run(ctx, p) {
    const img = await commitContainer(ctx.paths, p.positional[0]!, {
      ...(p.positional[1] ? { name: p.positional[1] } : {}), ...(str(p, 'author') ? { author: str(p, 'author') } : {}),
      ...(str(p, 'message') ? { comment: str(p, 'message') } : {}), changes: list(p, 'change'), pause: bool(p, 'pause', true),
    }, imageOptions(ctx));
    ctx.stdout.write(`${img.id}\n`);
    return 0;
  },
};
