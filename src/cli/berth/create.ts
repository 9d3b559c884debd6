/**
 * `berth create [OPTIONS] [IMAGE|host] [--] COMMAND [ARG...]`: create a container (checked, named,
 * root filesystem and spec ready) without starting it; prints its id.
 */
import { createEngineContainer } from '../../engine/create.js';
import { requestFromFlags } from '../../engine/flags.js';
import { pullOutput } from './image-output.js';
import type { Command } from './context.js';
import { CREATE_FLAGS, imageAndCommand } from './run-flags.js';

export const create: Command = {
  name: 'create',
  aliases: ['container create'],
  usage: 'create [OPTIONS] [IMAGE|host] [--] COMMAND [ARG...]',
  summary: 'create a new container',
  warm: () => true,
  flags: [...CREATE_FLAGS, { name: 'report', type: 'bool', hidden: true }],
  args: [0, -1],
  stopAtPositional: true,
  async run(ctx, p) {
    const { image, cmd } = imageAndCommand(ctx.argv, p);
    const rec = await createEngineContainer(ctx.paths, requestFromFlags(p.flags, image, cmd, ctx), ctx.warn, pullOutput(ctx.stderr), ctx.caller);
    ctx.stdout.write(`${rec.Id}\n`);
    return 0;
  },
};
