/**
 * `berth image inspect [--format TEMPLATE] IMAGE...`: a JSON array with Docker's image inspect
 * document per image (Id, RepoTags, RepoDigests, Created, Config, Architecture, Os, Size,
 * RootFS …), plus Berth's manifest digest and the manifest itself under `Berth`.
 */
import { str } from '../args.js';
import { inspectImage, resolveImage } from '../../image/index.js';
import { familiarName, parseReference } from '../../image/reference.js';
import type { Command } from './context.js';
import { renderTemplate } from './format.js';
import { imageOptions } from './image-output.js';

/** Docker's inspect document of the image `ref`. */
export async function imageInspectDocument(ref: string, opts: ReturnType<typeof imageOptions>): Promise<Record<string, unknown>> {
  const img = await resolveImage(ref, opts);
  const raw = await inspectImage(ref, opts);
  const c = img.raw;
  const repos = [...new Set(img.names.map((n) => parseReference(n)).map((r) => familiarName({ ...r, tag: undefined, digest: undefined })))];
  return {
    Id: img.id,
    RepoTags: img.names.map((n) => familiarName(parseReference(n))),
    RepoDigests: repos.map((r) => `${r}@${img.manifest}`),
    Parent: '',
    Comment: c.history?.at(-1)?.comment ?? '',
    Created: c.created ?? '',
    Author: c.author ?? '',
    Config: { ...(c.config ?? {}) },
    Architecture: c.architecture,
    ...(c.variant ? { Variant: c.variant } : {}),
    Os: c.os,
    Size: img.layers.reduce((n, l) => n + l.size, 0),
    RootFS: { Type: 'layers', Layers: c.rootfs.diff_ids },
    Metadata: { LastTagTime: raw.Added },
    Berth: { ManifestDigest: img.manifest, Manifest: raw.Manifest },
  };
}

export const imageInspect: Command = {
  name: 'image inspect',
  aliases: ['image inspect'],
  usage: 'image inspect [OPTIONS] IMAGE [IMAGE...]',
  summary: 'display detailed information on one or more images',
  warm: () => true,
  flags: [{ name: 'format', aliases: ['f'], type: 'string', help: 'format output using a go template' }],
  args: [1, -1],
  async run(ctx, p) {
    const docs = [];
    let failed = 0;
    for (const ref of p.positional) {
      try { docs.push(await imageInspectDocument(ref, imageOptions(ctx))); } catch (err) {
        ctx.stderr.write(`berth: ${(err as Error).message}\n`);
        failed++;
      }
    }
    const format = str(p, 'format');
    if (format) ctx.stdout.write(docs.map((d) => `${renderTemplate(format, d)}\n`).join(''));
    else ctx.stdout.write(`${JSON.stringify(docs, null, 4)}\n`);
    return failed ? 1 : 0;
  },
};
