/**
 * `berth rename CONTAINER NEW_NAME` and `berth port CONTAINER [PRIVATE_PORT[/PROTO]]` (the
 * published ports of a running container, as Docker prints them; none when it is not running).
 */
import { findContainer } from '../../engine/containers.js';
import { publishedPorts } from '../../engine/networking.js';
import { formatPortLines, formatPortQuery } from '../../network/ports.js';
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
    const rec = await findContainer(ctx.paths, p.positional[0]!);
    const ports = rec.State.Running ? publishedPorts(rec) : [];
    const lines = p.positional[1] ? formatPortQuery(ports, p.positional[1], p.positional[0]!) : formatPortLines(ports);
    ctx.stdout.write(lines.map((l) => `${l}\n`).join(''));
    return 0;
  },
};
