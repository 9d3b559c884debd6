/**
 * `berth import [-c CHANGE]... [-m MESSAGE] FILE|- [REPOSITORY[:TAG]]`: make a one-layer image
 * from a root filesystem tarball (gzip, zstd or plain; `-` reads stdin). `--change` takes the
 * Dockerfile instructions Docker's import takes: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL,
 * STOPSIGNAL, USER, VOLUME, WORKDIR. Prints the new image id.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { list } from '../args.js';
import { tempNameFor } from '../../util/atomic.js';
import { importRootfs } from '../../image/index.js';
import { applyChange, type ImageRunConfig } from '../../engine/image-config.js';
import type { Command } from './context.js';
import { imageOptions } from './image-output.js';

export const importCmd: Command = {
  name: 'import',
  aliases: ['image import'],
  usage: 'import [OPTIONS] FILE|- [REPOSITORY[:TAG]]',
  summary: 'import the contents from a tarball to create a filesystem image',
  warm: (p) => p.positional[0] !== '-',
  flags: [
    { name: 'change', aliases: ['c'], type: 'list', help: 'apply a Dockerfile instruction to the created image' },
    { name: 'message', aliases: ['m'], type: 'string', help: 'set a commit message for the imported image' },
    { name: 'platform', type: 'string', help: 'accepted for compatibility (the image gets this host\'s platform)' },
  ],
  args: [1, 2],
  async run(ctx, p) {
    let file = p.positional[0] === '-' ? '-' : ctx.path(p.positional[0]!);
    let staged: string | undefined;
    if (file === '-') {
      await mkdir(join(ctx.paths.dataRoot, 'tmp'), { recursive: true });
      staged = tempNameFor(join(ctx.paths.dataRoot, 'tmp', 'import.tar'));
      await pipeline(ctx.stdin.stream(), createWriteStream(staged, { flags: 'wx' }));
      file = staged;
    }
    try {
      const changes: ImageRunConfig = { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] };
      for (const c of list(p, 'change')) applyChange(changes, c);
      const img = await importRootfs(file, p.positional[1], { ...imageOptions(ctx), changes });
      ctx.stdout.write(`${img.id}\n`);
    } finally {
      if (staged) await rm(staged, { force: true });
    }
    return 0;
  },
};
