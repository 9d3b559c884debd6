/**
 * `berth rm [-f] CONTAINER...`: remove containers; a running one needs -f (killed first).
 */
import { bool } from '../args.js';
import { removeEngineContainer } from '../../engine/containers.js';
import type { Command } from './context.js';
import { eachContainer } from './each.js';

export const rm: Command = {
  name: 'rm',
  aliases: ['container rm', 'container remove'],
  usage: 'rm [OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'remove one or more containers',
  warm: () => true,
  flags: [
    { name: 'force', aliases: ['f'], type: 'bool', help: 'force the removal of a running container (uses SIGKILL)' },
    { name: 'volumes', aliases: ['v'], type: 'bool', help: 'remove the anonymous volumes associated with the container' },
  ],
  args: [1, -1],
  run(ctx, p) {
    return eachContainer(ctx, p.positional, async (ref) => { await removeEngineContainer(ctx.paths, ref, bool(p, 'force'), { volumes: bool(p, 'volumes') }); });
  },
};
