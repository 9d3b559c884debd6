/**
 * `berth push NAME[:TAG]`: send a local image to the registry its name points at, as
 * `docker push` prints it: "The push refers to repository [...]", one line per layer (bars on a
 * terminal), then "TAG: digest: sha256:… size: N".
 */
import { bool } from '../args.js';
import { push as pushImage, stores } from '../../image/index.js';
import { progressPrinter } from '../../image/progress.js';
import { parseReference } from '../../image/reference.js';
import type { Command } from './context.js';
import { imageOptions } from './image-output.js';

export const push: Command = {
  name: 'push',
  aliases: ['image push'],
  usage: 'push [OPTIONS] NAME[:TAG]',
  summary: 'upload an image to a registry',
  warm: () => true,
  flags: [{ name: 'quiet', aliases: ['q'], type: 'bool', help: 'suppress verbose output' }],
  args: [1, 1],
  async run(ctx, p) {
    const ref = p.positional[0]!;
    const r = parseReference(ref);
    const quiet = bool(p, 'quiet');
    if (!quiet) ctx.stdout.write(`The push refers to repository [${r.registry}/${r.repository}]\n`);
    const pushed = await pushImage(ref, imageOptions(ctx, quiet ? {} : { progress: progressPrinter(ctx.stdout) }));
    const size = (await stores(ctx.paths.dataRoot).blobs.get(pushed.digest)).length;
    ctx.stdout.write(quiet ? `${r.registry}/${r.repository}:${r.tag ?? ''}\n` : `${r.tag ?? r.digest}: digest: ${pushed.digest} size: ${size}\n`);
    return 0;
  },
};
