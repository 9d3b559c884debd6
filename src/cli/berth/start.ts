/**
 * `berth start CONTAINER...`: start created or stopped containers in the background (each gets a
 * monitor that records how it ends). Prints each name as given, like Docker.
 */
import { findContainer } from '../../engine/containers.js';
import { startDetached } from '../../engine/monitor.js';
import type { Command } from './context.js';
import { eachContainer } from './each.js';

export const start: Command = {
  name: 'start',
  aliases: ['container start'],
  usage: 'start CONTAINER [CONTAINER...]',
  summary: 'start one or more stopped containers',
  flags: [],
  args: [1, -1],
  run(ctx, p) {
    return eachContainer(p.positional, async (ref) => {
      const rec = await findContainer(ctx.paths, ref);
      if (!rec.State.Running) await startDetached(ctx.paths, rec.Id);
    });
  },
};
