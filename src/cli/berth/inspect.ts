/**
 * `berth inspect [-f TEMPLATE] [--type container|image|network|volume] NAME...`: Docker's inspect
 * documents (a JSON array). As Docker, a name is looked up as a container first, then as an
 * image, a network and a volume; `--type` looks in one place only. A container's document has
 * Berth's outcome report under `Berth.Report`.
 */
import { str } from '../args.js';
import { findContainer, inspectDocument } from '../../engine/containers.js';
import { inspectNetwork } from '../../engine/networks.js';
import { inspectVolume } from '../../engine/volumes.js';
import { BerthError } from '../../util/errors.js';
import type { Command } from './context.js';
import { printInspect } from './format.js';
import { imageInspectDocument } from './image-inspect.js';
import { imageOptions } from './image-output.js';

const TYPES = ['container', 'image', 'network', 'volume'] as const;

export const inspect: Command = {
  name: 'inspect',
  aliases: ['container inspect'],
  usage: 'inspect [OPTIONS] NAME|ID [NAME|ID...]',
  summary: 'return low-level information on containers, images, networks and volumes',
  warm: () => true,
  flags: [
    { name: 'format', aliases: ['f'], type: 'string', help: 'format output using a go template or json' },
    { name: 'type', type: 'string', help: `only look for this type of object (${TYPES.join(', ')})` },
  ],
  args: [1, -1],
  async run(ctx, p) {
    const only = str(p, 'type');
    if (only !== undefined && !(TYPES as readonly string[]).includes(only)) throw new BerthError('EINVALID_ARG', `invalid --type ${JSON.stringify(only)}: use ${TYPES.join(', ')}`);
    const lookups: Record<(typeof TYPES)[number], (ref: string) => Promise<unknown>> = {
      container: async (ref) => inspectDocument(await findContainer(ctx.paths, ref), ctx.paths),
      image: (ref) => imageInspectDocument(ref, imageOptions(ctx)),
      network: (ref) => inspectNetwork(ctx.paths, ref),
      volume: (ref) => inspectVolume(ctx.paths, ref),
    };
    const order = only ? [only as (typeof TYPES)[number]] : TYPES;
    return printInspect(ctx, p.positional, async (ref) => {
      for (const t of order) {
        try {
          return await lookups[t](ref);
        } catch (err) {
          if ((err as BerthError).code !== 'ENOT_FOUND' && (err as BerthError).code !== 'EINVALID_ARG') throw err;
        }
      }
      throw new BerthError('ENOT_FOUND', only ? `no such ${only}: ${ref}` : `no such object: ${ref}`);
    }, str(p, 'format'));
  },
};
