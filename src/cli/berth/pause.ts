/**
 * `berth pause CONTAINER...` and `berth unpause CONTAINER...`: freeze and thaw every process of a
 * running container (the cgroup freezer).
 */
import { findContainer } from '../../engine/containers.js';
import { pauseEngineContainer } from '../../engine/control.js';
import type { Command } from './context.js';
import { eachContainer } from './each.js';

export const pause: Command = {
  name: 'pause',
  aliases: ['container pause'],
  usage: 'pause CONTAINER [CONTAINER...]',
  summary: 'pause all processes within one or more containers',
  warm: () => true,
  flags: [],
  args: [1, -1],
  run(ctx, p) {
    return eachContainer(ctx, p.positional, async (ref) => { await pauseEngineContainer(ctx.paths, (await findContainer(ctx.paths, ref)).Id, true); });
  },
};

export const unpause: Command = {
  name: 'unpause',
  aliases: ['container unpause'],
  usage: 'unpause CONTAINER [CONTAINER...]',
  summary: 'unpause all processes within one or more containers',
  warm: () => true,
  flags: [],
  args: [1, -1],
  run(ctx, p) {
    return eachContainer(ctx, p.positional, async (ref) => { await pauseEngineContainer(ctx.paths, (await findContainer(ctx.paths, ref)).Id, false); });
  },
};
