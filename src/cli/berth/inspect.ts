/**
 * `berth inspect [-f TEMPLATE] CONTAINER...`: Docker's inspect document (a JSON array), with
 * Berth's outcome report under `Berth.Report`.
 */
import { str } from '../args.js';
import { findContainer, inspectDocument } from '../../engine/containers.js';
import type { DockerInspect } from '../../engine/inspect.js';
import { BerthError } from '../../util/errors.js';
import type { Command } from './context.js';
import { renderTemplate } from './format.js';

export const inspect: Command = {
  name: 'inspect',
  aliases: ['container inspect'],
  usage: 'inspect [OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'display detailed information on one or more containers',
  warm: () => true,
  flags: [{ name: 'format', aliases: ['f'], type: 'string', help: 'format output using a go template or json' }],
  args: [1, -1],
  async run(ctx, p) {
    const docs: DockerInspect[] = [];
    let code = 0;
    for (const ref of p.positional) {
      try {
        docs.push(inspectDocument(await findContainer(ctx.paths, ref), ctx.paths));
      } catch (err) {
        if (!(err instanceof BerthError)) throw err;
        ctx.stderr.write(`berth: ${err.message}\n`);
        code = 1;
      }
    }
    const format = str(p, 'format');
    if (format && format !== 'json') ctx.stdout.write(docs.map((d) => `${renderTemplate(format, d)}\n`).join(''));
    else if (docs.length || code === 0) ctx.stdout.write(`${JSON.stringify(docs, null, 4)}\n`);
    return code;
  },
};
