/**
 * `berth load [-i FILE] [-q]`: load images from an oci-archive, a docker-archive (`docker save`)
 * or an OCI layout directory; from stdin when there is no -i (staged to a file under the data
 * root first: an archive is read twice). On a terminal, unpacking shows progress bars. Prints "Loaded image: NAME" per name, "Loaded image ID: …" for an unnamed image.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { bool, str } from '../args.js';
import { tempNameFor } from '../../util/atomic.js';
import { load as loadImages } from '../../image/index.js';
import { progressPrinter } from '../../image/progress.js';
import { familiarName, parseReference } from '../../image/reference.js';
import type { Command } from './context.js';
import { imageOptions } from './image-output.js';

export const load: Command = {
  name: 'load',
  aliases: ['image load'],
  usage: 'load [OPTIONS]',
  summary: 'load an image from a tar archive or stdin',
  warm: (p) => str(p, 'input') !== undefined,
  flags: [
    { name: 'input', aliases: ['i'], type: 'string', help: 'read from a tar archive file (or an OCI layout directory) instead of stdin' },
    { name: 'quiet', aliases: ['q'], type: 'bool', help: 'suppress the load output' },
  ],
  args: [0, 0],
  async run(ctx, p) {
    const typed = str(p, 'input');
    let input = typed ? ctx.path(typed) : typed;
    let staged: string | undefined;
    if (!input) {
      if (ctx.stdin.isTTY) throw new (await import('../../util/errors.js')).BerthError('EINVALID_ARG', 'requested load from stdin, but stdin is empty: use -i FILE or redirect a tarball');
      await mkdir(join(ctx.paths.dataRoot, 'tmp'), { recursive: true });
      staged = tempNameFor(join(ctx.paths.dataRoot, 'tmp', 'load.tar'));
      await pipeline(ctx.stdin.stream(), createWriteStream(staged, { flags: 'wx' }));
      input = staged;
    }
    try {
      const quiet = bool(p, 'quiet');
      // like docker load: progress bars on a terminal, only the result lines otherwise
      const loaded = await loadImages(input, imageOptions(ctx, quiet || !ctx.stdout.isTTY ? {} : { progress: progressPrinter(ctx.stdout) }));
      for (const l of loaded) {
        if (l.names.length) for (const n of l.names) ctx.stdout.write(`Loaded image: ${familiarName(parseReference(n))}\n`);
        else ctx.stdout.write(`Loaded image ID: ${l.id}\n`);
      }
    } finally {
      if (staged) await rm(staged, { force: true });
    }
    return 0;
  },
};
