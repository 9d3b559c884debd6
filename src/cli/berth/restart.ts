/**
 * `berth restart [-t SECONDS] CONTAINER...`: stop (when running) and start again, in the
 * background, each container (engine/restart.ts); prints each name as given, like Docker.
 */
import { int } from '../args.js';
import { restartEngineContainer } from '../../engine/restart.js';
import type { Command } from './context.js';
import { eachContainer } from './each.js';

export const restart: Command = {
  name: 'restart',
  aliases: ['container restart'],
  usage: 'restart [OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'restart one or more containers',
  warm: () => true,
  flags: [{ name: 'time', aliases: ['t', 'timeout'], type: 'int', help: 'seconds to wait for stop before killing the container' }],
  args: [1, -1],
  run(ctx, p) {
    return eachContainer(ctx, p.positional, (ref) => restartEngineContainer(ctx.paths, ref, int(p, 'time'), ctx.warn, ctx.caller.cgroupOf, ctx.gone));
  },
};
