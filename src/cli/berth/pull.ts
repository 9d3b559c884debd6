/**
 * `berth pull [-q] [--platform OS/ARCH] NAME[:TAG|@DIGEST]`: fetch an image from its registry,
 * as `docker pull` prints it: "TAG: Pulling from REPO", the layers' progress (bars on a
 * terminal, a line per step otherwise), "Digest: …", "Status: …" and the name.
 */
import { bool, str } from '../args.js';
import { pull as pullImage, resolveImage } from '../../image/index.js';
import { parsePlatform } from '../../image/manifest.js';
import { progressPrinter, type ProgressEvent } from '../../image/progress.js';
import { familiarName, parseReference } from '../../image/reference.js';
import type { Command } from './context.js';
import { imageOptions } from './image-output.js';

export const pull: Command = {
  name: 'pull',
  aliases: ['image pull'],
  usage: 'pull [OPTIONS] NAME[:TAG|@DIGEST]',
  summary: 'download an image from a registry',
  warm: () => true,
  flags: [
    { name: 'quiet', aliases: ['q'], type: 'bool', help: 'suppress verbose output' },
    { name: 'platform', type: 'string', help: 'set platform if the registry serves several (e.g. linux/arm64)' },
  ],
  args: [1, 1],
  async run(ctx, p) {
    const ref = p.positional[0]!;
    const parsed = parseReference(ref);
    const quiet = bool(p, 'quiet');
    const platform = str(p, 'platform');
    const before = await resolveImage(ref, imageOptions(ctx)).catch(() => undefined);
    const draw = quiet ? undefined : progressPrinter(ctx.stdout);
    let fetched = 0;
    const progress = (e: ProgressEvent): void => {
      if (e.action === 'downloaded') fetched++;
      draw?.(e);
    };
    if (!quiet) ctx.stdout.write(`${parsed.tag ?? parsed.digest}: Pulling from ${parsed.repository}\n`);
    const img = await pullImage(ref, imageOptions(ctx, { progress, ...(platform ? { platform: parsePlatform(platform) } : {}) }));
    const name = familiarName(parsed);
    if (!quiet) {
      ctx.stdout.write(`Digest: ${img.pulledDigest ?? img.manifest}\n`);
      const fresh = fetched > 0 || before?.id !== img.id;
      ctx.stdout.write(`Status: ${fresh ? 'Downloaded newer image' : 'Image is up to date'} for ${name}\n`);
    }
    ctx.stdout.write(`${parsed.registry === 'docker.io' ? `docker.io/${parsed.repository}${parsed.tag ? `:${parsed.tag}` : ''}${parsed.digest ? `@${parsed.digest}` : ''}` : name}\n`);
    return 0;
  },
};
