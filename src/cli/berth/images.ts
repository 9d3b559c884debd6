/**
 * `berth images [-a] [-q] [--no-trunc] [--format table|json|TEMPLATE] [REPOSITORY[:TAG]]`: the
 * local images as Docker's table (REPOSITORY TAG IMAGE ID CREATED SIZE), one row per name and
 * `<none> <none>` for an image without one. SIZE is the sum of the image's layer blobs (what
 * the store holds for it, compressed).
 */
import { bool, str } from '../args.js';
import { formatTable } from '../table.js';
import { listImages, type EngineImage } from '../../image/index.js';
import { familiarName, parseReference } from '../../image/reference.js';
import type { Command } from './context.js';
import { humanDuration, isTableFormat, renderTemplate, tableTemplate } from './format.js';
import { humanSize, imageOptions } from './image-output.js';

/** Docker's `images --format json` object for one name of an image. */
export function imageRow(img: EngineImage, name: string | undefined, noTrunc: boolean): Record<string, string> {
  const r = name ? parseReference(name) : undefined;
  const repo = r ? familiarName({ ...r, tag: undefined, digest: undefined }) : '<none>';
  const created = img.raw.created ? Date.parse(img.raw.created) : NaN;
  const size = img.layers.reduce((n, l) => n + l.size, 0);
  return {
    Containers: 'N/A',
    CreatedAt: Number.isNaN(created) ? '' : new Date(created).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000 UTC'),
    CreatedSince: Number.isNaN(created) ? 'N/A' : `${humanDuration(Date.now() - created)} ago`,
    Digest: r?.digest ?? '<none>',
    ID: noTrunc ? img.id : img.id.slice(7, 19),
    Repository: repo,
    SharedSize: 'N/A',
    Size: humanSize(size),
    Tag: r?.tag ?? '<none>',
    UniqueSize: 'N/A',
    VirtualSize: humanSize(size),
  };
}

/** True when image name `name` matches the filter argument ("busybox", "busybox:1", "host:5000/a"). */
function matches(name: string, filter: string): boolean {
  const f = parseReference(filter);
  const n = parseReference(name);
  const tagged = /:[\w][\w.-]*$/.test(filter.slice(filter.lastIndexOf('/') + 1));
  return n.registry === f.registry && n.repository === f.repository && (!tagged || n.tag === f.tag);
}

export const images: Command = {
  name: 'images',
  aliases: ['image ls', 'image list'],
  usage: 'images [OPTIONS] [REPOSITORY[:TAG]]',
  summary: 'list images',
  warm: () => true,
  flags: [
    { name: 'all', aliases: ['a'], type: 'bool', help: 'show all images (there are no intermediate images)' },
    { name: 'quiet', aliases: ['q'], type: 'bool', help: 'only show image ids' },
    { name: 'no-trunc', type: 'bool', help: 'don\'t truncate output' },
    { name: 'digests', type: 'bool', help: 'show digests' },
    { name: 'format', type: 'string', help: 'format output: table, json or a go template' },
  ],
  args: [0, 1],
  async run(ctx, p) {
    const noTrunc = bool(p, 'no-trunc');
    const filter = p.positional[0];
    const rows: Record<string, string>[] = [];
    for (const img of await listImages(imageOptions(ctx))) {
      // One row per repository:tag, Docker's way: a digest reference (repo@sha256:…) is that
      // repository's DIGEST, not a row of its own, unless the repository has no tag here.
      const byRepo = new Map<string, { tags: string[]; digest?: string }>();
      for (const n of img.names) {
        if (filter && !matches(n, filter)) continue;
        const at = n.indexOf('@');
        const repo = at >= 0 ? n.slice(0, at) : n.slice(0, n.lastIndexOf(':') > n.lastIndexOf('/') ? n.lastIndexOf(':') : n.length);
        const e = byRepo.get(repo) ?? { tags: [] };
        if (at >= 0) e.digest ??= n.slice(at + 1);
        else e.tags.push(n);
        byRepo.set(repo, e);
      }
      if (!img.names.length && !filter) rows.push(imageRow(img, undefined, noTrunc));
      for (const [repo, e] of byRepo) {
        const names = e.tags.length ? e.tags : [`${repo}@${e.digest}`];
        for (const n of names) rows.push({ ...imageRow(img, n, noTrunc), Digest: e.digest ?? '<none>' });
      }
    }
    const format = str(p, 'format') ?? 'table';
    if (bool(p, 'quiet')) {
      ctx.stdout.write([...new Set(rows.map((r) => r.ID))].map((id) => `${id}\n`).join(''));
    } else if (format === 'json') {
      ctx.stdout.write(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
    } else if (format === 'table') {
      const digests = bool(p, 'digests');
      const header = ['REPOSITORY', 'TAG', ...(digests ? ['DIGEST'] : []), 'IMAGE ID', 'CREATED', 'SIZE'];
      ctx.stdout.write(formatTable([header, ...rows.map((r) => [r.Repository!, r.Tag!, ...(digests ? [r.Digest!] : []), r.ID!, r.CreatedSince!, r.Size!])], 10, 3));
    } else if (isTableFormat(format)) {
      // Docker's images headers where they are not the field's name upper-cased.
      ctx.stdout.write(tableTemplate(format, { headers: { ID: 'IMAGE ID', CreatedSince: 'CREATED', VirtualSize: 'SIZE' } }).render(rows));
    } else {
      ctx.stdout.write(rows.map((r) => `${renderTemplate(format, r)}\n`).join(''));
    }
    return 0;
  },
};
