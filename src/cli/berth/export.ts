/**
 * `berth export [-o FILE] CONTAINER` (a container's root file system as a tar, without its
 * volumes) and `berth diff CONTAINER` (what it changed: A added, C changed, D deleted), over
 * engine/changes.ts.
 */
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { str } from '../args.js';
import { containerChanges, exportContainer } from '../../engine/changes.js';
import { findContainer } from '../../engine/containers.js';
import { BerthError } from '../../util/errors.js';
import { chmodForCaller, streamToOutput } from '../io.js';
import type { Command } from './context.js';

export const exportCmd: Command = {
  name: 'export',
  aliases: ['container export'],
  usage: 'export [OPTIONS] CONTAINER',
  summary: 'export a container\'s filesystem as a tar archive',
  warm: (p) => str(p, 'output') !== undefined,
  flags: [{ name: 'output', aliases: ['o'], type: 'string', help: 'write to a file, instead of stdout' }],
  args: [1, 1],
  async run(ctx, p) {
    const rec = await findContainer(ctx.paths, p.positional[0]!);
    const out = str(p, 'output');
    if (!out && ctx.stdout.isTTY) throw new BerthError('EINVALID_ARG', 'cowardly refusing to save to a terminal: use the -o flag or redirect');
    const tar = exportContainer(rec);
    try {
      if (out) {
        const file = ctx.path(out);
        await pipeline(Readable.from(tar.stream), createWriteStream(file));
        chmodForCaller(ctx, file);
      } else {
        await streamToOutput(ctx.stdout, tar.stream);
      }
    } finally {
      tar.close();
    }
    return 0;
  },
};

export const diff: Command = {
  name: 'diff',
  aliases: ['container diff'],
  usage: 'diff CONTAINER',
  summary: 'inspect changes to files or directories on a container\'s filesystem',
  warm: () => true,
  flags: [],
  args: [1, 1],
  async run(ctx, p) {
    const rec = await findContainer(ctx.paths, p.positional[0]!);
    const kinds = ['C', 'A', 'D'];
    ctx.stdout.write((await containerChanges(ctx.paths, rec)).map((c) => `${kinds[c.Kind]} ${c.Path}\n`).join(''));
    return 0;
  },
};
