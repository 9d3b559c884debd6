/**
 * `berth save [-o FILE] IMAGE...`: write images to a tarball that `docker load`, `podman load`
 * and OCI tools read (an OCI layout with Docker's manifest.json beside it, as Docker 25 writes);
 * to stdout when there is no -o, unless stdout is a terminal.
 */
import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { chmodForCaller, streamToOutput } from '../io.js';
import { str } from '../args.js';
import { tempNameFor } from '../../util/atomic.js';
import { save as saveImages } from '../../image/index.js';
import { BerthError } from '../../util/errors.js';
import type { Command } from './context.js';
import { imageOptions } from './image-output.js';

export const save: Command = {
  name: 'save',
  aliases: ['image save'],
  usage: 'save [OPTIONS] IMAGE [IMAGE...]',
  summary: 'save one or more images to a tar archive (streamed to stdout by default)',
  warm: (p) => str(p, 'output') !== undefined,
  flags: [{ name: 'output', aliases: ['o'], type: 'string', help: 'write to a file, instead of stdout' }],
  args: [1, -1],
  async run(ctx, p) {
    const out = str(p, 'output');
    if (out) {
      const file = ctx.path(out);
      await saveImages(p.positional, file, imageOptions(ctx));
      // The archive is the caller's: the mode its umask gives (this process's may differ).
      chmodForCaller(ctx, file);
      return 0;
    }
    if (ctx.stdout.isTTY) throw new BerthError('EINVALID_ARG', 'cowardly refusing to save to a terminal: use the -o flag or redirect');
    await mkdir(join(ctx.paths.dataRoot, 'tmp'), { recursive: true });
    const tmp = tempNameFor(join(ctx.paths.dataRoot, 'tmp', 'save.tar'));
    try {
      await saveImages(p.positional, tmp, imageOptions(ctx));
      // a reader that goes away (save | head -c0) ends the copy quietly, as in Docker
      await streamToOutput(ctx.stdout, createReadStream(tmp) as AsyncIterable<Buffer>);
    } finally {
      await rm(tmp, { force: true });
    }
    return 0;
  },
};
