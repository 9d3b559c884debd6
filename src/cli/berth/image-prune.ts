/**
 * `berth image prune [-a] [-f]`: remove dangling images (no name, used by no container; with -a,
 * every image no container uses), then the blobs no image refers to and the unpacked layers no
 * image and no container root filesystem uses. Prints what went and the space reclaimed.
 */
import { bool } from '../args.js';
import { pruneImages } from '../../engine/df.js';
import type { Command } from './context.js';
import { humanSize, imageOptions } from './image-output.js';

export const imagePrune: Command = {
  name: 'image prune',
  aliases: ['image prune'],
  usage: 'image prune [OPTIONS]',
  summary: 'remove unused images and the data only they used',
  warm: () => true,
  flags: [
    { name: 'all', aliases: ['a'], type: 'bool', help: 'remove all images not used by a container, not only dangling ones' },
    { name: 'force', aliases: ['f'], type: 'bool', help: 'do not prompt for confirmation (berth never prompts)' },
  ],
  args: [0, 0],
  async run(ctx, p) {
    const { deleted, layers: deletedLayers, bytes: reclaimed } = await pruneImages(ctx.paths, imageOptions(ctx), bool(p, 'all'));
    if (deleted.length) ctx.stdout.write(`Deleted Images:\n${deleted.map((l) => `${l}\n`).join('')}\n`);
    if (deletedLayers.length) ctx.stdout.write(`Deleted Layers:\n${deletedLayers.map((l) => `${l}\n`).join('')}\n`);
    ctx.stdout.write(`Total reclaimed space: ${humanSize(reclaimed)}\n`);
    return 0;
  },
};
