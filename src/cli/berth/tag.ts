/** `berth tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]`: give an image another name. */
import { tagImage } from '../../image/index.js';
import type { Command } from './context.js';
import { imageOptions } from './image-output.js';

export const tag: Command = {
  name: 'tag',
  aliases: ['image tag'],
  usage: 'tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
  summary: 'create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
  warm: () => true,
  flags: [],
  args: [2, 2],
  async run(ctx, p) {
    await tagImage(p.positional[0]!, p.positional[1]!, imageOptions(ctx));
    return 0;
  },
};
