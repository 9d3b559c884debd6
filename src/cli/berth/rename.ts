/**
 * `berth rename CONTAINER NEW_NAME` and `berth port CONTAINER [PRIVATE_PORT]` (no published ports
 * until bridge networking exists: it prints nothing, as Docker does for a container without any).
 */
import { findContainer } from '../../engine/containers.js';
import { renameEngineContainer } from '../../engine/control.js';
import type { Command } from './context.js';

export const rename: Command = {
  name: 'rename',
  aliases: ['container rename'],
  usage: 'rename CONTAINER NEW_NAME',
  summary: 'rename a container',
  warm: () => true,
  flags: [],
  args: [2, 2],
  async run(ctx, p) {
    const rec = await findContainer(ctx.paths, p.positional[0]!);
    await renameEngineContainer(ctx.paths, rec.Id, p.positional[1]!);
    return 0;
  },
};

export const port: Command = {
  name: 'port',
  aliases: ['container port'],
  usage: 'port CONTAINER [PRIVATE_PORT[/PROTO]]',
  summary: 'list port mappings or a specific mapping for the container',
  warm: () => true,
  flags: [],
  args: [1, 2],
  async run(ctx, p) {
    await findContainer(ctx.paths, p.positional[0]!);
    if (p.positional[1]) {
      ctx.stderr.write(`berth: no public port '${p.positional[1]}' published for ${p.positional[0]}\n`);
      return 1;
    }
    return 0;
  },
};
