/**
 * `berth history [-q] [--no-trunc] [--format json] IMAGE`: the image's history, newest first, as
 * Docker prints it (IMAGE CREATED CREATED BY SIZE COMMENT). A step that made a layer shows that
 * layer's size; the top step shows the image id, the others `<missing>` (their intermediate
 * images were never pulled, as with Docker for any pulled image).
 */
import { bool, str } from '../args.js';
import { formatTable } from '../table.js';
import { resolveImage } from '../../image/index.js';
import type { Command } from './context.js';
import { humanDuration, isTableFormat, renderTemplate, tableTemplate } from './format.js';
import { humanSize, imageOptions } from './image-output.js';

export const history: Command = {
  name: 'history',
  aliases: ['image history'],
  usage: 'history [OPTIONS] IMAGE',
  summary: 'show the history of an image',
  warm: () => true,
  flags: [
    { name: 'quiet', aliases: ['q'], type: 'bool', help: 'only show image ids' },
    { name: 'no-trunc', type: 'bool', help: 'don\'t truncate output' },
    { name: 'human', aliases: ['H'], type: 'bool', help: 'print sizes and dates in human readable format (default true)' },
    { name: 'format', type: 'string', help: 'format output: table, json or a go template' },
  ],
  args: [1, 1],
  async run(ctx, p) {
    const img = await resolveImage(p.positional[0]!, imageOptions(ctx));
    const noTrunc = bool(p, 'no-trunc');
    const steps = img.raw.history ?? [];
    // the layers belong, in order, to the steps that are not empty_layer
    let layer = 0;
    const sized = steps.map((h) => ({ h, size: h.empty_layer ? 0 : (img.layers[layer++]?.size ?? 0) }));
    const rows = sized.reverse().map(({ h, size }, i) => {
      const by = h.created_by ?? '';
      const created = h.created ? Date.parse(h.created) : NaN;
      return {
        Comment: h.comment ?? '',
        CreatedAt: h.created ?? '',
        CreatedBy: noTrunc || by.length <= 45 ? by : `${by.slice(0, 44)}…`,
        CreatedSince: Number.isNaN(created) ? 'N/A' : `${humanDuration(Date.now() - created)} ago`,
        ID: i === 0 ? (noTrunc ? img.id : img.id.slice(7, 19)) : '<missing>',
        Size: humanSize(size),
      };
    });
    const format = str(p, 'format') ?? 'table';
    if (bool(p, 'quiet')) ctx.stdout.write(rows.map((r) => `${r.ID}\n`).join(''));
    else if (format === 'json') ctx.stdout.write(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
    else if (format === 'table') {
      ctx.stdout.write(formatTable([['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'], ...rows.map((r) => [r.ID, r.CreatedSince, r.CreatedBy, r.Size, r.Comment])], 10, 3));
    } else if (isTableFormat(format)) ctx.stdout.write(tableTemplate(format, { headers: { ID: 'IMAGE', CreatedSince: 'CREATED' } }).render(rows));
    else ctx.stdout.write(rows.map((r) => `${renderTemplate(format, r)}\n`).join(''));
    return 0;
  },
};
