/**
 * `berth kill [-s SIGNAL] CONTAINER...`: send a signal (default KILL) to each container's main
 * process. The outcome of the container then says who killed it.
 */
import { str } from '../args.js';
import { findContainer } from '../../engine/containers.js';
import { killEngineContainer } from '../../engine/launch.js';
import type { Command } from './context.js';
import { eachContainer } from './each.js';

export const kill: Command = {
  name: 'kill',
  aliases: ['container kill'],
  usage: 'kill [OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'kill one or more running containers',
  warm: () => true,
  flags: [{ name: 'signal', aliases: ['s'], type: 'string', help: 'signal to send to the container (default KILL)' }],
  args: [1, -1],
  run(ctx, p) {
    const signal = str(p, 'signal') ?? 'KILL';
    return eachContainer(ctx, p.positional, async (ref) => {
      const rec = await findContainer(ctx.paths, ref);
      await killEngineContainer(ctx.paths, rec.Id, signal, 'berth kill');
    });
  },
};
