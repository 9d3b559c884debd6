/**
 * `berth inspect [-f TEMPLATE] CONTAINER...`: Docker's inspect document (a JSON array), with
 * Berth's outcome report under `Berth.Report`.
 */
import { str } from '../args.js';
import { findContainer, inspectDocument } from '../../engine/containers.js';
import type { Command } from './context.js';
import { printInspect } from './format.js';

export const inspect: Command = {
  name: 'inspect',
  aliases: ['container inspect'],
  usage: 'inspect [OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'display detailed information on one or more containers',
  warm: () => true,
  flags: [{ name: 'format', aliases: ['f'], type: 'string', help: 'format output using a go template or json' }],
  args: [1, -1],
  async run(ctx, p) {
    return printInspect(ctx, p.positional, async (ref) => inspectDocument(await findContainer(ctx.paths, ref), ctx.paths), str(p, 'format'));
  },
};
