/**
 * `berth image prune [-a] [-f]`: remove dangling images (no name, used by no container; with -a,
 * every image no container uses), then the blobs no image refers to and the unpacked layers no
 * image and no container root filesystem uses. Prints what went and the space reclaimed.
 */
import { statSync } from 'node:fs';
import { bool } from '../args.js';
import { listImages, prune, removeImage, stores } from '../../image/index.js';
import { imagesInUse } from '../../engine/image-rootfs.js';
import { EngineStore } from '../../engine/store.js';
import type { Command } from './context.js';
import { humanSize, imageOptions } from './image-output.js';

export const imagePrune: Command = {
  name: 'image prune',
  aliases: ['image prune'],
  usage: 'image prune [OPTIONS]',
  summary: 'remove unused images and the data only they used',
  warm: () => true,
  flags: [
    { name: 'all', aliases: ['a'], type: 'bool', help: 'remove all images not used by a container, not only dangling ones' },
    { name: 'force', aliases: ['f'], type: 'bool', help: 'do not prompt for confirmation (berth never prompts)' },
  ],
  args: [0, 0],
  async run(ctx, p) {
    const opts = imageOptions(ctx);
    const inUse = imagesInUse(new EngineStore(ctx.paths).all());
    const deleted: string[] = [];
    for (const img of await listImages(opts)) {
      if (inUse.has(img.id) || (img.names.length && !bool(p, 'all'))) continue;
      const r = await removeImage(img.manifest, { ...opts, inUse });
      deleted.push(...r.untagged.map((n) => `untagged: ${n}`), ...r.deleted.map((d) => `deleted: ${d}`));
    }
    const s = stores(ctx.paths.dataRoot);
    const sizes = new Map((await s.blobs.list()).map((d) => [d, (() => { try { return statSync(s.blobs.path(d)).size; } catch { return 0; } })()]));
    const gone = await prune(opts);
    const reclaimed = gone.blobs.reduce((n, d) => n + (sizes.get(d) ?? 0), 0);
    if (deleted.length) ctx.stdout.write(`Deleted Images:\n${deleted.map((l) => `${l}\n`).join('')}\n`);
    if (gone.layers.length) ctx.stdout.write(`Deleted Layers:\n${gone.layers.map((l) => `${l}\n`).join('')}\n`);
    ctx.stdout.write(`Total reclaimed space: ${humanSize(reclaimed)}\n`);
    return 0;
  },
};
