/**
 * `berth rmi [-f] IMAGE...`: remove images. A name of an image with other names is only
 * untagged; removing an image's last name, or removing it by id, deletes it — refused while a
 * container uses it, unless -f (the container keeps its own root filesystem either way). The
 * blobs and unpacked layers are freed by `berth image prune`.
 */
import { bool } from '../args.js';
import { removeImage } from '../../image/index.js';
import { familiarName, parseReference } from '../../image/reference.js';
import { imagesInUse } from '../../engine/image-rootfs.js';
import { EngineStore } from '../../engine/store.js';
import type { Command } from './context.js';
import { imageOptions } from './image-output.js';

const show = (n: string): string => { try { return familiarName(parseReference(n)); } catch { return n; } };

export const rmi: Command = {
  name: 'rmi',
  aliases: ['image rm', 'image remove'],
  usage: 'rmi [OPTIONS] IMAGE [IMAGE...]',
  summary: 'remove one or more images',
  warm: () => true,
  flags: [
    { name: 'force', aliases: ['f'], type: 'bool', help: 'force removal of the image' },
    { name: 'no-prune', type: 'bool', help: 'accepted for compatibility' },
  ],
  args: [1, -1],
  async run(ctx, p) {
    const inUse = imagesInUse(new EngineStore(ctx.paths).all());
    let failed = 0;
    for (const ref of p.positional) {
      try {
        const r = await removeImage(ref, { ...imageOptions(ctx), inUse, force: bool(p, 'force') });
        for (const n of r.untagged) ctx.stdout.write(`Untagged: ${show(n)}\n`);
        for (const d of r.deleted) ctx.stdout.write(`Deleted: ${d}\n`);
      } catch (err) {
        ctx.stderr.write(`berth: ${(err as Error).message}\n`);
        failed++;
      }
    }
    return failed ? 1 : 0;
  },
};
